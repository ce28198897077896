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
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// This file holds the CLI tests (--help, --version, usage errors) and the
// helpers the subcommand tests (start_test.go, stop_test.go, ...) share.

// eventTimeout bounds every wait for an event (h.EventTimeout).
const eventTimeout = h.EventTimeout

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
	if !countLinesAtLeast(t, c.term, "TERM", 1) {
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

// countLinesAtLeast waits until path holds at least n lines that start
// with line (the test daemon's logs: "TERM <nanos>", "HUP", "USR1").
func countLinesAtLeast(t *testing.T, path, line string, n int) bool {
	t.Helper()
	return h.WaitFileFunc(t, path, eventTimeout, func(b []byte) bool {
		count := 0
		for l := range strings.Lines(string(b)) {
			if strings.HasPrefix(l, line) && strings.HasSuffix(l, "\n") {
				count++
			}
		}
		return count >= n
	})
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

// killDaemon kills a daemon daemonctl started (pidfd from h.Watch) with
// SIGKILL and waits until it has exited, and its launcher stage too: then
// nothing of that start holds the lock any more.
func killDaemon(t *testing.T, pid, pidfd int) {
	t.Helper()
	waitLauncherGone(t, pid)
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	if !h.WaitExit(pidfd, eventTimeout) {
		t.Fatalf("pid %d survived SIGKILL", pid)
	}
}

// processesWithArg lists the live processes one of whose arguments
// contains marker (a path unique to the test): how a test sees whether a
// daemon was started at all.
func processesWithArg(t *testing.T, marker string) []int {
	t.Helper()
	return h.Processes(t, func(args []string) bool {
		return slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, marker) })
	})
}

// procStat returns a process's parent and session, failing the test when
// it is gone.
func procStat(t *testing.T, pid int) (ppid, sid int) {
	t.Helper()
	_, ppid, sid, err := h.ProcStat(pid)
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	return ppid, sid
}

// waitLauncherGone waits until the launcher stage that started the daemon
// pid has exited: start returns on the stage's report, so for a moment the
// stage may still be the daemon's parent and share its lock. The stage
// leads the daemon's session, so its PID is the daemon's session ID.
func waitLauncherGone(t *testing.T, pid int) {
	t.Helper()
	_, sid := procStat(t, pid)
	if sid == pid {
		t.Fatalf("daemon %d leads its own session", pid)
	}
	fd, err := unix.PidfdOpen(sid, 0)
	if err != nil {
		return // already gone and reaped
	}
	defer unix.Close(fd)
	if !h.WaitExit(fd, eventTimeout) {
		t.Fatalf("launcher stage %d of daemon %d never exited", sid, pid)
	}
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

// badContent is a pidfile's contents that must never be taken for a PID.
type badContent struct {
	name     string
	contents []byte
}

// badPIDFileContents lists garbage pidfile contents, the canary's PID
// hidden in most of them so a lax parser would signal it.
func badPIDFileContents(canaryPID int) []badContent {
	p := strconv.Itoa(canaryPID)
	pidMax, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		pidMax = []byte("4194304")
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(pidMax)))
	huge := bytes.Repeat([]byte(p+"\n"), 10<<20/(len(p)+1))
	// An empty file is not here: with its lock free it is what a start
	// killed before writing leaves, and counts as stale (TestStatusEmptyPidfile).
	return []badContent{
		{"letters", []byte("abc")},
		{"minus one", []byte("-1\n")},
		{"zero", []byte("0\n")},
		{"init", []byte("1\n")},
		{"too big", []byte("99999999999\n")},
		{"above pid_max", []byte(strconv.Itoa(n+1) + "\n")},
		{"two numbers", []byte("12 34\n")},
		{"pid twice", []byte(p + " " + p + "\n")},
		{"pid on two lines", []byte(p + "\n" + p + "\n")},
		{"leading space", []byte(" " + p + "\n")},
		{"trailing junk", []byte(p + " abc\n")},
		{"plus sign", []byte("+" + p + "\n")},
		{"negative pid", []byte("-" + p + "\n")},
		{"leading zero", []byte("0" + p + "\n")},
		{"crlf", []byte(p + "\r\n")},
		{"nul", []byte(p + "\x00")},
		{"binary", append(append([]byte{0, 0xff, 0xfe}, p...), 1, 2)},
		{"10 MB", huge},
	}
}

// checkBadContents runs daemonctl with args(pidfile) against a pidfile
// holding each of badPIDFileContents: it must exit want with a one-line
// error naming the file, leave the file as it was, and never signal the
// canary whose PID hides in the garbage.
func checkBadContents(t *testing.T, want int, args func(pidfile string) []string) {
	c := startCanary(t)
	dir := t.TempDir()
	for i, bad := range badPIDFileContents(c.pid) {
		t.Run(bad.name, func(t *testing.T) {
			pidfile := filepath.Join(dir, fmt.Sprintf("web%d.pid", i))
			if err := os.WriteFile(pidfile, bad.contents, 0o644); err != nil {
				t.Fatal(err)
			}
			r := h.Run(t, args(pidfile)...)
			h.Expect(t, r, want)
			assertOneLineError(t, r, pidfile)
			assertFileContents(t, pidfile, bad.contents)
		})
	}
	c.assertNeverSignalled(t)
}

// pidfileCase is a -p argument that is not a plain pidfile.
type pidfileCase struct {
	name string
	path string
	// mention is what an error must name.
	mention string
	// codes is the exit status wanted, by subcommand.
	codes map[string]int
	// intact checks that the fixture is unchanged and nothing signalled.
	intact func(t *testing.T)
	skip   string
}

// pidfileCases builds, in fresh directories, a symlink to a running
// daemon's pidfile, a directory, a path in a missing directory, an
// unreadable file and a FIFO.
func pidfileCases(t *testing.T) []pidfileCase {
	t.Helper()
	dir := t.TempDir()
	var cases []pidfileCase

	// The symlink points at a live daemon's real pidfile: following it
	// would find a daemon to signal.
	real := filepath.Join(dir, "real.pid")
	d := h.StartDaemon(t, real, nil, "-ignore-term",
		"-term-file", filepath.Join(dir, "term"), "-hup-file", filepath.Join(dir, "hup"), "-usr1-file", filepath.Join(dir, "usr1"))
	target := &canary{pid: d.PID, pidfd: d.PIDFD, term: filepath.Join(dir, "term"), hup: filepath.Join(dir, "hup"), usr1: filepath.Join(dir, "usr1")}
	link := filepath.Join(dir, "link.pid")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, pidfileCase{
		name: "symlink", path: link, mention: link,
		codes: map[string]int{"status": 4, "stop": 1, "reload": 1, "signal": 1, "start": 1},
		intact: func(t *testing.T) {
			if got, err := os.Readlink(link); err != nil || got != real {
				t.Fatalf("symlink changed: %q, %v", got, err)
			}
			assertFileContents(t, real, []byte(strconv.Itoa(d.PID)+"\n"))
			target.assertNeverSignalled(t)
		},
	})

	asDir := filepath.Join(dir, "dir.pid")
	if err := os.Mkdir(asDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, pidfileCase{
		name: "directory", path: asDir, mention: asDir,
		codes: map[string]int{"status": 4, "stop": 1, "reload": 1, "signal": 1, "start": 1},
		intact: func(t *testing.T) {
			if st, err := os.Stat(asDir); err != nil || !st.IsDir() {
				t.Fatalf("directory %s changed: %v", asDir, err)
			}
		},
	})

	missing := filepath.Join(dir, "missing")
	cases = append(cases, pidfileCase{
		name: "missing directory", path: filepath.Join(missing, "web.pid"), mention: missing,
		codes:  map[string]int{"status": 3, "stop": 0, "reload": 7, "signal": 7, "start": 1},
		intact: func(t *testing.T) { assertNoFile(t, missing) },
	})

	c := startCanary(t)
	unreadable := filepath.Join(dir, "unreadable.pid")
	if err := os.WriteFile(unreadable, []byte(strconv.Itoa(c.pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	unreadableCase := pidfileCase{
		name: "unreadable", path: unreadable, mention: unreadable,
		codes: map[string]int{"status": 4, "stop": 4, "reload": 4, "signal": 4, "start": 4},
		intact: func(t *testing.T) {
			if st, err := os.Stat(unreadable); err != nil || st.Mode().Perm() != 0 {
				t.Fatalf("%s changed: %v", unreadable, err)
			}
			c.assertNeverSignalled(t)
		},
	}
	if os.Geteuid() == 0 {
		unreadableCase.skip = "root reads a mode-000 file anyway"
	}
	cases = append(cases, unreadableCase)

	fifo := filepath.Join(dir, "fifo.pid")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, pidfileCase{
		name: "fifo", path: fifo, mention: fifo,
		codes: map[string]int{"status": 4, "stop": 1, "reload": 1, "signal": 1, "start": 1},
		intact: func(t *testing.T) {
			if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				t.Fatalf("fifo %s changed: %v", fifo, err)
			}
		},
	})
	return cases
}

// checkPidfileCases runs command against each of pidfileCases: the exit
// status of its table, a one-line error naming the path, nothing started,
// changed or signalled.
func checkPidfileCases(t *testing.T, command string) {
	for _, pc := range pidfileCases(t) {
		t.Run(pc.name, func(t *testing.T) {
			if pc.skip != "" {
				t.Skip(pc.skip)
			}
			marker := filepath.Join(t.TempDir(), "ready")
			args := []string{command, "-p", pc.path}
			switch command {
			case "signal":
				args = append(args, "USR1")
			case "start":
				args = append(args, "--", h.TestDaemon, "-ready-file", marker)
			}
			r := h.Run(t, args...)
			want := pc.codes[command]
			h.Expect(t, r, want)
			switch {
			case want == 0 || (command == "status" && want == 3):
				if r.Stderr() != "" {
					t.Fatalf("stderr %q", r.Stderr())
				}
			case want == 7:
				assertOneLineError(t, r, "not running")
			default:
				assertOneLineError(t, r, pc.mention)
			}
			if pids := processesWithArg(t, marker); len(pids) != 0 {
				for _, pid := range pids {
					h.Watch(t, pid)
				}
				t.Fatalf("a daemon was started: %v", pids)
			}
			pc.intact(t)
		})
	}
}

// TestCLIVersion: --version prints one line and exits 0.
func TestCLIVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		r := h.Run(t, flag)
		h.Expect(t, r, 0)
		if !strings.HasPrefix(r.Stdout(), "daemonctl version ") || strings.Count(r.Stdout(), "\n") != 1 || r.Stderr() != "" {
			t.Fatalf("%s printed %q, %q", flag, r.Stdout(), r.Stderr())
		}
	}
}

// TestCLIHelp: --help, no arguments, help COMMAND and COMMAND --help
// exit 0 with the help on stdout.
func TestCLIHelp(t *testing.T) {
	commands := []string{"start", "stop", "status", "reload", "restart", "signal"}
	for _, args := range [][]string{{"--help"}, {"-h"}, {}, {"help"}} {
		r := h.Run(t, args...)
		h.Expect(t, r, 0)
		for _, c := range commands {
			if !strings.Contains(r.Stdout(), "\n   "+c+" ") {
				t.Fatalf("daemonctl %v does not list %s:\n%s", args, c, r.Stdout())
			}
		}
		if r.Stderr() != "" {
			t.Fatalf("stderr %q", r.Stderr())
		}
	}
	for _, c := range commands {
		for _, args := range [][]string{{"help", c}, {c, "--help"}, {c, "-h"}} {
			r := h.Run(t, args...)
			h.Expect(t, r, 0)
			if !strings.Contains(r.Stdout(), "daemonctl "+c) || !strings.Contains(r.Stdout(), "--pidfile") || r.Stderr() != "" {
				t.Fatalf("daemonctl %v printed %q, %q", args, r.Stdout(), r.Stderr())
			}
		}
	}
}

// TestCLIUsageErrors: command-line mistakes exit 2 (4 for status, whose
// 2 LSB reserves) with one line on stderr, nothing on stdout, and touch
// nothing.
func TestCLIUsageErrors(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"bogus"}, 2},
		{[]string{"help", "bogus"}, 2},
		{[]string{"--bogus"}, 2},
		{[]string{"stop"}, 2},
		{[]string{"reload"}, 2},
		{[]string{"signal", "USR1"}, 2},
		{[]string{"stop", "-p"}, 2},
		{[]string{"stop", "-p", pidfile, "--bogus"}, 2},
		{[]string{"status", "-p", pidfile, "--bogus"}, 4},
		{[]string{"status", "-p", pidfile, "extra"}, 4},
		{[]string{"reload", "-p", pidfile, "extra"}, 2},
		{[]string{"reload", "-p", pidfile, "--signal", "BOGUS"}, 2},
		{[]string{"start", "-p", pidfile}, 2},
		{[]string{"start", "-p", dir + "/", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--nice", "abc", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--nice", "50", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--umask", "999", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--umask", "abc", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--env", "NOEQUALS", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--env", "=value", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--retry", "TERM/x", "--", h.TestDaemon}, 2},
		{[]string{"restart", "-p", pidfile, "--retry", "TERM/x", "--", h.TestDaemon}, 2},
		{[]string{"restart", "-p", pidfile}, 2},
		{[]string{"restart", "-p", pidfile, "--nice", "50", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", "", "--", h.TestDaemon}, 2},
		{[]string{"status", "-p", ""}, 4},
		// An empty value used to be ignored: --user '' ran the daemon as root.
		{[]string{"start", "-p", pidfile, "--user", "", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "-u", "", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--group", "", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "-g", "", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--chdir", "", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--stdout", "", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--stderr", "", "--", h.TestDaemon}, 2},
		{[]string{"start", "-p", pidfile, "--notify", "--notify-socket", "", "--", h.TestDaemon}, 2},
		{[]string{"restart", "-p", pidfile, "--user", "", "--", h.TestDaemon}, 2},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := h.Run(t, c.args...)
			h.Expect(t, r, c.want)
			assertOneLineError(t, r)
			// Every usage error names the command, whichever layer found it.
			prefix := "daemonctl: "
			if command := c.args[0]; !strings.HasPrefix(command, "-") && command != "help" && command != "bogus" {
				prefix = "daemonctl " + command + ": "
			}
			if !strings.HasPrefix(r.Stderr(), prefix) {
				t.Fatalf("stderr %q does not start with %q", r.Stderr(), prefix)
			}
			if r.Stdout() != "" {
				t.Fatalf("stdout %q", r.Stdout())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("a usage error left %v", entries)
			}
		})
	}
}

// TestCLIUsageNamesFlag: the usage errors issue 9 found without their
// command, or not reported at all, name the command and the flag.
func TestCLIUsageNamesFlag(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	for flag, want := range map[string]string{
		"--user":  "daemonctl start: --user is empty: give a user name or uid, or leave the option out (see 'daemonctl start --help')",
		"--group": "daemonctl start: --group is empty: give a group name or gid, or leave the option out (see 'daemonctl start --help')",
		"--nice":  "daemonctl start: --nice 99: must be between -20 and 19 (see 'daemonctl start --help')",
	} {
		value := ""
		if flag == "--nice" {
			value = "99"
		}
		r := h.Run(t, "start", "-p", pidfile, flag, value, "--", h.TestDaemon)
		h.Expect(t, r, 2)
		if r.Stderr() != want+"\n" {
			t.Errorf("start %s %q: stderr %q, want %q", flag, value, r.Stderr(), want)
		}
		assertNoFile(t, pidfile)
	}
}

// TestCLIStartBadPaths: a missing --chdir or log directory fails the start
// before anything detaches, naming the path, and leaves no pidfile.
func TestCLIStartBadPaths(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	missing := filepath.Join(dir, "missing")
	for _, flags := range [][]string{
		{"--chdir", missing},
		{"--stdout", filepath.Join(missing, "out.log")},
		{"--stderr", filepath.Join(missing, "err.log")},
	} {
		args := append(append([]string{"start", "-p", pidfile}, flags...), "--", h.TestDaemon)
		r := h.Run(t, args...)
		h.Expect(t, r, 1)
		assertOneLineError(t, r, missing)
		assertNoFile(t, pidfile)
	}
}
