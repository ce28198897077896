package integration_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// TestStopRunning stops a daemon: TERM, pidfile removed, exit 0, and the
// process is gone by the time stop returns.
func TestStopRunning(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	termFile := filepath.Join(dir, "term")
	d := h.StartDaemon(t, pidfile, nil, "-term-file", termFile)
	r := h.Run(t, "stop", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.HasPrefix(r.Stdout(), fmt.Sprintf("web: stopped (pid %d) in ", d.PID)) {
		t.Fatalf("stdout %q", r.Stdout())
	}
	if !h.Exited(d.PIDFD) {
		t.Fatalf("daemon %d still alive after stop", d.PID)
	}
	assertNoFile(t, pidfile)
	if b, _ := os.ReadFile(termFile); bytes.Count(b, []byte("TERM")) != 1 {
		t.Fatalf("daemon got %q, want one TERM", b)
	}
}

// TestStopNotRunning: no pidfile, or not even its directory, is a
// successful stop.
func TestStopNotRunning(t *testing.T) {
	dir := t.TempDir()
	for _, pidfile := range []string{
		filepath.Join(dir, "web.pid"),
		filepath.Join(dir, "missing", "web.pid"),
	} {
		r := h.Run(t, "stop", "-p", pidfile)
		h.Expect(t, r, 0)
		assertStdout(t, r, "web: not running")
		assertNoFile(t, pidfile)
	}
	r := h.Run(t, "stop", "-p", filepath.Join(dir, "web.pid"), "--name", "frontend")
	h.Expect(t, r, 0)
	assertStdout(t, r, "frontend: not running")
}

// TestStopStale: the daemon was killed, its pidfile is left and its lock
// free; stop removes the file and exits 0.
func TestStopStale(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	d := h.StartDaemon(t, pidfile, nil)
	killDaemon(t, d.PID, d.PIDFD)
	r := h.Run(t, "stop", "-p", pidfile)
	h.Expect(t, r, 0)
	assertStdout(t, r, "web: not running (removed stale pidfile)")
	assertNoFile(t, pidfile)
}

// TestStopKillsDaemonIgnoringTerm: the schedule's KILL finishes a daemon
// that ignores TERM. It logged the TERM, and since it ignores TERM and
// never exits on its own, only the KILL can have ended it.
func TestStopKillsDaemonIgnoringTerm(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	termFile := filepath.Join(dir, "term")
	d := h.StartDaemon(t, pidfile, nil, "-ignore-term", "-term-file", termFile)
	r := h.Run(t, "stop", "-p", pidfile, "--retry", "TERM/1/KILL/5")
	h.Expect(t, r, 0)
	if !h.Exited(d.PIDFD) {
		t.Fatalf("daemon %d survived TERM/1/KILL/5", d.PID)
	}
	if b, _ := os.ReadFile(termFile); bytes.Count(b, []byte("TERM")) != 1 {
		t.Fatalf("daemon logged %q, want one TERM before the KILL", b)
	}
	assertNoFile(t, pidfile)
}

// TestStopStillRunningAfterSchedule: a daemon that outlives the whole
// schedule makes stop exit 1, and it keeps running with its pidfile.
func TestStopStillRunningAfterSchedule(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	termFile := filepath.Join(dir, "term")
	d := h.StartDaemon(t, pidfile, nil, "-ignore-term", "-term-file", termFile)
	r := h.Run(t, "stop", "-p", pidfile, "--retry", "TERM/0.3")
	h.Expect(t, r, 1)
	assertOneLineError(t, r, "web", strconv.Itoa(d.PID), "still running")
	if h.Exited(d.PIDFD) {
		t.Fatal("daemon died")
	}
	if !countLinesAtLeast(t, termFile, "TERM", 1) {
		t.Fatal("daemon never got TERM")
	}
	assertFileContents(t, pidfile, []byte(strconv.Itoa(d.PID)+"\n"))
	if !h.HoldsFlock(t, d.PID, pidfile) {
		t.Fatal("daemon lost its lock")
	}
	h.Expect(t, h.Run(t, "status", "-p", pidfile), 0)
}

// TestStopOrphanedChildren: the main process died but its two children
// still hold the inherited lock. status says so; stop signals exactly those
// holders (not an unrelated process) and removes the pidfile.
func TestStopOrphanedChildren(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	childrenFile := filepath.Join(dir, "children")
	unrelated, unrelatedFD := startSleep(t)
	d := h.StartDaemon(t, pidfile, nil, "-children", "2", "-children-file", childrenFile)
	var children []int
	var childFDs []int
	for _, f := range strings.Fields(string(readFile(t, childrenFile))) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("children file: %q", f)
		}
		children = append(children, pid)
		childFDs = append(childFDs, h.Watch(t, pid))
	}
	if len(children) != 2 {
		t.Fatalf("children %v", children)
	}
	killDaemon(t, d.PID, d.PIDFD)
	for _, c := range children {
		if !h.HoldsFlock(t, c, pidfile) {
			t.Fatalf("child %d does not hold the lock", c)
		}
	}

	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 1)
	want := fmt.Sprintf("web: main process %d gone, 2 processes still hold the lock", d.PID)
	if !strings.HasPrefix(r.Stdout(), want) {
		t.Fatalf("status said %q, want %q...", r.Stdout(), want)
	}
	for _, c := range children {
		if !strings.Contains(r.Stdout(), strconv.Itoa(c)) {
			t.Fatalf("status %q does not name child %d", r.Stdout(), c)
		}
	}

	r = h.Run(t, "stop", "-p", pidfile)
	h.Expect(t, r, 0)
	for i, fd := range childFDs {
		if !h.Exited(fd) {
			t.Fatalf("child %d survived stop", children[i])
		}
	}
	assertNoFile(t, pidfile)
	if h.Exited(unrelatedFD) {
		t.Fatalf("unrelated process %d was killed", unrelated)
	}
	h.Expect(t, h.Run(t, "status", "-p", pidfile), 3)
}

// TestStopUsage: bad schedules and signals are usage errors (exit 2) and
// signal nothing.
func TestStopUsage(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	termFile := filepath.Join(dir, "term")
	d := h.StartDaemon(t, pidfile, nil, "-term-file", termFile)
	for _, args := range [][]string{
		{"--retry", "TERM/x"},
		{"--retry", "TERM/5/forever"},    // forever last: start-stop-daemon refuses it too
		{"--retry", "TERM/forever/KILL"}, // repeats without waiting
		{"--retry", "BOGUS/1"},
		{"--signal", "BOGUS"},
		{"--signal", "0"},
		{"extra-argument"},
	} {
		r := h.Run(t, append([]string{"stop", "-p", pidfile}, args...)...)
		h.Expect(t, r, 2)
		assertOneLineError(t, r)
	}
	if h.Exited(d.PIDFD) {
		t.Fatal("daemon died")
	}
	assertNoFile(t, termFile)
	assertFileContents(t, pidfile, []byte(strconv.Itoa(d.PID)+"\n"))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStopBadContents: garbage in the pidfile: exit 1, nothing signalled,
// the file left for the operator to look at.
func TestStopBadContents(t *testing.T) {
	checkBadContents(t, 1, func(pidfile string) []string { return []string{"stop", "-p", pidfile} })
}

// TestStopPidfileKinds: symlink, directory, missing directory, unreadable
// file, FIFO.
func TestStopPidfileKinds(t *testing.T) {
	checkPidfileCases(t, "stop")
}

// startStopDaemon is dpkg's, whose --retry schedules stop reads.
const startStopDaemon = "/sbin/start-stop-daemon"

// TestStopRetryLikeStartStopDaemon stops two identical daemons with the
// same --retry schedule, one by daemonctl and one by the real
// start-stop-daemon (by --pid), and compares what each daemon received:
// the signals in order, whether it ended (by its -signal-limit, else only a
// KILL can end it), and the exit codes (start-stop-daemon's 2, the schedule
// ran out, is daemonctl's 1). Every signal in these schedules is followed
// by a timeout, so that each is handled before the next arrives.
func TestStopRetryLikeStartStopDaemon(t *testing.T) {
	_, err := os.Stat(startStopDaemon)
	haveSSD := err == nil
	for _, tc := range []struct {
		retry  string
		signal string // --signal, for a bare number
		limit  int    // the daemon exits 0 on this many signals; 0: never
		want   []string
		ends   bool // the daemon is gone when stop returns
		ssd    int  // start-stop-daemon's exit code; daemonctl's is 0 for 0, else 1
	}{
		{retry: "forever/TERM/1", limit: 2, want: []string{"TERM", "TERM"}, ends: true},
		{retry: "TERM/1/KILL/1", want: []string{"TERM"}, ends: true},
		{retry: "1/TERM/1", limit: 1, want: []string{"TERM"}, ends: true},
		{retry: "TERM/1/forever/HUP/1", limit: 3, want: []string{"TERM", "HUP", "HUP"}, ends: true},
		{retry: "HUP/1/TERM/forever/1", limit: 2, want: []string{"HUP", "TERM"}, ends: true},
		{retry: "TERM/1/1/HUP/1", limit: 2, want: []string{"TERM", "HUP"}, ends: true},
		{retry: "-10/1/-12/1", limit: 2, want: []string{"USR1", "USR2"}, ends: true},
		{retry: "-0/1/TERM/1", limit: 1, want: []string{"TERM"}, ends: true},
		{retry: "1", signal: "HUP", want: []string{"HUP"}, ends: true},
		{retry: "USR1/1/USR2/0", want: []string{"USR1", "USR2"}, ssd: 2}, // USR2 is not waited for
		{retry: "-0/1", ssd: 2},
	} {
		t.Run(strings.ReplaceAll(tc.retry, "/", "_"), func(t *testing.T) {
			t.Parallel()
			// stop runs the schedule on a daemon and returns stop's exit code.
			check := func(t *testing.T, stop func(d *h.Daemon) int, wantCode int) {
				dir := t.TempDir()
				log := filepath.Join(dir, "signals")
				d := h.StartDaemon(t, filepath.Join(dir, "web.pid"), nil, "-signal-log", log, "-signal-limit", strconv.Itoa(tc.limit))
				if code := stop(d); code != wantCode {
					t.Errorf("exit %d, want %d", code, wantCode)
				}
				// A KILL, or the last signal, may still be on its way when
				// stop returns.
				if ended := h.WaitExit(d.PIDFD, 0) || tc.ends && h.WaitExit(d.PIDFD, time.Minute); ended != tc.ends {
					t.Fatalf("daemon ended: %v, want %v", ended, tc.ends)
				}
				if !tc.ends && len(tc.want) > 0 {
					h.WaitFileFunc(t, log, time.Minute, func(b []byte) bool { return len(strings.Fields(string(b))) >= len(tc.want) })
				}
				got := strings.Fields(string(readFileIfAny(t, log)))
				if !slices.Equal(got, tc.want) {
					t.Errorf("daemon received %q, want %q", got, tc.want)
				}
			}
			t.Run("daemonctl", func(t *testing.T) {
				t.Parallel()
				want := 0
				if tc.ssd != 0 {
					want = 1
				}
				check(t, func(d *h.Daemon) int {
					args := []string{"stop", "-p", d.PIDFile, "--retry", tc.retry}
					if tc.signal != "" {
						args = append(args, "--signal", tc.signal)
					}
					return h.Run(t, args...).Code()
				}, want)
			})
			t.Run("start-stop-daemon", func(t *testing.T) {
				if !haveSSD {
					t.Skipf("%s is not installed (dpkg)", startStopDaemon)
				}
				t.Parallel()
				check(t, func(d *h.Daemon) int {
					args := []string{"--stop", "--pid", strconv.Itoa(d.PID), "--retry=" + tc.retry}
					if tc.signal != "" {
						args = append(args, "--signal", tc.signal)
					}
					out, err := h.Output(exec.Command(startStopDaemon, args...))
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						t.Logf("start-stop-daemon: %s", out)
						return ee.ExitCode()
					}
					if err != nil {
						t.Fatal(err)
					}
					return 0
				}, tc.ssd)
			})
		})
	}
}

// readFileIfAny reads path; a file never written reads empty.
func readFileIfAny(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}
