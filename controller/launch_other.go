//go:build !linux

package controller

import (
	"os"

	"golang.org/x/sys/unix"
)

// markCloseOnExec marks every descriptor above stderr close-on-exec.
func markCloseOnExec() {
	for fd := 3; fd < 1024; fd++ {
		unix.CloseOnExec(fd)
	}
}

// becomeSubreaper is Linux-only; elsewhere the readiness wait observes the
// daemon through its lock and cannot learn its exit status.
func becomeSubreaper() error { return ErrUnsupported }

// selfExecutable is the binary to re-execute as the launcher stage.
func selfExecutable() (string, error) { return os.Executable() }
