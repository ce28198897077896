package integration_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// TestStatusRunning: exit 0, "NAME: running (pid N, up ...)".
func TestStatusRunning(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	d := h.StartDaemon(t, pidfile, nil)
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	want := fmt.Sprintf("web: running (pid %d, up ", d.PID)
	if !strings.HasPrefix(r.Stdout(), want) || !strings.HasSuffix(r.Stdout(), ")\n") || strings.Count(r.Stdout(), "\n") != 1 {
		t.Fatalf("status said %q, want %q...)", r.Stdout(), want)
	}
	r = h.Run(t, "status", "-p", pidfile, "--name", "frontend")
	h.Expect(t, r, 0)
	if !strings.HasPrefix(r.Stdout(), fmt.Sprintf("frontend: running (pid %d, up ", d.PID)) {
		t.Fatalf("status --name said %q", r.Stdout())
	}
}

// TestStatusNotRunning: exit 3 without a pidfile, or without its directory.
func TestStatusNotRunning(t *testing.T) {
	dir := t.TempDir()
	for _, pidfile := range []string{
		filepath.Join(dir, "web.pid"),
		filepath.Join(dir, "missing", "web.pid"),
	} {
		r := h.Run(t, "status", "-p", pidfile)
		h.Expect(t, r, 3)
		assertStdout(t, r, "web: not running")
		assertNoFile(t, pidfile)
	}
}

// TestStatusDead: the daemon was killed and left its pidfile: exit 1,
// and status does not remove the file.
func TestStatusDead(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	d := h.StartDaemon(t, pidfile, nil)
	killDaemon(t, d.PID, d.PIDFD)
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 1)
	assertStdout(t, r, fmt.Sprintf("web: dead (pid %d has exited; stale pidfile %s left)", d.PID, pidfile))
	assertFileContents(t, pidfile, []byte(strconv.Itoa(d.PID)+"\n"))
}

// statusJSON is status --json's object.
type statusJSON struct {
	Name    string   `json:"name"`
	PIDFile string   `json:"pidfile"`
	State   string   `json:"state"`
	PID     int      `json:"pid"`
	Started string   `json:"started"`
	Command []string `json:"command"`
}

// decodeOneObject decodes stdout, which must be exactly one JSON object.
func decodeOneObject(t *testing.T, out string) (statusJSON, map[string]any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		t.Fatalf("status --json printed %q: %v", out, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("status --json printed more than one object: %q", out)
	}
	var s statusJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	return s, fields
}

// TestStatusJSON: --json prints one object with name, pidfile, state, pid,
// started (RFC 3339) and the command line.
func TestStatusJSON(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	before := time.Now()
	d := h.StartDaemon(t, pidfile, nil, "-hup-file", filepath.Join(dir, "hup"))
	r := h.Run(t, "status", "-p", pidfile, "--json")
	h.Expect(t, r, 0)
	s, fields := decodeOneObject(t, r.Stdout())
	for _, key := range []string{"name", "pidfile", "state", "pid", "started", "command"} {
		if _, ok := fields[key]; !ok {
			t.Fatalf("no %q in %s", key, r.Stdout())
		}
	}
	if s.Name != "web" || s.PIDFile != pidfile || s.State != "running" || s.PID != d.PID {
		t.Fatalf("status --json: %+v", s)
	}
	started, err := time.Parse(time.RFC3339, s.Started)
	if err != nil {
		t.Fatalf("started %q is not RFC 3339: %v", s.Started, err)
	}
	// Start times have clock-tick resolution, and RFC 3339 may drop the
	// fraction: allow a second on either side.
	if started.Before(before.Add(-time.Second)) || started.After(time.Now().Add(time.Second)) {
		t.Fatalf("started %v, but the daemon started after %v", started, before)
	}
	wantCmd := []string{h.TestDaemon, "-ready-file", d.Ready, "-hup-file", filepath.Join(dir, "hup")}
	if !slices.Equal(s.Command, wantCmd) {
		t.Fatalf("command %q, want %q", s.Command, wantCmd)
	}

	r = h.Run(t, "status", "-p", filepath.Join(dir, "other.pid"), "--json")
	h.Expect(t, r, 3)
	if s, _ := decodeOneObject(t, r.Stdout()); s.State != "stopped" || s.Name != "other" {
		t.Fatalf("not running: %+v", s)
	}

	garbage := filepath.Join(dir, "garbage.pid")
	if err := os.WriteFile(garbage, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = h.Run(t, "status", "-p", garbage, "--json")
	h.Expect(t, r, 4)
	if s, _ := decodeOneObject(t, r.Stdout()); s.State != "unknown" {
		t.Fatalf("garbage: %+v", s)
	}
}

// TestStatusUnrecorded: a pidfile that daemonctl did not write (no
// record of its stage) naming a live process that does not hold the lock
// is never "running": nobody can vouch for it, whatever its start time.
// status says so (exit 4); stop, reload and signal refuse (exit 4) and
// signal nothing; start refuses to launch a second instance (exit 1). The
// file stays as it was.
func TestStatusUnrecorded(t *testing.T) {
	for _, age := range []string{"old", "new"} {
		t.Run(age, func(t *testing.T) {
			c := startCanary(t)
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "web.pid")
			contents := []byte(strconv.Itoa(c.pid) + "\n")
			if err := os.WriteFile(pidfile, contents, 0o644); err != nil {
				t.Fatal(err)
			}
			if age == "old" {
				old := time.Now().Add(-time.Hour)
				if err := os.Chtimes(pidfile, old, old); err != nil {
					t.Fatal(err)
				}
			}
			r := h.Run(t, "status", "-p", pidfile)
			h.Expect(t, r, 4)
			assertOneLineError(t, r, fmt.Sprintf("cannot vouch for pid %d", c.pid), "no record")
			for _, args := range [][]string{{"reload", "-p", pidfile}, {"signal", "-p", pidfile, "USR1"}, {"stop", "-p", pidfile}} {
				r := h.Run(t, args...)
				h.Expect(t, r, 4)
				assertOneLineError(t, r, strconv.Itoa(c.pid), pidfile, "nothing was signalled")
			}
			marker := filepath.Join(dir, "ready")
			r = h.Run(t, "start", "-p", pidfile, "--", h.TestDaemon, "-ready-file", marker)
			h.Expect(t, r, 1)
			assertOneLineError(t, r, strconv.Itoa(c.pid), pidfile)
			if pids := processesWithArg(t, marker); len(pids) != 0 {
				h.Watch(t, pids[0])
				t.Fatalf("a second instance was started: %v", pids)
			}
			assertFileContents(t, pidfile, contents)
			c.assertNeverSignalled(t)
		})
	}
}

// TestStatusClosedLock: a daemon that closes its inherited descriptors
// drops the lock; the record its start made still vouches for it: status
// says it runs (exit 0, with a note), start leaves it alone ("already
// running"), stop stops it.
func TestStatusClosedLock(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	d := h.StartDaemon(t, pidfile, nil, "-close-fds")
	waitLauncherGone(t, d.PID)
	if h.Locked(t, pidfile) {
		t.Fatal("the daemon still holds the lock after -close-fds")
	}
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), fmt.Sprintf("web: running (pid %d, up ", d.PID)) || !strings.Contains(r.Stdout(), "it closed its lock descriptor") {
		t.Fatalf("status said %q", r.Stdout())
	}
	r = h.Run(t, "status", "-p", pidfile, "--json")
	h.Expect(t, r, 0)
	if s, _ := decodeOneObject(t, r.Stdout()); s.State != "running" || s.PID != d.PID {
		t.Fatalf("status --json: %+v", s)
	}

	marker := filepath.Join(dir, "second-ready")
	r = h.Run(t, "start", "-p", pidfile, "--", h.TestDaemon, "-ready-file", marker)
	h.Expect(t, r, 0)
	assertStdout(t, r, fmt.Sprintf("web: already running (pid %d; it closed its lock descriptor)", d.PID))
	if pids := processesWithArg(t, marker); len(pids) != 0 {
		h.Watch(t, pids[0])
		t.Fatalf("a second instance was started: %v", pids)
	}
	assertFileContents(t, pidfile, []byte(strconv.Itoa(d.PID)+"\n"))

	r = h.Run(t, "reload", "-p", pidfile)
	h.Expect(t, r, 0)
	r = h.Run(t, "stop", "-p", pidfile)
	h.Expect(t, r, 0)
	if !h.Exited(d.PIDFD) {
		t.Fatalf("daemon %d survived stop", d.PID)
	}
	assertNoFile(t, pidfile)
	h.Expect(t, h.Run(t, "status", "-p", pidfile), 3)
}

// TestStatusBadContents: garbage in the pidfile is "unknown" (exit 4).
func TestStatusBadContents(t *testing.T) {
	checkBadContents(t, 4, func(pidfile string) []string { return []string{"status", "-p", pidfile} })
}

// TestStatusPidfileKinds: symlink, directory, missing directory,
// unreadable file, FIFO.
func TestStatusPidfileKinds(t *testing.T) {
	checkPidfileCases(t, "status")
}

// TestStatusNeverCreates: a status probe creates nothing.
func TestStatusNeverCreates(t *testing.T) {
	dir := t.TempDir()
	h.Expect(t, h.Run(t, "status", "-p", filepath.Join(dir, "web.pid")), 3)
	h.Expect(t, h.Run(t, "status", "-p", filepath.Join(dir, "web.pid"), "--json"), 3)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("status created %v", entries)
	}
}

// TestStatusEmptyPidfile: an empty, unlocked pidfile is what a start killed
// between creating and writing it leaves: dead (status 1), removed by stop,
// and reload and signal find nothing running (7).
func TestStatusEmptyPidfile(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	if err := os.WriteFile(pidfile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 1)
	assertStdout(t, r, fmt.Sprintf("web: dead (empty pidfile %s left by an interrupted start)", pidfile))
	h.Expect(t, h.Run(t, "reload", "-p", pidfile), 7)
	h.Expect(t, h.Run(t, "signal", "-p", pidfile, "USR1"), 7)
	assertFileContents(t, pidfile, nil)
	r = h.Run(t, "stop", "-p", pidfile)
	h.Expect(t, r, 0)
	assertStdout(t, r, "web: not running (removed stale pidfile)")
	assertNoFile(t, pidfile)
}

// TestStatusExec: --exec accepts as the daemon only a process running that
// executable, as start-stop-daemon's does; anything else in the pidfile
// is not vouched for (exit 4), and nothing is signalled.
func TestStatusExec(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	d := h.StartDaemon(t, pidfile, nil, "-hup-file", pidfile+".hup")
	h.Expect(t, h.Run(t, "status", "-p", pidfile, "--exec", h.TestDaemon), 0)
	r := h.Run(t, "status", "-p", pidfile, "--exec", "/bin/sleep")
	h.Expect(t, r, 4)
	assertOneLineError(t, r, fmt.Sprintf("pid %d does not run /bin/sleep", d.PID))
	for _, args := range [][]string{{"reload"}, {"signal", "HUP"}, {"stop"}} {
		args = append(append(args[:1:1], "-p", pidfile, "--exec", "/bin/sleep"), args[1:]...)
		r := h.Run(t, args...)
		h.Expect(t, r, 4)
		assertOneLineError(t, r, "nothing was signalled")
	}
	if _, err := os.Stat(pidfile + ".hup"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the daemon got a HUP: %v", err)
	}
	if h.Exited(d.PIDFD) {
		t.Fatal("the daemon was stopped though --exec named another program")
	}
	h.Expect(t, h.Run(t, "status", "-p", pidfile, "--exec", filepath.Join(t.TempDir(), "missing")), 4)
	h.Expect(t, h.Run(t, "stop", "-p", pidfile, "--exec", filepath.Join(t.TempDir(), "missing")), 2)
	h.Expect(t, h.Run(t, "reload", "-p", pidfile, "--exec", h.TestDaemon), 0)
	h.Expect(t, h.Run(t, "stop", "-p", pidfile, "--exec", h.TestDaemon), 0)
	if !h.Exited(d.PIDFD) {
		t.Fatal("stop --exec with the daemon's own executable did not stop it")
	}
}
