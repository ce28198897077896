package integration_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// TestSignalSpellings: USR1, SIGUSR1, usr1 and its number all send USR1.
func TestSignalSpellings(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	usr1 := filepath.Join(dir, "usr1")
	d := h.StartDaemon(t, pidfile, nil, "-usr1-file", usr1)
	for i, sig := range []string{"USR1", "SIGUSR1", "usr1", strconv.Itoa(int(unix.SIGUSR1))} {
		r := h.Run(t, "signal", "-p", pidfile, sig)
		h.Expect(t, r, 0)
		assertStdout(t, r, fmt.Sprintf("web: sent USR1 to pid %d", d.PID))
		if !countLinesAtLeast(t, usr1, "USR1", i+1) {
			t.Fatalf("daemon did not get USR1 spelled %q", sig)
		}
	}
	if h.Exited(d.PIDFD) {
		t.Fatal("daemon died")
	}
}

// TestSignalTerm: signal TERM ends the daemon like any signal would; the
// pidfile it leaves is stale, and stop then cleans it up.
func TestSignalTerm(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	d := h.StartDaemon(t, pidfile, nil)
	h.Expect(t, h.Run(t, "signal", "-p", pidfile, "TERM"), 0)
	if !h.WaitExit(d.PIDFD, eventTimeout) {
		t.Fatal("daemon survived TERM")
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	assertNoFile(t, pidfile)
}

// TestSignalNotRunning: exit 7 without a pidfile, or with a stale one.
func TestSignalNotRunning(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	r := h.Run(t, "signal", "-p", pidfile, "USR1")
	h.Expect(t, r, 7)
	assertOneLineError(t, r, "web: not running")
	d := h.StartDaemon(t, pidfile, nil)
	killDaemon(t, d.PID, d.PIDFD)
	r = h.Run(t, "signal", "-p", pidfile, "HUP")
	h.Expect(t, r, 7)
	assertOneLineError(t, r, "web", "not running")
}

// TestSignalBadSignal: a signal that is not one is a usage error (exit 2)
// and nothing is sent.
func TestSignalBadSignal(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	d := h.StartDaemon(t, pidfile, nil, "-ignore-term",
		"-term-file", filepath.Join(dir, "term"), "-hup-file", filepath.Join(dir, "hup"), "-usr1-file", filepath.Join(dir, "usr1"))
	target := &canary{pid: d.PID, pidfd: d.PIDFD, term: filepath.Join(dir, "term"), hup: filepath.Join(dir, "hup"), usr1: filepath.Join(dir, "usr1")}
	for _, sig := range []string{"BOGUS", "SIGBOGUS", "0", "65", "-1", "1.5", "USR1 ", "", "010"} {
		r := h.Run(t, "signal", "-p", pidfile, sig)
		h.Expect(t, r, 2)
		assertOneLineError(t, r)
	}
	for _, args := range [][]string{{}, {"USR1", "HUP"}} {
		r := h.Run(t, append([]string{"signal", "-p", pidfile}, args...)...)
		h.Expect(t, r, 2)
		assertOneLineError(t, r)
	}
	target.assertNeverSignalled(t)
}

// TestSignalBadContents: garbage in the pidfile: exit 1, nothing sent.
func TestSignalBadContents(t *testing.T) {
	checkBadContents(t, 1, func(pidfile string) []string { return []string{"signal", "-p", pidfile, "USR1"} })
}

// TestSignalPidfileKinds: symlink, directory, missing directory,
// unreadable file, FIFO.
func TestSignalPidfileKinds(t *testing.T) {
	checkPidfileCases(t, "signal")
}
