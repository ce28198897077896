package controller

import (
	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/signals"
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
// signalled.
func Signal(spec SignalSpec) (int, error) {
	path, err := AbsPIDFile(spec.PIDFile)
	if err != nil {
		return 0, err
	}
	name := ServiceName(spec.Name, path)
	st, err := pidfile.Inspect(path, inspectOptions(spec.Exec, spec.Program)...)
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
	s := &stopper{name: name, path: path, state: st, main: st.PID, live: map[int]*signals.Process{}}
	defer s.closeAll()
	if err := s.add(st.PID); err != nil {
		return 0, err
	}
	if len(s.live) == 0 {
		return 0, withKind(ErrNotRunning, "%s: not running (pid %d exited)", name, st.PID)
	}
	return st.PID, s.signal(spec.Signal)
}
