package controller

import (
	"errors"

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
