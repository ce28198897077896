package controller

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

// The launcher stage: the process that turns a program into a daemon.
//
// Go cannot fork() without exec (the runtime is multithreaded), so the
// classic double fork is a re-execution, as runc's init is: the caller
// (launch.go) starts its own binary again, /proc/self/exe, with
// launcherEnv set and Setsid, so the stage leads a new session; main sees
// IsLauncher and calls RunLauncher before anything else. The stage reads
// the start spec from the spec pipe, takes the pidfile's lock (pidfile.
// Acquire), forks the program as its child (in the session, not its
// leader, so it can never acquire a controlling terminal) with the locked
// descriptor inherited read-only as fd 3, writes the child's PID and its
// record (pidfile.File.Commit), reports on the status pipe and exits; the
// daemon is reparented to init (or to the nearest subreaper). One Go
// stage instead of two saves a Go process start (about 1.25 ms) per start;
// readers treat "locked, PID not yet written" as a start in progress.
//
// Everything that runs in the stage is in this file: what it is given
// (the descriptors, the environment markers, launchSpec), what it reports
// (launchResult), and each of its steps. The spec and the report cross
// the pipes in wire.go's encoding.

// Environment variables daemonctl uses to talk to its own re-executed
// processes; they never reach the daemon's environment (buildEnv).
const (
	// launcherEnv makes a process the launcher stage.
	launcherEnv = "DAEMONCTL_LAUNCHER"
	// daemonEnv tells a program started by Daemonize which descriptor
	// holds its lock, and for which pidfile: "FD:PATH".
	daemonEnv = "DAEMONCTL_DAEMON"
	// daemonEnvNotify tells the daemon that the program will call Ready
	// itself.
	daemonEnvNotify = "DAEMONCTL_DAEMON_NOTIFY"
)

// Descriptors the stage receives from the caller.
const (
	specFD   = 3
	statusFD = 4
	// progressFD, for a supervised start only, carries the STATUS= texts
	// the program sends during its first start, line by line, until the
	// supervisor closes it before its report.
	progressFD = 5
)

// lockFD is where the daemon finds its locked pidfile descriptor.
const lockFD = 3

// launchSpec is the resolved, validated form of a start (StartSpec.resolve),
// handed to the launcher stage on the spec pipe (wire.go).
type launchSpec struct {
	PIDFile string
	Path    string
	Argv    []string
	Env     []string
	Dir     string
	Umask   uint32
	Cred    *cred
	Stdout  string
	Stderr  string
	Nice    *int
	// LockEnv makes the stage tell the daemon (a Go program using
	// Daemonize) which descriptor holds its lock, through daemonEnv.
	LockEnv bool
	// Supervise, when not nil, makes the stage the program's supervisor
	// (runSupervisor), which then does the readiness wait itself: Wait,
	// Notify (with NotifyTimeout and NotifySocket), and ends a program
	// that does not become ready with StopSchedule.
	Supervise     *Supervision
	Name          string
	Wait          time.Duration
	Notify        bool
	NotifyTimeout time.Duration
	NotifySocket  string
	StopSchedule  signals.Schedule
}

// cred is the identity the daemon runs as (--user, --group).
type cred struct {
	UID    uint32
	GID    uint32
	Groups []uint32
}

// launchResult is the stage's report on the status pipe (see wire.go).
type launchResult struct {
	PID     int // the daemon's PID
	Running int // already running with this PID
	// Supervisor is the supervisor's PID (the stage's own) for a
	// supervised start.
	Supervisor int
	Error      string
	Kind       launchKind
}

// launchKind classifies a launch failure for its exit code.
type launchKind int8

const (
	kindNone        launchKind = iota
	kindNotFound               // the program cannot be executed
	kindPrivilege              // a privilege drop or nice value was refused
	kindOrphaned               // processes of an earlier start hold the lock
	kindUnverified             // a live process in the pidfile cannot be vouched for
	kindFailedStart            // a supervised program died or was not ready during the first start
	kindUsage                  // a supervise setting the supervisor refused
)

// IsLauncher reports whether this process is a launcher stage, started by
// Start or Daemonize. Such a process must call RunLauncher and exit with
// its result before doing anything else.
func IsLauncher() bool { return os.Getenv(launcherEnv) != "" }

// RunLauncher runs the launcher stage and returns the process's exit code.
// Outcomes go to the caller through the status pipe, not the exit code.
func RunLauncher() int {
	// Descriptors the operator's shell left open must not reach the daemon:
	// only 0, 1, 2 and the lock are passed on.
	markCloseOnExec()
	spec := os.NewFile(specFD, "spec")
	status := os.NewFile(statusFD, "status")
	if spec == nil || status == nil {
		return 2
	}
	report := func(res launchResult) error {
		_, err := status.Write(res.encode())
		// The caller reads the report to its end: close now rather than
		// at exit, so start does not wait for this stage to exit (nor for
		// a supervisor to end).
		if cerr := status.Close(); err == nil {
			err = cerr
		}
		return err
	}
	var res launchResult
	msg, err := io.ReadAll(io.LimitReader(spec, maxWire))
	spec.Close()
	if err == nil {
		var ls *launchSpec
		if ls, err = decodeLaunchSpec(msg); err == nil {
			if ls.Supervise != nil {
				return runSupervisor(ls, report)
			}
			res = runStage(ls)
		}
	}
	if err != nil {
		res = launchResult{Error: "launcher: reading start spec: " + err.Error()}
	}
	if report(res) != nil {
		return 1
	}
	return 0
}

// runStage takes the lock and starts the program.
func runStage(ls *launchSpec) launchResult {
	// The pidfile is created 0644 whatever the daemon's --umask: every
	// status caller must be able to read it.
	syscall.Umask(0o022)
	pauseForTest("before-lock")
	pf, res := acquire(ls.PIDFile)
	if pf == nil {
		return res
	}
	pauseForTest("after-lock")
	syscall.Umask(int(ls.Umask))
	fail := func(kind launchKind, format string, args ...any) launchResult {
		_ = pf.Release()
		return launchResult{Kind: kind, Error: fmt.Sprintf(format, args...)}
	}
	stdio, err := openStdio(ls)
	if err != nil {
		return fail(kindNone, "%v", err)
	}
	// Never nil: the stage's own environment (DAEMONCTL_LAUNCHER and
	// GOMAXPROCS included) must not reach a daemon started with
	// --clear-env.
	env := append([]string{}, ls.Env...)
	if ls.LockEnv {
		env = append(env[:len(env):len(env)], daemonEnv+"="+strconv.Itoa(lockFD)+":"+ls.PIDFile)
	}
	attr := &syscall.ProcAttr{
		Dir: ls.Dir,
		Env: env,
		// 0, 1, 2 and lockFD (read-only); everything else is close-on-exec
		// (markCloseOnExec).
		Files: []uintptr{stdio[0].Fd(), stdio[1].Fd(), stdio[2].Fd(), pf.LockFile().Fd()},
		Sys:   &syscall.SysProcAttr{},
	}
	if ls.Cred != nil {
		attr.Sys.Credential = &syscall.Credential{Uid: ls.Cred.UID, Gid: ls.Cred.GID, Groups: ls.Cred.Groups}
	}
	if ls.Nice != nil {
		// Linux keeps the nice value per thread and a child inherits the
		// forking thread's: pin this goroutine to its thread and set it there.
		runtime.LockOSThread()
		if err := unix.Setpriority(unix.PRIO_PROCESS, 0, *ls.Nice); err != nil {
			kind := kindNone
			if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
				kind = kindPrivilege
			}
			return fail(kind, "--nice %d: %v (a negative nice value needs root)", *ls.Nice, err)
		}
	}
	// syscall.ForkExec, not exec.Cmd: os.StartProcess first probes, with a
	// throwaway child, whether clone can return a pidfd (about a
	// millisecond here); the daemon is this stage's child until Commit, so
	// its PID cannot be reused meanwhile without one.
	pid, err := syscall.ForkExec(ls.Path, ls.Argv, attr)
	runtime.KeepAlive(stdio)
	if err != nil {
		kind := kindNone
		switch {
		case errors.Is(err, unix.EPERM):
			kind = kindPrivilege
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, unix.ENOEXEC), errors.Is(err, unix.ENOTDIR):
			kind = kindNotFound
		}
		return fail(kind, "cannot run %s: %v", ls.Path, unwrapPathError(err))
	}
	pauseForTest("after-fork")
	if err := pf.Commit(pid); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return fail(kindNone, "%v", err)
	}
	pauseForTest("after-write")
	// Drop this stage's copy of the lock before reporting: once start has
	// returned, the daemon is the lock's only holder, even while this stage
	// is still exiting.
	_ = pf.Close()
	return launchResult{PID: pid}
}

// acquire takes the pidfile for this start (see pidfile.Acquire). A
// service already running is a result, not an error: "already running",
// reported only when the PID in the file verifiably is the service's.
func acquire(path string) (*pidfile.File, launchResult) {
	pf, err := pidfile.Acquire(path)
	if err == nil {
		return pf, launchResult{}
	}
	var busy *pidfile.BusyError
	if !errors.As(err, &busy) {
		kind := kindNone
		if errors.Is(err, fs.ErrPermission) {
			kind = kindPrivilege
		}
		return nil, launchResult{Kind: kind, Error: describeFileError(path, err).Error()}
	}
	st := busy.State
	switch st.Status {
	case pidfile.Running:
		pid, supervisor := runningPIDs(st)
		return nil, launchResult{Running: pid, Supervisor: supervisor}
	case pidfile.Orphaned:
		if st.PID == 0 {
			return nil, launchResult{Kind: kindOrphaned, Error: fmt.Sprintf("%s: %s", path, unrecorded(st))}
		}
		return nil, launchResult{Kind: kindOrphaned, Error: fmt.Sprintf("%s: main process %d is gone but %s still %s the lock", path, st.PID, pidList(st.Holders), plural(len(st.Holders), "holds", "hold"))}
	case pidfile.Unverified:
		return nil, launchResult{Kind: kindUnverified, Error: unverifiedText(ServiceName("", path), path, st)}
	}
	return nil, launchResult{Error: fmt.Sprintf("%s: another start holds the lock and has not written its pid yet; try again", path)}
}

// openStdio opens the daemon's stdin (/dev/null), stdout and stderr
// (/dev/null, or files appended to and created 0640; one descriptor when
// both name the same file, so their lines interleave in order).
func openStdio(ls *launchSpec) ([3]*os.File, error) {
	var files [3]*os.File
	var err error
	if files[0], err = os.Open(os.DevNull); err != nil {
		return files, err
	}
	open := func(name string) (*os.File, error) {
		if name == "" || name == os.DevNull {
			return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		}
		return openLog(name, ls.Cred)
	}
	if files[1], err = open(ls.Stdout); err != nil {
		return files, err
	}
	if ls.Stderr == ls.Stdout {
		files[2] = files[1]
		return files, nil
	}
	files[2], err = open(ls.Stderr)
	return files, err
}

// openLog opens a log file for appending, creating it 0640. It refuses
// what it must not write to or hand over: a symbolic link, a FIFO (never
// opened blocking, which would hang the start holding the lock), a
// device, a directory, a file with other names (a hard link to, say,
// /etc/shadow). A file it creates goes to the daemon's user (c), so the
// daemon can reopen it; an existing one changes owner only if it is root's
// in a directory only root may write.
func openLog(name string, c *cred) (*os.File, error) {
	f, st, created, err := supervise.OpenLogAt(unix.AT_FDCWD, name, name)
	if err != nil {
		return nil, err
	}
	if c != nil && (created || st.Uid == 0 && rootOnlyDir(name)) {
		// The daemon must be able to reopen its own log (on HUP, say).
		_ = f.Chown(int(c.UID), int(c.GID))
	}
	return f, nil
}

// rootOnlyDir reports whether the directory of path belongs to root and
// nobody else may write it.
func rootOnlyDir(path string) bool {
	var d unix.Stat_t
	return unix.Stat(filepath.Dir(path), &d) == nil && d.Uid == 0 && d.Mode&0o022 == 0
}

// testPauseEnv is a hook for the fault-injection tests only: set to
// "STEP:FILE", it makes the launcher stage stop at STEP (before-lock,
// after-lock, after-fork, after-write), write its PID to FILE and wait
// until the FIFO FILE.resume has been opened for writing and closed, so a
// test can SIGKILL the stage, or its caller, at exactly that step. Unset,
// or naming another step, it does nothing; it grants nothing the caller
// could not do to its own stage anyway.
const testPauseEnv = "DAEMONCTL_TEST_PAUSE"

// pauseForTest implements testPauseEnv for step.
func pauseForTest(step string) {
	want, file, ok := strings.Cut(os.Getenv(testPauseEnv), ":")
	if !ok || want != step {
		return
	}
	if os.WriteFile(file, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644) != nil {
		return
	}
	resume, err := os.Open(file + ".resume")
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resume)
	resume.Close()
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if pe.Op == "chdir" {
			return fmt.Errorf("chdir %s: %w", pe.Path, pe.Err)
		}
		return pe.Err
	}
	return err
}
