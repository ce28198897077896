//go:build !linux

package signals

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// pollInterval is how often exit is checked without pidfds.
const pollInterval = 10 * time.Millisecond

// Open takes a handle on pid. Without pidfds the handle is just the
// number: the caller's lock check is the only guard against reuse.
func Open(pid int) (*Process, error) {
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	return &Process{PID: pid, fd: -1}, nil
}

// Close releases the handle.
func (p *Process) Close() error { return nil }

func (p *Process) signal(sig unix.Signal) error {
	err := unix.Kill(p.PID, sig)
	if errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("pid %d: %w", p.PID, ErrGone)
	}
	return err
}

// Exited reports whether p has exited. A zombie still counts as alive.
func (p *Process) Exited() bool {
	return errors.Is(unix.Kill(p.PID, 0), unix.ESRCH)
}

func waitAny(procs []*Process, deadline time.Time) ([]*Process, error) {
	for {
		var exited []*Process
		for _, p := range procs {
			if p.Exited() {
				exited = append(exited, p)
			}
		}
		if len(exited) > 0 || !time.Now().Before(deadline) {
			return exited, nil
		}
		time.Sleep(min(pollInterval, time.Until(deadline)))
	}
}
