package pidfile

import (
	"errors"
	"fmt"
)

var (
	// ErrLocked means another process holds the pidfile's lock.
	ErrLocked = errors.New("locked by another process")
	// ErrSymlink means the path is a symbolic link, which is never followed.
	ErrSymlink = errors.New("is a symbolic link")
	// ErrNotRegular means the path is a directory, FIFO, device or socket.
	ErrNotRegular = errors.New("is not a regular file")
	// ErrHardLink means the file has more than one name.
	ErrHardLink = errors.New("has more than one hard link")
	// ErrUnsafe means the file sits in a world-writable directory but is
	// owned by another user, who could rewrite it at will.
	ErrUnsafe = errors.New("is owned by another user in a world-writable directory")
	// ErrNoDirectory means the directory that should hold the file is missing.
	ErrNoDirectory = errors.New("directory does not exist")
	// ErrNameTooLong means the path is longer than the system allows.
	ErrNameTooLong = errors.New("path is too long")
	// ErrInvalid means the contents are not one PID in 2..pid_max.
	ErrInvalid = errors.New("does not hold a valid pid")

	// ErrRunning means the service runs: Acquire will not start it twice.
	ErrRunning = errors.New("already running")
	// ErrStarting means another start holds the lock and has not written
	// the PID yet.
	ErrStarting = errors.New("being started")
	// ErrOrphaned means the main process is gone but processes that
	// inherited the service's lock still hold it.
	ErrOrphaned = errors.New("main process gone, lock still held")
	// ErrUnverified means the PID in the file is alive without the
	// service's lock and nothing can vouch that it is the daemon: it is
	// neither started again nor signalled (State.Why says why).
	ErrUnverified = errors.New("cannot vouch for the process in the pidfile")

	// ErrUntrusted means a pidfile someone other than root or the caller
	// could have written (Trust rule 3a): its PID is not acted on.
	ErrUntrusted = errors.New("could have been written by someone else")

	// ErrNoRecord means the file carries no record of daemonctl's stage.
	ErrNoRecord = errors.New("no record")
	// ErrRecord means the file's record does not parse.
	ErrRecord = errors.New("unreadable record")
	// ErrStartLock means the start lock beside the pidfile (.NAME.lock)
	// cannot be used: it is another user's, or not a plain file.
	ErrStartLock = errors.New("start lock unusable")
)

// PIDError carries the PID an error is about; errors.Is matches its Err.
type PIDError struct {
	Path string
	PID  int
	Err  error
}

func (e *PIDError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: pid %d: %v", e.Path, e.PID, e.Err)
}

func (e *PIDError) Unwrap() error { return e.Err }

// BusyError is Acquire's error when the service is there: running,
// starting, orphaned, or alive but unverifiable. State is what Inspect
// found; errors.Is matches ErrRunning, ErrStarting, ErrOrphaned or
// ErrUnverified accordingly, and ErrLocked when the lock is held.
type BusyError struct {
	State State
}

func (e *BusyError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.State.Path, e.sentinel())
	if e.State.PID != 0 {
		msg = fmt.Sprintf("%s: pid %d: %v", e.State.Path, e.State.PID, e.sentinel())
	}
	if e.State.Why != "" {
		msg += " (" + e.State.Why + ")"
	}
	return msg
}

func (e *BusyError) sentinel() error {
	switch e.State.Status {
	case Running:
		return ErrRunning
	case Starting:
		return ErrStarting
	case Orphaned:
		return ErrOrphaned
	}
	return ErrUnverified
}

func (e *BusyError) Unwrap() []error {
	if e.State.Status == Unverified || e.State.Status == Running && e.State.Unlocked {
		return []error{e.sentinel()}
	}
	return []error{e.sentinel(), ErrLocked}
}
