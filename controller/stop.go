package controller

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// StopSpec says which daemon to stop and how.
type StopSpec struct {
	PIDFile string
	// Name is how messages call the service; default from PIDFile.
	Name string
	// Schedule is walked step by step; the zero value means
	// signals.DefaultSchedule.
	Schedule signals.Schedule
}

// Stopped is the outcome of a stop that succeeded.
type Stopped struct {
	Name string
	// PID is the main process stopped; 0 when it was not running.
	PID int
	// WasRunning is false when nothing was running ("not running" is a
	// successful stop).
	WasRunning bool
	// StaleRemoved is set when a stale pidfile was removed.
	StaleRemoved bool
	// Elapsed is the time from the first signal to the lock's release.
	Elapsed time.Duration
	// Signals is how many processes were signalled, in all.
	Signals int
}

// StopEvent tells an observer a signal was sent.
type StopEvent struct {
	Name   string
	PIDs   []int
	Signal unix.Signal
	Sent   time.Time
}

// Stop stops the daemon behind spec.PIDFile and removes its pidfile. It
// signals only processes that hold the pidfile's lock (the main PID, or,
// once that is gone, the children that inherited the lock), through
// pidfds, walking the schedule; it returns when the lock is free.
//
// A nil error means nothing of the service runs any more: it was stopped,
// was not running, or only a stale pidfile was left (removed). Errors:
// ErrStillRunning when processes outlive the schedule, ErrNoPrivilege when
// they may not be signalled, and a description of the pidfile's problem
// (garbage, a symlink, ...) when nothing was signalled. observe, if not
// nil, is told of every signal sent.
func Stop(spec StopSpec, observe func(StopEvent)) (Stopped, error) {
	path, err := AbsPIDFile(spec.PIDFile)
	if err != nil {
		return Stopped{}, err
	}
	name := spec.Name
	if name == "" {
		name = NameFor(path)
	}
	res := Stopped{Name: name}
	st, err := pidfile.Inspect(path)
	if err != nil {
		return res, describeFileError(path, err)
	}
	var targets []int
	switch st.Status {
	case pidfile.NotRunning:
		return res, nil
	case pidfile.Stale:
		removed, err := pidfile.RemoveStale(path)
		res.StaleRemoved = removed
		switch {
		case errors.Is(err, pidfile.ErrLocked):
			// A start took the file since, or a probe holds it for a
			// moment: either way this stop found nothing running.
			return res, nil
		case err != nil:
			return res, describeFileError(path, err)
		}
		return res, nil
	case pidfile.Running, pidfile.RunningUnlocked:
		targets = []int{st.PID}
		res.PID = st.PID
	case pidfile.Orphaned, pidfile.Starting:
		targets = st.Holders
		if len(targets) == 0 {
			targets, _ = process.FlockHolders(st.ID)
		}
	}
	res.WasRunning = true
	sched := spec.Schedule
	if len(sched.Steps) == 0 {
		sched = signals.DefaultSchedule()
	}
	s := &stopper{name: name, path: path, state: st, main: res.PID, live: map[int]*signals.Process{}, observe: observe}
	defer s.closeAll()
	for _, pid := range targets {
		if err := s.add(pid); err != nil {
			return res, err
		}
	}
	begin := time.Now()
	err = s.run(sched)
	res.Elapsed = time.Since(begin)
	res.Signals = s.sent
	if err != nil {
		return res, err
	}
	if _, err := pidfile.RemoveStale(path); err != nil && !errors.Is(err, pidfile.ErrLocked) {
		return res, fmt.Errorf("%s: stopped, but removing %s: %w", name, path, err)
	}
	return res, nil
}

// stopper walks a schedule over the processes holding one pidfile's lock.
type stopper struct {
	name    string
	path    string
	state   pidfile.State
	main    int // the main PID, 0 when already gone
	live    map[int]*signals.Process
	observe func(StopEvent)
	sent    int
}

// add opens a pidfd on pid and keeps it if pid still belongs to the
// service: it holds the lock, or, for a daemon that closed its lock
// descriptor, it is still the process that wrote the pidfile.
func (s *stopper) add(pid int) error {
	if _, ok := s.live[pid]; ok {
		return nil
	}
	proc, err := signals.Open(pid)
	if errors.Is(err, signals.ErrGone) {
		return nil
	}
	if err != nil {
		return err
	}
	if !s.belongs(pid) {
		proc.Close()
		return nil
	}
	s.live[pid] = proc
	return nil
}

func (s *stopper) belongs(pid int) bool {
	if s.state.HeldBy(pid) {
		return true
	}
	if s.state.Status != pidfile.RunningUnlocked || pid != s.state.PID {
		return false
	}
	info, err := process.Get(pid)
	return err == nil && !info.Started.After(s.state.Written.Add(process.TickMargin))
}

func (s *stopper) closeAll() {
	for _, p := range s.live {
		p.Close()
	}
}

// run walks the schedule until the lock is free.
func (s *stopper) run(sched signals.Schedule) error {
	if len(s.live) == 0 {
		if done, err := s.lockFree(); done || err != nil {
			return err
		}
	}
	// last is the latest signal sent, which holders found later get too.
	var last unix.Signal
	for step := range sched.Walk() {
		if step.Signal != 0 {
			if err := s.signal(step.Signal); err != nil {
				return err
			}
			last = step.Signal
		}
		// A step without a wait still looks once, as start-stop-daemon
		// finds the processes again before its next signal.
		deadline := time.Now().Add(step.Wait)
		for {
			done, err := s.waitStep(last, deadline)
			if done || err != nil {
				return err
			}
			if !time.Now().Before(deadline) {
				break
			}
		}
	}
	if len(s.live) == 0 {
		// Nobody of the service was left to signal, yet the file stays
		// locked: by a process that locked it on a read-only descriptor.
		who := "another process"
		if takers, _ := process.FlockTakers(s.state.ID); len(takers) > 0 {
			who = pidList(takers)
		}
		return withKind(ErrStillRunning, "%s: %s stays locked by %s, which holds the lock on a read-only descriptor and so is not the service; nothing was signalled: find out what it is (it may be another user's)", s.name, s.path, who)
	}
	return withKind(ErrStillRunning, "%s: %s still running after the stop schedule %s", s.name, pidList(s.pids()), sched)
}

// signal sends sig to the main process while it lives, else to every
// remaining holder of the lock.
func (s *stopper) signal(sig unix.Signal) error {
	targets := s.pids()
	if _, ok := s.live[s.main]; ok {
		targets = []int{s.main}
	}
	var sent []int
	for _, pid := range targets {
		err := s.live[pid].Signal(sig)
		switch {
		case err == nil:
			sent = append(sent, pid)
		case errors.Is(err, signals.ErrGone):
		case errors.Is(err, unix.EPERM):
			return withKind(ErrNoPrivilege, "%s: not permitted to signal pid %d (another user's process): run as root or as its owner", s.name, pid)
		default:
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	s.sent += len(sent)
	if s.observe != nil && len(sent) > 0 {
		s.observe(StopEvent{Name: s.name, PIDs: sent, Signal: sig, Sent: time.Now()})
	}
	return nil
}

// waitStep waits for an exit until deadline. When the main process (or
// the last known holder) exits it checks the lock: free means done;
// otherwise the remaining holders become targets and get sig.
func (s *stopper) waitStep(sig unix.Signal, deadline time.Time) (bool, error) {
	live := make([]*signals.Process, 0, len(s.live))
	for _, p := range s.live {
		live = append(live, p)
	}
	if len(live) == 0 {
		// Holders we cannot see (another user's, without privilege): the
		// lock is all we can watch.
		if done, err := s.lockFree(); done || err != nil {
			return done, err
		}
		time.Sleep(min(10*time.Millisecond, time.Until(deadline)))
		return false, nil
	}
	exited, err := signals.WaitAny(live, time.Until(deadline))
	if err != nil || len(exited) == 0 {
		return false, err
	}
	mainExited := false
	for _, p := range exited {
		mainExited = mainExited || p.PID == s.main
		p.Close()
		delete(s.live, p.PID)
	}
	if !mainExited && len(s.live) > 0 {
		return false, nil
	}
	if done, err := s.lockFree(); done || err != nil {
		return done, err
	}
	// Children that inherited the lock live on: finish them too.
	holders, _ := process.FlockHolders(s.state.ID)
	var added bool
	for _, pid := range holders {
		if _, ok := s.live[pid]; !ok {
			if err := s.add(pid); err != nil {
				return false, err
			}
			added = true
		}
	}
	if added && sig != 0 {
		return false, s.signal(sig)
	}
	return false, nil
}

func (s *stopper) lockFree() (bool, error) {
	locked, err := pidfile.Locked(s.path, s.state.ID)
	if err != nil {
		return false, err
	}
	if !locked && s.state.Status == pidfile.RunningUnlocked {
		_, alive := s.live[s.state.PID]
		return !alive, nil
	}
	return !locked, nil
}

func (s *stopper) pids() []int {
	pids := make([]int, 0, len(s.live))
	for pid := range s.live {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids
}

// SignalSpec says which daemon to signal with what.
type SignalSpec struct {
	PIDFile string
	Name    string
	Signal  unix.Signal
}

// Signal sends spec.Signal to the daemon's main process, which must hold
// the pidfile's lock (or, having closed its lock descriptor, still be the
// process that wrote the file). It returns the PID signalled. Errors:
// ErrNotRunning when no daemon runs, ErrOrphaned when only children of a
// dead main process hold the lock, ErrNoPrivilege when the signal is not
// permitted, and a description of the pidfile's problem when nothing was
// signalled.
func Signal(spec SignalSpec) (int, error) {
	path, err := AbsPIDFile(spec.PIDFile)
	if err != nil {
		return 0, err
	}
	name := spec.Name
	if name == "" {
		name = NameFor(path)
	}
	st, err := pidfile.Inspect(path)
	if err != nil {
		return 0, describeFileError(path, err)
	}
	switch st.Status {
	case pidfile.NotRunning, pidfile.Stale:
		return 0, withKind(ErrNotRunning, "%s: not running", name)
	case pidfile.Starting:
		return 0, withKind(ErrOrphaned, "%s: starting (lock held, pid not yet written): try again in a moment", name)
	case pidfile.Orphaned:
		if st.PID == 0 {
			return 0, withKind(ErrOrphaned, "%s: %s: use stop", name, unrecorded(st))
		}
		return 0, withKind(ErrOrphaned, "%s: main process %d is gone; %s still hold the lock: use stop", name, st.PID, pidList(st.Holders))
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

// Restart stops the daemon (if it runs) and starts it again with spec.
func Restart(stop StopSpec, spec StartSpec, observe func(StopEvent), progress io.Writer) (Started, error) {
	ls, err := spec.resolve()
	if err != nil {
		return Started{Name: spec.Name}, err
	}
	stop.PIDFile, stop.Name = spec.PIDFile, spec.Name
	if _, err := Stop(stop, observe); err != nil {
		return Started{Name: spec.Name}, err
	}
	return start(spec, ls, []string{os.Args[0]}, progress)
}
