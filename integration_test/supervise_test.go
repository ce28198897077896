//go:build linux

package integration_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// The supervise tests run "daemonctl start --supervise" with the test
// daemon and check, from outside, what the issue asks of a supervisor:
// the pidfile names the supervisor, the program is its child in its
// session and holds the lock, a killed program is respawned, a crash loop
// gives up, a killed supervisor leaves the service orphaned (never
// started twice), and stop leaves no process of the service behind. The
// test process is a child subreaper (harness.Main): a supervisor is its
// child once "daemonctl start" has exited, and so is a program whose
// supervisor was killed.

// supervised is a service started with --supervise.
type supervised struct {
	dir, pidfile string
	starts       string // the test daemon's -start-file: one line per program start
	ready        string
	program      int // the first program
	programFD    int
	supervisor   int
	supervisorFD int
}

// startedSupervised matches start's report of a supervised start.
var startedSupervised = regexp.MustCompile(`: started \(pid (\d+), supervisor (\d+)\)\n$`)

// startSupervised starts the test daemon (daemonFlags) under --supervise
// (and startFlags) and checks start's report. The service's processes are
// killed when the test ends (cleanUpSession).
func startSupervised(t *testing.T, startFlags []string, daemonFlags ...string) *supervised {
	t.Helper()
	dir := t.TempDir()
	s := &supervised{dir: dir, pidfile: filepath.Join(dir, "web.pid"), starts: filepath.Join(dir, "starts"), ready: filepath.Join(dir, "ready")}
	args := append([]string{"start", "-p", s.pidfile, "--supervise"}, startFlags...)
	args = append(append(args, "--", h.TestDaemon, "-start-file", s.starts, "-ready-file", s.ready), daemonFlags...)
	r := h.Run(t, args...)
	h.Expect(t, r, 0)
	m := startedSupervised.FindStringSubmatch(r.Stdout())
	if m == nil {
		t.Fatalf("start printed %q, want NAME: started (pid P, supervisor S)", r.Stdout())
	}
	s.program, _ = strconv.Atoi(m[1])
	s.supervisor, _ = strconv.Atoi(m[2])
	// Both are ours until reaped (the supervisor our child, the program
	// its): the pidfds name them exactly.
	s.supervisorFD = h.Watch(t, s.supervisor)
	t.Cleanup(func() { cleanUpSession(s.supervisor, s.supervisorFD) })
	if fd, err := unix.PidfdOpen(s.program, 0); err == nil {
		s.programFD = fd
		t.Cleanup(func() {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			unix.Close(fd)
		})
	} else {
		s.programFD = -1
	}
	return s
}

// cleanUpSession kills every process of the supervisor's session (its
// programs, and what they forked), then the supervisor. While any of them
// lives the kernel does not reuse the session's ID, so the scan cannot
// find a stranger.
func cleanUpSession(sid, fd int) {
	for range 3 {
		for _, pid := range sessionProcesses(sid) {
			if pid != sid {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
	_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
}

// sessionProcesses lists the live (not zombie) processes in session sid.
func sessionProcesses(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, _, s, err := h.ProcStat(pid); err == nil && s == sid && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// supStatus is what status --json says of a supervised service.
type supStatus struct {
	State      string `json:"state"`
	PID        int    `json:"pid"`
	Supervisor int    `json:"supervisor"`
	Respawns   *int   `json:"respawns"`
	LastExit   *struct {
		Code   int    `json:"code"`
		Signal string `json:"signal"`
		Cause  string `json:"cause"`
		Text   string `json:"text"`
	} `json:"last_exit"`
	LogFailures    int    `json:"log_failures"`
	WatchdogMisses int    `json:"watchdog_misses"`
	Message        string `json:"message"`
}

// status runs status --json on the service and decodes it.
func (s *supervised) status(t *testing.T) (supStatus, h.Result) {
	t.Helper()
	r := h.Run(t, "status", "--json", "-p", s.pidfile)
	var st supStatus
	if err := json.Unmarshal([]byte(r.Stdout()), &st); err != nil {
		t.Fatalf("status --json printed %q: %v", r.Stdout(), err)
	}
	return st, r
}

// waitStatus waits until status --json satisfies ok, asking again on each
// change of the pidfile (the supervisor publishes its state in an extended
// attribute of it, IN_ATTRIB; a respawn rewrites nothing else) or of its
// directory, and fails the test after eventTimeout.
func (s *supervised) waitStatus(t *testing.T, what string, ok func(supStatus) bool) supStatus {
	t.Helper()
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, s.dir, unix.IN_ATTRIB|unix.IN_CREATE|unix.IN_DELETE|unix.IN_MODIFY|unix.IN_MOVED_TO); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(eventTimeout)
	buf := make([]byte, 4096)
	var st supStatus
	for {
		st, _ = s.status(t)
		if ok(st) {
			return st
		}
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("status never became %s; last: %+v", what, st)
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

// startsLogged is the program starts the start file lists.
func (s *supervised) startsLogged() []int {
	b, _ := os.ReadFile(s.starts)
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitStarts waits until the start file lists n program starts.
func (s *supervised) waitStarts(t *testing.T, n int) []int {
	t.Helper()
	if !h.WaitFileFunc(t, s.starts, eventTimeout, func(b []byte) bool { return strings.Count(string(b), "\n") >= n }) {
		t.Fatalf("%d program starts, want %d", len(s.startsLogged()), n)
	}
	return s.startsLogged()
}

// assertAllGone checks that nothing of the service runs: the supervisor
// has exited, no process is left in its session, the lock is free.
func (s *supervised) assertAllGone(t *testing.T) {
	t.Helper()
	if !h.WaitExit(s.supervisorFD, eventTimeout) {
		t.Fatalf("supervisor %d still runs", s.supervisor)
	}
	if left := sessionProcesses(s.supervisor); len(left) > 0 {
		t.Fatalf("processes %v of the service's session still run", left)
	}
	if h.Locked(t, s.pidfile) {
		t.Fatalf("%s is still locked", s.pidfile)
	}
}

func TestSuperviseStartStatusStop(t *testing.T) {
	s := startSupervised(t, nil)
	if got := h.ReadPID(t, s.pidfile); got != s.supervisor {
		t.Fatalf("the pidfile names %d, want the supervisor %d", got, s.supervisor)
	}
	ppid, sid := procStat(t, s.program)
	if ppid != s.supervisor || sid != s.supervisor {
		t.Fatalf("program %d: parent %d, session %d; want both the supervisor %d", s.program, ppid, sid, s.supervisor)
	}
	if _, _, ssid, _ := h.ProcStat(s.supervisor); ssid != s.supervisor {
		t.Fatalf("supervisor %d is not its session's leader (session %d)", s.supervisor, ssid)
	}
	if !h.HoldsFlock(t, s.program, s.pidfile) || !h.HoldsFlock(t, s.supervisor, s.pidfile) {
		t.Fatalf("the program and the supervisor must both hold the pidfile's lock")
	}
	r := h.Run(t, "status", "-p", s.pidfile)
	h.Expect(t, r, 0)
	want := "web: running (pid " + itoa(s.program) + ", supervisor " + itoa(s.supervisor) + ", up "
	if !strings.HasPrefix(r.Stdout(), want) {
		t.Fatalf("status says %q, want it to start %q", r.Stdout(), want)
	}
	st, _ := s.status(t)
	if st.State != "running" || st.PID != s.program || st.Supervisor != s.supervisor || st.Respawns == nil || *st.Respawns != 0 || st.LastExit != nil {
		t.Fatalf("status --json: %+v", st)
	}
	// Already running: start says so and starts nothing.
	r = h.Run(t, "start", "-p", s.pidfile, "--supervise", "--", h.TestDaemon, "-start-file", s.starts)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "already running") {
		t.Fatalf("second start: %q", r.Stdout())
	}
	r = h.Run(t, "stop", "-p", s.pidfile)
	h.Expect(t, r, 0)
	if want := "web: stopped (pid " + itoa(s.program) + ", supervisor " + itoa(s.supervisor) + ") in "; !strings.HasPrefix(r.Stdout(), want) {
		t.Fatalf("stop says %q, want it to start %q", r.Stdout(), want)
	}
	s.assertAllGone(t)
	if !h.Exited(s.programFD) {
		t.Fatalf("program %d still runs", s.program)
	}
	assertNoFile(t, s.pidfile)
	if n := len(s.startsLogged()); n != 1 {
		t.Fatalf("%d program starts, want 1 (a second start, or a respawn)", n)
	}
	h.Expect(t, h.Run(t, "status", "-p", s.pidfile), 3)
}

func TestSuperviseRespawnsKilledProgram(t *testing.T) {
	s := startSupervised(t, []string{"--respawn-delay", "10ms"})
	s.waitStarts(t, 1)
	if err := unix.PidfdSendSignal(s.programFD, unix.SIGKILL, nil, 0); err != nil {
		t.Fatal(err)
	}
	if !h.WaitExit(s.programFD, eventTimeout) {
		t.Fatalf("program %d survived SIGKILL", s.program)
	}
	pids := s.waitStarts(t, 2)
	next := pids[1]
	if next == s.program {
		t.Fatalf("the respawned program has the old PID %d", next)
	}
	st := s.waitStatus(t, "running the respawned program", func(st supStatus) bool { return st.PID == next })
	if st.State != "running" || st.Respawns == nil || *st.Respawns != 1 || st.LastExit == nil || st.LastExit.Signal != "KILL" {
		t.Fatalf("status --json after a respawn: %+v", st)
	}
	r := h.Run(t, "status", "-p", s.pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "1 respawn, last: killed by SIGKILL") {
		t.Fatalf("status: %q", r.Stdout())
	}
	if ppid, _ := procStat(t, next); ppid != s.supervisor || !h.HoldsFlock(t, next, s.pidfile) {
		t.Fatalf("respawned program %d: parent %d, holds lock %v", next, ppid, h.HoldsFlock(t, next, s.pidfile))
	}
	h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
	s.assertAllGone(t)
}

func TestSuperviseKilledSupervisorLeavesOrphan(t *testing.T) {
	s := startSupervised(t, nil)
	s.waitStarts(t, 1)
	killPidfd(t, s.supervisorFD, "supervisor")
	if h.Exited(s.programFD) {
		t.Fatalf("program %d died with its supervisor", s.program)
	}
	r := h.Run(t, "status", "-p", s.pidfile)
	h.Expect(t, r, 1)
	if !strings.Contains(r.Stdout(), "orphaned") || !strings.Contains(r.Stdout(), itoa(s.program)) {
		t.Fatalf("status after the supervisor was killed: %q", r.Stdout())
	}
	// Never started twice.
	r = h.Run(t, "start", "-p", s.pidfile, "--supervise", "--", h.TestDaemon, "-start-file", s.starts)
	h.Expect(t, r, 1)
	assertOneLineError(t, r, "stop")
	r = h.Run(t, "stop", "-p", s.pidfile)
	h.Expect(t, r, 0)
	if !h.WaitExit(s.programFD, eventTimeout) {
		t.Fatalf("stop returned but program %d runs", s.program)
	}
	if h.Locked(t, s.pidfile) || len(sessionProcesses(s.supervisor)) > 0 {
		t.Fatalf("after stop: locked %v, session %v", h.Locked(t, s.pidfile), sessionProcesses(s.supervisor))
	}
	if n := len(s.startsLogged()); n != 1 {
		t.Fatalf("%d program starts, want 1", n)
	}
}

func TestSuperviseCrashLoopGivesUp(t *testing.T) {
	s := startSupervised(t, []string{"--respawn-delay", "0", "--respawn-limit", "3/1m"}, "-exit-after", "1ms", "-exit-code", "1")
	if !h.WaitExit(s.supervisorFD, eventTimeout) {
		t.Fatalf("supervisor %d never gave up", s.supervisor)
	}
	r := h.Run(t, "status", "-p", s.pidfile)
	h.Expect(t, r, 1)
	assertStdout(t, r, "web: failed: gave up after 3 respawns in 1m (last: exited with status 1)")
	st, _ := s.status(t)
	if st.State != "failed" || st.Respawns == nil || *st.Respawns != 3 || st.LastExit == nil || st.LastExit.Code != 1 {
		t.Fatalf("status --json: %+v", st)
	}
	if left := sessionProcesses(s.supervisor); len(left) > 0 {
		t.Fatalf("processes %v left after giving up", left)
	}
	// A failed service starts again.
	r = h.Run(t, "start", "-p", s.pidfile, "--supervise", "--", h.TestDaemon, "-start-file", filepath.Join(s.dir, "again"))
	h.Expect(t, r, 0)
	m := startedSupervised.FindStringSubmatch(r.Stdout())
	if m == nil {
		t.Fatalf("start after failed: %q", r.Stdout())
	}
	sup, _ := strconv.Atoi(m[2])
	fd := h.Watch(t, sup)
	t.Cleanup(func() { cleanUpSession(sup, fd) })
	h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
	if !h.WaitExit(fd, eventTimeout) {
		t.Fatalf("supervisor %d runs after stop", sup)
	}
}

func TestSuperviseProgramExitZeroEndsService(t *testing.T) {
	s := startSupervised(t, nil, "-exit-after", "50ms")
	if !h.WaitExit(s.supervisorFD, eventTimeout) {
		t.Fatalf("supervisor %d still runs after its program exited 0", s.supervisor)
	}
	r := h.Run(t, "status", "-p", s.pidfile)
	h.Expect(t, r, 3)
	if !strings.Contains(r.Stdout(), "exited with status 0") {
		t.Fatalf("status: %q", r.Stdout())
	}
	if n := len(s.startsLogged()); n != 1 {
		t.Fatalf("%d program starts, want 1: an exit 0 is not respawned under on-failure", n)
	}
}

func TestSuperviseStopDuringBackoff(t *testing.T) {
	// Each program exits 1 at once, and the next comes an hour later:
	// stop always meets the supervisor in backoff.
	s := startSupervised(t, []string{"--respawn-delay", "1h"}, "-exit-after", "1ms", "-exit-code", "1")
	st := s.waitStatus(t, "backoff", func(st supStatus) bool { return st.State == "backoff" })
	if st.PID != 0 || st.Supervisor != s.supervisor {
		t.Fatalf("status --json in backoff: %+v", st)
	}
	r := h.Run(t, "status", "-p", s.pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "backoff (supervisor "+itoa(s.supervisor)+", respawn in ") {
		t.Fatalf("status in backoff: %q", r.Stdout())
	}
	// reload has no program to reach: "not running" (7).
	h.Expect(t, h.Run(t, "reload", "-p", s.pidfile), 7)
	h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
	// The supervisor, the only process that respawns, is gone when stop
	// returns: nothing can appear later.
	if !h.Exited(s.supervisorFD) {
		t.Fatalf("stop returned but supervisor %d runs", s.supervisor)
	}
	s.assertAllGone(t)
	assertNoFile(t, s.pidfile)
}

func TestSuperviseRestartDuringBackoff(t *testing.T) {
	s := startSupervised(t, []string{"--respawn-delay", "1h"}, "-exit-after", "1ms", "-exit-code", "1")
	s.waitStatus(t, "backoff", func(st supStatus) bool { return st.State == "backoff" })
	starts := filepath.Join(s.dir, "restarted")
	r := h.Run(t, "restart", "-p", s.pidfile, "--supervise", "--", h.TestDaemon, "-start-file", starts)
	h.Expect(t, r, 0)
	m := startedSupervised.FindStringSubmatch(r.Stdout())
	if m == nil {
		t.Fatalf("restart printed %q", r.Stdout())
	}
	if !h.Exited(s.supervisorFD) {
		t.Fatalf("the old supervisor %d survived the restart", s.supervisor)
	}
	sup, _ := strconv.Atoi(m[2])
	fd := h.Watch(t, sup)
	t.Cleanup(func() { cleanUpSession(sup, fd) })
	h.Expect(t, h.Run(t, "status", "-p", s.pidfile), 0)
	h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
	if !h.WaitExit(fd, eventTimeout) || len(sessionProcesses(sup)) > 0 {
		t.Fatalf("the restarted service runs after stop")
	}
}

func TestSuperviseProgramIgnoringTerm(t *testing.T) {
	term := filepath.Join(t.TempDir(), "term")
	s := startSupervised(t, nil, "-ignore-term", "-term-file", term)
	s.waitStarts(t, 1)
	r := h.Run(t, "stop", "-p", s.pidfile, "--retry", "TERM/1/KILL/5")
	h.Expect(t, r, 0)
	if !countLinesAtLeast(t, term, "TERM", 1) {
		t.Fatalf("the supervisor did not forward TERM to the program")
	}
	if !h.Exited(s.programFD) {
		t.Fatalf("stop returned but program %d runs", s.program)
	}
	s.assertAllGone(t)
	if n := len(s.startsLogged()); n != 1 {
		t.Fatalf("%d program starts: the program was respawned during the stop", n)
	}
}

func TestSuperviseSignalsReachProgram(t *testing.T) {
	dir := t.TempDir()
	hup, usr1 := filepath.Join(dir, "hup"), filepath.Join(dir, "usr1")
	s := startSupervised(t, nil, "-hup-file", hup, "-usr1-file", usr1)
	s.waitStarts(t, 1)
	r := h.Run(t, "reload", "-p", s.pidfile)
	h.Expect(t, r, 0)
	assertStdout(t, r, "web: sent HUP to pid "+itoa(s.program))
	if !countLinesAtLeast(t, hup, "HUP", 1) {
		t.Fatalf("the program never got the HUP")
	}
	h.Expect(t, h.Run(t, "signal", "-p", s.pidfile, "USR1"), 0)
	if !countLinesAtLeast(t, usr1, "USR1", 1) {
		t.Fatalf("the program never got the USR1")
	}
	// kill -HUP $(cat FILE) reaches it too.
	if err := unix.PidfdSendSignal(s.supervisorFD, unix.SIGHUP, nil, 0); err != nil {
		t.Fatal(err)
	}
	if !countLinesAtLeast(t, hup, "HUP", 2) {
		t.Fatalf("the program never got the HUP sent to its supervisor")
	}
	if h.Exited(s.programFD) || len(s.startsLogged()) != 1 {
		t.Fatalf("the program was restarted by a forwarded signal")
	}
	// --exec checks the program, not the supervisor (daemonctl itself).
	h.Expect(t, h.Run(t, "status", "-p", s.pidfile, "--exec", h.TestDaemon), 0)
	r = h.Run(t, "status", "-p", s.pidfile, "--exec", "/bin/sleep")
	h.Expect(t, r, 4)
	r = h.Run(t, "stop", "-p", s.pidfile, "--exec", "/bin/sleep")
	h.Expect(t, r, 4)
	if h.Exited(s.programFD) || h.Exited(s.supervisorFD) {
		t.Fatalf("stop --exec of another program signalled the service")
	}
	h.Expect(t, h.Run(t, "stop", "-p", s.pidfile, "--exec", h.TestDaemon), 0)
	s.assertAllGone(t)
}

func TestSuperviseBadFlags(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	for _, c := range []struct {
		flags    []string
		mentions string
	}{
		{[]string{"--supervise", "--respawn-limit", "0/0s"}, "--respawn-limit"},
		{[]string{"--supervise", "--respawn-limit", "abc"}, "--respawn-limit"},
		{[]string{"--supervise", "--respawn-limit", "5/"}, "--respawn-limit"},
		{[]string{"--supervise", "--respawn-limit", "5/-1s"}, "--respawn-limit"},
		{[]string{"--supervise", "--respawn", "sometimes"}, "--respawn"},
		{[]string{"--supervise", "--log-max-size", "10Q"}, "--log-max-size"},
		{[]string{"--supervise", "--log-keep", "-1"}, "--log-keep"},
		{[]string{"--supervise", "--watchdog", "0s"}, "--watchdog"},
		{[]string{"--supervise", "--program-pidfile", "/run/x.pid"}, "--forking"},
		{[]string{"--supervise", "--forking", "--notify"}, "--notify"},
		{[]string{"--supervise", "--notify", "--keep-on-timeout"}, "--keep-on-timeout"},
		{[]string{"--respawn", "always"}, "--supervise"},
		{[]string{"--respawn-limit", "5/10s"}, "--supervise"},
		{[]string{"--watchdog", "1s"}, "--supervise"},
		{[]string{"--forking"}, "--supervise"},
	} {
		args := append(append([]string{"start", "-p", pidfile}, c.flags...), "--", h.TestDaemon, "-start-file", filepath.Join(dir, "starts"))
		r := h.Run(t, args...)
		h.Expect(t, r, 2)
		assertOneLineError(t, r, c.mentions)
	}
	assertNoFile(t, pidfile)
	assertNoFile(t, filepath.Join(dir, "starts"))
}

func TestSuperviseProgramClosingItsDescriptors(t *testing.T) {
	// sshd -D, dnsmasq: the program drops the lock descriptor; the
	// supervisor holds the lock, so the service still reads as running.
	s := startSupervised(t, nil, "-close-fds")
	s.waitStarts(t, 1)
	if h.HoldsFlock(t, s.program, s.pidfile) {
		t.Fatalf("program %d still holds the lock after -close-fds", s.program)
	}
	r := h.Run(t, "status", "-p", s.pidfile)
	h.Expect(t, r, 0)
	if !strings.HasPrefix(r.Stdout(), "web: running (pid "+itoa(s.program)+", supervisor ") {
		t.Fatalf("status: %q", r.Stdout())
	}
	h.Expect(t, h.Run(t, "start", "-p", s.pidfile, "--supervise", "--", h.TestDaemon, "-start-file", s.starts), 0)
	// KILL cannot be forwarded: it goes to the program, which holds no
	// lock but is the very child the supervisor published.
	r = h.Run(t, "signal", "-p", s.pidfile, "KILL")
	h.Expect(t, r, 0)
	assertStdout(t, r, "web: sent KILL to pid "+itoa(s.program))
	if !h.WaitExit(s.programFD, eventTimeout) {
		t.Fatalf("program %d survived signal KILL", s.program)
	}
	if h.Exited(s.supervisorFD) {
		t.Fatal("signal KILL reached the supervisor")
	}
	next := s.waitStarts(t, 2)[1]
	h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
	s.assertAllGone(t)
	if aliveDaemon(next) {
		t.Fatalf("stop returned but the respawned program %d runs", next)
	}
	if n := len(s.startsLogged()); n != 2 {
		t.Fatalf("%d program starts, want 2", n)
	}
}

// forkedMain is the -daemonize child of a forking test daemon: the
// supervised program, which left the session with its own setsid.
func forkedMain(t *testing.T, s *supervised) int {
	t.Helper()
	st, r := s.status(t)
	h.Expect(t, r, 0)
	// start reports the main process the start-up handed over to.
	if st.State != "running" || st.PID == 0 || st.PID != s.program {
		t.Fatalf("status --json of a forking program: %+v, start reported pid %d", st, s.program)
	}
	if _, _, sid, _ := h.ProcStat(st.PID); sid == s.supervisor {
		t.Fatalf("main process %d is in the supervisor's session: it did not fork itself away", st.PID)
	}
	fd, err := unix.PidfdOpen(st.PID, 0)
	if err != nil {
		t.Fatalf("the main process %d: %v", st.PID, err)
	}
	t.Cleanup(func() {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		unix.Close(fd)
	})
	if ppid, _ := procStat(t, st.PID); ppid != s.supervisor {
		t.Fatalf("main process %d: parent %d, want the supervisor %d, which adopted it", st.PID, ppid, s.supervisor)
	}
	return fd
}

func TestSuperviseForkingProgram(t *testing.T) {
	for _, withPIDFile := range []bool{false, true} {
		t.Run(map[bool]string{false: "single-process-left", true: "program-pidfile"}[withPIDFile], func(t *testing.T) {
			dir := t.TempDir()
			var flags, daemonFlags []string
			flags = []string{"--forking"}
			daemonFlags = []string{"-daemonize"}
			if withPIDFile {
				main := filepath.Join(dir, "main.pid")
				flags = append(flags, "--program-pidfile", main)
				daemonFlags = append(daemonFlags, "-pidfile", main)
			}
			s := startSupervised(t, flags, daemonFlags...)
			mainFD := forkedMain(t, s)
			// A crash of the main process is respawned: a new start-up,
			// a new main process.
			if err := unix.PidfdSendSignal(mainFD, unix.SIGKILL, nil, 0); err != nil {
				t.Fatal(err)
			}
			st := s.waitStatus(t, "running a new main process", func(st supStatus) bool {
				return st.State == "running" && st.PID != 0 && st.PID != s.program
			})
			if st.Respawns == nil || *st.Respawns != 1 || st.LastExit == nil || st.LastExit.Signal != "KILL" {
				t.Fatalf("status --json after the main process was killed: %+v", st)
			}
			next, err := unix.PidfdOpen(st.PID, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = unix.PidfdSendSignal(next, unix.SIGKILL, nil, 0)
				unix.Close(next)
			})
			h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
			if !h.Exited(next) {
				t.Fatalf("stop returned but the main process %d runs", st.PID)
			}
			s.assertAllGone(t)
		})
	}
}

func TestSuperviseForkingProgramPIDFileNamingACanary(t *testing.T) {
	// The program's pidfile names someone else's process: refused by the
	// trust rules, the start fails, and the canary is never signalled.
	c := startCanary(t)
	dir := t.TempDir()
	pidfile, main := filepath.Join(dir, "web.pid"), filepath.Join(dir, "main.pid")
	r := h.Run(t, "start", "-p", pidfile, "--supervise", "--forking", "--program-pidfile", main, "--timeout", "300ms", "--",
		"/bin/sh", "-c", "echo "+itoa(c.pid)+" > "+main)
	h.Expect(t, r, 1)
	if !strings.Contains(r.Stderr(), itoa(c.pid)) || !strings.Contains(r.Stderr(), "not a process of this service") {
		t.Fatalf("start: %s", r)
	}
	if h.Locked(t, pidfile) {
		t.Fatalf("%s is locked after the failed start", pidfile)
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	c.assertNeverSignalled(t)
}

func TestSuperviseWatchdog(t *testing.T) {
	t.Run("never-pings", func(t *testing.T) {
		s := startSupervised(t, []string{"--watchdog", "100ms", "--respawn-limit", "unlimited", "--respawn-delay", "10ms"})
		s.waitStarts(t, 2)
		st := s.waitStatus(t, "a watchdog respawn", func(st supStatus) bool {
			return st.LastExit != nil && st.Respawns != nil && *st.Respawns >= 1
		})
		// The test daemon is a Go program: the runtime turns SIGABRT into
		// a stack dump and exit status 2.
		if st.LastExit.Cause != "watchdog" || st.LastExit.Code != 2 || st.WatchdogMisses < 1 {
			t.Fatalf("status --json after a watchdog miss: %+v", *st.LastExit)
		}
		r := h.Run(t, "status", "-p", s.pidfile)
		if !strings.Contains(r.Stdout(), "last: exited with status 2 (no WATCHDOG=1 within 100ms)") {
			t.Fatalf("status: %q", r.Stdout())
		}
		h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
		s.assertAllGone(t)
	})
	t.Run("pings-from-a-child", func(t *testing.T) {
		pings := filepath.Join(t.TempDir(), "pings")
		s := startSupervised(t, []string{"--watchdog", "500ms"}, "-watchdog-every", "20ms", "-watchdog-from-child", "-watchdog-file", pings)
		// 60 pings 20 ms apart span more than two watchdog periods.
		if !h.WaitFileFunc(t, pings, eventTimeout, func(b []byte) bool { return strings.Count(string(b), "\n") >= 60 }) {
			t.Fatal("the child never sent 60 pings")
		}
		st, r := s.status(t)
		h.Expect(t, r, 0)
		if h.Exited(s.programFD) || st.PID != s.program || st.Respawns == nil || *st.Respawns != 0 || st.WatchdogMisses != 0 {
			t.Fatalf("status --json with a pinging child: %+v", st)
		}
		h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
		s.assertAllGone(t)
	})
}

func TestSuperviseLogFlood(t *testing.T) {
	const total = 100 << 20 // 100 MiB of numbered 100-byte lines
	const maxSize = 1 << 20
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	s := startSupervised(t, []string{"--stdout", out, "--log-max-size", "1M", "--log-keep", "200"}, "-flood-stdout", strconv.Itoa(total))
	// The ready file follows the flood: everything is written to the
	// pipe; stop drains it before the supervisor exits.
	if !h.WaitFile(t, s.ready, eventTimeout) {
		t.Fatal("the flood never finished")
	}
	h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
	s.assertAllGone(t)
	var names []string
	for i := 200; i >= 1; i-- {
		if name := out + "." + itoa(i); fileExists(name) {
			names = append(names, name)
		}
	}
	names = append(names, out)
	if len(names) < total/maxSize {
		t.Fatalf("%d log files, want at least %d", len(names), total/maxSize)
	}
	next := 1
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > maxSize {
			t.Fatalf("%s holds %d bytes, more than --log-max-size %d", name, len(b), maxSize)
		}
		for len(b) > 0 {
			if len(b) < 100 || b[99] != '\n' || string(b[:12]) != fmt.Sprintf("%012d", next) {
				t.Fatalf("%s: want line %d, found %q", name, next, b[:min(len(b), 100)])
			}
			b = b[100:]
			next++
		}
	}
	if next-1 != total/100 {
		t.Fatalf("%d lines kept, want %d", next-1, total/100)
	}
}

func TestSuperviseLogDirectoryRemoved(t *testing.T) {
	logs := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(logs, "out.log")
	s := startSupervised(t, []string{"--stdout", out}, "-usr1-stdout", "after")
	s.waitStarts(t, 1)
	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	h.Expect(t, h.Run(t, "signal", "-p", s.pidfile, "USR1"), 0)
	st := s.waitStatus(t, "a failed log write", func(st supStatus) bool { return st.LogFailures > 0 })
	if st.State != "running" || st.PID != s.program {
		t.Fatalf("status --json after the log directory was removed: %+v", st)
	}
	r := h.Run(t, "status", "-p", s.pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "1 failed log write") {
		t.Fatalf("status does not show the failed write: %q", r.Stdout())
	}
	h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
	s.assertAllGone(t)
}

func fileExists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

func TestSuperviseNginxDaemonOn(t *testing.T) {
	const nginx = "/usr/sbin/nginx"
	if _, err := os.Stat(nginx); err != nil {
		t.Skipf("%s is not installed (.ci/run installs nginx)", nginx)
	}
	if os.Geteuid() != 0 {
		t.Skip("nginx's master process starts as root here")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(dir, "nginx.conf")
	main := filepath.Join(dir, "nginx.pid")
	if err := os.WriteFile(conf, []byte(`daemon on;
pid `+main+`;
error_log `+dir+`/error.log;
worker_processes 1;
events {}
http {
	access_log off;
	client_body_temp_path `+dir+`/body;
	proxy_temp_path `+dir+`/proxy;
	fastcgi_temp_path `+dir+`/fastcgi;
	uwsgi_temp_path `+dir+`/uwsgi;
	scgi_temp_path `+dir+`/scgi;
	server { listen 127.0.0.1:`+itoa(port)+`; return 204; }
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(dir, "nginx.supervised.pid")
	r := h.Run(t, "start", "-p", pidfile, "--supervise", "--forking", "--program-pidfile", main, "--", nginx, "-e", dir+"/error.log", "-p", dir, "-c", conf)
	h.Expect(t, r, 0)
	m := startedSupervised.FindStringSubmatch(r.Stdout())
	if m == nil {
		t.Fatalf("start printed %q", r.Stdout())
	}
	master, _ := strconv.Atoi(m[1])
	sup, _ := strconv.Atoi(m[2])
	supFD := h.Watch(t, sup)
	masterFD := h.Watch(t, master)
	t.Cleanup(func() {
		// nginx's workers are the master's children, adopted by the
		// supervisor (our child) if the master dies first.
		for _, pid := range childrenOf(master) {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		for _, pid := range childrenOf(sup) {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	})
	if got := h.ReadPID(t, main); got != master {
		t.Fatalf("nginx wrote %d to %s, start reported %d", got, main, master)
	}
	if ppid, _ := procStat(t, master); ppid != sup {
		t.Fatalf("nginx master %d: parent %d, want the supervisor %d", master, ppid, sup)
	}
	r = h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.HasPrefix(r.Stdout(), "nginx.supervised: running (pid "+itoa(master)+", supervisor "+itoa(sup)) {
		t.Fatalf("status: %q", r.Stdout())
	}
	workers := childrenOf(master)
	if len(workers) == 0 {
		t.Fatal("nginx has no worker")
	}
	worker, err := unix.PidfdOpen(workers[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(worker)
	// reload reaches the master through the supervisor: it starts new
	// workers and retires the old ones.
	h.Expect(t, h.Run(t, "reload", "-p", pidfile), 0)
	if !h.WaitExit(worker, eventTimeout) {
		t.Fatalf("nginx's worker %d outlived a reload", workers[0])
	}
	if h.Exited(masterFD) {
		t.Fatal("the reload ended nginx")
	}
	var fresh []int
	for _, pid := range childrenOf(master) {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			defer unix.Close(fd)
			fresh = append(fresh, fd)
		}
	}
	if len(fresh) == 0 {
		t.Fatal("nginx has no worker after the reload")
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	if !h.Exited(masterFD) || !h.Exited(supFD) {
		t.Fatalf("stop returned but nginx (%v) or its supervisor (%v) runs", !h.Exited(masterFD), !h.Exited(supFD))
	}
	for _, fd := range fresh {
		if !h.WaitExit(fd, eventTimeout) {
			t.Fatal("an nginx worker outlived the stop")
		}
	}
	assertNoFile(t, pidfile)
}

// childrenOf lists pid's live children.
func childrenOf(pid int) []int {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/task/" + itoa(pid) + "/children")
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

func TestSuperviseReadiness(t *testing.T) {
	t.Run("wait-dies", func(t *testing.T) {
		dir := t.TempDir()
		pidfile, errlog := filepath.Join(dir, "web.pid"), filepath.Join(dir, "err.log")
		r := h.Run(t, "start", "-p", pidfile, "--supervise", "--wait", "5s", "--stderr", errlog, "--",
			h.TestDaemon, "-exit-after", "50ms", "-exit-code", "3", "-stderr-line", "last words", "-start-file", filepath.Join(dir, "starts"))
		h.Expect(t, r, 1)
		if !strings.Contains(r.Stderr(), "exited with status 3") || !strings.Contains(r.Stderr(), "| last words") {
			t.Fatalf("a supervised start dying during --wait: %s", r)
		}
		assertNoFile(t, pidfile)
		if left := processesWithArg(t, dir); len(left) > 0 {
			t.Fatalf("processes %v left by the failed start", left)
		}
	})
	t.Run("notify", func(t *testing.T) {
		s := startSupervised(t, []string{"--notify"}, "-notify-after", "100ms")
		// start returned after READY=1: the program has been running
		// since before it, and status calls it running, not starting.
		st, r := s.status(t)
		h.Expect(t, r, 0)
		if st.State != "running" || st.PID != s.program {
			t.Fatalf("status --json after a --notify start: %+v", st)
		}
		h.Expect(t, h.Run(t, "stop", "-p", s.pidfile), 0)
		s.assertAllGone(t)
	})
	t.Run("notify-timeout", func(t *testing.T) {
		dir := t.TempDir()
		pidfile := filepath.Join(dir, "web.pid")
		r := h.Run(t, "start", "-p", pidfile, "--supervise", "--notify", "--timeout", "200ms", "--", h.TestDaemon, "-start-file", filepath.Join(dir, "starts"))
		h.Expect(t, r, 1)
		assertOneLineError(t, r, "no READY=1 within 200ms")
		assertNoFile(t, pidfile)
		if left := processesWithArg(t, dir); len(left) > 0 {
			t.Fatalf("processes %v left by the failed start", left)
		}
	})
}

func TestSuperviseTrustAsNobody(t *testing.T) {
	// Root supervises a --user nobody program that, compromised, tries to
	// point the pidfile at a canary; the real user nobody reads the
	// status of root's service, and may not stop it.
	p := asUnprivileged(t)
	c := startCanary(t)
	own := filepath.Join(p.dir, "nobody")
	if err := os.Mkdir(own, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(own, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	pidfile, report := filepath.Join(p.dir, "web.pid"), filepath.Join(own, "tamper")
	r := h.Run(t, "start", "-p", pidfile, "--supervise", "--user", "nobody", "--", p.daemon,
		"-tamper-pid", itoa(c.pid), "-tamper-report", report, "-ready-file", filepath.Join(own, "ready"))
	h.Expect(t, r, 0)
	m := startedSupervised.FindStringSubmatch(r.Stdout())
	if m == nil {
		t.Fatalf("start printed %q", r.Stdout())
	}
	program, _ := strconv.Atoi(m[1])
	sup, _ := strconv.Atoi(m[2])
	supFD := h.Watch(t, sup)
	t.Cleanup(func() { cleanUpSession(sup, supFD) })
	if !h.WaitFile(t, filepath.Join(own, "ready"), eventTimeout) {
		t.Fatal("the program never became ready")
	}
	b, _ := os.ReadFile(report)
	if h.ReadPID(t, pidfile) != sup {
		t.Fatalf("the program rewrote the pidfile (its report: %q)", b)
	}
	want := "web: running (pid " + itoa(program) + ", supervisor " + itoa(sup)
	r = p.run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.HasPrefix(r.Stdout(), want) {
		t.Fatalf("nobody's status of root's supervised service: %q, want %q...", r.Stdout(), want)
	}
	h.Expect(t, p.run(t, "stop", "-p", pidfile), 4)
	// HUP goes through root's supervisor: refused. (KILL would go to the
	// program, nobody's own process, which nobody may kill anyway.)
	h.Expect(t, p.run(t, "reload", "-p", pidfile), 4)
	if h.Exited(supFD) {
		t.Fatal("nobody stopped root's supervisor")
	}
	r = h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.HasPrefix(r.Stdout(), want) {
		t.Fatalf("root's status: %q, want %q...", r.Stdout(), want)
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	if !h.WaitExit(supFD, eventTimeout) || len(sessionProcesses(sup)) > 0 {
		t.Fatal("the service runs after stop")
	}
	c.assertNeverSignalled(t)
}
