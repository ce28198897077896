package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInterpreter(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []struct{ contents, interp, arg string }{
		{"#!/bin/sh\necho\n", "/bin/sh", ""},
		{"#! /bin/sh -e\n", "/bin/sh", "-e"},
		{"#!/usr/bin/env python3 -u\n", "/usr/bin/env", "python3"},
		{"#!/bin/sh", "/bin/sh", ""},
		{"#!\n", "", ""},
		{"echo\n#!/bin/sh\n", "", ""},
		{"\x7fELF...", "", ""},
		{"", "", ""},
		{"#!/" + strings.Repeat("x", 300) + "\n", "/" + strings.Repeat("x", 253), ""},
	} {
		path := filepath.Join(dir, "script"+string(rune('a'+i)))
		if err := os.WriteFile(path, []byte(c.contents), 0o755); err != nil {
			t.Fatal(err)
		}
		if interp, arg := Interpreter(path); interp != c.interp || arg != c.arg {
			t.Errorf("Interpreter(%.20q) = %q, %q; want %q, %q", c.contents, interp, arg, c.interp, c.arg)
		}
	}
	if interp, arg := Interpreter(filepath.Join(dir, "none")); interp != "" || arg != "" {
		t.Errorf("a missing file: %q, %q", interp, arg)
	}
}
