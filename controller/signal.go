package controller

import (
	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

// SignalSpec says which daemon to signal with what.
type SignalSpec struct {
	PIDFile string
	Name    string
	Signal  unix.Signal
	// Exec and Program narrow what counts as the daemon, as in StopSpec.
	Exec, Program string
}

// Signal sends spec.Signal to the daemon's main process, which must hold
// the service's lock (or, having closed its lock descriptor, be exactly
// the process the start recorded). It returns the PID signalled. Errors:
// ErrNotRunning when no daemon runs, ErrOrphaned when only children of a
// dead main process hold the lock, ErrUnverified when the pidfile names a
// live process nobody can vouch for, ErrNoPrivilege when the signal is not
// permitted, and a description of the pidfile's problem when nothing was
// signalled. For a supervised service the PID returned is the program's,
// and the signal goes through its supervisor (supervisedTarget).
func Signal(spec SignalSpec) (int, error) {
	path, err := AbsPIDFile(spec.PIDFile)
	if err != nil {
		return 0, err
	}
	name := ServiceName(spec.Name, path)
	st, err := inspect(path, inspectOptions(spec.Exec, spec.Program)...)
	if err != nil {
		return 0, describeFileError(path, err)
	}
	switch st.Status {
	case pidfile.NotRunning, pidfile.Stale:
		return 0, withKind(ErrNotRunning, "%s: not running", name)
	case pidfile.Starting:
		return 0, withKind(ErrOrphaned, "%s: starting (lock held, pid not yet written): try again in a moment", name)
	case pidfile.Unverified:
		return 0, withKind(ErrUnverified, "%s; nothing was signalled: %s", unverifiedText(name, path, st), unverifiedRemedy(st, path))
	case pidfile.Orphaned:
		if st.PID == 0 {
			return 0, withKind(ErrOrphaned, "%s: %s: use stop", name, unrecorded(st))
		}
		return 0, withKind(ErrOrphaned, "%s: main process %d is gone; %s still %s the lock: use stop", name, st.PID, pidList(st.Holders), plural(len(st.Holders), "holds", "hold"))
	}
	target, reported := st.PID, st.PID
	if supervisedRecord(st) {
		var err error
		if target, reported, err = supervisedTarget(name, st, spec.Signal); err != nil {
			return 0, err
		}
		if target != st.PID {
			return target, signalProgram(name, st, target, spec.Signal)
		}
	}
	s := &stopper{name: name, path: path, state: st, main: target, live: map[int]*signals.Process{}}
	defer s.closeAll()
	if err := s.add(target); err != nil {
		return 0, err
	}
	if len(s.live) == 0 {
		return 0, withKind(ErrNotRunning, "%s: not running (pid %d exited)", name, target)
	}
	return reported, s.signal(spec.Signal)
}

// supervisedTarget is where a signal for a supervised service goes: to
// its supervisor, which forwards it to the program (TERM, INT and QUIT
// stop the service, as "kill $(cat FILE)" does), or, for KILL and STOP,
// which no process can catch and forward, to the program itself, which
// holds the service's lock (checked by stopper.add). reported is the
// program's PID, for the message. A supervisor in backoff runs no program:
// ErrNotRunning.
func supervisedTarget(name string, st pidfile.State, sig unix.Signal) (target, reported int, err error) {
	snap, err := supervise.Read(st)
	if err != nil || !snap.Live {
		// No state to go by: the supervisor, the pidfile's lock holder,
		// forwards what it can.
		return st.PID, st.PID, nil
	}
	if snap.PID == 0 {
		return 0, 0, withKind(ErrNotRunning, "%s: the program is not running (%s, supervisor %d): nothing was signalled", name, snap.State, snap.Supervisor)
	}
	if sig == unix.SIGKILL || sig == unix.SIGSTOP {
		return snap.PID, snap.PID, nil
	}
	return st.PID, snap.PID, nil
}

// signalProgram sends sig to pid, a supervised service's program that
// its supervisor (st.PID, which holds the service's lock) published, once
// its pidfd is open and it is still the service's: a holder of the
// service's lock, or, for a program that closed its lock descriptor (sshd
// -D), the very process the supervisor started, still its child.
func signalProgram(name string, st pidfile.State, pid int, sig unix.Signal) error {
	proc, err := signals.Open(pid)
	if err != nil {
		return withKind(ErrNotRunning, "%s: not running (pid %d exited)", name, pid)
	}
	defer proc.Close()
	published, ticks, ok := supervisedProgram(st)
	info, ierr := process.Get(pid)
	child := ok && published == pid && ierr == nil && info.PPID == st.PID && info.StartTicks == ticks
	if !st.Owns(pid, proc.Fd()) && !child {
		return withKind(ErrNotRunning, "%s: not running (pid %d exited)", name, pid)
	}
	s := &stopper{name: name, path: st.Path, state: st, main: pid, live: map[int]*signals.Process{pid: proc}}
	return s.signal(sig)
}
