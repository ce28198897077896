package pidfile

import (
	"errors"
	"fmt"
)

var (
	// ErrLocked means another process holds the pidfile's lock.
	ErrLocked = errors.New("locked by another process")
	// ErrRunningUnlocked means the lock is free but the process named in the
	// file is alive and started before the file was written: it is the
	// daemon, and it closed the descriptor that held the lock.
	ErrRunningUnlocked = errors.New("its process is alive but does not hold the lock")
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
	// ErrInvalid means the contents are not one PID in 2..pid_max.
	ErrInvalid = errors.New("does not hold a valid pid")
)

// PIDError carries the PID an error is about, for ErrLocked and
// ErrRunningUnlocked; errors.Is matches its Err.
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
