package signals

import (
	"time"

	"golang.org/x/sys/unix"
)

// Process is a handle on one process. On Linux it is a pidfd: signals
// through it reach that process or nobody, never a later process that
// reused the PID, and waiting on it wakes the instant it exits.
type Process struct {
	PID int
	fd  int
}

// WaitAny waits until at least one of procs has exited or timeout has
// passed, and returns those that have exited (none on timeout). A zombie
// counts as exited.
func WaitAny(procs []*Process, timeout time.Duration) ([]*Process, error) {
	return waitAny(procs, time.Now().Add(timeout))
}

// Signal sends sig to p. It returns an error wrapping ErrGone when p has
// exited.
func (p *Process) Signal(sig unix.Signal) error { return p.signal(sig) }

// Fd is the pidfd, for callers that poll it together with other
// descriptors; -1 where the platform has no pidfds.
func (p *Process) Fd() int { return p.fd }
