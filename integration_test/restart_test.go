package integration_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// TestRestartRunning: the old daemon is stopped (gone when restart
// returns), a new one runs under a new PID and holds the lock.
func TestRestartRunning(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	old := h.StartDaemon(t, pidfile, nil)
	ready := filepath.Join(dir, "new-ready")
	r := h.Run(t, "restart", "-p", pidfile, "--", h.TestDaemon, "-ready-file", ready)
	h.Expect(t, r, 0)
	pid := h.ReadPID(t, pidfile)
	h.Watch(t, pid)
	assertStdout(t, r, fmt.Sprintf("web: started (pid %d)", pid))
	if pid == old.PID {
		t.Fatalf("restart kept pid %d", pid)
	}
	if !h.Exited(old.PIDFD) {
		t.Fatalf("old daemon %d still alive", old.PID)
	}
	if !h.WaitFile(t, ready, eventTimeout) {
		t.Fatal("new daemon never became ready")
	}
	if !h.HoldsFlock(t, pid, pidfile) {
		t.Fatalf("new daemon %d does not hold the lock", pid)
	}
	r = h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if got := pidInOutput(t, r.Stdout()); got != pid {
		t.Fatalf("status names pid %d, want %d", got, pid)
	}
}

// TestRestartNotRunning: with nothing running, restart just starts, also
// over a stale pidfile.
func TestRestartNotRunning(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	r := h.Run(t, "restart", "-p", pidfile, "--", h.TestDaemon, "-ready-file", filepath.Join(dir, "ready1"))
	h.Expect(t, r, 0)
	first := h.ReadPID(t, pidfile)
	firstFD := h.Watch(t, first)
	assertStdout(t, r, fmt.Sprintf("web: started (pid %d)", first))

	killDaemon(t, first, firstFD)
	r = h.Run(t, "restart", "-p", pidfile, "--", h.TestDaemon, "-ready-file", filepath.Join(dir, "ready2"))
	h.Expect(t, r, 0)
	second := h.ReadPID(t, pidfile)
	h.Watch(t, second)
	assertStdout(t, r, fmt.Sprintf("web: started (pid %d)", second))
	if !h.HoldsFlock(t, second, pidfile) {
		t.Fatal("restarted daemon does not hold the lock")
	}
}

// TestRestartFlags: restart takes stop's flags (a schedule starting with
// HUP, which the default schedule never sends, whose KILL ends the old
// daemon) and start's (--chdir, --env, --umask, --name).
func TestRestartFlags(t *testing.T) {
	dir := t.TempDir()
	work := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	hupFile := filepath.Join(dir, "hup")
	termFile := filepath.Join(dir, "term")
	old := h.StartDaemon(t, pidfile, nil, "-hup-file", hupFile, "-term-file", termFile)
	infoFile := filepath.Join(dir, "info.json")
	r := h.Run(t, "restart", "-p", pidfile, "--retry", "HUP/1/KILL/5", "--name", "frontend",
		"--chdir", work, "--env", "MODE=restarted", "--umask", "077",
		"--", h.TestDaemon, "-ready-file", filepath.Join(dir, "ready"), "-info-file", infoFile)
	h.Expect(t, r, 0)
	pid := h.ReadPID(t, pidfile)
	h.Watch(t, pid)
	assertStdout(t, r, fmt.Sprintf("frontend: started (pid %d)", pid))
	if !h.Exited(old.PIDFD) {
		t.Fatal("old daemon survived the schedule's KILL")
	}
	// HUP does not end the test daemon: the schedule's KILL did.
	if b, _ := os.ReadFile(hupFile); !bytes.Equal(b, []byte("HUP\n")) {
		t.Fatalf("old daemon logged %q, want the schedule's HUP", b)
	}
	assertNoFile(t, termFile)
	in := readDaemonInfo(t, infoFile)
	if in.PID != pid || in.Cwd != work || in.Umask != "0077" || !slices.Contains(in.Env, "MODE=restarted") {
		t.Fatalf("new daemon: pid %d cwd %q umask %s env has MODE=restarted: %v", in.PID, in.Cwd, in.Umask, slices.Contains(in.Env, "MODE=restarted"))
	}
	assertFileContents(t, pidfile, []byte(strconv.Itoa(pid)+"\n"))
}

// TestRestartStopFails: when the old daemon outlives the schedule,
// restart fails (exit 1) and starts nothing; the old daemon keeps its
// pidfile.
func TestRestartStopFails(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	old := h.StartDaemon(t, pidfile, nil, "-ignore-term")
	marker := filepath.Join(dir, "new-ready")
	r := h.Run(t, "restart", "-p", pidfile, "--retry", "TERM/0.2", "--", h.TestDaemon, "-ready-file", marker)
	h.Expect(t, r, 1)
	assertOneLineError(t, r, strconv.Itoa(old.PID), "still running")
	if pids := processesWithArg(t, marker); len(pids) != 0 {
		h.Watch(t, pids[0])
		t.Fatalf("restart started %v anyway", pids)
	}
	if h.Exited(old.PIDFD) {
		t.Fatal("old daemon died")
	}
	assertFileContents(t, pidfile, []byte(strconv.Itoa(old.PID)+"\n"))
}

// TestRestartProgramNotInstalled: the new program is checked before the
// running daemon is stopped: exit 5, and the old daemon still runs.
func TestRestartProgramNotInstalled(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	old := h.StartDaemon(t, pidfile, nil)
	missing := filepath.Join(dir, "missing")
	r := h.Run(t, "restart", "-p", pidfile, "--", missing)
	h.Expect(t, r, 5)
	assertOneLineError(t, r, missing)
	if h.Exited(old.PIDFD) {
		t.Fatal("restart stopped the daemon although the new program cannot run")
	}
	h.Expect(t, h.Run(t, "status", "-p", pidfile), 0)
}
