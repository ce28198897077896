package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

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

// launchResult is the stage's report, one JSON object on the status pipe.
type launchResult struct {
	PID     int    `json:"pid,omitempty"`     // the daemon's PID
	Running int    `json:"running,omitempty"` // already running with this PID
	Error   string `json:"error,omitempty"`
	Kind    string `json:"kind,omitempty"` // see resultKinds
}

// resultKinds maps a launch failure's kind to its sentinel.
var resultKinds = map[string]error{
	"notfound":  ErrProgramNotFound,
	"privilege": ErrNoPrivilege,
	"unlocked":  ErrRunningUnlocked,
	"orphaned":  ErrOrphaned,
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
	var ls launchSpec
	var res launchResult
	if err := json.NewDecoder(spec).Decode(&ls); err != nil {
		res = launchResult{Error: "launcher: reading start spec: " + err.Error()}
	} else {
		res = runStage(&ls)
	}
	if err := json.NewEncoder(status).Encode(res); err != nil {
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
	fail := func(kind string, format string, args ...any) launchResult {
		_ = pf.Release()
		return launchResult{Kind: kind, Error: fmt.Sprintf(format, args...)}
	}
	stdio, err := openStdio(ls)
	if err != nil {
		return fail("", "%v", err)
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
		ExtraFiles: []*os.File{pf.OSFile()}, // becomes lockFD
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
			kind := ""
			if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
				kind = "privilege"
			}
			return fail(kind, "--nice %d: %v (a negative nice value needs root)", *ls.Nice, err)
		}
	}
	if err := cmd.Start(); err != nil {
		kind := ""
		switch {
		case errors.Is(err, unix.EPERM):
			kind = "privilege"
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, unix.ENOEXEC), errors.Is(err, unix.ENOTDIR):
			kind = "notfound"
		}
		return fail(kind, "cannot run %s: %v", ls.Path, unwrapPathError(err))
	}
	pauseForTest("after-fork")
	if err := pf.WritePID(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		return fail("", "%v", err)
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

// acquire takes the pidfile lock. Losing the lock to another start, or to
// a status probe holding a shared lock for a moment, is retried for a
// short while: "already running" is reported only when the PID in the file
// verifiably holds the lock.
func acquire(path string) (*pidfile.File, launchResult) {
	deadline := time.Now().Add(2 * time.Second)
	pause := 200 * time.Microsecond
	for {
		pf, err := pidfile.Acquire(path)
		if err == nil {
			return pf, launchResult{}
		}
		var pe *pidfile.PIDError
		switch {
		case errors.Is(err, pidfile.ErrRunningUnlocked) && errors.As(err, &pe):
			return nil, launchResult{Kind: "unlocked", Running: pe.PID, Error: err.Error()}
		case !errors.Is(err, pidfile.ErrLocked):
			kind := ""
			if errors.Is(err, fs.ErrPermission) {
				kind = "privilege"
			}
			return nil, launchResult{Kind: kind, Error: describeFileError(path, err).Error()}
		}
		st, ierr := pidfile.Inspect(path)
		if ierr == nil && st.Status == pidfile.Running {
			return nil, launchResult{Running: st.PID}
		}
		if time.Now().After(deadline) {
			if ierr == nil && st.Status == pidfile.Orphaned {
				return nil, launchResult{Kind: "orphaned", Error: fmt.Sprintf("%s: pid %d is gone but processes %v still hold the lock", path, st.PID, st.Holders)}
			}
			return nil, launchResult{Error: fmt.Sprintf("%s: locked, but not by the pid in the file", path)}
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
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
		if name == "" {
			return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
		if err != nil {
			return nil, fmt.Errorf("log file %s: %w", name, unwrapPathError(err))
		}
		if ls.Cred != nil {
			// The daemon must be able to reopen its own log (on HUP, say).
			_ = f.Chown(int(ls.Cred.UID), int(ls.Cred.GID))
		}
		return f, nil
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

// launch runs the launcher stage for ls and returns its report. Errors here
// are the caller's own (the stage could not be started or died silently).
// With reap it also waits for the stage to exit, after which the daemon is
// reparented to the nearest subreaper (the caller, for a readiness wait).
func launch(ls *launchSpec, args []string, env []string, reap bool) (launchResult, error) {
	self, err := os.Executable()
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
	// The spec is far smaller than a pipe buffer: this write never blocks.
	werr := json.NewEncoder(specW).Encode(ls)
	specW.Close()
	var res launchResult
	derr := json.NewDecoder(statusR).Decode(&res)
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
	if kind, ok := resultKinds[r.Kind]; ok {
		return withKind(kind, "%s", r.Error)
	}
	return errors.New(r.Error)
}
