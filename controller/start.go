package controller

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/signals"
)

// Started is the outcome of a start that succeeded.
type Started struct {
	Name string
	PID  int
	// AlreadyRunning is set when the service was running and nothing was
	// started (LSB: still a success).
	AlreadyRunning bool
	// Warning, when set, is something the operator should know although
	// the start succeeded (the daemon closed its lock descriptor).
	Warning string
	// Note, for AlreadyRunning, adds to "already running (pid N)".
	Note string
}

// defaultNotifyTimeout is how long --notify waits for READY=1.
const defaultNotifyTimeout = 30 * time.Second

// Start validates spec, detaches the program as a daemon holding the
// pidfile's lock, and, when spec asks for readiness (Wait, Notify), waits
// for it. STATUS= messages a notifying daemon sends are written to
// progress (which may be nil).
//
// It returns a nil error when the daemon was started, and also when it was
// already running (Started.AlreadyRunning). Errors match ErrUsage for a bad
// spec, ErrProgramNotFound when the program cannot be executed, ErrNoPrivilege
// for a privilege drop or nice value that is refused, ErrOrphaned when
// processes of an earlier start still run, ErrUnverified when the pidfile
// names a live process nobody can vouch for, and
// ErrFailedStart when the daemon died or did not become ready during the
// readiness wait; then no daemon and no pidfile are left behind (unless
// KeepOnTimeout).
func Start(spec StartSpec, progress io.Writer) (Started, error) {
	ls, err := spec.resolve()
	if err != nil {
		return Started{Name: spec.Name}, err
	}
	return start(spec, ls, []string{os.Args[0]}, progress)
}

func start(spec StartSpec, ls *launchSpec, args []string, progress io.Writer) (Started, error) {
	if progress == nil {
		progress = io.Discard
	}
	started := Started{Name: spec.Name}
	if done, err := checkNotRunning(spec.Name, ls.PIDFile, &started); done || err != nil {
		return started, err
	}
	watch := spec.Wait > 0 || spec.Notify
	if watch {
		if err := becomeSubreaper(); err != nil && !errors.Is(err, ErrUnsupported) {
			return started, fmt.Errorf("become subreaper: %w", err)
		}
	}
	var ns *notifySocket
	if spec.Notify {
		var err error
		if ns, err = listenNotify(spec.NotifySocket, ls.Cred); err != nil {
			return started, err
		}
		defer ns.Close()
		ls.Env = setEnv(ls.Env, "NOTIFY_SOCKET="+ns.name)
	}
	logStart := logSize(ls.Stderr)
	begin := time.Now()
	res, err := launch(ls, args, os.Environ(), watch)
	if err != nil {
		return started, err
	}
	if err := res.err(); err != nil {
		return started, err
	}
	if res.PID == 0 {
		started.PID, started.AlreadyRunning = res.Running, true
		return started, nil
	}
	started.PID = res.PID
	if !watch {
		return started, nil
	}
	w := &watcher{spec: spec, ls: ls, pid: res.PID, begin: begin, logStart: logStart, progress: progress}
	started.Warning, err = w.run(ns)
	return started, err
}

// checkNotRunning looks at the pidfile before anything is launched. It
// reports done when the service already runs (filling started), and an
// error when it must not be started.
func checkNotRunning(name, path string, started *Started) (bool, error) {
	st, err := pidfile.Inspect(path)
	if err != nil {
		if errors.Is(err, pidfile.ErrInvalid) {
			return false, nil // garbage in an unlocked file: nobody runs; it is overwritten
		}
		return false, describeFileError(path, err)
	}
	switch st.Status {
	case pidfile.Running:
		started.PID, started.AlreadyRunning = st.PID, true
		if st.Unlocked {
			started.Note = "it closed its lock descriptor"
		}
		return true, nil
	case pidfile.Unverified:
		return false, withKind(ErrUnverified, "%s; not starting a second instance: %s", unverifiedText(name, path, st), unverifiedRemedy(st, path))
	case pidfile.Orphaned:
		if st.PID == 0 {
			return false, withKind(ErrOrphaned, "%s: %s; not starting a second instance: stop it first (daemonctl stop -p %s)", name, unrecorded(st), path)
		}
		return false, withKind(ErrOrphaned, "%s: main process %d is gone but %s still %s the lock on %s; stop %s first (daemonctl stop -p %s)", name, st.PID, pidList(st.Holders), plural(len(st.Holders), "holds", "hold"), path, plural(len(st.Holders), "it", "them"), path)
	}
	return false, nil
}

// logSize is the size of a log file before the start, so a failure report
// shows only what this start wrote.
func logSize(name string) int64 {
	if st, err := os.Stat(name); err == nil && name != "" {
		return st.Size()
	}
	return 0
}

// watcher follows a freshly started daemon through a readiness wait. The
// caller is a subreaper, so once the launcher stage has exited the daemon
// is its child: its pidfd cannot refer to a reused PID, and wait4 yields
// its exit status.
type watcher struct {
	spec     StartSpec
	ls       *launchSpec
	pid      int
	begin    time.Time
	logStart int64
	progress io.Writer
}

func (w *watcher) run(ns *notifySocket) (string, error) {
	proc, err := signals.Open(w.pid)
	if err != nil {
		return "", w.died()
	}
	defer proc.Close()
	if ns != nil {
		if err := w.awaitReady(ns, proc); err != nil {
			return "", err
		}
	}
	if w.spec.Wait > 0 {
		exited, err := signals.WaitAny([]*signals.Process{proc}, w.spec.Wait)
		if err != nil {
			return "", err
		}
		if len(exited) > 0 {
			return "", w.died()
		}
	}
	st, err := pidfile.Inspect(w.ls.PIDFile)
	if err == nil && st.Status == pidfile.Running && st.Unlocked {
		return fmt.Sprintf("%s: pid %d runs but closed the pidfile's lock descriptor: daemonctl vouches for it by the start's record only while the pidfile stays as it is", w.spec.Name, w.pid), nil
	}
	return "", nil
}

// awaitReady waits for READY=1 from the daemon's process tree, the
// daemon's death, or the timeout.
func (w *watcher) awaitReady(ns *notifySocket, proc *signals.Process) error {
	timeout := w.spec.NotifyTimeout
	if timeout == 0 {
		timeout = defaultNotifyTimeout
	}
	deadline := w.begin.Add(timeout)
	for {
		ev, err := ns.wait(proc, deadline)
		if err != nil {
			return err
		}
		switch ev {
		case eventExited:
			return w.died()
		case eventTimeout:
			return w.notReady(timeout)
		}
		for _, msg := range ns.receive(w.pid, w.ls.PIDFile) {
			if msg.status != "" {
				fmt.Fprintf(w.progress, "%s: %s\n", w.spec.Name, msg.status)
			}
			if msg.ready {
				return nil
			}
		}
	}
}

// notReady handles a notify timeout: stop the daemon (unless asked to keep
// it) and report.
func (w *watcher) notReady(timeout time.Duration) error {
	if w.spec.KeepOnTimeout {
		return withKind(ErrFailedStart, "%s: pid %d did not report READY=1 within %v; left running (--keep-on-timeout)", w.spec.Name, w.pid, timeout)
	}
	sched := w.spec.StopSchedule
	if len(sched.Steps) == 0 {
		sched = signals.DefaultSchedule()
	}
	_, err := Stop(StopSpec{PIDFile: w.ls.PIDFile, Name: w.spec.Name, Schedule: sched}, nil)
	w.reap()
	if err != nil {
		return withKind(ErrFailedStart, "%s: pid %d did not report READY=1 within %v, and stopping it failed: %v", w.spec.Name, w.pid, timeout, err)
	}
	return withKind(ErrFailedStart, "%s: pid %d did not report READY=1 within %v; stopped it", w.spec.Name, w.pid, timeout)
}

// died reports the daemon's early exit with its status and the tail of its
// stderr log, stops whatever it left holding the lock (a child it forked
// before exiting) and removes the pidfile.
func (w *watcher) died() error {
	how := w.reap()
	w.cleanUp()
	msg := fmt.Sprintf("%s: %s after %v", w.spec.Name, how, roundDuration(time.Since(w.begin)))
	if tail := logTail(w.ls.Stderr, w.logStart, 20); tail != "" {
		msg += "\n" + tail
	}
	return withKind(ErrFailedStart, "%s", msg)
}

// cleanUp stops every process of this start still holding the lock, with
// the stop schedule, and removes the pidfile: a failed start leaves
// nothing behind.
func (w *watcher) cleanUp() {
	sched := w.spec.StopSchedule
	if len(sched.Steps) == 0 {
		sched = signals.DefaultSchedule()
	}
	if _, err := Stop(StopSpec{PIDFile: w.ls.PIDFile, Name: w.spec.Name, Schedule: sched}, nil); err != nil {
		fmt.Fprintf(w.progress, "%s: cleaning up after the failed start: %v\n", w.spec.Name, err)
	}
}

// reap collects the daemon's exit status and says how it ended.
func (w *watcher) reap() string {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(w.pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return "exited (status unknown: it is not our child)"
		}
		break
	}
	switch {
	case ws.Exited():
		return fmt.Sprintf("exited with status %d", ws.ExitStatus())
	case ws.Signaled():
		core := ""
		if ws.CoreDump() {
			core = " (core dumped)"
		}
		return fmt.Sprintf("killed by SIG%s%s", signals.Name(ws.Signal()), core)
	}
	return "exited"
}

// roundDuration shortens a duration for messages: 42ms, 1.3s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// logTail returns the last n lines written to name after offset from.
func logTail(name string, from int64, n int) string {
	if name == "" {
		return ""
	}
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	const limit = 64 << 10
	st, err := f.Stat()
	if err != nil || st.Size() <= from {
		return ""
	}
	from = max(from, st.Size()-limit)
	buf := make([]byte, st.Size()-from)
	k, _ := f.ReadAt(buf, from)
	lines := strings.Split(strings.TrimRight(string(buf[:k]), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = "  | " + l
	}
	return fmt.Sprintf("last lines of %s:\n%s", name, strings.Join(lines, "\n"))
}
