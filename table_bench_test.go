package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkStatusTable times `daemonctl status` (the table of every
// defined service) with 1,000 services defined and 1,000 real daemons
// (sleep) running:
//
//	go test -run '^$' -bench StatusTable -benchtime 200x .
//
// in-process is the command's own work (load the 1,000 files, inspect the
// 1,000 pidfiles and processes, render); binary adds the start of the
// daemonctl process, as an operator sees it.
func BenchmarkStatusTable(b *testing.B) {
	const services = 1000
	dir := b.TempDir()
	conf := filepath.Join(dir, "conf")
	run1 := filepath.Join(dir, "run")
	for _, d := range []string{conf, run1} {
		if err := os.Mkdir(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		b.Skip("no sleep(1) to run as the daemons")
	}
	for i := range services {
		name := fmt.Sprintf("svc%04d", i)
		def := fmt.Sprintf("program = %q\nargs = [\"infinity\"]\npidfile = %q\n", sleep, filepath.Join(run1, name+".pid"))
		if err := os.WriteFile(filepath.Join(conf, name+".toml"), []byte(def), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var stderr strings.Builder
	if code := run([]string{"daemonctl", "--config-dir", conf, "start", "--all", "-q"}, io.Discard, &stderr); code != 0 {
		b.Fatalf("start --all: exit %d: %s", code, stderr.String())
	}
	b.Cleanup(func() {
		if code := run([]string{"daemonctl", "--config-dir", conf, "stop", "--all", "-q"}, io.Discard, os.Stderr); code != 0 {
			b.Errorf("stop --all: exit %d", code)
		}
	})
	var out strings.Builder
	if code := run([]string{"daemonctl", "--config-dir", conf, "status"}, &out, os.Stderr); code != 0 {
		b.Fatalf("status: exit %d", code)
	}
	if n := strings.Count(out.String(), " running "); n != services {
		b.Fatalf("%d of %d services running:\n%s", n, services, out.String())
	}

	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			if code := run([]string{"daemonctl", "--config-dir", conf, "status"}, io.Discard, io.Discard); code != 0 {
				b.Fatalf("status: exit %d", code)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if code := run([]string{"daemonctl", "--config-dir", conf, "status", "--json"}, io.Discard, io.Discard); code != 0 {
				b.Fatalf("status: exit %d", code)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		bin := filepath.Join(dir, "daemonctl")
		build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		for b.Loop() {
			cmd := exec.Command(bin, "--config-dir", conf, "status")
			if err := cmd.Run(); err != nil {
				b.Fatalf("status: %v", err)
			}
		}
	})
}
