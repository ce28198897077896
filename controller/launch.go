package controller

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/signals"
)

// How the launcher stage works: the caller re-executes its own binary with
// launcherEnv set and Setsid, so the stage leads a new session. The stage
// takes the pidfile's lock, forks the program as its child (in the session,
// not its leader, so it can never acquire a controlling terminal) with the
// locked descriptor inherited as fd 3, writes the child's PID, reports on
// the status pipe and exits; the daemon is reparented to init (or to the
// nearest subreaper). One Go stage instead of two saves a Go process start
// (≈1.25 ms) per start; readers treat "locked, PID not yet written" as a
// start in progress.

// Descriptors the stage receives from the caller.
const (
	specFD   = 3
	statusFD = 4
)

// lockFD is where the daemon finds its locked pidfile descriptor.
const lockFD = 3

// launchResult is the stage's report on the status pipe (see wire.go).
type launchResult struct {
	PID     int // the daemon's PID
	Running int // already running with this PID
	Error   string
	Kind    launchKind
}

// launchKind classifies a launch failure for its exit code.
type launchKind int8

const (
	kindNone       launchKind = iota
	kindNotFound              // the program cannot be executed
	kindPrivilege             // a privilege drop or nice value was refused
	kindOrphaned              // processes of an earlier start hold the lock
	kindUnverified            // a live process in the pidfile cannot be vouched for
)

// sentinel is the error a launch failure of kind k matches.
func (k launchKind) sentinel() error {
	switch k {
	case kindNotFound:
		return ErrProgramNotFound
	case kindPrivilege:
		return ErrNoPrivilege
	case kindOrphaned:
		return ErrOrphaned
	case kindUnverified:
		return ErrUnverified
	}
	return nil
}

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
	var res launchResult
	msg, err := io.ReadAll(io.LimitReader(spec, maxWire))
	if err == nil {
		var ls *launchSpec
		if ls, err = decodeLaunchSpec(msg); err == nil {
			res = runStage(ls)
		}
	}
	if err != nil {
		res = launchResult{Error: "launcher: reading start spec: " + err.Error()}
	}
	if _, err := status.Write(res.encode()); err != nil {
		return 1
	}
	// The caller reads the report to its end: close now rather than at
	// exit, so start does not wait for this stage to exit.
	if err := status.Close(); err != nil {
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
	// Never nil: exec.Cmd would pass on this stage's own environment
	// (DAEMONCTL_LAUNCHER included) to a daemon started with --clear-env.
	env := append([]string{}, ls.Env...)
	if ls.LockEnv {
		env = append(env[:len(env):len(env)], daemonEnv+"="+strconv.Itoa(lockFD)+":"+ls.PIDFile)
	}
	cmd := &exec.Cmd{
		Path:       ls.Path,
		Args:       ls.Argv,
		Env:        env,
		Dir:        ls.Dir,
		Stdin:      stdio[0],
		Stdout:     stdio[1],
		Stderr:     stdio[2],
		ExtraFiles: []*os.File{pf.LockFile()}, // becomes lockFD, read-only
	}
	if ls.Cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: ls.Cred.UID, Gid: ls.Cred.GID, Groups: ls.Cred.Groups,
		}}
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
	if err := cmd.Start(); err != nil {
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
	if err := pf.Commit(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		return fail(kindNone, "%v", err)
	}
	pauseForTest("after-write")
	// Drop this stage's copy of the lock before reporting: once start has
	// returned, the daemon is the lock's only holder, even while this stage
	// is still exiting.
	_ = pf.Close()
	return launchResult{PID: cmd.Process.Pid}
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
		return nil, launchResult{Running: st.PID}
	case pidfile.Orphaned:
		if st.PID == 0 {
			return nil, launchResult{Kind: kindOrphaned, Error: fmt.Sprintf("%s: %s", path, unrecorded(st))}
		}
		return nil, launchResult{Kind: kindOrphaned, Error: fmt.Sprintf("%s: main process %d is gone but %s still %s the lock", path, st.PID, pidList(st.Holders), plural(len(st.Holders), "holds", "hold"))}
	case pidfile.Unverified:
		return nil, launchResult{Kind: kindUnverified, Error: unverifiedText(NameFor(path), path, st)}
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
	created := true
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o640)
	if errors.Is(err, fs.ErrExist) {
		created = false
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	}
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("log file %s is a symbolic link, which daemonctl never follows: give the real path", name)
		}
		if errors.Is(err, unix.ENXIO) {
			return nil, fmt.Errorf("log file %s is a FIFO or socket: give a regular file", name)
		}
		return nil, fmt.Errorf("log file %s: %w", name, unwrapPathError(err))
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("log file %s: %w", name, err)
	}
	if why := logProblem(&st); why != "" {
		f.Close()
		return nil, fmt.Errorf("log file %s %s: give a regular file with one name", name, why)
	}
	_ = unix.SetNonblock(int(f.Fd()), false)
	if c != nil && (created || st.Uid == 0 && rootOnlyDir(name)) {
		// The daemon must be able to reopen its own log (on HUP, say).
		_ = f.Chown(int(c.UID), int(c.GID))
	}
	return f, nil
}

// logProblem says why the file st is no log file ("" when it is one).
func logProblem(st *unix.Stat_t) string {
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFIFO:
		return "is a FIFO"
	case st.Mode&unix.S_IFMT == unix.S_IFCHR, st.Mode&unix.S_IFMT == unix.S_IFBLK:
		return "is a device"
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return "is not a regular file"
	case st.Nlink != 1:
		return fmt.Sprintf("has %d hard links", st.Nlink)
	}
	return ""
}

// rootOnlyDir reports whether the directory of path belongs to root and
// nobody else may write it.
func rootOnlyDir(path string) bool {
	var d unix.Stat_t
	return unix.Stat(filepath.Dir(path), &d) == nil && d.Uid == 0 && d.Mode&0o022 == 0
}

// launch runs the launcher stage for ls and returns its report. Errors here
// are the caller's own (the stage could not be started or died silently).
// With reap it also waits for the stage to exit, after which the daemon is
// reparented to the nearest subreaper (the caller, for a readiness wait).
func launch(ls *launchSpec, args []string, env []string, reap bool) (launchResult, error) {
	self, err := selfExecutable()
	if err != nil {
		return launchResult{}, fmt.Errorf("cannot find own executable to launch the daemon: %w", err)
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return launchResult{}, err
	}
	defer specR.Close()
	defer specW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return launchResult{}, err
	}
	defer statusR.Close()
	defer statusW.Close()
	cmd := &exec.Cmd{
		Path:        self,
		Args:        args,
		Env:         append(env[:len(env):len(env)], launcherEnv+"=1"),
		ExtraFiles:  []*os.File{specR, statusW}, // specFD, statusFD
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		return launchResult{}, fmt.Errorf("start launcher %s: %w", self, err)
	}
	specR.Close()
	statusW.Close()
	// Written whole, then closed: the stage reads to the end.
	_, werr := specW.Write(ls.encode())
	specW.Close()
	msg, derr := io.ReadAll(statusR)
	var res launchResult
	if derr == nil {
		if len(msg) == 0 {
			derr = io.ErrUnexpectedEOF
		} else {
			res, derr = decodeLaunchResult(msg)
		}
	}
	if derr != nil || reap {
		waitErr := cmd.Wait()
		if derr != nil {
			return launchResult{}, stageDied(ls.PIDFile, cmd.ProcessState, waitErr)
		}
	} else {
		// The stage exits right after its report; waiting for that would
		// add its exit (≈0.5 ms) to every start. If this process exits
		// first, init reaps it.
		go func() { _ = cmd.Wait() }()
	}
	if werr != nil {
		return launchResult{}, fmt.Errorf("send start spec to launcher: %w", werr)
	}
	return res, nil
}

// stageDied explains a launcher stage that exited without reporting.
func stageDied(path string, ps *os.ProcessState, waitErr error) error {
	if ps == nil {
		return fmt.Errorf("%s: start failed: the launcher stage gave no report: %v", path, waitErr)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Errorf("%s: start interrupted: the launcher stage was killed by SIG%s before it reported (a concurrent stop or kill?); run status to see what runs", path, signals.Name(ws.Signal()))
	}
	return fmt.Errorf("%s: start failed: the launcher stage exited (%v) without a report", path, waitErr)
}

// err turns a failed result into an error matching its kind's sentinel.
func (r launchResult) err() error {
	if r.Error == "" {
		return nil
	}
	if kind := r.Kind.sentinel(); kind != nil {
		return withKind(kind, "%s", r.Error)
	}
	return errors.New(r.Error)
}
