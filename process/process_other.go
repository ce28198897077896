//go:build !linux

package process

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Get is not supported without /proc; the lock alone answers liveness.
func Get(pid int) (Info, error) {
	if !Alive(pid) {
		return Info{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	return Info{PID: pid}, ErrUnsupported
}

// Alive reports whether pid exists. Without /proc a zombie counts as alive.
func Alive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// PIDMax is the largest PID the kernel hands out (BSD's PID_MAX is 99999).
func PIDMax() int { return 99999 }

// LockTaker is not supported without /proc.
func LockTaker(pid int, id FileID) (int, error) { return 0, ErrUnsupported }

// FlockTakers is not supported without /proc.
func FlockTakers(id FileID) ([]int, error) { return nil, ErrUnsupported }

// FlockHolders is not supported without /proc.
func FlockHolders(id FileID) ([]Holder, error) { return nil, ErrUnsupported }

// Exe is not supported without /proc.
func Exe(pid int) (FileID, error) { return FileID{}, ErrUnsupported }

// Owner is not supported without /proc.
func Owner(pid int) (int, error) { return 0, ErrUnsupported }

// UIDs is not supported without /proc.
func UIDs(pid int) (real, effective, saved int, err error) { return -1, -1, -1, ErrUnsupported }

// BootID is not supported without /proc.
func BootID() (string, error) { return "", ErrUnsupported }

// PidfdID is not supported without pidfs.
func PidfdID(pidfd int) (uint64, error) { return 0, ErrUnsupported }

// ProcID is not supported without pidfs.
func ProcID(pid int) (uint64, error) { return 0, ErrUnsupported }

// StartTicks is not supported without /proc.
func StartTicks(pid int) (uint64, error) { return 0, ErrUnsupported }

// Children is not supported without /proc.
func Children(pid int) ([]int, error) { return nil, ErrUnsupported }
