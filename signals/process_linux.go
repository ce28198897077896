package signals

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Open takes a handle on pid. Whoever opens it must first have decided
// that pid is the right process (it holds the lock), and should check once
// more after Open: from then on the handle cannot move to another process.
// It returns an error wrapping ErrGone when pid does not exist.
func Open(pid int) (*Process, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	return &Process{PID: pid, fd: fd}, nil
}

// Close releases the handle.
func (p *Process) Close() error { return unix.Close(p.fd) }

func (p *Process) signal(sig unix.Signal) error {
	err := unix.PidfdSendSignal(p.fd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("pid %d: %w", p.PID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("signal pid %d: %w", p.PID, err)
	}
	return nil
}

// Exited reports, without waiting, whether p has exited.
func (p *Process) Exited() bool {
	fds := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}

func waitAny(procs []*Process, deadline time.Time) ([]*Process, error) {
	fds := make([]unix.PollFd, len(procs))
	for i, p := range procs {
		fds[i] = unix.PollFd{Fd: int32(p.fd), Events: unix.POLLIN}
	}
	for {
		ms := int(time.Until(deadline).Milliseconds())
		if rem := time.Until(deadline); rem > 0 && ms == 0 {
			ms = 1
		}
		n, err := unix.Poll(fds, max(ms, 0))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("poll pidfds: %w", err)
		}
		if n == 0 {
			if time.Now().Before(deadline) {
				continue // poll rounds to milliseconds
			}
			return nil, nil
		}
		var exited []*Process
		for i, fd := range fds {
			if fd.Revents != 0 {
				exited = append(exited, procs[i])
			}
		}
		return exited, nil
	}
}
