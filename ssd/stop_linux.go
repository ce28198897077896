package ssd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/signals"
)

// stop is --stop: it signals what the finder finds and, with --retry,
// walks the schedule, waiting on the processes' pidfds. It returns the
// exit code: 0 when a process was signalled (and, with --retry, all are
// gone), nothing-done when none was found, 2 when processes outlive the
// schedule. The error wraps ErrTrouble (a pidfile that must not be
// believed, a signal the kernel refuses for a reason other than
// permission), and then the pidfile is left alone.
func stop(o Options, f finder, stdout, stderr io.Writer) (int, error) {
	s := &stopper{o: o, f: f, stdout: stdout, stderr: stderr, live: map[int]*signals.Process{}}
	defer s.closeAll()
	if o.Test {
		if o.Schedule != nil {
			o.info(stdout, "Ignoring --retry in test mode\n")
		}
		res, err := f.find()
		if err != nil {
			return 0, err
		}
		for _, pid := range res.pids {
			o.info(stdout, "Would send signal %d to %d.\n", o.Signal, pid)
		}
		if len(res.pids) > 0 {
			return 0, nil
		}
		return s.finish(false)
	}
	if o.Schedule == nil {
		n, err := s.signal(o.Signal, 0)
		if err != nil {
			return 0, err
		}
		return s.finish(n > 0)
	}
	anyKilled, retry := false, 0
	for step := range o.Schedule.Walk() {
		if step.Signal != 0 {
			n, err := s.signal(step.Signal, retry)
			retry++
			if err != nil {
				return 0, err
			}
			if n == 0 {
				return s.finish(anyKilled)
			}
			anyKilled = true
		}
		gone, err := s.wait(step.Wait)
		if err != nil {
			return 0, err
		}
		if gone {
			return s.finish(anyKilled)
		}
	}
	o.info(stdout, "Program %s, %d process(es), refused to die.\n", what(o), len(s.live))
	return 2, nil
}

// stopper walks a stop over the processes it holds pidfds on.
type stopper struct {
	o              Options
	f              finder
	stdout, stderr io.Writer
	live           map[int]*signals.Process
	// last is the last signal sent (0 before the first).
	last unix.Signal
}

// refresh finds the processes now, opens a pidfd on each new one and keeps
// it if the finder still owns it, and forgets those that exited. It
// returns the PIDs found that it holds, and whether any were new.
func (s *stopper) refresh() ([]int, bool, error) {
	res, err := s.f.find()
	if err != nil {
		return nil, false, err
	}
	for pid, p := range s.live {
		if p.Exited() {
			p.Close()
			delete(s.live, pid)
		}
	}
	var pids []int
	added := false
	for _, pid := range res.pids {
		if _, ok := s.live[pid]; !ok {
			p, err := signals.Open(pid)
			if err != nil {
				continue // gone meanwhile
			}
			if !s.f.owns(pid, p.Fd()) {
				p.Close()
				continue
			}
			s.live[pid], added = p, true
		}
		pids = append(pids, pid)
	}
	return pids, added, nil
}

// signal sends sig to every process found now and returns how many it
// reached. A process that may not be signalled is warned about, as
// start-stop-daemon does, and not counted.
func (s *stopper) signal(sig unix.Signal, retry int) (int, error) {
	pids, _, err := s.refresh()
	if err != nil {
		return 0, err
	}
	var sent []int
	for _, pid := range pids {
		err := s.live[pid].Signal(sig)
		switch {
		case err == nil:
			sent = append(sent, pid)
		case errors.Is(err, signals.ErrGone):
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EINVAL):
			fmt.Fprintf(s.stderr, "%s: warning: failed to kill %d: %s\n", s.o.Prog, pid, errnoText(err))
		default:
			return 0, fmt.Errorf("%w: %v", ErrTrouble, err)
		}
	}
	if sig != 0 {
		s.last = sig
	}
	if len(sent) > 0 && s.o.Quiet < 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "Stopped %s (pid", what(s.o))
		for _, pid := range sent {
			fmt.Fprintf(&b, " %d", pid)
		}
		b.WriteString(")")
		if retry > 0 {
			fmt.Fprintf(&b, ", retry #%d", retry)
		}
		fmt.Fprintln(s.stdout, b.String()+".")
	}
	return len(sent), nil
}

// wait waits up to d for every matching process to be gone, woken by
// their pidfds. A process it holds a pidfd on counts until the pidfd says
// it has exited, even once the finder no longer finds it (a daemon that
// has released its lock, or lost its /proc/PID/exe, is still exiting and
// may hold descriptors). When those it holds have exited it looks again:
// new matches (children still holding a lock, the rest of a session) are
// waited for too, and, when the finder is sure they are the service's,
// get the last signal at once. It reports whether nothing is left.
func (s *stopper) wait(d time.Duration) (bool, error) {
	deadline := time.Now().Add(d)
	for {
		pids, added, err := s.refresh()
		if err != nil {
			return false, err
		}
		if len(s.live) == 0 {
			return true, nil
		}
		if added && s.f.chase() && s.last != 0 {
			for _, pid := range pids {
				_ = s.live[pid].Signal(s.last)
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		procs := make([]*signals.Process, 0, len(s.live))
		for _, p := range s.live {
			procs = append(procs, p)
		}
		if _, err := signals.WaitAny(procs, left); err != nil {
			return false, fmt.Errorf("%w: %v", ErrTrouble, err)
		}
	}
}

// finish ends a stop: it removes the pidfile for --remove-pidfile and
// returns 0 when something was signalled, else says so and returns the
// nothing-done code.
func (s *stopper) finish(anyKilled bool) (int, error) {
	if s.o.RemovePIDFile && !s.o.Test {
		if err := s.f.remove(); err != nil {
			return 0, err
		}
	}
	if anyKilled {
		return 0, nil
	}
	s.o.info(s.stdout, "No %s found running; none killed.\n", what(s.o))
	return s.o.nothingDone(), nil
}

func (s *stopper) closeAll() {
	for _, p := range s.live {
		p.Close()
	}
}

// what names what is being stopped, as start-stop-daemon's messages do.
func what(o Options) string {
	switch {
	case o.Name != "":
		return o.Name
	case o.Exec != "":
		return o.Exec
	case o.Program != "":
		return o.Program
	case o.PIDFile != "":
		return fmt.Sprintf("process in pidfile '%s'", o.PIDFile)
	case o.PID != 0:
		return fmt.Sprintf("process with pid %d", o.PID)
	case o.PPID != 0:
		return fmt.Sprintf("process(es) with parent pid %d", o.PPID)
	}
	return fmt.Sprintf("process(es) owned by '%s'", o.User)
}
