package supervise_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

func TestSupervisorHoldsTheLockAndRunsTheProgram(t *testing.T) {
	h, s := newConfig(t)
	info := filepath.Join(s.dir, "info.json")
	h.Config.Program.Argv = append(h.Config.Program.Argv, "-info-file", info, "-hup-file", filepath.Join(s.dir, "hup"), "-usr1-file", filepath.Join(s.dir, "usr1"))
	s.start(h)
	s.waitStarts(1)

	// The pidfile names the supervisor, which holds the lock.
	st, err := pidfile.Inspect(s.pidfile)
	if err != nil || st.Status != pidfile.Running || st.PID != s.pid || st.Unlocked {
		t.Fatalf("Inspect = %v pid %d unlocked %v, %v; want running, the supervisor %d, locked", st.Status, st.PID, st.Unlocked, err, s.pid)
	}
	if taker, _ := process.LockTaker(s.pid, st.ID); taker != s.pid {
		t.Errorf("lock taker %d, want the supervisor %d", taker, s.pid)
	}
	snap := s.snapshot()
	if !snap.Live || snap.State != supervise.Running || snap.PID != s.program || snap.Supervisor != s.pid || snap.Respawns != 0 {
		t.Errorf("snapshot = %+v, want live, running, pid %d", snap, s.program)
	}
	if snap.Stderr != s.stderr || snap.StartTicks == 0 || snap.Started.IsZero() {
		t.Errorf("snapshot = %+v, want the stderr log, start ticks and time", snap)
	}
	// The program: the supervisor's child, in its session, not its leader,
	// with the lock read-only as descriptor 3 and nothing else inherited.
	var in struct {
		PID, PPID, SID int
		InheritedFDs   []int             `json:"inherited_fds"`
		FDTargets      map[string]string `json:"fd_targets"`
		Env            []string
	}
	if !waitFor(t, s.dir, func() bool { b, err := os.ReadFile(info); return err == nil && json.Unmarshal(b, &in) == nil }) {
		t.Fatal("no info file")
	}
	if in.PID != s.program || in.PPID != s.pid || in.SID != s.pid {
		t.Errorf("program pid %d ppid %d sid %d; want %d, the supervisor %d as parent and session", in.PID, in.PPID, in.SID, s.program, s.pid)
	}
	if fmt.Sprint(in.InheritedFDs) != "[0 1 2 3]" || in.FDTargets["3"] != s.pidfile {
		t.Errorf("inherited fds %v (3: %q), want 0 to 3, 3 the pidfile", in.InheritedFDs, in.FDTargets["3"])
	}
	if in.FDTargets["0"] != os.DevNull || in.FDTargets["1"] != os.DevNull || !strings.HasPrefix(in.FDTargets["2"], "pipe:") {
		t.Errorf("stdio %q %q %q, want /dev/null, /dev/null (no stdout log), the stderr pipe", in.FDTargets["0"], in.FDTargets["1"], in.FDTargets["2"])
	}
	if flags := fdFlags(t, s.program, 3); flags&unix.O_ACCMODE != unix.O_RDONLY {
		t.Errorf("descriptor 3 flags %#o, want read-only", flags)
	}
	for _, kv := range in.Env {
		if strings.HasPrefix(kv, "NOTIFY_SOCKET=") || strings.HasPrefix(kv, "WATCHDOG_") {
			t.Errorf("the program got %s without --notify or --watchdog", kv)
		}
	}
	// Other signals are forwarded.
	s.signal(unix.SIGHUP)
	s.signal(unix.SIGUSR1)
	if !waitFor(t, s.dir, func() bool { return exists(filepath.Join(s.dir, "hup")) && exists(filepath.Join(s.dir, "usr1")) }) {
		t.Fatal("HUP and USR1 did not reach the program")
	}
	// TERM stops: forwarded, no respawn, the pidfile removed.
	s.signal(unix.SIGTERM)
	if end := s.waitExit(); end != "stopped" {
		t.Errorf("ended %q, want stopped", end)
	}
	waitGone(t, s.program)
	if exists(s.pidfile) {
		t.Error("the pidfile stays after a stop")
	}
	if n := len(s.started()); n != 1 {
		t.Errorf("%d starts, want 1 (no respawn after a stop)", n)
	}
	if !hasLine(s.logLines(), "SIGTERM: stopping; forwarded to pid") {
		t.Errorf("no stop line in the log:\n%s", strings.Join(s.logLines(), "\n"))
	}
}

func TestRespawnDelayDoubles(t *testing.T) {
	h, s := newConfig(t, "-exit-after", "20ms", "-exit-code", "1")
	h.Config.Respawn = supervise.Respawn{Delay: 10 * time.Millisecond, DelayMax: 40 * time.Millisecond, Limit: supervise.Limit{Count: 100, Period: time.Hour}}
	s.start(h)
	s.waitStarts(5)
	s.signal(unix.SIGTERM)
	s.waitExit()
	// Each program stayed up 20 ms, far less than the hour that resets the
	// backoff: 10, 20, 40, then capped.
	want := []string{"in 10ms (respawn 1)", "in 20ms (respawn 2)", "in 40ms (respawn 3)", "in 40ms (respawn 4)"}
	got := respawnLines(s.logLines())
	if len(got) < len(want) {
		t.Fatalf("respawn lines %q, want at least %d", got, len(want))
	}
	for i, w := range want {
		if !strings.Contains(got[i], "exited with status 1") || !strings.Contains(got[i], w) {
			t.Errorf("respawn line %d = %q, want it to say %q", i, got[i], w)
		}
	}
}

func TestRespawnDelayResetsAfterAStableRun(t *testing.T) {
	// Each program stays up 300 ms, longer than the limit's period: every
	// respawn starts from the first delay again.
	h, s := newConfig(t, "-exit-after", "300ms", "-exit-code", "1")
	h.Config.Respawn = supervise.Respawn{Delay: 10 * time.Millisecond, DelayMax: time.Second, Limit: supervise.Limit{Count: 100, Period: 200 * time.Millisecond}}
	s.start(h)
	s.waitStarts(4)
	s.signal(unix.SIGTERM)
	s.waitExit()
	got := respawnLines(s.logLines())
	if len(got) < 3 {
		t.Fatalf("respawn lines %q, want at least 3", got)
	}
	for i, l := range got[:3] {
		if !strings.Contains(l, "respawning in 10ms") {
			t.Errorf("respawn line %d = %q, want the first delay again", i, l)
		}
	}
}

func TestGiveUpPastTheLimit(t *testing.T) {
	h, s := newConfig(t, "-exit-after", "1ms", "-exit-code", "3")
	h.Config.Respawn = supervise.Respawn{Delay: time.Millisecond, DelayMax: time.Millisecond, Limit: supervise.Limit{Count: 3, Period: time.Hour}}
	s.start(h)
	if end := s.waitExit(); end != "gave up" {
		t.Fatalf("ended %q, want gave up", end)
	}
	if n := len(s.started()); n != 4 {
		t.Errorf("%d starts, want 4 (the first and 3 respawns)", n)
	}
	snap := s.snapshot()
	if snap.Live || snap.State != supervise.Failed || snap.Respawns != 3 || snap.PID != 0 {
		t.Errorf("snapshot = %+v, want the last word: failed after 3 respawns", snap)
	}
	if why := snap.Why(); why != "gave up after 3 respawns in 1h (last: exited with status 3)" {
		t.Errorf("Why = %q", why)
	}
	if !hasLine(s.logLines(), "gave up after 3 respawns in 1h") {
		t.Errorf("the log does not say it gave up:\n%s", strings.Join(s.logLines(), "\n"))
	}
	// The pidfile stays, unlocked, naming the dead supervisor: status can
	// say why, and a new start may take it.
	st, err := pidfile.Inspect(s.pidfile)
	if err != nil || st.Status != pidfile.Stale || st.PID != s.pid {
		t.Errorf("Inspect = %v pid %d, %v; want stale, the supervisor's pid", st.Status, st.PID, err)
	}
	f, err := pidfile.Acquire(s.pidfile)
	if err != nil {
		t.Fatalf("Acquire after the supervisor gave up: %v", err)
	}
	// A new start's record makes the old state no one's.
	if err := f.Commit(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, err := pidfile.Inspect(s.pidfile); err == nil {
		if _, err := supervise.Read(st); !errors.Is(err, supervise.ErrNotSupervised) {
			t.Errorf("Read after a new start: %v, want ErrNotSupervised", err)
		}
	}
}

func TestExitZeroEndsTheServiceUnderOnFailure(t *testing.T) {
	h, s := newConfig(t, "-exit-after", "1ms")
	s.start(h)
	if end := s.waitExit(); end != "finished" {
		t.Fatalf("ended %q, want finished", end)
	}
	snap := s.snapshot()
	if snap.State != supervise.Exited || snap.Live || snap.Why() != "exited with status 0" {
		t.Errorf("snapshot = %+v (why %q), want exited with status 0", snap, snap.Why())
	}
	if n := len(s.started()); n != 1 {
		t.Errorf("%d starts, want 1", n)
	}
}

func TestExitZeroRespawnsUnderAlways(t *testing.T) {
	h, s := newConfig(t, "-exit-after", "1ms")
	h.Config.Respawn = supervise.Respawn{When: supervise.Always, Delay: time.Millisecond, DelayMax: time.Millisecond}
	s.start(h)
	s.waitStarts(3)
	s.signal(unix.SIGTERM)
	if end := s.waitExit(); end != "stopped" {
		t.Errorf("ended %q, want stopped", end)
	}
	if exists(s.pidfile) {
		t.Error("the pidfile stays after a stop")
	}
}

func TestStopDuringBackoff(t *testing.T) {
	h, s := newConfig(t, "-exit-after", "1ms", "-exit-code", "1")
	h.Config.Respawn.Delay = time.Hour
	s.start(h)
	snap := s.waitSnapshot(func(snap supervise.Snapshot) bool { return snap.State == supervise.Backoff })
	if snap.PID != 0 || snap.Next.Before(time.Now().Add(50*time.Minute)) || snap.Last.Code != 1 {
		t.Errorf("backoff snapshot = %+v, want no pid, next in an hour, last exit 1", snap)
	}
	s.signal(unix.SIGTERM)
	if end := s.waitExit(); end != "stopped" {
		t.Errorf("ended %q, want stopped", end)
	}
	// The supervisor is gone: nothing can respawn the program any more.
	if n := len(s.started()); n != 1 {
		t.Errorf("%d starts, want 1", n)
	}
	if exists(s.pidfile) {
		t.Error("the pidfile stays after a stop")
	}
}

func TestStopOfAProgramIgnoringTerm(t *testing.T) {
	term := ""
	h, s := newConfig(t, "-ignore-term")
	term = filepath.Join(s.dir, "term")
	h.Config.Program.Argv = append(h.Config.Program.Argv, "-term-file", term)
	s.start(h)
	s.waitStarts(1)
	s.signal(unix.SIGTERM)
	if !waitFor(t, s.dir, func() bool { return exists(term) }) {
		t.Fatal("TERM was not forwarded")
	}
	if snap := s.waitSnapshot(func(snap supervise.Snapshot) bool { return snap.State == supervise.Stopping }); snap.PID != s.program {
		t.Errorf("stopping snapshot = %+v, want pid %d", snap, s.program)
	}
	// daemonctl stop walks its schedule: TERM to the supervisor, then KILL
	// to it, then, through the lock, to the program that still holds it.
	sched, err := signals.ParseSchedule("TERM/0.2/KILL/5", unix.SIGTERM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := controller.Stop(controller.StopSpec{PIDFile: s.pidfile, Schedule: sched}); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitGone(t, s.program)
	if alive(s.pid) {
		t.Error("the supervisor still runs")
	}
	if n := len(s.started()); n != 1 {
		t.Errorf("%d starts, want 1: no respawn after a stop", n)
	}
	if exists(s.pidfile) {
		t.Error("the pidfile stays after stop")
	}
}

func TestProgramClosingItsDescriptors(t *testing.T) {
	h, s := newConfig(t, "-close-fds")
	s.start(h)
	s.waitStarts(1)
	st, err := pidfile.Inspect(s.pidfile)
	if err != nil || st.Status != pidfile.Running || st.PID != s.pid || st.Unlocked {
		t.Fatalf("Inspect = %v pid %d unlocked %v, %v; want running, the supervisor holding the lock", st.Status, st.PID, st.Unlocked, err)
	}
	if holders, _ := st.ServiceHolders(); fmt.Sprint(holders) != fmt.Sprint([]int{s.pid}) {
		t.Errorf("lock holders %v, want only the supervisor %d (the program closed its descriptor)", holders, s.pid)
	}
	if snap := s.snapshot(); snap.PID != s.program || snap.State != supervise.Running {
		t.Errorf("snapshot = %+v, want running pid %d", snap, s.program)
	}
	if _, err := pidfile.Acquire(s.pidfile); !errors.Is(err, pidfile.ErrRunning) {
		t.Errorf("a second Acquire: %v, want ErrRunning", err)
	}
}

func TestSupervisorKilledLeavesTheProgramHoldingTheLock(t *testing.T) {
	h, s := newConfig(t)
	s.start(h)
	s.waitStarts(1)
	s.signal(unix.SIGKILL)
	if !hardExit(s) {
		t.Fatal("the supervisor survived SIGKILL")
	}
	if !alive(s.program) {
		t.Fatal("the program died with its supervisor")
	}
	st, err := pidfile.Inspect(s.pidfile)
	if err != nil || st.Status != pidfile.Orphaned || fmt.Sprint(st.Holders) != fmt.Sprint([]int{s.program}) {
		t.Fatalf("Inspect = %v holders %v, %v; want orphaned, held by the program %d", st.Status, st.Holders, err, s.program)
	}
	if _, err := supervise.Read(st); !errors.Is(err, supervise.ErrStale) {
		t.Errorf("Read after the supervisor was killed: %v, want ErrStale (its 'running' is not believed)", err)
	}
	if _, err := pidfile.Acquire(s.pidfile); !errors.Is(err, pidfile.ErrOrphaned) {
		t.Errorf("Acquire: %v, want ErrOrphaned: never a second instance", err)
	}
	if _, err := controller.Stop(controller.StopSpec{PIDFile: s.pidfile}); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	waitGone(t, s.program)
}

func TestSupervisorStatesAreReadableButNotWritableByOthers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading as nobody needs root")
	}
	h, s := newConfig(t)
	if err := os.Chmod(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.start(h)
	s.waitStarts(1)
	out := runAsNobody(t, s.pidfile)
	want := fmt.Sprintf("running pid %d supervisor %d live true; write: permission denied", s.program, s.pid)
	if out != want {
		t.Errorf("nobody read %q, want %q", out, want)
	}
	if snap := s.snapshot(); snap.State != supervise.Running {
		t.Errorf("snapshot after nobody's attempt = %+v", snap)
	}
}

// respawnLines are the supervisor's log lines about a respawn.
func respawnLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, "respawning in") {
			out = append(out, l)
		}
	}
	return out
}

func hasLine(lines []string, text string) bool {
	for _, l := range lines {
		if strings.Contains(l, text) {
			return true
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// fdFlags reads the open flags of pid's descriptor fd.
func fdFlags(t *testing.T, pid, fd int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, fd))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "flags:"); ok {
			var flags int
			fmt.Sscanf(strings.TrimSpace(v), "%o", &flags)
			return flags
		}
	}
	t.Fatalf("no flags in fdinfo of %d/%d", pid, fd)
	return 0
}

// hardExit waits for the supervisor to exit, however it ends.
func hardExit(s *service) bool {
	return waitPidfd(s.pidfd)
}

func TestStopSignalsAreForwardedAndEndTheService(t *testing.T) {
	for _, sig := range []unix.Signal{unix.SIGINT, unix.SIGQUIT} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			// The program logs USR2 (forwarded like any other signal), then
			// the stop signal, and exits 0 on the second.
			h, s := newConfig(t)
			log := filepath.Join(s.dir, "signals")
			h.Config.Program.Argv = append(h.Config.Program.Argv, "-signal-log", log, "-signal-limit", "2")
			h.Config.Respawn.When = supervise.Always
			s.start(h)
			s.waitStarts(1)
			s.signal(unix.SIGUSR2)
			if !waitFor(t, s.dir, func() bool { b, _ := os.ReadFile(log); return string(b) == "USR2\n" }) {
				t.Fatal("USR2 was not forwarded")
			}
			s.signal(sig)
			if end := s.waitExit(); end != "stopped" {
				t.Errorf("ended %q, want stopped", end)
			}
			want := "USR2\n" + strings.TrimPrefix(unix.SignalName(sig), "SIG") + "\n"
			if b, _ := os.ReadFile(log); string(b) != want {
				t.Errorf("the program got %q, want %q", b, want)
			}
			if n := len(s.started()); n != 1 {
				t.Errorf("%d starts, want 1: no respawn after a stop, even under always", n)
			}
		})
	}
}
