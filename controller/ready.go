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

// The readiness wait of a start (--wait, --notify), in the caller after
// the launcher stage has reported: the daemon is watched through its
// pidfd, READY=1 arrives on the notify socket (notify_linux.go), and a
// daemon that dies or misses its deadline is reported with its exit and
// its log, and cleaned up.

// defaultNotifyTimeout is how long --notify waits for READY=1.
const defaultNotifyTimeout = 30 * time.Second

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
			if msg.Status != "" {
				fmt.Fprintf(w.progress, "%s: %s\n", w.spec.Name, msg.Status)
			}
			if msg.Ready {
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
	_, err := Stop(StopSpec{PIDFile: w.ls.PIDFile, Name: w.spec.Name, Schedule: w.spec.StopSchedule})
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
	msg := fmt.Sprintf("%s: %s after %v", w.spec.Name, how, RoundElapsed(time.Since(w.begin)))
	if tail := logTail(w.ls.Stderr, w.logStart, 20); tail != "" {
		msg += "\n" + tail
	}
	return withKind(ErrFailedStart, "%s", msg)
}

// cleanUp stops every process of this start still holding the lock, with
// the stop schedule, and removes the pidfile: a failed start leaves
// nothing behind.
func (w *watcher) cleanUp() {
	if _, err := Stop(StopSpec{PIDFile: w.ls.PIDFile, Name: w.spec.Name, Schedule: w.spec.StopSchedule}); err != nil {
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
