//go:build !linux

package controller

import "os"

// becomeSubreaper is Linux-only; elsewhere the readiness wait observes the
// daemon through its lock and cannot learn its exit status.
func becomeSubreaper() error { return ErrUnsupported }

// selfExecutable is the binary to re-execute as the launcher stage.
func selfExecutable() (string, error) { return os.Executable() }
