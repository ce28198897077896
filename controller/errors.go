package controller

import (
	"errors"
	"fmt"

	"github.com/daemonctl/daemonctl/internal/errkind"
)

var (
	// ErrUsage means the request itself is wrong (a bad flag value, a
	// user that does not exist); LSB exit 2.
	ErrUsage = errors.New("usage")
	// ErrNoPrivilege means the caller may not do this (signal another
	// user's daemon, run one as another user or group); LSB exit 4.
	ErrNoPrivilege = errors.New("no privilege")
	// ErrProgramNotFound means the program does not exist or is not
	// executable; LSB exit 5 for start.
	ErrProgramNotFound = errors.New("program not installed")
	// ErrNotRunning means there is no daemon to signal; LSB exit 7 for
	// reload and signal.
	ErrNotRunning = errors.New("not running")
	// ErrStillRunning means the daemon outlived the whole stop schedule.
	ErrStillRunning = errors.New("still running after the stop schedule")
	// ErrOrphaned means the main process is gone but processes that
	// inherited its lock still hold it.
	ErrOrphaned = errors.New("main process gone, lock still held")
	// ErrUnverified means the pidfile names a live process that does not
	// hold the service's lock and that nothing proves to be the daemon
	// (see pidfile.Unverified): it is neither signalled nor started twice.
	// LSB exit 4 for status, stop, reload and signal; 1 for start.
	ErrUnverified = errors.New("cannot vouch for the process in the pidfile")
	// ErrFailedStart means the daemon died, or did not become ready, during
	// a readiness wait (--wait, --notify).
	ErrFailedStart = errors.New("failed to start")
	// ErrAlreadyRunning means Daemonize found another instance holding the
	// pidfile's lock (see AlreadyRunningError for its PID).
	ErrAlreadyRunning = errors.New("already running")
	// ErrAlreadyDaemon means Daemonize was called in a process that already
	// is the daemon, or called twice.
	ErrAlreadyDaemon = errors.New("already daemonized")
)

// withKind makes an error that reads as the formatted message and matches
// kind (errkind.Errorf).
func withKind(kind error, format string, args ...any) error {
	return errkind.Errorf([]error{kind}, format, args...)
}

// ErrUnsupported means this platform lacks what the request needs (the
// notify protocol's credential check, a subreaper).
var ErrUnsupported = errors.New("not supported on this platform")

var (
	// ErrDead is status's "dead, pidfile left" (LSB status 1): a stale
	// pidfile, a daemon running without its lock, or only orphans of a dead
	// main process holding it.
	ErrDead = errors.New("dead, pidfile left")
	// ErrUnknown is status's "unknown" (LSB status 4): the pidfile cannot be
	// read or does not hold a PID.
	ErrUnknown = errors.New("status unknown")
)

// IdentityError is what keeps a daemon from running as a user or group.
// It matches ErrNoPrivilege when only root may switch to the identity
// (NeedsRoot), ErrUsage when the name does not exist.
type IdentityError struct {
	// Key is "user" or "group": the option (--user, --group), or the
	// definition's key, at fault.
	Key string
	// Name is the user or group as given.
	Name      string
	NeedsRoot bool
}

func (e *IdentityError) Error() string {
	if e.NeedsRoot {
		return "--user and --group need root: run daemonctl as root, or drop them to keep your own identity"
	}
	return fmt.Sprintf("--%s %s: no such %s", e.Key, e.Name, e.Key)
}

func (e *IdentityError) Is(target error) bool {
	if e.NeedsRoot {
		return target == ErrNoPrivilege
	}
	return target == ErrUsage
}

// AlreadyRunningError is Daemonize's error when another instance runs.
type AlreadyRunningError struct {
	Name string
	PID  int
}

func (e *AlreadyRunningError) Error() string {
	return fmt.Sprintf("%s: already running (pid %d)", e.Name, e.PID)
}

// Is makes errors.Is(err, ErrAlreadyRunning) true.
func (e *AlreadyRunningError) Is(target error) bool { return target == ErrAlreadyRunning }
