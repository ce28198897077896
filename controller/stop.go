package controller

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
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
	// Exec, when set, accepts as the daemon only a process running that
	// executable (pidfile.WithExec); Program is the service's program,
	// checked only for a daemon that closed its lock descriptor
	// (pidfile.WithProgram).
	Exec, Program string
	// Observe, if not nil, is told how the stop goes, as it goes: of every
	// signal sent, then of its end (StopEvent).
	Observe func(StopEvent)
}

// inspectOptions are the pidfile.Inspect options that --exec and a
// service's program ask for.
func inspectOptions(exec, program string) []pidfile.Option {
	var opts []pidfile.Option
	if exec != "" {
		opts = append(opts, pidfile.WithExec(exec))
	}
	if program != "" {
		opts = append(opts, pidfile.WithProgram(program))
	}
	return opts
}

// Stopped is the outcome of a stop that succeeded.
type Stopped struct {
	Name string
	// PID is the main process stopped; 0 when it was not running. For a
	// supervised service it is the supervisor's, and Program its
	// program's (0 in backoff).
	PID     int
	Program int
	// WasRunning is false when nothing was running ("not running" is a
	// successful stop).
	WasRunning bool
	// StaleRemoved is set when a stale pidfile was removed.
	StaleRemoved bool
	// Elapsed is the time from the first signal to the lock's release.
	Elapsed time.Duration
	// Warning, when set, is something the operator should know although
	// nothing of the service runs any more (the pidfile could not be
	// removed, or someone else holds a lock on it).
	Warning string
}

// StopEvent is what a stop tells its observer (StopSpec.Observe): Signal
// was sent to PIDs at At; or, when Done is set, the service's processes
// are gone at At (a restart's start begins). A stop that finds nothing
// running tells nothing.
type StopEvent struct {
	Name   string
	PIDs   []int
	Signal unix.Signal
	At     time.Time
	Done   bool
}

// Processes names the event's PIDs for messages: "pid 7" or "pids 7, 8".
func (e StopEvent) Processes() string { return pidList(e.PIDs) }

// Stop stops the daemon behind spec.PIDFile and removes its pidfile. It
// signals only the service's processes (the main PID, or, once that is
// gone, the children that inherited its lock), each checked by
// pidfile.State.Owns after its pidfd was opened, walking the schedule; it
// returns when the service's lock is free.
//
// A nil error means nothing of the service runs any more: it was stopped,
// was not running, or only a stale pidfile was left (removed, unless
// Stopped.Warning says otherwise). Errors: ErrStillRunning when processes
// outlive the schedule, ErrNoPrivilege when they may not be signalled,
// ErrUnverified when the pidfile names a live process nobody can vouch
// for, and a description of the pidfile's problem (garbage, a symlink,
// ...); in those cases nothing was signalled.
func Stop(spec StopSpec) (Stopped, error) {
	path, err := AbsPIDFile(spec.PIDFile)
	if err != nil {
		return Stopped{}, err
	}
	name := ServiceName(spec.Name, path)
	res := Stopped{Name: name}
	st, err := inspect(path, inspectOptions(spec.Exec, spec.Program)...)
	if err != nil {
		return res, describeFileError(path, err)
	}
	var targets []int
	switch st.Status {
	case pidfile.NotRunning:
		return res, nil
	case pidfile.Stale:
		res.StaleRemoved, res.Warning, err = removeStale(name, path)
		if !res.StaleRemoved && res.Warning == "" && len(st.Foreign) > 0 {
			res.Warning = fmt.Sprintf("%s: the pidfile %s stays: %s %s a lock on it that is not the service's (someone opened the file and locked it); nothing was signalled, and the next start replaces the file", name, path, pidList(st.Foreign), plural(len(st.Foreign), "holds", "hold"))
		}
		return res, err
	case pidfile.Unverified:
		return res, withKind(ErrUnverified, "%s; nothing was signalled: %s", unverifiedText(name, path, st), unverifiedRemedy(st, path))
	case pidfile.Running:
		targets = []int{st.PID}
		res.PID = st.PID
		if supervisedRecord(st) {
			res.Program, _ = runningPIDs(st)
		}
	case pidfile.Orphaned, pidfile.Starting:
		targets = st.Holders
		if len(targets) == 0 {
			targets, _ = st.ServiceHolders()
		}
	}
	res.WasRunning = true
	sched := spec.Schedule.OrDefault()
	s := &stopper{name: name, path: path, state: st, main: res.PID, live: map[int]*signals.Process{}, observe: spec.Observe}
	defer s.closeAll()
	for _, pid := range targets {
		if err := s.add(pid); err != nil {
			return res, err
		}
	}
	begin := time.Now()
	err = s.run(sched)
	res.Elapsed = time.Since(begin)
	if err != nil {
		return res, err
	}
	if spec.Observe != nil {
		spec.Observe(StopEvent{Name: name, At: begin.Add(res.Elapsed), Done: true})
	}
	_, res.Warning, err = removeStale(name, path)
	return res, err
}

// removeStale removes a pidfile whose service is gone. It reports whether
// it did, and a warning when the file had to stay: someone else holds a
// lock on it (a start took it meanwhile, or another user locked it), or
// the file system is read-only. The service is gone either way; the error
// is for a file that must not be touched.
func removeStale(name, path string) (bool, string, error) {
	removed, err := pidfile.RemoveStale(path)
	var busy *pidfile.BusyError
	switch {
	case err == nil:
		return removed, "", nil
	case errors.Is(err, pidfile.ErrLocked):
		return false, "", nil
	case errors.As(err, &busy):
		return false, "", withKind(ErrUnverified, "%s; nothing was signalled: %s", unverifiedText(name, path, busy.State), unverifiedRemedy(busy.State, path))
	case errors.Is(err, unix.EROFS):
		return false, fmt.Sprintf("%s: the pidfile %s stays: its file system is read-only (it reads as dead, status 1)", name, path), nil
	}
	return false, "", describeFileError(path, err)
}

// stopper walks a schedule over the service's processes.
type stopper struct {
	name    string
	path    string
	state   pidfile.State
	main    int // the main PID, 0 when already gone
	live    map[int]*signals.Process
	observe func(StopEvent)
}

// add opens a pidfd on pid and keeps it if pid still belongs to the
// service (pidfile.State.Owns), checked after the pidfd was opened, so the
// pidfd cannot refer to a process that reused the PID.
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
	if !s.state.Owns(pid, proc.Fd()) {
		proc.Close()
		return nil
	}
	s.live[pid] = proc
	return nil
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
		// Nobody of the service was left that this caller may see, yet
		// the service's lock stays held: by another user's processes.
		return withKind(ErrStillRunning, "%s: %s stays locked by processes of the service that this user cannot see or signal: run as root or as the daemon's user", s.name, s.path)
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
	if s.observe != nil && len(sent) > 0 {
		s.observe(StopEvent{Name: s.name, PIDs: sent, Signal: sig, At: time.Now()})
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
	holders, _ := s.state.ServiceHolders()
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

// lockFree reports whether the service is gone: its main process has
// exited (a daemon that closed its lock descriptor is watched by its pidfd
// alone) and nobody holds the service's lock.
func (s *stopper) lockFree() (bool, error) {
	if _, alive := s.live[s.main]; alive {
		return false, nil
	}
	held, err := s.state.LockHeld()
	return !held, err
}

func (s *stopper) pids() []int {
	pids := make([]int, 0, len(s.live))
	for pid := range s.live {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids
}
