package controller

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "web.err")
	before := "from an earlier run\n"
	var lines []string
	for i := 1; i <= 25; i++ {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	if err := os.WriteFile(log, []byte(before+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	from := int64(len(before))
	got := logTail(log, from, 20)
	want := "last lines of " + log + ":\n  | line 6\n"
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "\n  | line 25") || strings.Count(got, "\n") != 20 {
		t.Errorf("the last 20 of 25 lines:\n%s", got)
	}
	if got := logTail(log, from, 100); strings.Contains(got, "earlier run") || !strings.Contains(got, "  | line 1\n") {
		t.Errorf("what this start wrote, and nothing before it:\n%s", got)
	}
	for _, c := range []struct {
		name string
		from int64
	}{
		{"", 0},                             // no log file
		{filepath.Join(dir, "none.err"), 0}, // not written
		{log, int64(len(before)) + 1000},    // nothing written since
		{log, int64(len(before) + len(strings.Join(lines, "\n")) + 1)},
	} {
		if got := logTail(c.name, c.from, 20); got != "" {
			t.Errorf("logTail(%q, %d) = %q, want nothing", c.name, c.from, got)
		}
	}
	// A huge log is read from its last 64 KiB only.
	big := filepath.Join(dir, "big.err")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 200<<10)+"\nthe end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := logTail(big, 0, 2); !strings.HasSuffix(got, "\n  | the end") || len(got) > 65<<10 {
		t.Errorf("a 200 KiB log: %d bytes, ending %q", len(got), got[max(0, len(got)-20):])
	}
}
