package integration_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// This file tests named services: definition files in a directory
// (DAEMONCTL_CONFIG_DIR or --config-dir), and start/stop/restart/reload/
// status/signal NAME and --all.

// services is a definition directory of a test, with its environment.
type services struct {
	dir    string // the definition directory (0700)
	runDir string // where the tests' pidfiles and daemon files go
	env    []string
}

// newServices makes a private definition directory and a directory for
// pidfiles.
func newServices(t *testing.T) *services {
	t.Helper()
	base := t.TempDir()
	s := &services{dir: filepath.Join(base, "daemonctl.d"), runDir: filepath.Join(base, "run")}
	for _, d := range []string{s.dir, s.runDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.env = []string{"DAEMONCTL_CONFIG_DIR=" + s.dir}
	return s
}

// define writes NAME.toml with body as is.
func (s *services) define(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(s.dir, name+".toml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// defineDaemon defines NAME as the test daemon with a ready file and
// daemonFlags, its pidfile in s.run, plus extra TOML lines.
func (s *services) defineDaemon(t *testing.T, name string, extra string, daemonFlags ...string) {
	t.Helper()
	args := append([]string{"-ready-file", s.ready(name)}, daemonFlags...)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = strconv.Quote(a)
	}
	s.define(t, name, fmt.Sprintf("description = \"test daemon %s\"\nprogram = %q\nargs = [%s]\npidfile = %q\n%s",
		name, h.TestDaemon, strings.Join(quoted, ", "), s.pidfile(name), extra))
}

func (s *services) pidfile(name string) string { return filepath.Join(s.runDir, name+".pid") }
func (s *services) ready(name string) string   { return filepath.Join(s.runDir, name+".ready") }
func (s *services) file(name, what string) string {
	return filepath.Join(s.runDir, name+"."+what)
}

// run runs daemonctl with the definition directory in its environment.
func (s *services) run(t *testing.T, args ...string) h.Result {
	t.Helper()
	return h.RunEnv(t, s.env, args...)
}

// started checks a start of name succeeded, waits for the daemon to be
// ready, and watches it (killed when the test ends). It returns the
// daemon's PID and pidfd.
func (s *services) started(t *testing.T, r h.Result, name string) (int, int) {
	t.Helper()
	h.Expect(t, r, 0)
	pid := h.ReadPID(t, s.pidfile(name))
	fd := h.Watch(t, pid)
	if !h.WaitFile(t, s.ready(name), eventTimeout) {
		t.Fatalf("%s (pid %d) never became ready", name, pid)
	}
	return pid, fd
}

// TestServiceLifecycle: every command by NAME, with its messages and
// exit codes.
func TestServiceLifecycle(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "", "-hup-file", s.file("web", "hup"), "-usr1-file", s.file("web", "usr1"))

	h.Expect(t, s.run(t, "status", "web"), 3)
	r := s.run(t, "start", "web")
	pid, fd := s.started(t, r, "web")
	assertStdout(t, r, fmt.Sprintf("web: started (pid %d)", pid))
	if !h.HoldsFlock(t, pid, s.pidfile("web")) {
		t.Fatalf("pid %d does not hold the lock on %s", pid, s.pidfile("web"))
	}

	r = s.run(t, "status", "web")
	h.Expect(t, r, 0)
	if !strings.HasPrefix(r.Stdout(), fmt.Sprintf("web: running (pid %d, up ", pid)) {
		t.Fatalf("status printed %q", r.Stdout())
	}
	assertStdout(t, s.run(t, "start", "web"), fmt.Sprintf("web: already running (pid %d)", pid))

	r = s.run(t, "reload", "web")
	h.Expect(t, r, 0)
	assertStdout(t, r, fmt.Sprintf("web: sent HUP to pid %d", pid))
	if !h.WaitFile(t, s.file("web", "hup"), eventTimeout) {
		t.Fatal("reload sent no HUP")
	}
	r = s.run(t, "signal", "web", "USR1")
	h.Expect(t, r, 0)
	if !h.WaitFile(t, s.file("web", "usr1"), eventTimeout) {
		t.Fatal("signal sent no USR1")
	}

	if err := os.Remove(s.ready("web")); err != nil {
		t.Fatal(err)
	}
	r = s.run(t, "restart", "web")
	newPID, _ := s.started(t, r, "web")
	if newPID == pid || !h.Exited(fd) {
		t.Fatalf("restart: old pid %d exited %v, new pid %d", pid, h.Exited(fd), newPID)
	}

	r = s.run(t, "stop", "web")
	h.Expect(t, r, 0)
	if !strings.HasPrefix(r.Stdout(), fmt.Sprintf("web: stopped (pid %d) in ", newPID)) {
		t.Fatalf("stop printed %q", r.Stdout())
	}
	assertNoFile(t, s.pidfile("web"))
	assertStdout(t, s.run(t, "stop", "web"), "web: not running")
	h.Expect(t, s.run(t, "status", "web"), 3)
	h.Expect(t, s.run(t, "reload", "web"), 7)
	h.Expect(t, s.run(t, "signal", "web", "USR1"), 7)
}

// TestServiceDefinitionApplied: what the file says reaches the daemon.
func TestServiceDefinitionApplied(t *testing.T) {
	s := newServices(t)
	work := t.TempDir()
	info := s.file("web", "info")
	s.defineDaemon(t, "web", fmt.Sprintf(`chdir = %q
umask = "027"
nice = 3
stdout = %q
clear-env = true

[env]
GREETING = "hello world"
`, work, s.file("web", "out")), "-info-file", info, "-stdout-line", "to stdout")
	_, _ = s.started(t, s.run(t, "start", "web"), "web")
	in := readDaemonInfo(t, info)
	if in.Cwd != work || in.Umask != "0027" || in.Nice != 3 {
		t.Errorf("cwd %q umask %q nice %d, want %q 0027 3", in.Cwd, in.Umask, in.Nice, work)
	}
	if strings.Join(in.Env, " ") != "GREETING=hello world" {
		t.Errorf("environment %q, want only GREETING", in.Env)
	}
	if !h.WaitFileFunc(t, s.file("web", "out"), eventTimeout, func(b []byte) bool { return string(b) == "to stdout\n" }) {
		t.Errorf("stdout file: %q", readFile(t, s.file("web", "out")))
	}
	h.Expect(t, s.run(t, "stop", "web"), 0)
}

// TestServiceFlagsOverride: options on the command line win over the
// file; options not given leave the file's values.
func TestServiceFlagsOverride(t *testing.T) {
	s := newServices(t)
	info := s.file("web", "info")
	s.defineDaemon(t, "web", "umask = \"027\"\nnice = 3\n[env]\nA = \"file\"\nB = \"file\"\n", "-info-file", info)
	_, _ = s.started(t, s.run(t, "start", "--umask", "077", "--env", "B=flag", "web"), "web")
	in := readDaemonInfo(t, info)
	if in.Umask != "0077" || in.Nice != 3 {
		t.Errorf("umask %q nice %d, want 0077 (flag) and 3 (file)", in.Umask, in.Nice)
	}
	env := strings.Join(in.Env, "\n")
	if !strings.Contains(env, "A=file\n") || !strings.Contains(env, "B=flag") || strings.Contains(env, "B=file") {
		t.Errorf("environment %q, want A=file and B=flag", in.Env)
	}
	h.Expect(t, s.run(t, "stop", "web"), 0)
}

// TestServiceStopSchedule: stop uses the file's stop-schedule, and --signal
// or --retry replace it.
func TestServiceStopSchedule(t *testing.T) {
	s := newServices(t)
	hup := s.file("web", "hup")
	// HUP only logs; the TERM that follows (after at most 30 s) stops it.
	s.defineDaemon(t, "web", "stop-schedule = \"HUP/0.2/TERM/30/KILL/5\"\n", "-hup-file", hup)
	_, fd := s.started(t, s.run(t, "start", "web"), "web")
	h.Expect(t, s.run(t, "stop", "web"), 0)
	if !h.Exited(fd) {
		t.Fatal("daemon alive after stop")
	}
	if b := readFile(t, hup); string(b) != "HUP\n" {
		t.Fatalf("the file's schedule did not start with HUP: %q", b)
	}

	if err := os.Remove(hup); err != nil {
		t.Fatal(err)
	}
	os.Remove(s.ready("web"))
	_, fd = s.started(t, s.run(t, "start", "web"), "web")
	h.Expect(t, s.run(t, "stop", "--signal", "TERM", "web"), 0)
	if !h.Exited(fd) {
		t.Fatal("daemon alive after stop --signal TERM")
	}
	assertNoFile(t, hup)
}

// TestServiceReloadSignal: reload sends the file's reload-signal, unless
// --signal says otherwise.
func TestServiceReloadSignal(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "reload-signal = \"USR1\"\n", "-usr1-file", s.file("web", "usr1"), "-hup-file", s.file("web", "hup"))
	pid, _ := s.started(t, s.run(t, "start", "web"), "web")
	assertStdout(t, s.run(t, "reload", "web"), fmt.Sprintf("web: sent USR1 to pid %d", pid))
	if !h.WaitFile(t, s.file("web", "usr1"), eventTimeout) {
		t.Fatal("no USR1")
	}
	assertStdout(t, s.run(t, "reload", "--signal", "HUP", "web"), fmt.Sprintf("web: sent HUP to pid %d", pid))
	if !h.WaitFile(t, s.file("web", "hup"), eventTimeout) {
		t.Fatal("no HUP")
	}
	h.Expect(t, s.run(t, "stop", "web"), 0)
}

// TestServiceReadiness: the file's wait and notify keys make start wait.
func TestServiceReadiness(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "dies", "wait = \"5s\"\n", "-exit-after", "10ms", "-exit-code", "3")
	r := s.run(t, "start", "dies")
	h.Expect(t, r, 1)
	if !strings.Contains(r.Stderr(), "dies: exited with status 3") {
		t.Fatalf("stderr %q", r.Stderr())
	}
	assertNoFile(t, s.pidfile("dies"))

	s.defineDaemon(t, "ready", "notify = true\ntimeout = \"20s\"\n", "-notify-after", "10ms")
	_, _ = s.started(t, s.run(t, "start", "ready"), "ready")
	h.Expect(t, s.run(t, "stop", "ready"), 0)
}

// TestServiceQuiet: -q silences every success message.
func TestServiceQuiet(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	for _, args := range [][]string{
		{"start", "-q", "web"}, {"start", "-q", "web"}, {"status", "-q", "web"}, {"reload", "-q", "web"},
		{"signal", "-q", "web", "HUP"}, {"restart", "-q", "web"}, {"stop", "-q", "web"}, {"stop", "-q", "web"},
		{"start", "-q", "--all"}, {"stop", "-q", "--all"}, {"check", "-q"}, {"check", "-q", "web"},
	} {
		r := s.run(t, args...)
		h.Expect(t, r, 0)
		if r.Stdout() != "" || r.Stderr() != "" {
			t.Fatalf("daemonctl %v printed %q, %q", args, r.Stdout(), r.Stderr())
		}
		if args[0] == "start" || args[0] == "restart" {
			pid := h.ReadPID(t, s.pidfile("web"))
			h.Watch(t, pid)
			// Signal handlers are installed before the ready file names
			// the daemon: reload must not HUP it earlier.
			want := strconv.Itoa(pid) + "\n"
			if !h.WaitFileFunc(t, s.ready("web"), eventTimeout, func(b []byte) bool { return string(b) == want }) {
				t.Fatalf("daemon %d never became ready", pid)
			}
		}
	}
}

// TestServiceAll: --all acts on every valid service and reports each
// broken one in one line, with the exit code of the worst.
func TestServiceAll(t *testing.T) {
	s := newServices(t)
	for _, name := range []string{"a", "b", "c"} {
		s.defineDaemon(t, name, "")
	}
	bad := s.define(t, "broken", "program = \"/bin/true\"\nargs = 3\n")
	r := s.run(t, "start", "--all")
	h.Expect(t, r, 6)
	if r.Stderr() != bad+":2: args: expected an array of strings, not a TOML integer\n" {
		t.Fatalf("stderr %q", r.Stderr())
	}
	fds := map[string]int{}
	for _, name := range []string{"a", "b", "c"} {
		pid := h.ReadPID(t, s.pidfile(name))
		fds[name] = h.Watch(t, pid)
		if !strings.Contains(r.Stdout(), fmt.Sprintf("%s: started (pid %d)\n", name, pid)) {
			t.Fatalf("stdout %q lacks %s", r.Stdout(), name)
		}
		if !h.WaitFile(t, s.ready(name), eventTimeout) {
			t.Fatalf("%s never ready", name)
		}
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	r = s.run(t, "start", "--all")
	h.Expect(t, r, 0)
	if strings.Count(r.Stdout(), "already running") != 3 {
		t.Fatalf("second start --all: %q", r.Stdout())
	}
	r = s.run(t, "stop", "--all")
	h.Expect(t, r, 0)
	for name, fd := range fds {
		if !h.Exited(fd) {
			t.Fatalf("%s alive after stop --all", name)
		}
		if !strings.Contains(r.Stdout(), name+": stopped (pid ") {
			t.Fatalf("stop --all printed %q", r.Stdout())
		}
	}
	h.Expect(t, s.run(t, "status", "--all"), 3)
}

// TestServiceBadDefinitions: each kind of bad definition is one line
// naming the file (and line and key where there is one), with the right
// exit code, and nothing is started.
func TestServiceBadDefinitions(t *testing.T) {
	s := newServices(t)
	other := s.pidfile("shared")
	cases := []struct {
		name, body string
		start      int    // start's exit code
		mentions   string // after the file name
	}{
		{"noprogram", "program = \"/nonexistent/daemon\"\npidfile = %PIDFILE%\n", 5, ":1: program: /nonexistent/daemon does not exist"},
		{"nouser", "program = %PROGRAM%\npidfile = %PIDFILE%\nuser = \"no-such-user-dctl\"\n", 6, ":3: user: no such user \"no-such-user-dctl\""},
		{"relative", "program = %PROGRAM%\npidfile = \"run/relative.pid\"\n", 6, ":2: pidfile: \"run/relative.pid\" is a relative path"},
		{"shared1", "program = %PROGRAM%\npidfile = " + strconv.Quote(other) + "\n", 6, ":2: pidfile: " + other + " is also the pidfile of "},
		{"shared2", "program = %PROGRAM%\n\npidfile = " + strconv.Quote(other) + "\n", 6, ":3: pidfile: " + other + " is also the pidfile of "},
		{"notoml", "program = %PROGRAM%\nargs = [\"x\"\n", 6, ":2: not valid TOML"},
		{"typo", "program = %PROGRAM%\npidfile = %PIDFILE%\nniec = 5\n", 6, ":3: unknown key \"niec\" (did you mean \"nice\"?)"},
		{"badvalue", "program = %PROGRAM%\npidfile = %PIDFILE%\nwait = \"soon\"\n", 6, ":3: wait: \"soon\" is not a positive duration"},
	}
	for _, c := range cases {
		body := strings.NewReplacer("%PROGRAM%", strconv.Quote(h.TestDaemon), "%PIDFILE%", strconv.Quote(s.pidfile(c.name))).Replace(c.body)
		s.define(t, c.name, body)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(s.dir, c.name+".toml")
			for _, cmd := range [][]string{{"start", c.name}, {"restart", c.name}, {"check", c.name}} {
				r := s.run(t, cmd...)
				h.Expect(t, r, c.start)
				assertOneLineError(t, r, file+c.mentions)
			}
			assertNoFile(t, s.pidfile(c.name))
			if c.start == 5 || c.name == "nouser" {
				// A definition that only cannot start still stops, and
				// its status is that of its pidfile.
				h.Expect(t, s.run(t, "stop", c.name), 0)
				h.Expect(t, s.run(t, "status", c.name), 3)
				return
			}
			for cmd, code := range map[string]int{"stop": 6, "reload": 6, "status": 4} {
				r := s.run(t, cmd, c.name)
				h.Expect(t, r, code)
				assertOneLineError(t, r, file+c.mentions)
			}
		})
	}
	assertNoFile(t, other)
	if entries, _ := os.ReadDir(s.runDir); len(entries) != 0 {
		t.Fatalf("bad definitions left %v", entries)
	}
}

// TestServiceUnsafeDir: a definition directory others could write is
// refused whole: root would run whatever they put there.
func TestServiceUnsafeDir(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	if err := os.Chmod(s.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for cmd, want := range map[string]int{"start": 6, "stop": 6, "restart": 6, "reload": 6, "status": 4, "check": 6} {
		r := s.run(t, cmd, "web")
		h.Expect(t, r, want)
		assertOneLineError(t, r, s.dir+" is world-writable (mode 0777)")
	}
	h.Expect(t, s.run(t, "start", "--all"), 6)
	h.Expect(t, s.run(t, "status"), 4)
	assertNoFile(t, s.pidfile("web"))

	// The -p form reads no definitions: it works whatever the directory.
	pidfile := filepath.Join(t.TempDir(), "plain.pid")
	d := h.StartDaemon(t, pidfile, nil)
	h.Expect(t, s.run(t, "status", "-p", pidfile), 0)
	h.Expect(t, s.run(t, "stop", "-p", pidfile), 0)
	if !h.Exited(d.PIDFD) {
		t.Fatal("daemon alive after stop -p")
	}
}

// TestServiceDirOwnedByOther: a definition directory (or file) owned by
// another user than root or the caller is refused.
func TestServiceDirOwnedByOther(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a directory to another user needs root")
	}
	s := newServices(t)
	web := s.define(t, "web", fmt.Sprintf("program = %q\npidfile = %q\n", h.TestDaemon, s.pidfile("web")))
	if err := os.Chown(s.dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	r := s.run(t, "start", "web")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, s.dir+" is owned by uid 4242")
	if err := os.Chown(s.dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(web, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	r = s.run(t, "start", "web")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, web+": refused: the file is owned by uid 4242")
	assertNoFile(t, s.pidfile("web"))
}

// TestServiceNoSuchService: a name without a file is "not configured".
func TestServiceNoSuchService(t *testing.T) {
	s := newServices(t)
	want := filepath.Join(s.dir, "nope.toml") + " does not exist"
	for cmd, code := range map[string]int{"start": 6, "stop": 6, "restart": 6, "reload": 6, "status": 4, "check": 6, "init-script": 6} {
		r := s.run(t, cmd, "nope")
		h.Expect(t, r, code)
		assertOneLineError(t, r, want)
	}
	r := h.RunEnv(t, []string{"DAEMONCTL_CONFIG_DIR=" + filepath.Join(s.dir, "missing")}, "start", "web")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, "nor does its directory")
}

// TestServiceUsage: mistakes in naming a service are usage errors (status:
// 4) and touch nothing.
func TestServiceUsage(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"start", "web", "extra"}, 2},
		{[]string{"start", "web", "-q"}, 2},
		{[]string{"stop", "web", "--signal", "KILL"}, 2},
		{[]string{"start", "--all", "web"}, 2},
		{[]string{"start", "--name", "x", "web"}, 2},
		{[]string{"start", "--", "/bin/sleep", "1"}, 2},
		{[]string{"start", "../web"}, 2},
		{[]string{"signal", "web"}, 2},
		{[]string{"signal", "web", "BOGUS"}, 2},
		{[]string{"stop", "--retry", "TERM/x", "web"}, 2},
		{[]string{"status", "web", "extra"}, 4},
		{[]string{"init-script"}, 2},
		{[]string{"check", "a", "b"}, 2},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := s.run(t, c.args...)
			h.Expect(t, r, c.want)
			assertOneLineError(t, r)
			assertNoFile(t, s.pidfile("web"))
		})
	}
}

// TestServiceConfigDirFlag: --config-dir wins over DAEMONCTL_CONFIG_DIR.
func TestServiceConfigDirFlag(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	env := []string{"DAEMONCTL_CONFIG_DIR=" + filepath.Join(t.TempDir(), "elsewhere")}
	r := h.RunEnv(t, env, "--config-dir", s.dir, "start", "web")
	_, _ = s.started(t, r, "web")
	h.Expect(t, h.RunEnv(t, env, "--config-dir", s.dir, "status", "web"), 0)
	h.Expect(t, h.RunEnv(t, env, "status", "web"), 4)
	h.Expect(t, h.RunEnv(t, env, "--config-dir", s.dir, "stop", "web"), 0)
}

// TestServiceLiveLine: on a terminal, a stop that waits shows a live line
// on stderr, erased before the final message; not on a pipe.
func TestServiceLiveLine(t *testing.T) {
	s := newServices(t)
	// The daemon takes 1.5 s to exit on TERM: longer than the line's
	// 0.25 s delay, so the line must appear.
	s.defineDaemon(t, "web", "", "-term-delay", "1.5s")
	pid, _ := s.started(t, s.run(t, "start", "web"), "web")
	r, tty := runOnTerminal(t, "2", s.env, "stop", "web")
	h.Expect(t, r, 0)
	if !strings.Contains(tty, fmt.Sprintf("\r\x1b[Kstopping web (pid %d): SIGTERM ", pid)) || !strings.HasSuffix(tty, "\r\x1b[K") {
		t.Fatalf("terminal got %q", tty)
	}
	if !strings.HasPrefix(r.Stdout(), fmt.Sprintf("web: stopped (pid %d) in ", pid)) {
		t.Fatalf("stdout %q", r.Stdout())
	}

	os.Remove(s.ready("web"))
	_, _ = s.started(t, s.run(t, "start", "web"), "web")
	r = s.run(t, "stop", "web")
	h.Expect(t, r, 0)
	if r.Stderr() != "" {
		t.Fatalf("stderr is a pipe, yet got %q", r.Stderr())
	}

	// A readiness wait too: --wait 1s outlasts the line's delay.
	os.Remove(s.ready("web"))
	r, tty = runOnTerminal(t, "2", s.env, "start", "--wait", "1s", "web")
	_, _ = s.started(t, r, "web")
	if !strings.Contains(tty, "\r\x1b[Kstarting web: checking it stays up for 1s (") || !strings.HasSuffix(tty, "\r\x1b[K") {
		t.Fatalf("terminal got %q", tty)
	}

	// -q: nothing at all, terminal or not.
	r, tty = runOnTerminal(t, "2", s.env, "stop", "-q", "web")
	h.Expect(t, r, 0)
	if tty != "" || r.Stdout() != "" {
		t.Fatalf("stop -q printed %q on the terminal, %q on stdout", tty, r.Stdout())
	}
}

// runOnTerminal runs daemonctl with its stderr (stream "2") or stdout
// ("1") on a new 80-column pseudo-terminal and returns what reached the
// terminal; the other stream stays a pipe.
func runOnTerminal(t *testing.T, stream string, env []string, args ...string) (h.Result, string) {
	t.Helper()
	master, slave := openPTY(t)
	got := make(chan string, 1)
	go func() {
		var out []byte
		buf := make([]byte, 4096)
		for {
			n, err := unix.Read(master, buf)
			if n > 0 {
				out = append(out, buf[:n]...)
			}
			if err != nil && err != unix.EINTR || n == 0 && err == nil {
				got <- string(out)
				return
			}
		}
	}()
	// The shell opens the terminal on the stream, then becomes daemonctl.
	cmd := exec.Command("/bin/sh", append([]string{"-c", `exec "$0" "$@" ` + stream + `>"$DCTL_TTY"`, h.Daemonctl}, args...)...)
	r := h.RunCmd(t, cmd, append(env, "DCTL_TTY="+slave), args)
	// The master reads EIO once the last descriptor on the terminal closes.
	return r, <-got
}

// openPTY opens a pseudo-terminal's master and returns it with the path of
// its slave, 80 columns wide, closed when the test ends.
func openPTY(t *testing.T) (int, string) {
	t.Helper()
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { unix.Close(master) })
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatalf("set window size: %v", err)
	}
	return master, "/dev/pts/" + strconv.Itoa(n)
}

// completionScript is a generated completion script of the repository.
func completionScript(t *testing.T, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "doc", "completion", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("completion script: %v", err)
	}
	return path
}

// completionEnv puts the daemonctl under test first on PATH, as the
// scripts call it by name.
func completionEnv(s *services) []string {
	return append(os.Environ(), "PATH="+filepath.Dir(h.Daemonctl)+":"+os.Getenv("PATH"), s.env[0])
}

// TestCompletionServices: the hidden helper lists every defined service,
// broken ones too, and says nothing when it cannot.
func TestCompletionServices(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "api", "")
	s.define(t, "broken", "program = 1\n")
	r := s.run(t, "__complete", "services")
	h.Expect(t, r, 0)
	if r.Stdout() != "api\nbroken\nweb\n" || r.Stderr() != "" {
		t.Fatalf("__complete services printed %q, %q", r.Stdout(), r.Stderr())
	}
	if err := os.Chmod(s.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	r = s.run(t, "__complete", "services")
	h.Expect(t, r, 0)
	if r.Stdout() != "" || r.Stderr() != "" {
		t.Fatalf("__complete services on an unsafe directory printed %q, %q", r.Stdout(), r.Stderr())
	}
	if h.Run(t, "--help").Stdout() == "" || strings.Contains(h.Run(t, "--help").Stdout(), "__complete") {
		t.Fatal("__complete shows in --help")
	}
}

// TestCompletionBash: the bash script completes commands, options, service
// names (from --config-dir when given) and signals.
func TestCompletionBash(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "api", "")
	other := newServices(t)
	other.defineDaemon(t, "db", "")
	script := completionScript(t, "daemonctl.bash")
	cases := map[string]string{
		"daemonctl ''":                                       "start stop status reload restart signal logs check init-script help",
		"daemonctl st":                                       "start stop status",
		"daemonctl start ''":                                 "api web",
		"daemonctl stop -q ''":                               "api web",
		"daemonctl logs -f ''":                               "api web",
		"daemonctl signal web ''":                            "HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM",
		"daemonctl signal -p /x.pid ''":                      "HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM",
		"daemonctl start -p /x.pid ''":                       "",
		"daemonctl start web ''":                             "",
		"daemonctl --config-dir " + other.dir + " status ''": "db",
		"daemonctl stop --ret":                               "--retry",
		"daemonctl reload --signal US":                       "USR1 USR2",
	}
	for line, want := range cases {
		prog := fmt.Sprintf(`source %q; COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _daemonctl; echo "${COMPREPLY[*]}"`, script, line)
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
		cmd.Env = completionEnv(s)
		out, err := h.Output(cmd)
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("completing %s: got %q, want %q", line, got, want)
		}
	}
}

// TestCompletionZsh: the zsh function completes service names and signals
// (its completion builtins stubbed to print what they are given).
func TestCompletionZsh(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh is not installed")
	}
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "api", "")
	script := completionScript(t, "_daemonctl")
	prog := fmt.Sprintf(`compadd() { [[ $1 == -- ]] && shift; print -r -- "$*"; }
_describe() { print -r -- "${(@)${(P)4}%%%%:*}"; }
compdef() { :; }
source %q
t() { words=("$@"); CURRENT=${#words}; _daemonctl; }
t daemonctl ''
t daemonctl start ''
t daemonctl signal web ''
`, script)
	cmd := exec.Command(zsh, "-f", "-c", prog)
	cmd.Env = completionEnv(s)
	out, err := h.Output(cmd)
	if err != nil {
		t.Fatalf("zsh: %v\n%s", err, out)
	}
	want := "start stop status reload restart signal logs check init-script help\napi web\nHUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM\n"
	if string(out) != want {
		t.Fatalf("zsh completed %q, want %q", out, want)
	}
}

// TestCompletionFish: the fish completions offer service names and signals.
func TestCompletionFish(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish is not installed")
	}
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "api", "")
	script := completionScript(t, "daemonctl.fish")
	for line, want := range map[string]string{
		"daemonctl start ":      "api\nweb\n",
		"daemonctl signal web ": "ALRM\nCONT\nHUP\nINT\nKILL\nQUIT\nSTOP\nTERM\nUSR1\nUSR2\nWINCH\n",
		"daemonctl start web ":  "",
	} {
		cmd := exec.Command(fish, "--no-config", "-c", fmt.Sprintf("source %s; complete -C %s", fishQuoted(script), fishQuoted(line)))
		cmd.Env = completionEnv(s)
		out, err := h.Output(cmd)
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		if string(out) != want {
			t.Errorf("completing %q: got %q, want %q", line, out, want)
		}
	}
}

func fishQuoted(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// TestServiceNULBytes: a NUL byte (TOML's \u0000) in args or pidfile,
// which start used to reach and fail on with "invalid argument", is
// refused at load: check and start exit 6 with FILE:LINE: KEY, and
// nothing starts.
func TestServiceNULBytes(t *testing.T) {
	s := newServices(t)
	args := s.define(t, "args", fmt.Sprintf("program = %q\npidfile = %q\nargs = [\"-ready-file\", \"%s\\u0000x\"]\n", h.TestDaemon, s.pidfile("args"), s.ready("args")))
	pidfile := s.define(t, "pidfile", fmt.Sprintf("program = %q\npidfile = \"%s\\u0000.pid\"\n", h.TestDaemon, s.pidfile("pidfile")))
	user := s.define(t, "user", fmt.Sprintf("program = %q\npidfile = %q\n\nuser = \"root\\u0000\"\n", h.TestDaemon, s.pidfile("user")))
	for name, want := range map[string]string{
		"args":    args + ":3: args: element 2 of 2 holds a NUL byte (\\u0000), which no argument can carry: remove it\n",
		"pidfile": pidfile + ":2: pidfile: holds a NUL byte (\\u0000), which daemonctl cannot pass on: remove it\n",
		"user":    user + ":4: user: holds a NUL byte (\\u0000), which daemonctl cannot pass on: remove it\n",
	} {
		for cmd, code := range map[string]int{"check": 6, "start": 6, "status": 4} {
			r := s.run(t, cmd, name)
			h.Expect(t, r, code)
			if r.Stderr() != want {
				t.Errorf("%s %s: stderr %q, want %q", cmd, name, r.Stderr(), want)
			}
		}
	}
	h.Expect(t, s.run(t, "check"), 6)
	h.Expect(t, s.run(t, "start", "--all"), 6)
	if entries, _ := os.ReadDir(s.runDir); len(entries) != 0 {
		t.Fatalf("a definition with a NUL byte started something: %v", entries)
	}
}

// TestServiceSupervised: a definition with supervise = true starts under a
// supervisor with its settings; command-line flags override them; bad
// supervise keys are FILE:LINE: KEY problems.
func TestServiceSupervised(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "supervise = true\nrespawn-delay = \"10ms\"\nrespawn-limit = \"7/1m\"\n", "-start-file", s.file("web", "starts"))
	s.define(t, "bad", fmt.Sprintf("program = %q\npidfile = %q\nsupervise = true\nrespawn-limit = \"5/\"\n", h.TestDaemon, s.pidfile("bad")))
	r := s.run(t, "check", "web")
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "supervised: respawn on-failure, limit 7/1m") {
		t.Fatalf("check web: %q", r.Stdout())
	}
	r = s.run(t, "check", "bad")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, filepath.Join(s.dir, "bad.toml")+":4: respawn-limit: ")
	r = s.run(t, "start", "web")
	h.Expect(t, r, 0)
	m := startedSupervised.FindStringSubmatch(r.Stdout())
	if m == nil {
		t.Fatalf("start web: %q", r.Stdout())
	}
	program, _ := strconv.Atoi(m[1])
	sup, _ := strconv.Atoi(m[2])
	supFD := h.Watch(t, sup)
	t.Cleanup(func() { cleanUpSession(sup, supFD) })
	progFD := h.Watch(t, program)
	if !h.WaitFileFunc(t, s.file("web", "starts"), eventTimeout, func(b []byte) bool { return strings.Count(string(b), "\n") >= 1 }) {
		t.Fatal("the program never started")
	}
	if err := unix.PidfdSendSignal(progFD, unix.SIGKILL, nil, 0); err != nil {
		t.Fatal(err)
	}
	if !h.WaitFileFunc(t, s.file("web", "starts"), eventTimeout, func(b []byte) bool { return strings.Count(string(b), "\n") >= 2 }) {
		t.Fatal("the killed program was not respawned")
	}
	r = s.run(t, "status", "web")
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "supervisor "+itoa(sup)) || !strings.Contains(r.Stdout(), "1 respawn") {
		t.Fatalf("status web: %q", r.Stdout())
	}
	h.Expect(t, s.run(t, "stop", "web"), 0)
	if !h.WaitExit(supFD, eventTimeout) || len(sessionProcesses(sup)) > 0 {
		t.Fatal("web runs after stop")
	}
	// --supervise=false on the command line starts it unsupervised.
	r = s.run(t, "start", "--supervise=false", "web")
	h.Expect(t, r, 0)
	if strings.Contains(r.Stdout(), "supervisor") {
		t.Fatalf("start --supervise=false web: %q", r.Stdout())
	}
	pid, _ := s.started(t, r, "web")
	h.Expect(t, s.run(t, "stop", "web"), 0)
	if aliveDaemon(pid) {
		t.Fatalf("web %d runs after stop", pid)
	}
}
