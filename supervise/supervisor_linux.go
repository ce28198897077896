package supervise

import (
	"errors"
	"fmt"
	"iter"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/internal/sdnotify"
	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// Supervisor is a running supervisor: this process, from Start until Wait
// returns.
type Supervisor struct {
	cfg  Config
	self int

	pf      *pidfile.File
	pub     *pidfile.Publisher
	lockID  process.FileID
	devnull *os.File
	out     *pump // the program's stdout (nil: /dev/null)
	err     *pump // its stderr (nil: /dev/null; out when one file)
	logs    []*logFile
	sock    *sdnotify.Socket
	watch   *dirWatch
	env     []string
	shim    bool // exec through /bin/sh to set WATCHDOG_PID
	mainPID atomic.Int64

	chld, stops, others chan os.Signal
	notes               chan []sdnotify.Message
	logEvents           chan struct{}

	// Touched by the loop goroutine only (and by Start before it runs).
	snap      Snapshot
	main      *child
	handoff   bool   // a forking program's start-up exited 0; no main yet
	handWhy   string // why the handoff has not happened yet
	recent    []time.Time
	delay     time.Duration
	stopping  bool
	stopSig   unix.Signal
	first     chan error
	firstDone bool
	ending    Ending
	ended     bool
	done      chan struct{}
	published time.Time

	respawnT, watchdogT, escalateT, readyT, waitT, publishT *time.Timer
	// nextStep and endSteps walk the stop schedule the supervisor is
	// taking the program through (nil when there is none).
	nextStep func() (signals.Step, bool)
	endSteps func()

	// allocs reads the bytes allocated so far; collected is that count at
	// the last collection.
	allocs    [1]metrics.Sample
	collected uint64
}

// child is the program's main process.
type child struct {
	pid     int
	proc    *signals.Process
	started time.Time
	ticks   uint64
	ready   bool // READY=1 seen (or adopted, for a forking program)
	startup bool // a forking program's start-up process
	// cause and why are set when the supervisor itself ends the program.
	cause Cause
	why   string
}

// Start makes this process the supervisor of cfg.Program, and returns
// once the first start counts as done (cfg.Ready). Call it in the
// launcher stage, the leader of a new session, after pidfile.Acquire, and
// report its outcome to the caller; then call Wait, and exit.
//
// Start makes this process a child subreaper, marks every descriptor
// above 2 close-on-exec, catches every catchable signal (see Wait), runs
// the Go runtime on one P without its periodic garbage collection (so an
// idle supervisor never wakes up; see tuneRuntime), opens the log files
// and the notify socket, publishes the state Starting, commits this
// process's own PID to the pidfile and starts the program: in this session, not its leader, with /dev/null,
// the log pipes (or /dev/null) and the read-only lock descriptor as
// descriptors 0 to 3, cfg.Program's environment plus NOTIFY_SOCKET (with
// Notify or Watchdog), and WATCHDOG_USEC and WATCHDOG_PID (with
// Watchdog; the program is then started through /bin/sh, which sets
// WATCHDOG_PID to its own PID before it execs the program with its path
// as argv[0]; a forking program gets no WATCHDOG_PID).
//
// On success the program runs (Supervisor.PID) and the supervisor keeps
// it running until Wait returns. On failure nothing is left behind: every
// process the start created was ended with cfg.StopSchedule, the pidfile
// removed and its lock released. The error then wraps ErrUsage for a bad
// cfg (nothing was started), ErrProgramNotFound when the program cannot be
// executed, ErrNoPrivilege when its user, group or nice value is refused,
// ErrFailedStart when it died, was stopped, or did not become ready
// before the first start counted as done (the message says how it ended),
// ErrUnsupported off Linux, and is otherwise about a log file or the
// notify socket (one line naming the file).
func Start(cfg Config) (*Supervisor, error) {
	if err := cfg.check(); err != nil {
		if cfg.PIDFile != nil {
			_ = cfg.PIDFile.Release()
		}
		return nil, err
	}
	s := &Supervisor{
		cfg:       cfg,
		self:      os.Getpid(),
		pf:        cfg.PIDFile,
		delay:     cfg.Respawn.Delay,
		chld:      make(chan os.Signal, 1),
		stops:     make(chan os.Signal, 4),
		others:    make(chan os.Signal, 16),
		notes:     make(chan []sdnotify.Message, 1),
		logEvents: make(chan struct{}, 1),
		first:     make(chan error, 1),
		done:      make(chan struct{}),
	}
	s.allocs[0].Name = "/gc/heap/allocs:bytes"
	metrics.Read(s.allocs[:])
	s.collected = s.allocs[0].Value.Uint64()
	s.snap = Snapshot{State: Starting, Limit: cfg.Respawn.Limit, Stdout: cfg.Logs.Stdout, Stderr: cfg.Logs.Stderr, Watchdog: cfg.Watchdog}
	tuneRuntime()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, s.abandon(fmt.Errorf("become a child subreaper: %w", err))
	}
	markCloseOnExec()
	// Before the first fork: an exit must never go unnoticed.
	signal.Notify(s.chld, unix.SIGCHLD)
	signal.Notify(s.stops, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT)
	signal.Notify(s.others, forwarded()...)
	if err := s.setUp(); err != nil {
		return nil, s.abandon(err)
	}
	if err := s.publish(); err != nil {
		return nil, s.abandon(err)
	}
	if err := s.pf.Commit(s.self); err != nil {
		return nil, s.abandon(err)
	}
	if err := s.spawn(); err != nil {
		return nil, s.abandon(err)
	}
	go s.loop()
	if err := <-s.first; err != nil {
		<-s.done
		return nil, err
	}
	return s, nil
}

// PID is the program's main process when Start returned.
func (s *Supervisor) PID() int { return int(s.mainPID.Load()) }

// Wait blocks until the supervision ends and says how (see Ending). Until
// then the supervisor respawns the program by cfg.Respawn, logs every
// respawn and its cause to the stderr log, publishes its state on the
// pidfile (Read), forwards SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH and every
// other catchable signal (but SIGCHLD, SIGPIPE, SIGURG, SIGXFSZ and the
// synchronous faults, which are its own) to the program, and treats
// SIGTERM, SIGINT and SIGQUIT as stop: it forwards the signal, never
// respawns after it, and ends once the program is gone. If the supervisor
// is SIGKILLed instead, the program keeps the service's lock (its
// descriptor 3): the service reads as orphaned, is never started twice,
// and daemonctl stop finishes it.
func (s *Supervisor) Wait() Ending {
	<-s.done
	return s.ending
}

// setUp opens what every program needs: /dev/null, the log pipes and
// files, the notify socket; and builds the environment.
func (s *Supervisor) setUp() error {
	var err error
	lock := s.pf.LockFile()
	var st unix.Stat_t
	if err := unix.Fstat(int(lock.Fd()), &st); err != nil {
		return fmt.Errorf("%s: %w", s.pf.Path(), err)
	}
	s.lockID = process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}
	if s.devnull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
		return err
	}
	changed := func() {
		select {
		case s.logEvents <- struct{}{}:
		default:
		}
	}
	l := s.cfg.Logs
	if l.Stdout != "" {
		if s.out, err = s.newLog(l.Stdout, changed); err != nil {
			return err
		}
	}
	switch {
	case l.Stderr != "" && l.Stderr == l.Stdout:
		s.err = s.out
	case l.Stderr != "":
		if s.err, err = s.newLog(l.Stderr, changed); err != nil {
			return err
		}
	}
	s.env = append([]string{}, s.cfg.Program.Env...)
	if s.cfg.Ready.Notify || s.cfg.Watchdog > 0 {
		var owner *sdnotify.Owner
		if c := s.cfg.Program.Cred; c != nil {
			owner = &sdnotify.Owner{UID: c.UID, GID: c.GID}
		}
		if s.sock, err = sdnotify.Listen(s.cfg.NotifySocket, owner); err != nil {
			return err
		}
		s.env = setEnv(s.env, "NOTIFY_SOCKET="+s.sock.Name())
		go s.listen()
	}
	if s.cfg.Watchdog > 0 {
		s.env = setEnv(s.env, "WATCHDOG_USEC="+strconv.FormatInt(s.cfg.Watchdog.Microseconds(), 10))
		if !s.cfg.Forking {
			if _, err := os.Stat(shell); err == nil {
				s.shim = true
			}
		}
	}
	if s.cfg.Forking && s.cfg.ProgramPIDFile != "" {
		if s.watch, err = newDirWatch(); err != nil {
			return err
		}
	}
	return nil
}

// newLog opens a log file and its pump.
func (s *Supervisor) newLog(path string, changed func()) (*pump, error) {
	l, err := openLogFile(path, s.cfg.Logs.MaxSize, s.cfg.Logs.Keep, s.cfg.Program.Cred, changed)
	if err != nil {
		return nil, err
	}
	s.logs = append(s.logs, l)
	return newPump(l)
}

// abandon undoes a Start that failed before the loop ran, when no
// program runs (a failed exec leaves none): it releases the pidfile and
// closes what setUp opened, and returns err.
func (s *Supervisor) abandon(err error) error {
	s.finish()
	_ = s.pf.Release()
	return err
}

// loop is the supervisor: one goroutine, woken only by a signal, a
// notify datagram, a log failure or a pending timer.
func (s *Supervisor) loop() {
	for !s.ended {
		select {
		case <-s.chld:
			s.reap()
		case sig := <-s.stops:
			s.stop(sig.(syscall.Signal))
		case sig := <-s.others:
			s.forward(sig.(syscall.Signal))
		case msgs := <-s.notes:
			s.notified(msgs)
		case <-s.logEvents:
			s.publishSoon()
		case <-s.watch.events():
			s.tryHandoff()
		case <-timerC(s.respawnT):
			s.respawnT = nil
			s.respawn()
		case <-timerC(s.watchdogT):
			s.watchdogT = nil
			s.watchdogExpired("no WATCHDOG=1 within " + s.cfg.Watchdog.String())
		case <-timerC(s.escalateT):
			s.escalateT = nil
			s.escalate()
		case <-timerC(s.readyT):
			s.readyT = nil
			s.notReady()
		case <-timerC(s.waitT):
			s.waitT = nil
			s.firstStarted()
		case <-timerC(s.publishT):
			s.publishT = nil
			s.publishNow()
		}
	}
}

// timerC is t's channel, nil (never ready) without a timer: a timer exists
// only while something is pending.
func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func stopTimer(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// reap collects every child that exited: the program's main process,
// whose exit drives what happens next, and whatever else the program left
// and this subreaper adopted.
func (s *Supervisor) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			break
		}
		if s.main != nil && pid == s.main.pid {
			s.mainExited(ws)
		}
	}
	if s.handoff && !s.ended {
		s.tryHandoff()
	}
}

// mainExited handles the main process's exit.
func (s *Supervisor) mainExited(ws unix.WaitStatus) {
	c := s.main
	s.main = nil
	s.mainPID.Store(0)
	c.proc.Close()
	exit := exitOf(ws, time.Now())
	exit.Cause, exit.Err = c.cause, c.why
	stopTimer(&s.watchdogT)
	s.stopEscalation()
	stopTimer(&s.readyT)
	stopTimer(&s.waitT)
	s.flush()
	if s.stopping {
		s.logf("pid %d %s", c.pid, exit)
		s.finishStop()
		return
	}
	if s.cfg.Forking && !exit.Failure() && (c.startup || s.cfg.ProgramPIDFile == "") {
		if s.beginHandoff(c) {
			return
		}
	}
	s.exited(c, exit)
}

// exited decides what follows the end of a program (or of an attempt to
// start one): the end of the first start, of the service, a respawn, or
// giving up.
func (s *Supervisor) exited(c *child, exit Exit) {
	s.snap.Last = exit
	s.snap.PID, s.snap.StartTicks, s.snap.Started = 0, 0, time.Time{}
	if !s.firstDone {
		s.failStart(withKind(ErrFailedStart, "%s: %s", s.cfg.Name, describe(c, exit)))
		return
	}
	if !exit.Failure() && s.cfg.Respawn.When == OnFailure {
		s.logf("%s; on-failure: the service ends", describe(c, exit))
		s.end(Finished, Exited)
		return
	}
	now := time.Now()
	limit := s.cfg.Respawn.Limit
	stable := limit.Period
	if limit.Unlimited() {
		stable = defaultStable
	}
	if c != nil && (now.Sub(c.started) >= stable || c.ready && s.cfg.Ready.Notify) {
		s.delay = s.cfg.Respawn.Delay
	}
	for len(s.recent) > 0 && now.Sub(s.recent[0]) >= limit.Period {
		s.recent = s.recent[1:]
	}
	if !limit.Unlimited() && len(s.recent) >= limit.Count {
		s.snap.State = Failed
		s.logf("%s; %s", describe(c, exit), s.snap.Why())
		s.end(GaveUp, Failed)
		return
	}
	delay := s.delay
	if exit.Cause == CauseSpawn {
		// A program that cannot be executed is retried no faster than once
		// a second, whatever the delay.
		delay = max(delay, time.Second)
	}
	s.delay = min(2*s.delay, max(s.cfg.Respawn.DelayMax, s.cfg.Respawn.Delay))
	s.snap.State, s.snap.Next = Backoff, now.Add(delay)
	s.logf("%s; respawning in %s (respawn %d)", describe(c, exit), formatDuration(delay), s.snap.Respawns+1)
	s.publishNow()
	if delay == 0 {
		s.respawn()
		return
	}
	s.respawnT = time.NewTimer(delay)
}

// describe says how a program ended, for the log: "pid 42 exited with
// status 1 after 1.2s".
func describe(c *child, exit Exit) string {
	if c == nil || c.pid == 0 {
		return exit.String()
	}
	return fmt.Sprintf("pid %d %s after %s", c.pid, exit, exit.At.Sub(c.started).Round(time.Millisecond))
}

// respawn starts the program again.
func (s *Supervisor) respawn() {
	now := time.Now()
	s.snap.Respawns++
	s.snap.Next = time.Time{}
	s.recent = append(s.recent, now)
	if err := s.spawn(); err != nil {
		s.exited(&child{started: now}, Exit{At: now, Cause: CauseSpawn, Err: err.Error()})
	}
}

// spawn starts the program and arms what its start needs.
func (s *Supervisor) spawn() error {
	pid, err := s.forkExec()
	if err != nil {
		return err
	}
	// Our child, not reaped yet (only this goroutine reaps): its PID
	// cannot have been reused.
	proc, err := signals.Open(pid)
	if err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return err
	}
	ticks, _ := process.StartTicks(pid)
	c := &child{pid: pid, proc: proc, started: time.Now(), ticks: ticks, startup: s.cfg.Forking}
	s.main = c
	s.mainPID.Store(int64(pid))
	s.snap.PID, s.snap.StartTicks, s.snap.Started = pid, ticks, c.started
	if s.cfg.Ready.Notify || s.cfg.Forking {
		s.snap.State = Starting
		s.readyT = time.NewTimer(s.readyTimeout())
		if s.watch != nil {
			s.watch.add(s.cfg.ProgramPIDFile)
		}
		s.publishNow()
		return nil
	}
	s.ready()
	return nil
}

// ready marks the main process as ready (started, READY=1, or handed
// over to) and arms its watchdog.
func (s *Supervisor) ready() {
	c := s.main
	c.ready = true
	stopTimer(&s.readyT)
	s.snap.State = Running
	if s.cfg.Watchdog > 0 {
		s.watchdogT = time.NewTimer(s.cfg.Watchdog)
	}
	s.publishNow()
	if !s.firstDone {
		if s.cfg.Ready.Wait > 0 {
			s.waitT = time.NewTimer(s.cfg.Ready.Wait)
			return
		}
		s.firstStarted()
	}
}

// firstStarted ends the first start: Start returns.
func (s *Supervisor) firstStarted() {
	s.firstDone = true
	s.first <- nil
}

func (s *Supervisor) readyTimeout() time.Duration {
	if s.cfg.Ready.Timeout > 0 {
		return s.cfg.Ready.Timeout
	}
	return defaultTimeout
}

// notReady handles the end of the readiness wait: no READY=1, or a
// forking program that did not hand over.
func (s *Supervisor) notReady() {
	why := "no READY=1 within " + formatDuration(s.readyTimeout())
	if s.cfg.Forking {
		why = s.handWhy
		if why == "" {
			why = "its start-up did not exit within " + formatDuration(s.readyTimeout())
		}
	}
	if s.main == nil {
		// A handoff that never came: no process to end.
		s.handoff = false
		s.watch.clear()
		s.exited(nil, Exit{At: time.Now(), Cause: CauseNotReady, Err: why})
		return
	}
	if !s.firstDone {
		s.failStart(withKind(ErrFailedStart, "%s: pid %d: %s", s.cfg.Name, s.main.pid, why))
		return
	}
	s.main.cause, s.main.why = CauseNotReady, why
	s.logf("pid %d: %s; ending it (%s)", s.main.pid, why, s.schedule())
	s.startEscalation(s.schedule())
}

// schedule is the stop schedule for the program.
func (s *Supervisor) schedule() signals.Schedule {
	if len(s.cfg.StopSchedule.Steps) == 0 {
		return signals.DefaultSchedule()
	}
	return s.cfg.StopSchedule
}

// watchdogExpired ends a program that stopped pinging: SIGABRT, then the
// rest of the stop schedule, then (on its exit) a respawn.
func (s *Supervisor) watchdogExpired(why string) {
	if s.main == nil || s.main.cause != CauseNone {
		return
	}
	s.snap.WatchdogMisses++
	s.main.cause, s.main.why = CauseWatchdog, why
	sched := s.schedule().WithFirst(unix.SIGABRT)
	s.logf("pid %d: %s; ending it (%s)", s.main.pid, why, sched)
	s.publishNow()
	s.startEscalation(sched)
}

// startEscalation walks sched on the main process, one step per timer.
func (s *Supervisor) startEscalation(sched signals.Schedule) {
	stopTimer(&s.watchdogT)
	stopTimer(&s.readyT)
	s.stopEscalation()
	s.nextStep, s.endSteps = iter.Pull(sched.Walk())
	s.escalate()
}

// escalate takes the schedule's next step: its signal now, the step after
// it once its wait is over. At the schedule's end the program is left to
// exit.
func (s *Supervisor) escalate() {
	if s.main == nil || s.nextStep == nil {
		return
	}
	step, ok := s.nextStep()
	if !ok {
		s.stopEscalation()
		return
	}
	if step.Signal != 0 {
		_ = s.main.proc.Signal(step.Signal)
	}
	s.escalateT = time.NewTimer(step.Wait)
}

// stopEscalation ends a walk of the stop schedule.
func (s *Supervisor) stopEscalation() {
	stopTimer(&s.escalateT)
	if s.endSteps != nil {
		s.endSteps()
		s.nextStep, s.endSteps = nil, nil
	}
}

// notified handles the messages of the service's processes.
func (s *Supervisor) notified(msgs []sdnotify.Message) {
	changed := false
	for _, m := range msgs {
		if m.Status != "" && m.Status != s.snap.Status {
			s.snap.Status, changed = m.Status, true
			if !s.firstDone && s.cfg.Progress != nil {
				fmt.Fprintln(s.cfg.Progress, m.Status)
			}
		}
		if s.main == nil || s.stopping {
			continue
		}
		switch {
		case m.Ready && !s.main.ready && s.cfg.Ready.Notify:
			s.ready()
		case m.WatchdogTrigger:
			s.watchdogExpired("it sent WATCHDOG=trigger")
		case m.Watchdog && s.watchdogT != nil:
			s.watchdogT.Reset(s.cfg.Watchdog)
		}
	}
	if changed {
		s.publishSoon()
	}
}

// listen receives the notify socket's messages for the supervisor's
// whole life, parked in the poller between datagrams.
func (s *Supervisor) listen() {
	for {
		msgs, err := s.sock.Next(s.accept)
		if err != nil {
			return
		}
		s.notes <- msgs
	}
}

// accept reports whether a notify datagram comes from the service: a
// descendant of this supervisor (the program, what it forked, what this
// subreaper adopted: the supervisor has no other children), or a holder
// of the service's lock, which this supervisor took.
func (s *Supervisor) accept(sender int) bool {
	for p, hops := sender, 0; p > 1 && hops < 64; hops++ {
		info, err := process.Get(p)
		if err != nil {
			break
		}
		if info.PPID == s.self {
			return true
		}
		p = info.PPID
	}
	taker, _ := process.LockTaker(sender, s.lockID)
	return taker == s.self
}

// forward passes a signal on to the program.
func (s *Supervisor) forward(sig unix.Signal) {
	if s.main == nil {
		s.logf("SIG%s received with no program running: dropped", signals.Name(sig))
		return
	}
	_ = s.main.proc.Signal(sig)
}

// stop handles SIGTERM, SIGINT and SIGQUIT: forward, never respawn, end
// once the program is gone.
func (s *Supervisor) stop(sig unix.Signal) {
	first := !s.stopping
	s.stopping, s.stopSig = true, sig
	stopTimer(&s.respawnT)
	stopTimer(&s.readyT)
	stopTimer(&s.waitT)
	stopTimer(&s.watchdogT)
	if s.main == nil {
		if first {
			s.logf("SIG%s: stopping (no program running)", signals.Name(sig))
		}
		s.finishStop()
		return
	}
	_ = s.main.proc.Signal(sig)
	if first {
		s.logf("SIG%s: stopping; forwarded to pid %d", signals.Name(sig), s.main.pid)
		s.snap.State = Stopping
		s.publishNow()
	}
}

// finishStop ends a stop once the program is gone.
func (s *Supervisor) finishStop() {
	s.flush()
	if !s.firstDone {
		s.failStart(withKind(ErrFailedStart, "%s: stopped by SIG%s during the start", s.cfg.Name, signals.Name(s.stopSig)))
		return
	}
	s.finish()
	if left := s.children(); len(left) > 0 {
		// The program's leftovers hold the service's lock: the pidfile
		// stays, so they read as orphaned and stop can finish them.
		s.logf("stopped; the program left %s, which still hold the lock", pidList(left))
		_ = s.pf.Close()
	} else {
		_ = s.pf.Release()
	}
	s.ending, s.ended = Stopped, true
	close(s.done)
}

// end ends the supervision with a last word on the pidfile, which stays.
func (s *Supervisor) end(e Ending, st State) {
	s.snap.State = st
	s.snap.PID, s.snap.Next = 0, time.Time{}
	s.publishNow()
	s.finish()
	_ = s.pf.Close()
	s.ending, s.ended = e, true
	close(s.done)
}

// failStart ends a first start that failed, leaving nothing behind.
func (s *Supervisor) failStart(err error) {
	s.stopAll(s.schedule())
	s.flush()
	s.finish()
	_ = s.pf.Release()
	s.ending, s.ended = GaveUp, true
	s.firstDone = true
	s.first <- err
	close(s.done)
}

// finish closes what the supervisor holds besides the pidfile.
func (s *Supervisor) finish() {
	signal.Stop(s.chld)
	signal.Stop(s.stops)
	signal.Stop(s.others)
	if s.sock != nil {
		s.sock.Close()
	}
	s.watch.close()
	s.closePublisher()
	for _, l := range s.logs {
		l.Close()
	}
}

func (s *Supervisor) closePublisher() {
	if s.pub != nil {
		s.pub.Close()
		s.pub = nil
	}
}

// stopAll ends every child of the supervisor (the program and whatever it
// left) with sched, and reaps them. It blocks: only the end of a failed
// first start uses it.
func (s *Supervisor) stopAll(sched signals.Schedule) {
	for step := range sched.Walk() {
		var procs []*signals.Process
		for _, pid := range s.children() {
			// Our children, not reaped: their PIDs cannot be reused.
			if p, err := signals.Open(pid); err == nil {
				if step.Signal != 0 {
					_ = p.Signal(step.Signal)
				}
				procs = append(procs, p)
			}
		}
		if len(procs) == 0 {
			break
		}
		deadline := time.Now().Add(step.Wait)
		for len(procs) > 0 {
			exited, err := signals.WaitAny(procs, time.Until(deadline))
			if err != nil || len(exited) == 0 {
				break
			}
			for _, e := range exited {
				e.Close()
				procs = slices.DeleteFunc(procs, func(p *signals.Process) bool { return p == e })
			}
		}
		for _, p := range procs {
			p.Close()
		}
		s.reapQuietly()
	}
	s.reapQuietly()
	if s.main != nil {
		s.main.proc.Close()
		s.main = nil
		s.mainPID.Store(0)
	}
}

// reapQuietly collects every exited child without acting on it.
func (s *Supervisor) reapQuietly() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
	}
}

// children lists the supervisor's live children (zombies and exiting
// processes left out).
func (s *Supervisor) children() []int {
	all, _ := process.Children(s.self)
	var live []int
	for _, pid := range all {
		if _, err := process.Get(pid); err == nil {
			live = append(live, pid)
		}
	}
	return live
}

// flush writes everything the program wrote so far into the logs.
func (s *Supervisor) flush() {
	if s.out != nil {
		s.out.flush()
	}
	if s.err != nil && s.err != s.out {
		s.err.flush()
	}
}

// logf writes the supervisor's line to the stderr log, if there is one,
// after what the program wrote before it.
func (s *Supervisor) logf(format string, args ...any) {
	if s.err == nil {
		return
	}
	s.flush()
	line := fmt.Sprintf("%s daemonctl[%d]: %s: %s", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), s.self, s.cfg.Name, fmt.Sprintf(format, args...))
	s.err.log.line(line)
}

// publishSoon publishes a change of counters or status text at most once
// a second, so a flood of log failures is not a flood of setxattr.
func (s *Supervisor) publishSoon() {
	if wait := time.Second - time.Since(s.published); wait > 0 {
		if s.publishT == nil {
			s.publishT = time.NewTimer(wait)
		}
		return
	}
	s.publishNow()
}

// publishNow publishes the state now (a state change is never delayed).
func (s *Supervisor) publishNow() {
	_ = s.publish()
}

func (s *Supervisor) publish() error {
	stopTimer(&s.publishT)
	if s.pub == nil {
		pub, err := s.pf.Publisher()
		if err != nil {
			return err
		}
		s.pub = pub
	}
	snap := s.snap
	snap.LogFailures, snap.LogLost, snap.LogError = 0, 0, ""
	for _, l := range s.logs {
		n, lost, last := l.stats()
		snap.LogFailures += n
		snap.LogLost += lost
		if last != "" {
			snap.LogError = last
		}
	}
	s.published = time.Now()
	defer s.collect()
	body := snap.encode()
	if len(body) > 2048 {
		// Absurdly long paths or texts: drop what readers can do without.
		snap.Stdout, snap.Stderr, snap.LogError, snap.Status = "", "", "", ""
		body = snap.encode()
	}
	return s.pub.Publish(body)
}

// markCloseOnExec marks every descriptor above stderr close-on-exec, so
// only 0 to 3 reach the program whatever the stage inherited.
func markCloseOnExec() {
	if unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// forwarded lists the signals passed on to the program: every catchable
// one but the stops (handled), SIGCHLD (reaping), SIGURG (the Go
// runtime's preemption), SIGPIPE and SIGXFSZ (raised by the supervisor's
// own writes) and the synchronous faults (SEGV, BUS, FPE, ILL, TRAP, SYS),
// which are the supervisor's own when they are not sent by kill.
func forwarded() []os.Signal {
	sigs := []os.Signal{unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGALRM, unix.SIGCONT,
		unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGPWR, unix.SIGIO, unix.SIGXCPU, unix.SIGVTALRM,
		unix.SIGPROF, unix.SIGSTKFLT, unix.SIGABRT}
	for n := 34; n <= 64; n++ {
		sigs = append(sigs, unix.Signal(n))
	}
	return sigs
}

// tuneRuntime makes the Go runtime fit a process that mostly sleeps:
// one P (an event loop needs no parallelism, and every P and the threads
// it brings cost resident memory), and no garbage collection but the
// supervisor's own (collect): the runtime would otherwise force one every
// 2 minutes, waking an idle supervisor. The memory limit is only a net.
//
// Start the stage with GOMAXPROCS=1 in its environment: set here, at run
// time, one P costs about 450 KiB more than from the start (measured:
// 1.3 MiB against 0.85 MiB of private memory), as the second P and what it
// allocated stay.
func tuneRuntime() {
	if runtime.GOMAXPROCS(0) != 1 {
		runtime.GOMAXPROCS(1)
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(64 << 20)
}

// collectEvery is how much the supervisor allocates between two
// collections: a respawn allocates a few KiB (the argument vector and
// environment for exec), a published state one.
const collectEvery = 1 << 20

// collect runs a garbage collection, and returns the memory to the
// system, once collectEvery bytes have been allocated since the last:
// called when something happened (a state was published), never on a
// timer, so the heap stays within about a MiB of what is live.
func (s *Supervisor) collect() {
	metrics.Read(s.allocs[:])
	if total := s.allocs[0].Value.Uint64(); total-s.collected >= collectEvery {
		debug.FreeOSMemory()
		s.collected = total
	}
}

// pidList renders PIDs for messages: "pid 7" or "pids 7, 8".
func pidList(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	if len(pids) == 1 {
		return "pid " + s[0]
	}
	return "pids " + strings.Join(s, ", ")
}

// setEnv returns env with kv's key set to kv, replacing an earlier entry.
func setEnv(env []string, kv string) []string {
	key, _, _ := strings.Cut(kv, "=")
	for i, old := range env {
		if k, _, _ := strings.Cut(old, "="); k == key {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}
