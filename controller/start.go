package controller

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/daemonctl/daemonctl/pidfile"
)

// Started is the outcome of a start that succeeded.
type Started struct {
	Name string
	PID  int
	// Supervisor is the supervisor's PID for a supervised service (the
	// pidfile's); PID is then the program's.
	Supervisor int
	// AlreadyRunning is set when the service was running and nothing was
	// started (LSB: still a success).
	AlreadyRunning bool
	// Warning, when set, is something the operator should know although
	// the start succeeded (the daemon closed its lock descriptor).
	Warning string
	// Note, for AlreadyRunning, adds to "already running (pid N)".
	Note string
}

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
	// A supervisor does the readiness wait itself (the program is its
	// child, never the caller's).
	watch := (spec.Wait > 0 || spec.Notify) && ls.Supervise == nil
	if watch {
		if err := becomeSubreaper(); err != nil && !errors.Is(err, ErrUnsupported) {
			return started, fmt.Errorf("become subreaper: %w", err)
		}
	}
	var ns *notifySocket
	if watch && spec.Notify {
		var err error
		if ns, err = listenNotify(spec.NotifySocket, ls.Cred); err != nil {
			return started, err
		}
		defer ns.Close()
		ls.Env = setEnv(ls.Env, "NOTIFY_SOCKET="+ns.Name())
	}
	logStart := logSize(ls.Stderr)
	begin := time.Now()
	res, err := launch(ls, args, os.Environ(), watch, progress)
	if err != nil {
		return started, err
	}
	if err := res.err(); err != nil {
		if res.Kind == kindFailedStart {
			if tail := logTail(ls.Stderr, logStart, 20); tail != "" {
				err = withKind(ErrFailedStart, "%s\n%s", res.Error, tail)
			}
		}
		return started, err
	}
	if res.PID == 0 {
		started.PID, started.Supervisor, started.AlreadyRunning = res.Running, res.Supervisor, true
		return started, nil
	}
	started.PID, started.Supervisor = res.PID, res.Supervisor
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
		started.AlreadyRunning = true
		started.PID, started.Supervisor = runningPIDs(st)
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
