package process

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

func TestRSS(t *testing.T) {
	rss, err := RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A Go test binary maps a few megabytes; it cannot be resident in less
	// than a page or more than a terabyte.
	if rss < int64(os.Getpagesize()) || rss > 1<<40 {
		t.Errorf("RSS(self) = %d bytes", rss)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	// The reaped child's PID is free (or reused, in which case RSS may
	// succeed: only the error kind is checked).
	if _, err := RSS(cmd.Process.Pid); err != nil && !errors.Is(err, ErrGone) {
		t.Errorf("RSS of a reaped child: %v, want ErrGone", err)
	}
}
