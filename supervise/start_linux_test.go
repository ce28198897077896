package supervise_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/supervise"
)

func TestFirstStartFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		args   []string
		change func(*supervise.Config)
		want   string // "KIND TEXT" of the report
	}{
		"not found":            {change: func(c *supervise.Config) { c.Program.Path = "/nonexistent/web" }, want: "notfound cannot run /nonexistent/web: no such file or directory"},
		"died during the wait": {args: []string{"-exit-after", "10ms", "-exit-code", "3"}, change: func(c *supervise.Config) { c.Ready.Wait = time.Minute }, want: "failed web: pid"},
		"not ready": {change: func(c *supervise.Config) {
			c.Ready = supervise.Ready{Notify: true, Timeout: 200 * time.Millisecond}
		}, want: "failed web: pid"},
		"bad config": {change: func(c *supervise.Config) { c.Respawn.Limit.Period = 0 }, want: "usage respawn limit 5 in 0s"},
	} {
		t.Run(name, func(t *testing.T) {
			h, s := newConfig(t, tc.args...)
			tc.change(&h.Config)
			report := s.startReport(h, nil)
			if !strings.HasPrefix(report, "error "+tc.want) {
				t.Fatalf("report %q, want %q...", report, "error "+tc.want)
			}
			switch name {
			case "died during the wait":
				if !strings.Contains(report, "exited with status 3") {
					t.Errorf("report %q does not say how the program ended", report)
				}
			case "not ready":
				if !strings.Contains(report, "no READY=1 within 200ms") {
					t.Errorf("report %q does not say it was not ready", report)
				}
			}
			// Nothing left behind: no program, no pidfile, no lock.
			if !waitPidfd(s.pidfd) {
				t.Fatal("the supervisor did not exit")
			}
			for _, pid := range s.started() {
				if alive(pid) {
					t.Errorf("program %d left running", pid)
				}
			}
			if exists(s.pidfile) {
				t.Error("the pidfile was left behind")
			}
		})
	}
}

func TestForkingProgram(t *testing.T) {
	for _, withPIDFile := range []bool{false, true} {
		t.Run(fmt.Sprintf("pidfile=%v", withPIDFile), func(t *testing.T) {
			h, s := newConfig(t, "-daemonize")
			hup := filepath.Join(s.dir, "hup")
			h.Config.Program.Argv = append(h.Config.Program.Argv, "-hup-file", hup)
			h.Config.Forking = true
			h.Config.Respawn.Delay = time.Millisecond
			if withPIDFile {
				h.Config.ProgramPIDFile = filepath.Join(s.dir, "daemon.pid")
				h.Config.Program.Argv = append(h.Config.Program.Argv, "-pidfile", h.Config.ProgramPIDFile)
			}
			s.start(h)
			// The start-up forked the daemon and exited: the report names
			// the daemon, which this subreaper adopted.
			daemon := s.waitStarts(1)[0]
			if s.program != daemon {
				t.Fatalf("report names pid %d, want the daemon %d", s.program, daemon)
			}
			if info, err := process.Get(daemon); err != nil || info.PPID != s.pid {
				t.Errorf("daemon %d: parent %d, %v; want the supervisor %d", daemon, info.PPID, err, s.pid)
			}
			snap := s.snapshot()
			if snap.State != supervise.Running || snap.PID != daemon {
				t.Errorf("snapshot = %+v, want running pid %d", snap, daemon)
			}
			// Reload reaches the daemon.
			s.signal(unix.SIGHUP)
			if !waitFor(t, s.dir, func() bool { return exists(hup) }) {
				t.Fatal("HUP did not reach the daemon")
			}
			// A crash of the daemon: the forking program runs again.
			if err := unix.Kill(daemon, unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
			second := s.waitStarts(2)[1]
			snap = s.waitSnapshot(func(snap supervise.Snapshot) bool { return snap.State == supervise.Running && snap.PID == second })
			if snap.Respawns != 1 || snap.Last.Signal != unix.SIGKILL {
				t.Errorf("snapshot = %+v, want 1 respawn after a SIGKILL", snap)
			}
			// Stop reaches it too.
			s.signal(unix.SIGTERM)
			if end := s.waitExit(); end != "stopped" {
				t.Errorf("ended %q, want stopped", end)
			}
			waitGone(t, second)
			if exists(s.pidfile) {
				t.Error("the pidfile stays after a stop")
			}
		})
	}
}

func TestForkingProgramPIDFileNamingAnotherProcess(t *testing.T) {
	canary, _ := startCanary(t)
	h, s := newConfig(t, "-daemonize")
	bogus := filepath.Join(s.dir, "daemon.pid")
	if err := os.WriteFile(bogus, []byte(strconv.Itoa(canary)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.Config.Forking = true
	h.Config.ProgramPIDFile = bogus
	h.Config.Ready.Timeout = 300 * time.Millisecond
	report := s.startReport(h, nil)
	want := fmt.Sprintf("names pid %d, which is not a process of this service (refused; nothing was signalled)", canary)
	if !strings.HasPrefix(report, "error failed") || !strings.Contains(report, want) {
		t.Fatalf("report %q, want a failed start saying %q", report, want)
	}
	waitPidfd(s.pidfd)
	// The daemon the start-up forked was cleaned up; the canary lives on,
	// unsignalled (its cleanup checks).
	for _, pid := range s.started() {
		if alive(pid) {
			t.Errorf("daemon %d left running", pid)
		}
	}
	if exists(s.pidfile) {
		t.Error("the pidfile was left behind")
	}
}

func TestForkingProgramPIDFileOthersCouldWrite(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a directory owned by nobody needs root")
	}
	h, s := newConfig(t, "-daemonize")
	dir := filepath.Join(s.dir, "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	h.Config.Forking = true
	h.Config.ProgramPIDFile = filepath.Join(dir, "daemon.pid")
	h.Config.Program.Argv = append(h.Config.Program.Argv, "-pidfile", h.Config.ProgramPIDFile)
	report := s.startReport(h, nil)
	if !strings.HasPrefix(report, "error failed") || !strings.Contains(report, "could have been written by someone else") {
		t.Fatalf("report %q, want a refusal of the untrusted pidfile", report)
	}
	waitPidfd(s.pidfd)
	for _, pid := range s.started() {
		if alive(pid) {
			t.Errorf("daemon %d left running", pid)
		}
	}
}

func TestWatchdogEndsAProgramThatNeverPings(t *testing.T) {
	h, s := newConfig(t)
	info := filepath.Join(s.dir, "info.json")
	h.Config.Program.Argv = append(h.Config.Program.Argv, "-info-file", info)
	h.Config.Watchdog = 300 * time.Millisecond
	h.Config.Respawn.Delay = time.Millisecond
	s.start(h)
	first := s.waitStarts(1)[0]
	env := readEnv(t, s.dir, info)
	if env["WATCHDOG_USEC"] != "300000" || env["WATCHDOG_PID"] != strconv.Itoa(first) || env["NOTIFY_SOCKET"] == "" {
		t.Errorf("program env WATCHDOG_USEC=%q WATCHDOG_PID=%q NOTIFY_SOCKET=%q; want 300000, %d, a socket", env["WATCHDOG_USEC"], env["WATCHDOG_PID"], env["NOTIFY_SOCKET"], first)
	}
	// Pings from a process that is not the service's do not count.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			sendNotify(env["NOTIFY_SOCKET"], "WATCHDOG=1")
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	snap := s.waitSnapshot(func(snap supervise.Snapshot) bool { return snap.Respawns >= 1 && snap.PID != first && snap.PID != 0 })
	if snap.WatchdogMisses < 1 || snap.Last.Cause != supervise.CauseWatchdog || !strings.Contains(snap.Last.String(), "no WATCHDOG=1 within 300ms") {
		t.Errorf("snapshot = %+v (last %q), want a watchdog miss as the cause", snap, snap.Last)
	}
	s.waitLog("no WATCHDOG=1 within 300ms; ending it (ABRT/10/KILL/5)")
	waitGone(t, first)
}

func TestWatchdogPingsFromAChild(t *testing.T) {
	h, s := newConfig(t, "-watchdog-from-child", "-watchdog-every", "50ms")
	pings := filepath.Join(s.dir, "pings")
	h.Config.Program.Argv = append(h.Config.Program.Argv, "-watchdog-file", pings)
	h.Config.Watchdog = time.Second
	s.start(h)
	// 40 pings, 50 ms apart, span two watchdog periods: without the
	// child's pings the program would have been ended at least once.
	if !waitFor(t, s.dir, func() bool { b, _ := os.ReadFile(pings); return strings.Count(string(b), "\n") >= 40 }) {
		t.Fatal("the child did not ping")
	}
	snap := s.snapshot()
	if snap.WatchdogMisses != 0 || snap.Respawns != 0 || snap.PID != s.program {
		t.Errorf("snapshot = %+v, want no miss, no respawn, pid %d", snap, s.program)
	}
	b, _ := os.ReadFile(pings)
	if pinger := strings.Fields(string(b))[0]; pinger == strconv.Itoa(s.program) {
		t.Errorf("the pings came from the program %s itself, want its child", pinger)
	}
}

func TestNotifyReadinessAndRespawnStarting(t *testing.T) {
	// Every program sends READY=1 a second after it starts: the window in
	// which the test must see a respawned program as starting.
	h, s := newConfig(t, "-notify-after", "1s", "-notify-status", "warming up", "-crash-after", "1500ms")
	h.ProgressFile = filepath.Join(s.dir, "progress")
	h.Config.Ready = supervise.Ready{Notify: true, Timeout: time.Minute}
	h.Config.Respawn = supervise.Respawn{Delay: time.Millisecond, DelayMax: time.Millisecond, Limit: supervise.Limit{Count: 100, Period: time.Hour}}
	s.start(h)
	// Start returned after READY=1, relaying the program's STATUS=.
	if b, _ := os.ReadFile(h.ProgressFile); string(b) != "warming up\n" {
		t.Errorf("progress %q, want the STATUS= text", b)
	}
	if snap := s.snapshot(); snap.State != supervise.Running || snap.PID != s.program || snap.Status != "warming up" {
		t.Errorf("snapshot = %+v, want running pid %d, status warming up", snap, s.program)
	}
	// After the crash, the new program is starting until its READY=1.
	snap := s.waitSnapshot(func(snap supervise.Snapshot) bool { return snap.PID != 0 && snap.PID != s.program })
	second := snap.PID
	if snap.State != supervise.Starting {
		t.Errorf("respawned program state %v, want starting until READY=1", snap.State)
	}
	s.waitSnapshot(func(snap supervise.Snapshot) bool { return snap.PID == second && snap.State == supervise.Running })
	s.signal(unix.SIGTERM)
	s.waitExit()
}

// readEnv waits for a test daemon's info file and returns its environment.
func readEnv(t *testing.T, dir, info string) map[string]string {
	t.Helper()
	var in struct{ Env []string }
	if !waitFor(t, dir, func() bool { b, err := os.ReadFile(info); return err == nil && json.Unmarshal(b, &in) == nil }) {
		t.Fatal("no info file")
	}
	env := map[string]string{}
	for _, kv := range in.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// sendNotify sends msg to a notify socket, as a process outside the
// service.
func sendNotify(name, msg string) {
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = conn.Write([]byte(msg))
}

func TestForkingProgramLeavingSeveralProcesses(t *testing.T) {
	// Without a program pidfile the main process must be the single one
	// left: a start-up that leaves two cannot be told apart, and both are
	// ended.
	h, s := newConfig(t)
	left := filepath.Join(s.dir, "left")
	h.Config.Program = supervise.Program{Path: "/bin/sh", Argv: []string{"sh", "-c", "sleep 100 & echo $! >> " + left + "; sleep 100 & echo $! >> " + left + "; exit 0"}}
	h.Config.Forking = true
	report := s.startReport(h, nil)
	if !strings.HasPrefix(report, "error failed") || !strings.Contains(report, "it left 2 processes") || !strings.Contains(report, "give the program's pidfile") {
		t.Fatalf("report %q, want a failed start naming the two processes", report)
	}
	waitPidfd(s.pidfd)
	b, _ := os.ReadFile(left)
	pids := strings.Fields(string(b))
	if len(pids) != 2 {
		t.Fatalf("the start-up left %q", pids)
	}
	for _, p := range pids {
		pid, _ := strconv.Atoi(p)
		if alive(pid) {
			t.Errorf("pid %d left running", pid)
		}
	}
	if exists(s.pidfile) {
		t.Error("the pidfile was left behind")
	}
}
