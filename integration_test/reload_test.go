package integration_test

import (
	"fmt"
	"path/filepath"
	"testing"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// TestReloadSendsHUP: reload sends HUP to the daemon, which keeps running.
func TestReloadSendsHUP(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	hup := filepath.Join(dir, "hup")
	d := h.StartDaemon(t, pidfile, nil, "-hup-file", hup)
	r := h.Run(t, "reload", "-p", pidfile)
	h.Expect(t, r, 0)
	assertStdout(t, r, fmt.Sprintf("web: sent HUP to pid %d", d.PID))
	if !countLinesAtLeast(t, hup, "HUP", 1) {
		t.Fatal("daemon never got HUP")
	}
	h.Expect(t, h.Run(t, "reload", "-p", pidfile, "--name", "frontend"), 0)
	if !countLinesAtLeast(t, hup, "HUP", 2) {
		t.Fatal("daemon never got the second HUP")
	}
	if h.Exited(d.PIDFD) {
		t.Fatal("daemon died")
	}
	h.Expect(t, h.Run(t, "status", "-p", pidfile), 0)
}

// TestReloadSignalFlag: --signal USR1 sends USR1 instead of HUP.
func TestReloadSignalFlag(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	hup := filepath.Join(dir, "hup")
	usr1 := filepath.Join(dir, "usr1")
	d := h.StartDaemon(t, pidfile, nil, "-hup-file", hup, "-usr1-file", usr1)
	r := h.Run(t, "reload", "-p", pidfile, "--signal", "USR1")
	h.Expect(t, r, 0)
	assertStdout(t, r, fmt.Sprintf("web: sent USR1 to pid %d", d.PID))
	if !countLinesAtLeast(t, usr1, "USR1", 1) {
		t.Fatal("daemon never got USR1")
	}
	// HUP is a lower signal than USR1: had it been sent too, it would have
	// been handled first.
	assertNoFile(t, hup)
	r = h.Run(t, "reload", "-p", pidfile, "--signal", "NOPE")
	h.Expect(t, r, 2)
	assertOneLineError(t, r, "NOPE")
}

// TestReloadNotRunning: exit 7 without a pidfile, and with a stale one.
func TestReloadNotRunning(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	r := h.Run(t, "reload", "-p", pidfile)
	h.Expect(t, r, 7)
	assertOneLineError(t, r, "web: not running")

	d := h.StartDaemon(t, pidfile, nil)
	killDaemon(t, d.PID, d.PIDFD)
	r = h.Run(t, "reload", "-p", pidfile)
	h.Expect(t, r, 7)
	assertOneLineError(t, r, "web", "not running")
}

// TestReloadBadContents: garbage in the pidfile: exit 1, nothing sent.
func TestReloadBadContents(t *testing.T) {
	checkBadContents(t, 1, func(pidfile string) []string { return []string{"reload", "-p", pidfile} })
}

// TestReloadPidfileKinds: symlink, directory, missing directory,
// unreadable file, FIFO.
func TestReloadPidfileKinds(t *testing.T) {
	checkPidfileCases(t, "reload")
}
