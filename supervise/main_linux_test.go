package supervise_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/integration_test/harness"
	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

// supervisorBin is testdata/supervisor, the stand-in for the launcher
// stage, built once by TestMain (with the test daemon and daemonctl), with
// the race detector when the tests have it: the supervisor is the code
// under test.
var supervisorBin string

// TestMain builds the binaries and makes this process a child subreaper
// (harness.Main): a program whose supervisor is killed is reparented here
// and cleaned up at the end.
func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(readAsHelper(path))
	}
	os.Exit(harness.Main(m, harness.Build{Pkg: "./supervise/testdata/supervisor", Flags: raceFlags, Out: &supervisorBin}))
}

// timeout bounds every wait of a failing test; passing tests wait on
// events.
const timeout = 20 * time.Second

// harnessConfig is testdata/supervisor's configuration file.
type harnessConfig struct {
	PIDFile string
	Umask   int
	Tmpfs   struct {
		Dir  string
		Size int64
	}
	ProgressFile string
	EndFile      string
	Config       supervise.Config
}

// service is one supervisor started by a test.
type service struct {
	t       *testing.T
	dir     string
	pidfile string
	starts  string // the test daemon's -start-file
	end     string // the harness's EndFile
	stderr  string // the stderr log, when the test asked for one
	pid     int    // the supervisor
	pidfd   int
	program int    // the program's PID in the report
	report  string // the harness's report line
}

// newConfig is a configuration running the test daemon with args (and
// -start-file) under a pidfile in a fresh directory, with the default
// respawn policy and a stderr log.
func newConfig(t *testing.T, args ...string) (*harnessConfig, *service) {
	t.Helper()
	dir := t.TempDir()
	s := &service{t: t, dir: dir, pidfile: filepath.Join(dir, "web.pid"), starts: filepath.Join(dir, "starts"), end: filepath.Join(dir, "end"), stderr: filepath.Join(dir, "err.log")}
	h := &harnessConfig{PIDFile: s.pidfile, Umask: 0o022, EndFile: s.end}
	h.Config = supervise.Config{
		Name: "web",
		Program: supervise.Program{
			Path: harness.TestDaemon,
			Argv: append([]string{harness.TestDaemon, "-start-file", s.starts}, args...),
			Env:  []string{"PATH=/usr/bin:/bin"},
		},
		Respawn: supervise.DefaultRespawn(),
		Logs:    supervise.DefaultLogs(),
	}
	h.Config.Logs.Stderr = s.stderr
	return h, s
}

// start runs the supervisor with h and reads its report. It fails the test
// unless the report is "ok PID" (see startReport for failures).
func (s *service) start(h *harnessConfig) *service {
	s.t.Helper()
	if report := s.startReport(h, nil); s.program == 0 {
		s.t.Fatalf("supervisor report %q, want ok PID", report)
	}
	return s
}

// startReport runs the supervisor (with attr, when not nil, as its
// process attributes) and returns its report, whatever it says; the
// program's PID when it is "ok PID".
func (s *service) startReport(h *harnessConfig, attr *syscall.SysProcAttr) string {
	t := s.t
	t.Helper()
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.dir, "config.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(supervisorBin, path)
	// As the launcher stage will be started (see tuneRuntime); a race the
	// detector finds in the supervisor (built with -race when the tests
	// are) fails the test.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GORACE=halt_on_error=1 log_path="+filepath.Join(s.dir, "race"))
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if attr != nil {
		cmd.SysProcAttr = attr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	s.pid = cmd.Process.Pid
	s.pidfd = harness.Watch(t, s.pid)
	t.Cleanup(s.cleanUp)
	report, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	s.report = strings.TrimSpace(string(report))
	if pid, ok := strings.CutPrefix(s.report, "ok "); ok {
		s.program, _ = strconv.Atoi(pid)
	}
	return s.report
}

// cleanUp kills what the test left: the supervisor (harness.Watch does)
// and every program it started (the test daemons in the start file, and
// the program in the report), each checked, after its pidfd was opened,
// to be the supervisor's child or, orphaned, this test's.
func (s *service) cleanUp() {
	_ = unix.PidfdSendSignal(s.pidfd, unix.SIGKILL, nil, 0)
	if races, _ := filepath.Glob(filepath.Join(s.dir, "race.*")); len(races) > 0 {
		b, _ := os.ReadFile(races[0])
		s.t.Errorf("the race detector found a race in the supervisor:\n%s", b)
	}
	for _, pid := range append(s.started(), s.program) {
		if pid == 0 {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		if info, err := process.Get(pid); err == nil && (info.PPID == s.pid || info.PPID == os.Getpid() || len(info.Command) > 0 && info.Command[0] == harness.TestDaemon) {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		}
		unix.Close(fd)
	}
}

// started lists the PIDs in the start file, in order.
func (s *service) started() []int {
	b, _ := os.ReadFile(s.starts)
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitStarts waits until the start file lists at least n starts.
func (s *service) waitStarts(n int) []int {
	s.t.Helper()
	if !waitFor(s.t, s.dir, func() bool { return len(s.started()) >= n }) {
		s.t.Fatalf("%d starts, want %d", len(s.started()), n)
	}
	return s.started()
}

// signal sends sig to the supervisor.
func (s *service) signal(sig unix.Signal) {
	s.t.Helper()
	if err := unix.PidfdSendSignal(s.pidfd, sig, nil, 0); err != nil {
		s.t.Fatalf("signal supervisor: %v", err)
	}
}

// waitExit waits for the supervisor to exit and returns how it ended.
func (s *service) waitExit() string {
	s.t.Helper()
	if !harness.WaitExit(s.pidfd, timeout) {
		s.t.Fatal("the supervisor did not exit")
	}
	b, _ := os.ReadFile(s.end)
	return strings.TrimSpace(string(b))
}

// snapshot reads what the supervisor published, failing the test on an
// error.
func (s *service) snapshot() supervise.Snapshot {
	s.t.Helper()
	snap, err := s.read()
	if err != nil {
		s.t.Fatalf("supervise.Read: %v", err)
	}
	return snap
}

func (s *service) read() (supervise.Snapshot, error) {
	st, err := pidfile.Inspect(s.pidfile)
	if err != nil {
		return supervise.Snapshot{}, err
	}
	return supervise.Read(st)
}

// waitSnapshot waits until the published state satisfies ok.
func (s *service) waitSnapshot(ok func(supervise.Snapshot) bool) supervise.Snapshot {
	s.t.Helper()
	var last supervise.Snapshot
	var lastErr error
	if !waitFor(s.t, s.dir, func() bool {
		last, lastErr = s.read()
		return lastErr == nil && ok(last)
	}) {
		s.t.Fatalf("published state never matched; last %+v, %v", last, lastErr)
	}
	return last
}

// logLines reads the stderr log.
func (s *service) logLines() []string {
	b, _ := os.ReadFile(s.stderr)
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// waitLog waits until the stderr log holds a line containing text.
func (s *service) waitLog(text string) {
	s.t.Helper()
	if !waitFor(s.t, s.dir, func() bool {
		return slices.ContainsFunc(s.logLines(), func(l string) bool { return strings.Contains(l, text) })
	}) {
		s.t.Fatalf("the log never said %q:\n%s", text, strings.Join(s.logLines(), "\n"))
	}
}

// waitFor waits until cond holds, checking it again on every change in
// dir (inotify: files created, written, renamed, removed, and attribute
// changes, which is how a published state shows).
func waitFor(t *testing.T, dir string, cond func() bool) bool {
	t.Helper()
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, dir, unix.IN_CREATE|unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_ATTRIB); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatal(err)
		}
		for {
			if n, _ := unix.Read(in, buf); n <= 0 {
				break
			}
		}
	}
}

// alive reports whether pid runs (not a zombie).
func alive(pid int) bool { return process.Alive(pid) }

// waitGone waits for pid to exit, by its pidfd.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	p, err := signals.Open(pid)
	if err != nil {
		return // already gone
	}
	defer p.Close()
	if exited, _ := signals.WaitAny([]*signals.Process{p}, timeout); len(exited) == 0 {
		t.Fatalf("pid %d did not exit", pid)
	}
}

// startCanary starts a test daemon that records every catchable signal
// it gets and must survive the test; it is killed at the end.
func startCanary(t *testing.T) (pid int, dir string) {
	t.Helper()
	dir = t.TempDir()
	ready := filepath.Join(dir, "ready")
	cmd := exec.Command(harness.TestDaemon, "-ready-file", ready, "-term-file", filepath.Join(dir, "term"), "-hup-file", filepath.Join(dir, "hup"), "-usr1-file", filepath.Join(dir, "usr1"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fd := harness.Watch(t, cmd.Process.Pid)
	if !harness.WaitFile(t, ready, timeout) {
		t.Fatal("canary not ready")
	}
	t.Cleanup(func() {
		if harness.Exited(fd) {
			t.Errorf("the canary %d died", cmd.Process.Pid)
		}
		for _, f := range []string{"term", "hup", "usr1"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("the canary was sent SIG%s", strings.ToUpper(f))
			}
		}
	})
	return cmd.Process.Pid, dir
}

// waitPidfd waits for the process behind pidfd fd to exit.
func waitPidfd(fd int) bool { return harness.WaitExit(fd, timeout) }

// helperEnv makes the test binary, re-executed, read a supervised
// service's state as another user (readAsHelper) instead of testing.
const helperEnv = "SUPERVISE_TEST_READ"

// readAsHelper reads the state of the service at path, tries to replace
// it, and prints "STATE pid N supervisor N live BOOL; write: ERROR".
func readAsHelper(path string) int {
	st, err := pidfile.Inspect(path)
	if err != nil {
		fmt.Print("inspect: ", err)
		return 1
	}
	snap, err := supervise.Read(st)
	if err != nil {
		fmt.Print("read: ", err)
		return 1
	}
	f, err := os.Open(path)
	if err == nil {
		err = unix.Fsetxattr(int(f.Fd()), "user.daemonctl.state", []byte("daemonctl-state/1 stage=1 stagestart=1\nsupervise/1 state=running pid=1"), 0)
		f.Close()
	}
	fmt.Printf("%s pid %d supervisor %d live %v; write: %v", snap.State, snap.PID, snap.Supervisor, snap.Live, err)
	return 0
}

// runAsNobody runs readAsHelper on path as the user nobody, from a copy of
// this test binary that nobody may execute, and returns what it printed.
func runAsNobody(t *testing.T, path string) string {
	t.Helper()
	for _, dir := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.MkdirTemp("", "supervise-helper-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bin) })
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(bin, "helper")
	if err := os.WriteFile(exe, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = []string{helperEnv + "=" + path}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := harness.Output(cmd)
	if err != nil {
		t.Fatalf("helper as nobody: %v: %s", err, out)
	}
	return string(out)
}
