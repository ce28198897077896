package integration_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// This file holds the CLI tests (--help, --version, usage errors) and the
// helpers the subcommand tests (start_test.go, stop_test.go, ...) share.

// eventTimeout bounds every wait for an event (a file, an exit) so a broken
// daemonctl fails the test instead of hanging it; it is not a speed claim.
const eventTimeout = 10 * time.Second

// daemonInfo is the part of testdaemon's -info-file the tests read.
type daemonInfo struct {
	PID          int            `json:"pid"`
	PPID         int            `json:"ppid"`
	SID          int            `json:"sid"`
	Cwd          string         `json:"cwd"`
	Umask        string         `json:"umask"`
	Nice         int            `json:"nice"`
	UID          int            `json:"uid"`
	GID          int            `json:"gid"`
	EUID         int            `json:"euid"`
	EGID         int            `json:"egid"`
	Groups       []int          `json:"groups"`
	InheritedFDs []int          `json:"inherited_fds"`
	FDTargets    map[int]string `json:"fd_targets"`
	Env          []string       `json:"env"`
	HasTTY       bool           `json:"has_tty"`
}

// readDaemonInfo reads the -info-file a test daemon wrote (it writes it
// before its ready file, so it exists once StartDaemon returns).
func readDaemonInfo(t *testing.T, path string) daemonInfo {
	t.Helper()
	if !h.WaitFile(t, path, eventTimeout) {
		t.Fatalf("no info file %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in daemonInfo
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("info file %s: %v", path, err)
	}
	return in
}

// canary is a test daemon started directly (not through daemonctl, so it
// holds no lock) whose PID the tests put where daemonctl might be tempted
// to signal it. It ignores TERM and logs TERM, HUP and USR1; any other
// signal daemonctl could send kills it.
type canary struct {
	pid   int
	pidfd int
	term  string
	hup   string
	usr1  string
}

func startCanary(t *testing.T) *canary {
	t.Helper()
	dir := t.TempDir()
	c := &canary{
		term: filepath.Join(dir, "term"),
		hup:  filepath.Join(dir, "hup"),
		usr1: filepath.Join(dir, "usr1"),
	}
	ready := filepath.Join(dir, "ready")
	cmd := exec.Command(h.TestDaemon, "-ready-file", ready, "-ignore-term",
		"-term-file", c.term, "-hup-file", c.hup, "-usr1-file", c.usr1)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start canary: %v", err)
	}
	// The harness's reaper collects it once killed; Release only frees
	// the handle (cleanups run last-registered first: after Watch's kill).
	t.Cleanup(func() { _ = cmd.Process.Release() })
	c.pid = cmd.Process.Pid
	c.pidfd = h.Watch(t, c.pid)
	if !h.WaitFile(t, ready, eventTimeout) {
		t.Fatalf("canary %d never became ready", c.pid)
	}
	return c
}

// assertNeverSignalled checks that daemonctl sent the canary nothing. It
// sends a TERM probe itself and waits until the canary has logged it: TERM
// is the highest-numbered signal the canary handles, and pending signals
// are taken lowest number first, so a signal daemonctl sent earlier has
// been handled (and logged) by then. Call it once, at the end of a test.
func (c *canary) assertNeverSignalled(t *testing.T) {
	t.Helper()
	if h.Exited(c.pidfd) {
		t.Fatalf("canary %d was killed", c.pid)
	}
	if err := unix.PidfdSendSignal(c.pidfd, unix.SIGTERM, nil, 0); err != nil {
		t.Fatalf("probe canary %d: %v", c.pid, err)
	}
	if !h.WaitFile(t, c.term, eventTimeout) {
		t.Fatalf("canary %d did not log the probe TERM", c.pid)
	}
	if b, _ := os.ReadFile(c.term); bytes.Count(b, []byte("TERM")) != 1 {
		t.Fatalf("canary %d received TERM from daemonctl: %q", c.pid, b)
	}
	for _, f := range []string{c.hup, c.usr1} {
		if b, err := os.ReadFile(f); err == nil {
			t.Fatalf("canary %d received a signal from daemonctl: %s holds %q", c.pid, f, b)
		}
	}
	if h.Exited(c.pidfd) {
		t.Fatalf("canary %d was killed", c.pid)
	}
}

// startSleep starts `sleep` directly: an unrelated process that must
// never be signalled. It is killed when the test ends.
func startSleep(t *testing.T) (pid, pidfd int) {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Release() })
	return cmd.Process.Pid, h.Watch(t, cmd.Process.Pid)
}

// killAndWait kills the process behind pidfd with SIGKILL and waits until
// it has exited (it then holds no lock any more).
func killAndWait(t *testing.T, pid, pidfd int) {
	t.Helper()
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	if !h.WaitExit(pidfd, eventTimeout) {
		t.Fatalf("pid %d survived SIGKILL", pid)
	}
}

// holdsFlock reports whether pid has a descriptor on path's inode whose
// fdinfo shows a FLOCK: the kernel's own word that pid is a lock holder.
func holdsFlock(t *testing.T, pid int, path string) bool {
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

// processesWithArg lists the live processes one of whose arguments
// contains marker (a path unique to the test): how a test sees whether a
// daemon was started at all.
func processesWithArg(t *testing.T, marker string) []int {
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
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue // a zombie holds nothing and runs nothing
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// procStat returns a process's parent and session from /proc/PID/stat.
func procStat(t *testing.T, pid int) (ppid, sid int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ppid, _ = strconv.Atoi(f[1])
	sid, _ = strconv.Atoi(f[3])
	return ppid, sid
}

var reportedPID = regexp.MustCompile(`\(pid (\d+)[,)]`)

// pidInOutput is the N of "(pid N)" or "(pid N, ...)" in a message.
func pidInOutput(t *testing.T, out string) int {
	t.Helper()
	m := reportedPID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no (pid N) in %q", out)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// assertOneLineError checks that a failed run wrote exactly one line to
// stderr, mentioning each of mentions (the file or program at fault).
func assertOneLineError(t *testing.T, r h.Result, mentions ...string) {
	t.Helper()
	msg := r.Stderr()
	if !strings.HasSuffix(msg, "\n") || strings.Count(msg, "\n") != 1 {
		t.Fatalf("want one line on stderr, got %q", msg)
	}
	for _, m := range mentions {
		if !strings.Contains(msg, m) {
			t.Fatalf("error %q does not mention %q", msg, m)
		}
	}
}

// assertStdout checks that a run printed exactly want (plus a newline).
func assertStdout(t *testing.T, r h.Result, want string) {
	t.Helper()
	if r.Stdout() != want+"\n" {
		t.Fatalf("want stdout %q, got %q", want+"\n", r.Stdout())
	}
}

// assertNoFile checks that path does not exist.
func assertNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s should not exist (lstat: %v)", path, err)
	}
}

// assertFileContents checks that path holds exactly want.
func assertFileContents(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		if len(got) > 64 || len(want) > 64 {
			t.Fatalf("%s changed: %d bytes, want %d", path, len(got), len(want))
		}
		t.Fatalf("%s holds %q, want %q", path, got, want)
	}
}
