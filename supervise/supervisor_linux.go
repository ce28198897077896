package supervise

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/metrics"
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
	if cfg.Name == "" {
		cfg.Name = strings.TrimSuffix(filepath.Base(cfg.PIDFile.Path()), ".pid")
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

// PID is the program's main process: right after Start, the first one
// (for a forking program, the one it handed over to); later the current
// one, 0 between two.
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
