//go:build linux

// Package harness is the shared machinery of daemonctl's integration tests,
// which drive the real daemonctl binary, built once by
// TestMain, as an init script would: as a subprocess, against real daemons
// (testdata/testdaemon), real locks and real signals.
//
// TestMain makes the test process a child subreaper, so every daemon the
// tests start is reparented here when its launcher exits: a daemon's pidfd
// then cannot refer to a reused PID until this process reaps it, and
// nothing outlives the run. A reaper collects exited daemons (never the
// daemonctl subprocesses, which exec.Cmd waits for), and at the end every
// remaining child is killed.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
)

// Binaries built once by Main; read-only afterwards.
var (
	// Daemonctl is the daemonctl binary under test.
	Daemonctl string
	// TestDaemon is testdata/testdaemon (see its flags).
	TestDaemon string
	// Example is testdata/example, the Go program that daemonizes itself
	// with the library, when that directory exists.
	Example string
	// StartStopDaemon is a symbolic link named start-stop-daemon to
	// Daemonctl: daemonctl speaking as start-stop-daemon.
	StartStopDaemon string
)

// EventTimeout bounds every wait for an event (a file, an exit, a lock)
// so that a broken daemonctl fails the test instead of hanging it; it is
// not a speed claim.
const EventTimeout = 10 * time.Second

// children guards the set of PIDs that exec.Cmd owns, so the reaper never
// steals their exit status.
var children = struct {
	sync.Mutex
	managed map[int]bool
}{managed: map[int]bool{}}

// Build is a further binary for Main to build: the package Pkg (a path
// relative to the module root, like "./supervise/testdata/supervisor"),
// with the extra go build Flags (such as -race), whose path Main stores
// in *Out.
type Build struct {
	Pkg   string
	Flags []string
	Out   *string
}

// Main builds the binaries (daemonctl, the test daemon, the example, and
// extra), makes this process a child subreaper with a reaper, runs the
// tests and kills every child left. A test package's TestMain is
// os.Exit(harness.Main(m)).
func Main(m *testing.M, extra ...Build) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "daemonctl-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	Daemonctl = filepath.Join(dir, "daemonctl")
	TestDaemon = filepath.Join(dir, "testdaemon")
	Example = filepath.Join(dir, "example")
	builds := [][]string{
		{"-tags", "urfave_cli_no_docs", "-o", Daemonctl, "."},
		{"-o", TestDaemon, "./integration_test/testdata/testdaemon"},
	}
	if _, err := os.Stat(filepath.Join(root, "integration_test/testdata/example")); err == nil {
		builds = append(builds, []string{"-o", Example, "./integration_test/testdata/example"})
	}
	for _, b := range extra {
		*b.Out = filepath.Join(dir, filepath.Base(b.Pkg))
		builds = append(builds, append(append([]string{}, b.Flags...), "-o", *b.Out, b.Pkg))
	}
	for _, args := range builds {
		cmd := exec.Command("go", append([]string{"build"}, args...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if slices.Contains(args, "-race") {
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1") // the race detector needs cgo
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %v: %v\n%s", args, err, out)
			return 1
		}
	}
	StartStopDaemon = filepath.Join(dir, "ssd", "start-stop-daemon")
	if err := os.Mkdir(filepath.Dir(StartStopDaemon), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.Symlink(Daemonctl, StartStopDaemon); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Daemons whose launcher exits are reparented to us.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		return 1
	}
	stop := startReaper()
	code := m.Run()
	stop()
	killChildren()
	return code
}

// startReaper reaps exited children that exec.Cmd does not own, on each
// SIGCHLD.
func startReaper() func() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigs:
				reapZombies()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}

// childPIDs lists this process's children.
func childPIDs() []int {
	pids, _ := process.Children(os.Getpid())
	return pids
}

func reapZombies() {
	children.Lock()
	defer children.Unlock()
	for _, pid := range childPIDs() {
		if children.managed[pid] {
			continue
		}
		if state, _, _, err := ProcStat(pid); err == nil && state == 'Z' {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	}
}

// killChildren kills and reaps every child left: daemons a failed test did
// not stop. They are our children, so their PIDs cannot be reused before
// we reap them.
func killChildren() {
	children.Lock()
	defer children.Unlock()
	for _, pid := range childPIDs() {
		if !children.managed[pid] {
			_ = unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, 0, nil)
		}
	}
}

// Result is what a daemonctl run produced.
type Result struct {
	args   []string
	code   int
	stdout string
	stderr string
}

// Code is the exit status.
func (r Result) Code() int { return r.code }

// Stdout is what the run wrote to stdout.
func (r Result) Stdout() string { return r.stdout }

// Stderr is what the run wrote to stderr.
func (r Result) Stderr() string { return r.stderr }

func (r Result) String() string {
	return fmt.Sprintf("daemonctl %s\n  exit %d\n  stdout: %q\n  stderr: %q", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// Run runs daemonctl with args, logging the command, its exit status and
// output when the test fails (as runc's sane_run).
func Run(t testing.TB, args ...string) Result {
	t.Helper()
	return RunEnv(t, nil, args...)
}

// RunEnv is Run with extra environment entries.
func RunEnv(t testing.TB, env []string, args ...string) Result {
	t.Helper()
	return RunCmd(t, exec.Command(Daemonctl, args...), env, args)
}

// RunCmd runs cmd (a daemonctl invocation) to completion. WaitDelay makes
// a descriptor leaked into the daemon fail fast instead of hanging.
func RunCmd(t testing.TB, cmd *exec.Cmd, env []string, args []string) Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), env...)
	err := runManaged(cmd)
	if cmd.Process == nil {
		t.Fatalf("start daemonctl: %v", err)
	}
	r := Result{args: args, code: 0, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("daemonctl %v: %v", args, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s", r)
		}
	})
	return r
}

// Expect fails the test unless r exited with code.
func Expect(t testing.TB, r Result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got:\n%s", code, r)
	}
}

// ReadPID reads a pidfile's PID, failing the test if it has none.
func ReadPID(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read pidfile: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pidfile %s holds %q", path, b)
	}
	return pid
}

// Watch takes a pidfd on pid (a daemon reparented to us, so the PID cannot
// be reused before we reap it) and kills it when the test ends if it is
// still alive. It returns the pidfd for waitExit.
func Watch(t testing.TB, pid int) int {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	t.Cleanup(func() {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		unix.Close(fd)
	})
	return fd
}

// Exited reports, without waiting, whether the process behind pidfd fd
// has exited.
func Exited(fd int) bool {
	return WaitExit(fd, 0)
}

// WaitExit waits up to d for the process behind pidfd fd to exit.
func WaitExit(fd int, d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(d)
	for {
		n, err := unix.Poll(fds, int(max(time.Until(deadline), 0).Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n > 0
	}
}

// WaitFile waits, by inotify, up to d for path to exist; it reports
// whether it does.
func WaitFile(t testing.TB, path string, d time.Duration) bool {
	t.Helper()
	return WaitFileFunc(t, path, d, func([]byte) bool { return true })
}

// WaitFileFunc waits up to d for path to exist with contents that ok
// accepts, re-reading it on every inotify event in its directory.
func WaitFileFunc(t testing.TB, path string, d time.Duration, ok func([]byte) bool) bool {
	t.Helper()
	found, err := AwaitFile(path, d, ok)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// AwaitFile is WaitFileFunc for code without a testing.TB (a helper
// process): it reports whether the file came, and an error when inotify
// fails.
func AwaitFile(path string, d time.Duration, ok func([]byte) bool) (bool, error) {
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return false, fmt.Errorf("inotify: %w", err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, filepath.Dir(path), unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE|unix.IN_MODIFY); err != nil {
		return false, fmt.Errorf("inotify watch %s: %w", filepath.Dir(path), err)
	}
	deadline := time.Now().Add(d)
	buf := make([]byte, 4096)
	for {
		if b, err := os.ReadFile(path); err == nil && ok(b) {
			return true, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return false, fmt.Errorf("poll inotify: %w", err)
		}
		for {
			if n, _ := unix.Read(in, buf); n <= 0 {
				break
			}
		}
	}
}

// Locked reports whether someone holds the flock on path.
func Locked(t testing.TB, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	return errors.Is(err, unix.EWOULDBLOCK)
}

// Daemon is a test daemon started through daemonctl.
type Daemon struct {
	PIDFile string
	PID     int
	PIDFD   int    // from Watch
	Ready   string // its ready file
	Dir     string
}

// StartDaemon starts the test daemon under pidfile via daemonctl start
// (with extra start flags before "--" and daemon flags after it), waits
// until it has installed its signal handlers, and arranges for it to be
// killed when the test ends.
func StartDaemon(t testing.TB, pidfile string, startFlags []string, daemonFlags ...string) *Daemon {
	t.Helper()
	dir := filepath.Dir(pidfile)
	ready := filepath.Join(dir, filepath.Base(pidfile)+".ready")
	args := append([]string{"start", "-p", pidfile}, startFlags...)
	args = append(args, "--", TestDaemon, "-ready-file", ready)
	args = append(args, daemonFlags...)
	r := Run(t, args...)
	Expect(t, r, 0)
	pid := ReadPID(t, pidfile)
	d := &Daemon{PIDFile: pidfile, PID: pid, PIDFD: Watch(t, pid), Ready: ready, Dir: dir}
	if !WaitFile(t, ready, EventTimeout) {
		t.Fatalf("daemon %d never wrote %s", pid, ready)
	}
	return d
}

// moduleRoot is the directory of daemonctl's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the daemonctl module")
	}
	return filepath.Dir(gomod), nil
}

// Output runs cmd to completion and returns its combined output, like
// cmd.CombinedOutput, but registered so the reaper never steals its exit
// status. Use it for any process a test or benchmark waits for itself.
func Output(cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := runManaged(cmd)
	return out.Bytes(), err
}

// runManaged starts and waits for cmd, keeping its PID in the managed set
// meanwhile. WaitDelay makes a descriptor leaked into a daemon fail fast
// instead of hanging.
func runManaged(cmd *exec.Cmd) error {
	wait, err := StartManaged(cmd)
	if err != nil {
		return err
	}
	return wait()
}

// StartManaged starts cmd, registered so the reaper never steals its exit
// status, for a test that talks to it while it runs (logs -f); wait
// waits for it, once, and unregisters it.
func StartManaged(cmd *exec.Cmd) (wait func() error, err error) {
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}
	children.Lock()
	err = cmd.Start()
	if err == nil {
		children.managed[cmd.Process.Pid] = true
	}
	children.Unlock()
	if err != nil {
		return nil, err
	}
	return func() error {
		err := cmd.Wait()
		children.Lock()
		delete(children.managed, cmd.Process.Pid)
		children.Unlock()
		return err
	}, nil
}

// Processes lists the live processes whose argument vector match accepts.
// Zombies and exiting processes are left out: their command line reads
// empty, and they hold no descriptors (and no lock) any more.
func Processes(t testing.TB, match func(args []string) bool) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		if match(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ProcStat returns a process's state (R, S, Z, ...), parent and session
// from /proc/PID/stat; an error once it is gone and reaped.
func ProcStat(pid int) (state byte, ppid, sid int, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	// The command name, in parentheses, may hold anything: the fields
	// follow its last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 4 || len(f[0]) != 1 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	ppid, _ = strconv.Atoi(f[1])
	sid, _ = strconv.Atoi(f[3])
	return f[0][0], ppid, sid, nil
}

// HoldsFlock reports whether pid has a descriptor on path's inode whose
// fdinfo shows a FLOCK: the kernel's own word that pid is a lock holder.
func HoldsFlock(t testing.TB, pid int, path string) bool {
	t.Helper()
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	dir := fmt.Sprintf("/proc/%d", pid)
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return false
	}
	for _, fd := range fds {
		var st unix.Stat_t
		if unix.Stat(dir+"/fd/"+fd.Name(), &st) != nil || st.Dev != want.Dev || st.Ino != want.Ino {
			continue
		}
		info, err := os.ReadFile(dir + "/fdinfo/" + fd.Name())
		if err == nil && bytes.Contains(info, []byte(" FLOCK ")) {
			return true
		}
	}
	return false
}
