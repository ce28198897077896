//go:build linux

package integration_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
	"github.com/daemonctl/daemonctl/process"
)

// The fault tests SIGKILL "daemonctl start" and its launcher stage at each
// step of a start, and "daemonctl stop" in the middle of its schedule, and
// then check that what is left is consistent: a held lock has a live
// process behind it, status says running only when the PID in the file
// holds the lock, the next start does not start a second daemon, and stop
// leaves nothing. The launcher stage is stopped at an exact step through
// its test-only hook, DAEMONCTL_TEST_PAUSE=STEP:FILE (controller/stage.go):
// it writes its PID to FILE and blocks until FILE.resume, a FIFO, is
// opened and closed.

// pausedStart is a "daemonctl start" whose launcher stage is paused.
type pausedStart struct {
	stage, stageFD   int // the launcher stage and its pidfd
	caller, callerFD int // the daemonctl start process and its pidfd
	resume           string
	done             chan h.Result
}

// startPaused runs "daemonctl start" for pidfile with the test daemon
// (daemonArgs after it) and returns once the launcher stage has paused at
// step.
func startPaused(t *testing.T, pidfile, step string, daemonArgs ...string) *pausedStart {
	t.Helper()
	dir := t.TempDir()
	pauseFile := filepath.Join(dir, "stage.pid")
	p := &pausedStart{resume: pauseFile + ".resume", done: make(chan h.Result, 1)}
	if err := unix.Mkfifo(p.resume, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	env := []string{"DAEMONCTL_TEST_PAUSE=" + step + ":" + pauseFile}
	args := append([]string{"start", "-p", pidfile, "--", h.TestDaemon}, daemonArgs...)
	go func() { p.done <- h.RunEnv(t, env, args...) }()
	if !h.WaitFileFunc(t, pauseFile, eventTimeout, func(b []byte) bool { return bytes.HasSuffix(b, []byte("\n")) }) {
		t.Fatalf("the launcher stage never paused at %s", step)
	}
	p.stage = h.ReadPID(t, pauseFile)
	p.stageFD = h.Watch(t, p.stage)
	info, err := process.Get(p.stage)
	if err != nil {
		t.Fatalf("paused stage %d: %v", p.stage, err)
	}
	p.caller = info.PPID
	caller, err := process.Get(p.caller)
	if err != nil || len(caller.Command) < 2 || caller.Command[0] != h.Daemonctl || caller.Command[1] != "start" {
		t.Fatalf("the stage's parent %d is %v (%v), not daemonctl start", p.caller, caller.Command, err)
	}
	// The caller is our child, waited for by RunEnv: its PID cannot be
	// reused before that wait, and the pidfd pins it from here on.
	p.callerFD, err = unix.PidfdOpen(p.caller, 0)
	if err != nil {
		t.Fatalf("pidfd_open caller %d: %v", p.caller, err)
	}
	t.Cleanup(func() { unix.Close(p.callerFD) })
	return p
}

// killPidfd SIGKILLs the process behind pidfd fd and waits for it to exit.
func killPidfd(t *testing.T, fd int, what string) {
	t.Helper()
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		t.Fatalf("SIGKILL %s: %v", what, err)
	}
	if !h.WaitExit(fd, eventTimeout) {
		t.Fatalf("%s survived SIGKILL", what)
	}
}

// continueStage lets the paused stage go on and waits for it to exit.
func (p *pausedStart) continueStage(t *testing.T) {
	t.Helper()
	if h.Exited(p.stageFD) {
		t.Fatal("the paused stage died")
	}
	f, err := os.OpenFile(p.resume, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", p.resume, err)
	}
	f.Close()
	if !h.WaitExit(p.stageFD, eventTimeout) {
		t.Fatal("the launcher stage did not finish after it was resumed")
	}
}

func (p *pausedStart) result(t *testing.T) h.Result {
	t.Helper()
	select {
	case r := <-p.done:
		return r
	case <-time.After(eventTimeout):
		t.Fatal("daemonctl start did not return")
	}
	return h.Result{}
}

// testDaemons lists the live test-daemon processes whose arguments
// contain marker (daemons are given a path in their test's directory).
func testDaemons(t testing.TB, marker string) []int {
	t.Helper()
	return h.Processes(t, func(args []string) bool {
		return args[0] == h.TestDaemon && slices.ContainsFunc(args[1:], func(a string) bool { return strings.Contains(a, marker) })
	})
}

// lockHolders lists the processes holding the flock on path's inode.
func lockHolders(t testing.TB, path string) []int {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		t.Fatal(err)
	}
	holders, err := process.FlockHolders(process.FileID{Dev: st.Dev, Ino: st.Ino})
	if err != nil {
		t.Fatal(err)
	}
	pids := make([]int, len(holders))
	for i, h := range holders {
		pids[i] = h.PID
	}
	return pids
}

// settledHolders lists the holders of pidfile's lock once every holder
// that is not a test daemon has exited: start returns on the stage's
// report, and the stage is still exiting then.
func settledHolders(t testing.TB, pidfile string) []int {
	t.Helper()
	holders := lockHolders(t, pidfile)
	waited := false
	for _, pid := range holders {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			waited = true // gone since
			continue
		}
		// Only a test daemon may keep the lock. Anything else holding it
		// must be on its way out (a launcher stage, or a process caught
		// between releasing its memory and closing its files, whose
		// command line reads empty): wait for its pidfd. A zombie is done
		// at once.
		if info, err := process.Get(pid); err == nil && len(info.Command) > 0 && info.Command[0] == h.TestDaemon {
			unix.Close(fd)
			continue
		}
		if !h.WaitExit(fd, eventTimeout) {
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			t.Errorf("process %d (%q), not a test daemon, still holds %s", pid, cmdline, pidfile)
		}
		unix.Close(fd)
		waited = true
	}
	if waited {
		return lockHolders(t, pidfile)
	}
	return holders
}

// assertConsistent checks what a fault left behind for pidfile, whose
// daemons carry marker: a held lock is held by exactly one test daemon
// (and nothing else), and status says running only, and exactly, when
// the pidfile names that daemon. It returns the daemon holding the lock,
// 0 if none.
func assertConsistent(t *testing.T, pidfile, marker string) int {
	t.Helper()
	daemons := testDaemons(t, marker)
	for _, pid := range daemons {
		h.Watch(t, pid)
	}
	if len(daemons) > 1 {
		t.Fatalf("%d test daemons run for %s: %v", len(daemons), pidfile, daemons)
	}
	holders := settledHolders(t, pidfile)
	locked := h.Locked(t, pidfile)
	switch {
	case locked && len(holders) == 0:
		t.Fatalf("%s is locked but no process holds it", pidfile)
	case locked && !slices.Equal(holders, daemons):
		t.Fatalf("%s is held by %v, the test daemons are %v", pidfile, holders, daemons)
	case !locked && len(daemons) > 0:
		t.Fatalf("test daemon %v runs but %s is not locked", daemons, pidfile)
	}
	daemon := 0
	if len(daemons) == 1 {
		daemon = daemons[0]
	}
	filePID := 0
	if b, err := os.ReadFile(pidfile); err == nil {
		filePID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	r := h.Run(t, "status", "-p", pidfile)
	running := daemon != 0 && filePID == daemon
	switch {
	case running && r.Code() != 0:
		t.Fatalf("daemon %d holds the lock and is in %s, but status exits %d", daemon, pidfile, r.Code())
	case !running && r.Code() == 0:
		t.Fatalf("status says running, but the file names %d and the lock holder is %d", filePID, daemon)
	case running && !strings.Contains(r.Stdout(), "pid "+strconv.Itoa(daemon)):
		t.Fatalf("status does not name pid %d: %q", daemon, r.Stdout())
	case !slices.Contains([]int{0, 1, 3}, r.Code()):
		t.Fatalf("status after a fault exits %d, want 0, 1 or 3", r.Code())
	}
	return daemon
}

// assertRecovers checks that after a fault the service can be started
// (or is reported running, by the daemon that holds the lock) and then
// stopped without a trace. When a daemon holds the lock but its PID is
// not in the file (the stage died between fork and write), start must
// refuse, naming it, and stop must finish it.
func assertRecovers(t *testing.T, pidfile, marker string, daemon int) {
	t.Helper()
	filePID := 0
	if b, err := os.ReadFile(pidfile); err == nil {
		filePID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	ready := pidfile + ".ready2"
	start := func() h.Result {
		return h.Run(t, "start", "-p", pidfile, "--", h.TestDaemon, "-ready-file", ready, "-hup-file", marker+".hup")
	}
	r := start()
	switch {
	case daemon != 0 && filePID != daemon:
		if r.Code() != 1 || !strings.Contains(r.Stderr(), strconv.Itoa(daemon)) || !strings.Contains(r.Stderr(), "stop") {
			t.Fatalf("start with daemon %d holding the lock unrecorded: want exit 1 naming it and stop, got %d %q", daemon, r.Code(), r.Stderr())
		}
		h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
		assertGone(t, pidfile, marker)
		r = start()
		h.Expect(t, r, 0)
	case daemon != 0:
		h.Expect(t, r, 0)
		if want := "already running (pid " + strconv.Itoa(daemon) + ")"; !strings.Contains(r.Stdout(), want) {
			t.Fatalf("start: want %q, got %q", want, r.Stdout())
		}
	default:
		h.Expect(t, r, 0)
		if !strings.Contains(r.Stdout(), "started (pid ") {
			t.Fatalf("start: want started, got %q", r.Stdout())
		}
	}
	running := h.ReadPID(t, pidfile)
	h.Watch(t, running)
	if got := assertConsistent(t, pidfile, marker); got != running {
		t.Fatalf("after start: lock holder %d, pidfile names %d", got, running)
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	assertGone(t, pidfile, marker)
}

// assertGone checks that no daemon, no lock and no pidfile are left.
func assertGone(t *testing.T, pidfile, marker string) {
	t.Helper()
	if pids := testDaemons(t, marker); len(pids) > 0 {
		t.Fatalf("test daemons %v still run", pids)
	}
	if _, err := os.Lstat(pidfile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s left behind (%v)", pidfile, err)
	}
	h.Expect(t, h.Run(t, "status", "-p", pidfile), 3)
}

// staleLeftover makes pidfile name a daemon killed by SIGKILL: the state
// a crash leaves.
func staleLeftover(t *testing.T, pidfile, marker string) int {
	t.Helper()
	d := h.StartDaemon(t, pidfile, nil, "-hup-file", marker+".hup")
	killPidfd(t, d.PIDFD, "old daemon")
	return d.PID
}

func TestFaultStartKilled(t *testing.T) {
	faults := 0
	// The pause points of the launcher stage, in order.
	for _, step := range []string{"before-lock", "after-lock", "after-fork", "after-write"} {
		for _, victim := range []string{"stage", "caller", "both"} {
			for _, before := range []string{"fresh", "stale"} {
				t.Run(step+"/"+victim+"/"+before, func(t *testing.T) {
					dir := t.TempDir()
					pidfile := filepath.Join(dir, "web.pid")
					marker := filepath.Join(dir, "web")
					stalePID := 0
					if before == "stale" {
						stalePID = staleLeftover(t, pidfile, marker)
					}
					p := startPaused(t, pidfile, step, "-ready-file", pidfile+".ready", "-hup-file", marker+".hup")
					if victim != "stage" {
						killPidfd(t, p.callerFD, "daemonctl start")
						faults++
						if r := p.result(t); r.Code() != -1 {
							t.Fatalf("killed caller: exit %d, want death by signal", r.Code())
						}
					}
					if victim == "caller" {
						p.continueStage(t)
					} else {
						killPidfd(t, p.stageFD, "launcher stage")
						faults++
					}
					if victim == "stage" {
						r := p.result(t)
						h.Expect(t, r, 1)
						if !strings.Contains(r.Stderr(), "launcher") {
							t.Fatalf("start whose stage died: %q does not say so", r.Stderr())
						}
					}
					daemon := assertConsistent(t, pidfile, marker)
					stageDied := victim != "caller"
					forked := !stageDied || step == "after-fork" || step == "after-write"
					if forked != (daemon != 0) {
						t.Fatalf("daemon %d after killing the %s at %s", daemon, victim, step)
					}
					if b, err := os.ReadFile(pidfile); err == nil && stageDied && step != "after-write" {
						// The stage died before it wrote: the file is as it
						// was before the lock, and empty once the lock was
						// the stage's (it empties the file, so that nobody
						// takes the stale PID for the new start's).
						want := ""
						if stalePID != 0 && step == "before-lock" {
							want = strconv.Itoa(stalePID) + "\n"
						}
						if string(b) != want {
							t.Fatalf("%s holds %q after the stage died at %s, want %q", pidfile, b, step, want)
						}
					}
					if stageDied && (step == "before-lock") && stalePID == 0 {
						if _, err := os.Lstat(pidfile); !errors.Is(err, fs.ErrNotExist) {
							t.Fatalf("a stage killed before the lock created %s", pidfile)
						}
					}
					assertRecovers(t, pidfile, marker, daemon)
				})
			}
		}
	}
	t.Logf("%d SIGKILLs injected into starts", faults)
}

// stopInBackground runs "daemonctl stop" with args in the background; the
// result arrives on done.
func stopInBackground(t *testing.T, args ...string) (done chan h.Result) {
	t.Helper()
	done = make(chan h.Result, 1)
	go func() { done <- h.Run(t, append([]string{"stop"}, args...)...) }()
	return done
}

// ownChild finds this process's child running exactly command and returns
// a pidfd on it. Call it once the child has shown itself by an event.
func ownChild(t *testing.T, command ...string) int {
	t.Helper()
	for _, pid := range ownChildren(t) {
		info, err := process.Get(pid)
		if err == nil && slices.Equal(info.Command, command) {
			// Our child: its PID cannot be reused before we reap it.
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				t.Fatalf("pidfd_open %d: %v", pid, err)
			}
			t.Cleanup(func() { unix.Close(fd) })
			return fd
		}
	}
	t.Fatalf("no child runs %q", command)
	return -1
}

// ownChildren lists this process's children.
func ownChildren(t *testing.T) []int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func TestFaultStopKilledMidSchedule(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	termFile := filepath.Join(dir, "web.term")
	d := h.StartDaemon(t, pidfile, nil, "-ignore-term", "-term-file", termFile)
	before, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	stopArgs := []string{"-p", pidfile, "--retry", "TERM/30/KILL/5"}
	done := stopInBackground(t, stopArgs...)
	if !h.WaitFileFunc(t, termFile, eventTimeout, func(b []byte) bool { return bytes.HasPrefix(b, []byte("TERM ")) }) {
		t.Fatal("the daemon never received TERM")
	}
	killPidfd(t, ownChild(t, append([]string{h.Daemonctl, "stop"}, stopArgs...)...), "daemonctl stop")
	if r := <-done; r.Code() != -1 {
		t.Fatalf("killed stop: exit %d", r.Code())
	}
	// The daemon ignored TERM and nobody went on to KILL: it runs, and
	// its record is intact.
	if h.Exited(d.PIDFD) {
		t.Fatal("the daemon died although stop was killed before KILL")
	}
	if after, err := os.ReadFile(pidfile); err != nil || !bytes.Equal(after, before) {
		t.Fatalf("pidfile changed by the killed stop: %q (%v), was %q", after, err, before)
	}
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "pid "+strconv.Itoa(d.PID)) {
		t.Fatalf("status: %q does not name pid %d", r.Stdout(), d.PID)
	}
	// A second stop finishes the job.
	h.Expect(t, h.Run(t, "stop", "-p", pidfile, "--retry", "TERM/0.1/KILL/5"), 0)
	if !h.WaitExit(d.PIDFD, eventTimeout) {
		t.Fatal("the daemon survived the second stop")
	}
	assertGone(t, pidfile, termFile)
	t.Logf("1 SIGKILL injected into stop")
}

func TestFaultStopKilledWhileOrphansLinger(t *testing.T) {
	// The main process exits on TERM; its children ignore TERM and keep
	// the lock. Stop is killed while it waits for them.
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	childrenFile := filepath.Join(dir, "children")
	d := h.StartDaemon(t, pidfile, nil, "-children", "2", "-child-ignore-term", "-children-file", childrenFile)
	b, err := os.ReadFile(childrenFile)
	if err != nil {
		t.Fatal(err)
	}
	var children, childFDs []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, pid)
		childFDs = append(childFDs, h.Watch(t, pid))
	}
	stopArgs := []string{"-p", pidfile, "--retry", "TERM/30/KILL/5"}
	done := stopInBackground(t, stopArgs...)
	if !h.WaitExit(d.PIDFD, eventTimeout) {
		t.Fatal("the main process did not exit on TERM")
	}
	killPidfd(t, ownChild(t, append([]string{h.Daemonctl, "stop"}, stopArgs...)...), "daemonctl stop")
	if r := <-done; r.Code() != -1 {
		t.Fatalf("killed stop: exit %d", r.Code())
	}
	slices.Sort(children)
	if holders := settledHolders(t, pidfile); !slices.Equal(holders, children) {
		t.Fatalf("lock holders %v, want the children %v", holders, children)
	}
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 1)
	if !strings.Contains(r.Stdout(), "orphaned") && !strings.Contains(r.Stdout(), "gone") {
		t.Fatalf("status: %q, want the orphans reported", r.Stdout())
	}
	h.Expect(t, h.Run(t, "start", "-p", pidfile, "--", h.TestDaemon), 1)
	h.Expect(t, h.Run(t, "stop", "-p", pidfile, "--retry", "TERM/0.1/KILL/5"), 0)
	for i, fd := range childFDs {
		if !h.WaitExit(fd, eventTimeout) {
			t.Fatalf("child %d survived the second stop", children[i])
		}
	}
	if _, err := os.Lstat(pidfile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pidfile left: %v", err)
	}
	t.Logf("1 SIGKILL injected into stop")
}

// TestFaultDaemonDiesBeforeCommit: the daemon exits before the launcher
// stage has recorded it (a program that fails at once). Its PID cannot be
// reused meanwhile (it is the stage's child, not yet waited for), so the
// start is a start like any other: "started", exit 0, and status then
// says dead; not an error about a zombie that depends on who was faster.
func TestFaultDaemonDiesBeforeCommit(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	p := startPaused(t, pidfile, "after-fork", "-exit-after", "0s", "-exit-code", "3")
	// The child of whichever thread of the stage forked it.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p.stage))
	var fields []string
	for _, task := range tasks {
		children, _ := os.ReadFile(task)
		fields = append(fields, strings.Fields(string(children))...)
	}
	if len(fields) != 1 {
		t.Fatalf("the paused stage's children: %q, want the daemon alone", fields)
	}
	daemon, _ := strconv.Atoi(fields[0])
	fd, err := unix.PidfdOpen(daemon, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if !h.WaitExit(fd, eventTimeout) {
		t.Fatal("the daemon did not exit")
	}
	p.continueStage(t)
	r := p.result(t)
	h.Expect(t, r, 0)
	assertStdout(t, r, fmt.Sprintf("web: started (pid %d)", daemon))
	r = h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 1)
	if !strings.Contains(r.Stdout(), "dead") {
		t.Fatalf("status: %s", r)
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	assertNoFile(t, pidfile)
}
