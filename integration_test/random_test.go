//go:build linux

package integration_test

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
	"github.com/daemonctl/daemonctl/process"
)

// TestRandomConcurrency lets several goroutines issue random start, stop,
// restart, status, reload and signal commands against a few pidfiles, and
// plant attacks (the PID of an unrelated "canary" process, or garbage)
// into pidfiles nobody holds, while a checker scans the processes. Some
// daemons close their descriptors (-close-fds, as sshd -D does), and a
// hostile user (the real user nobody, when the test runs as root; the
// test's own user otherwise, for what needs no other user) takes
// read-only flocks on the pidfiles for random short moments, and, as
// root's service user who owns a second directory of pidfiles, renames
// its own files naming a canary, with a forged record of daemonctl's
// stage, over the stale ones; a nobody-owned file with such a record is
// also planted among root's own. The invariants, checked throughout and
// at the end:
//
//   - At most one test daemon per pidfile holds a lock or runs without
//     one, and a locked one holds the lock of the file the path names:
//     never two daemons for one pidfile. (Only -close-fds daemons close
//     their lock descriptor, and a test daemon's cmdline is empty from the
//     moment its descriptors start closing as it exits, so every other
//     test daemon the scan sees alive holds a lock.)
//   - A PID that status calls running, or that start, reload or signal
//     name, is a test daemon of that pidfile (or has exited since).
//   - The canaries, started directly by this test, and the hostile
//     user's lockers receive no signal.
//   - Every exit code is one the command documents for these requests.
//   - At the end, stopping each pidfile leaves no daemon and no file.
//   - Some starts and restarts are supervised (--supervise, some of their
//     programs crashing at once, so their supervisors respawn them, back
//     off, or give up): after a stop that exits 0 having stopped a
//     supervisor, that supervisor is gone and no test daemon of its
//     session runs, then or later (a stop racing a respawn, a restart
//     during a backoff); at the end every supervisor has exited.
//
// DAEMONCTL_RANDOM_OPS sets the number of operations (default 300, which
// fits in CI); DAEMONCTL_RANDOM_SEED replays a seed (each worker's
// sequence of operations; the interleaving is the scheduler's).
func TestRandomConcurrency(t *testing.T) {
	ops := 300
	if s := os.Getenv("DAEMONCTL_RANDOM_OPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("DAEMONCTL_RANDOM_OPS=%q: want a positive number", s)
		}
		ops = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DAEMONCTL_RANDOM_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DAEMONCTL_RANDOM_SEED=%q: want a number", s)
		}
		seed = n
	}
	t.Logf("seed %d, %d operations (replay: DAEMONCTL_RANDOM_SEED=%d DAEMONCTL_RANDOM_OPS=%d)", seed, ops, seed, ops)

	const workers, pidfiles, hostilePidfiles, canaries = 6, 3, 2, 2
	w := newRandomWorld(t, pidfiles, hostilePidfiles, canaries)
	begin := time.Now()

	stopChecker := make(chan struct{})
	var checkerDone sync.WaitGroup
	checkerDone.Add(1)
	go func() {
		defer checkerDone.Done()
		for {
			select {
			case <-stopChecker:
				return
			default:
			}
			w.checkAll()
		}
	}()

	var next atomic.Int64
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for {
				n := int(next.Add(1))
				if n > ops || w.failed.Load() {
					return
				}
				w.randomOp(rng, n)
			}
		}()
	}
	wg.Wait()
	close(stopChecker)
	checkerDone.Wait()
	elapsed := time.Since(begin)

	w.finish()
	t.Logf("%d operations in %v by %d workers on %d pidfiles; %d invariant checks (%d scans saw two test daemons of one pidfile alive, one of them exiting)",
		min(int(next.Load())-workers, ops), elapsed.Round(time.Millisecond), workers, len(w.pidfiles), w.checks.Load(), w.overlaps.Load())
	w.logOutcomes()
}

// randomWorld is the shared state of one randomized run.
type randomWorld struct {
	t        *testing.T
	dir      string // root's (the test user's) pidfiles, in a directory of its own
	pidfiles []string
	canaries []randomCanary
	// nobody is the hostile user, when the test runs as root; hostileDir
	// is then the directory of pidfiles nobody owns (as a service user
	// owns /run/web), and helper the test binary it runs.
	nobody     *unprivileged
	hostileDir string
	helper     string

	checks   atomic.Int64
	overlaps atomic.Int64
	failed   atomic.Bool

	mu       sync.Mutex
	outcomes map[string]map[int]int // command, exit code: count
	// supervisors maps each supervisor a start reported to its pidfd
	// (opened while it is our child, so it names that process); stopped
	// holds, per pidfile, the sessions of the supervisors a stop ended:
	// no test daemon of theirs may run any more.
	supervisors map[int]int
	stopped     map[string]map[int]bool
	messages    map[string]int // command and exit code, first line of output with numbers masked: count
	recent      []string       // the last operations, for a failure report
}

// randomCanary is a process the test started itself, outside any
// pidfile: daemonctl must never signal it.
type randomCanary struct {
	pid, pidfd int
	started    time.Time
	signals    string // the file its TERM, HUP and USR1 are logged to
}

func newRandomWorld(t *testing.T, pidfiles, hostilePidfiles, canaries int) *randomWorld {
	t.Helper()
	w := &randomWorld{t: t, dir: t.TempDir(), outcomes: map[string]map[int]int{}, messages: map[string]int{}, supervisors: map[int]int{}, stopped: map[string]map[int]bool{}}
	t.Cleanup(func() {
		// Before the test daemons' cleanup (registered later, run
		// earlier, it leaves them to be respawned otherwise): kill the
		// supervisors first, then their programs are killed.
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, fd := range w.supervisors {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			unix.Close(fd)
		}
	})
	var err error
	if w.helper, err = os.Executable(); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		w.nobody = asUnprivileged(t)
		w.helper = w.nobody.helperBinary(t)
		w.dir = filepath.Join(w.nobody.dir, "svc")
		w.hostileDir = filepath.Join(w.nobody.dir, "run")
		for _, d := range []string{w.dir, w.hostileDir} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(w.hostileDir, int(w.nobody.uid), int(w.nobody.gid)); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("not root: the hostile locks are the test user's own, and no other user's pidfiles are planted")
	}
	for i := range pidfiles {
		w.pidfiles = append(w.pidfiles, filepath.Join(w.dir, fmt.Sprintf("svc%d.pid", i)))
	}
	for i := range hostilePidfiles {
		if w.hostileDir != "" {
			w.pidfiles = append(w.pidfiles, filepath.Join(w.hostileDir, fmt.Sprintf("web%d.pid", i)))
		}
	}
	// Whatever happens, no test daemon outlives the test.
	t.Cleanup(func() {
		for _, pf := range w.pidfiles {
			for _, pid := range testDaemons(t, randomMarker(pf)) {
				if fd, err := unix.PidfdOpen(pid, 0); err == nil {
					_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
					unix.Close(fd)
				}
			}
		}
	})
	for i := range canaries {
		signals := filepath.Join(w.dir, fmt.Sprintf("canary%d.signals", i))
		ready := filepath.Join(w.dir, fmt.Sprintf("canary%d.ready", i))
		cmd := exec.Command(h.TestDaemon, "-ready-file", ready, "-term-file", signals, "-hup-file", signals, "-usr1-file", signals)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := randomCanary{pid: cmd.Process.Pid, pidfd: h.Watch(t, cmd.Process.Pid), signals: signals}
		if !h.WaitFile(t, ready, eventTimeout) {
			t.Fatalf("canary %d never became ready", c.pid)
		}
		info, err := process.Get(c.pid)
		if err != nil {
			t.Fatal(err)
		}
		c.started = info.Started
		w.canaries = append(w.canaries, c)
	}
	return w
}

// randomMarker is the argument prefix that ties a test daemon to pidfile.
func randomMarker(pidfile string) string { return pidfile + "." }

// allowedCodes are the exit codes command may give in this test: the
// documented ones for valid requests by the pidfile's owner.
func allowedCodes(command string) []int {
	switch command {
	case "start", "restart":
		return []int{0, 1}
	case "stop":
		return []int{0, 1, 4} // 4: a planted PID nobody can vouch for
	case "status":
		return []int{0, 1, 3, 4}
	case "reload", "signal":
		return []int{0, 1, 4, 7}
	}
	return nil
}

// namedPID finds "(pid N" or "pid N:" style mentions of the daemon.
var namedPID = regexp.MustCompile(`(?:started|already running|running|starting|stopping) \(pid (\d+)|to pid (\d+)`)

// supervisorOnly is a status of a supervised service between two
// programs (backoff, or just after the program's exit): it names the
// supervisor alone.
var supervisorOnly = regexp.MustCompile(`: (?:backoff|running|starting|stopping) \(supervisor \d+`)

// namedSupervisor finds a supervisor start reports.
var namedSupervisor = regexp.MustCompile(`supervisor (\d+)\)`)

// stoppedPID finds the PID stop reports stopping.
var stoppedPID = regexp.MustCompile(`stopped \(pid (\d+)(?:, supervisor (\d+))?\)`)

var numbers = regexp.MustCompile(`\d+`)

func (w *randomWorld) fail(format string, args ...any) {
	w.failed.Store(true)
	w.mu.Lock()
	recent := strings.Join(w.recent, "\n  ")
	w.mu.Unlock()
	w.t.Errorf(format+"\nrecent operations:\n  %s", append(args, recent)...)
}

func (w *randomWorld) randomOp(rng *rand.Rand, n int) {
	pf := w.pidfiles[rng.IntN(len(w.pidfiles))]
	daemon := []string{"--", h.TestDaemon, "-ready-file", fmt.Sprintf("%s.%d.ready", pf, n), "-hup-file", pf + ".hup", "-usr1-file", pf + ".usr1"}
	if filepath.Dir(pf) == w.dir && rng.IntN(4) == 0 {
		// Like sshd -D: daemonctl vouches for it by the start's record,
		// which it can only do in a directory nobody else may write.
		daemon = append(daemon, "-close-fds")
	}
	var supervise []string
	if rng.IntN(3) == 0 {
		// Supervised: respawned at once, soon or late; never giving up,
		// or after 3 respawns in a second; a quarter of the programs crash
		// at once, so their supervisors respawn them, back off, or give up.
		supervise = []string{"--supervise", "--respawn-delay", []string{"0", "10ms", "300ms"}[rng.IntN(3)], "--respawn-limit", []string{"unlimited", "3/1s"}[rng.IntN(2)]}
		if rng.IntN(4) == 0 {
			daemon = append(daemon, "-exit-after", "20ms", "-exit-code", "1")
		}
	}
	var cmd string
	var args []string
	switch p := rng.IntN(100); {
	case p < 22:
		cmd, args = "start", append(append([]string{"start", "-p", pf}, supervise...), daemon...)
	case p < 40:
		cmd, args = "stop", []string{"stop", "-p", pf}
	case p < 49:
		cmd, args = "restart", append(append([]string{"restart", "-p", pf, "--retry", "TERM/5/KILL/5"}, supervise...), daemon...)
	case p < 65:
		cmd, args = "status", []string{"status", "-p", pf}
	case p < 74:
		cmd, args = "reload", []string{"reload", "-p", pf}
	case p < 83:
		sig := []string{"USR1", "HUP", "KILL", "TERM"}[rng.IntN(4)]
		cmd, args = "signal", []string{"signal", "-p", pf, sig}
	case p < 90:
		w.plant(pf, w.canaries[rng.IntN(len(w.canaries))], p >= 88)
		return
	case p < 95:
		w.foreignLock(rng, pf)
		return
	default:
		w.plantForeign(pf, w.canaries[rng.IntN(len(w.canaries))])
		return
	}
	r := h.Run(w.t, args...)
	w.record(cmd, pf, r, n)
	if !slices.Contains(allowedCodes(cmd), r.Code()) {
		w.fail("op %d: daemonctl %s exited %d, not one of %v:\n%s", n, strings.Join(args, " "), r.Code(), allowedCodes(cmd), r)
	}
	if m := stoppedPID.FindStringSubmatch(r.Stdout()); m != nil && r.Code() == 0 {
		// Stop returns once the lock is free: the daemon it stopped has
		// closed its descriptors, so it is gone or exiting.
		pid, _ := strconv.Atoi(m[1])
		if aliveDaemon(pid) {
			w.fail("op %d: stop said %q but pid %d lives on", n, strings.TrimSpace(r.Stdout()), pid)
		}
		if m[2] != "" {
			pid, _ = strconv.Atoi(m[2])
		}
		w.stoppedSupervisor(pf, pid, n)
	}
	if m := namedSupervisor.FindStringSubmatch(r.Stdout()); m != nil && (cmd == "start" || cmd == "restart") {
		pid, _ := strconv.Atoi(m[1])
		w.learnSupervisor(pf, pid)
	}
	for _, m := range namedPID.FindAllStringSubmatch(r.Stdout(), -1) {
		pid, _ := strconv.Atoi(m[1] + m[2])
		w.checkNamed(pf, pid, fmt.Sprintf("op %d: daemonctl %s said %q", n, cmd, strings.TrimSpace(r.Stdout())))
	}
	if out := r.Stdout() + r.Stderr(); strings.Contains(out, "closed its lock descriptor") {
		// Only -close-fds daemons run without their lock: a canary, with
		// or without a forged record, must never pass for one.
		for _, m := range namedPID.FindAllStringSubmatch(out, -1) {
			if pid, _ := strconv.Atoi(m[1] + m[2]); aliveDaemon(pid) && !closesFDs(pid) {
				w.fail("op %d: daemonctl %s said pid %d runs without its lock, which it does not:\n%s", n, cmd, pid, r)
			}
		}
	}
	if cmd == "status" && r.Code() == 0 && !namedPID.MatchString(r.Stdout()) && !supervisorOnly.MatchString(r.Stdout()) {
		w.fail("op %d: status exited 0 without naming a pid: %q", n, r.Stdout())
	}
	if (r.Code() == 1 || r.Code() == 4) && rng.IntN(2) == 0 {
		// Told to check the process and remove the file, the operator
		// does, now and then.
		w.clearPlanted(pf)
	}
}

func (w *randomWorld) record(cmd, pidfile string, r h.Result, n int) {
	out := strings.TrimSpace(r.Stderr())
	if out == "" {
		out = strings.TrimSpace(r.Stdout())
	}
	first, _, _ := strings.Cut(out, "\n")
	first = strings.ReplaceAll(first, w.dir, "DIR")
	if w.hostileDir != "" {
		first = strings.ReplaceAll(first, w.hostileDir, "RUN")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.outcomes[cmd] == nil {
		w.outcomes[cmd] = map[int]int{}
	}
	w.outcomes[cmd][r.Code()]++
	w.messages[fmt.Sprintf("%s %d: %s", cmd, r.Code(), numbers.ReplaceAllString(first, "N"))]++
	w.recent = append(w.recent, fmt.Sprintf("%d %s -p %s: exit %d %q", n, cmd, filepath.Base(pidfile), r.Code(), first))
	if len(w.recent) > 40 {
		w.recent = w.recent[1:]
	}
}

// plant writes a canary's PID (with an mtime before the canary started,
// as if the PID had been reused since the file was written), or garbage,
// into pidfile, if nobody holds its lock and it names no live daemon (a
// -close-fds one): the daemon is dead and its PID reused. The planted file
// carries no record of daemonctl's stage: nobody may vouch for its PID.
// A file planted earlier is removed instead, as the operator whom
// daemonctl tells to check it and remove it would. The lock plant holds
// meanwhile is taken on a read-only descriptor, as any user who can read
// the file could: that never makes the test process one of the
// service's.
func (w *randomWorld) plant(pidfile string, c randomCanary, garbage bool) {
	f, err := os.OpenFile(pidfile, os.O_WRONLY|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		w.fail("plant %s: %v", pidfile, err)
		return
	}
	defer f.Close()
	lock, ok := w.lockStale(pidfile, f)
	if !ok {
		return
	}
	defer lock.Close()
	if w.removePlanted(pidfile) {
		return
	}
	content := strconv.Itoa(c.pid) + "\n"
	if garbage {
		content = "garbage\n"
	}
	// Contents and the old mtime arrive together, by rename: written in
	// place, a reader could see the canary's PID with a fresh mtime, which
	// truly reads as a daemon that closed its lock, not as a reused PID.
	tmp := pidfile + ".plant"
	old := c.started.Add(-time.Hour)
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		w.fail("plant: %v", err)
	}
	if err := os.Chtimes(tmp, old, old); err != nil {
		w.fail("plant: %v", err)
	}
	if err := os.Rename(tmp, pidfile); err != nil {
		w.fail("plant: %v", err)
	}
	w.note("plant", 0, fmt.Sprintf("plant %q in %s", content, filepath.Base(pidfile)))
}

// lockStale takes an exclusive lock on pidfile, open as f, through a
// read-only descriptor of its own, if nobody holds a lock on it, the path
// still names f, and the file names no live test daemon; it returns the
// locked descriptor, to be closed once the file has been dealt with.
func (w *randomWorld) lockStale(pidfile string, f *os.File) (*os.File, bool) {
	lock, err := os.OpenFile(pidfile, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, false // removed meanwhile
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, false // a daemon holds it: planting would be no reuse but an attack by its owner
	}
	var written, held, named unix.Stat_t
	if unix.Fstat(int(f.Fd()), &written) != nil || unix.Fstat(int(lock.Fd()), &held) != nil || unix.Stat(pidfile, &named) != nil ||
		written.Ino != named.Ino || held.Ino != named.Ino {
		lock.Close()
		return nil, false // replaced meanwhile
	}
	if b, err := os.ReadFile(pidfile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && daemonOf(pid, pidfile) {
			lock.Close()
			return nil, false // a daemon that closed its lock descriptor runs
		}
	}
	return lock, true
}

// removePlanted removes pidfile, locked by the caller, if it holds what
// plant or plantForeign put there, as the operator does whom daemonctl
// tells to check the process and remove the file. It reports whether it
// did.
func (w *randomWorld) removePlanted(pidfile string) bool {
	b, _ := os.ReadFile(pidfile)
	if !w.planted(string(b)) {
		return false
	}
	if err := os.Remove(pidfile); err != nil {
		w.fail("remove planted %s: %v", pidfile, err)
	}
	w.note("remove-planted", 0, fmt.Sprintf("remove planted %q from %s", b, filepath.Base(pidfile)))
	return true
}

// clearPlanted is removePlanted for a file nobody holds a lock on.
func (w *randomWorld) clearPlanted(pidfile string) {
	f, err := os.OpenFile(pidfile, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if lock, ok := w.lockStale(pidfile, f); ok {
		w.removePlanted(pidfile)
		lock.Close()
	}
}

// note records an operation that is not a daemonctl run.
func (w *randomWorld) note(op string, code int, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.outcomes[op] == nil {
		w.outcomes[op] = map[int]int{}
	}
	w.outcomes[op][code]++
	w.recent = append(w.recent, what)
	if len(w.recent) > 40 {
		w.recent = w.recent[1:]
	}
}

// hostileCommand is the test binary playing helper role as the hostile
// user: nobody when the test runs as root, else the test's own user.
func (w *randomWorld) hostileCommand(role string, args ...string) *exec.Cmd {
	return helperCmd(w.helper, w.nobody, role, args...)
}

// runHostile runs a hostile helper to completion: exit 0 when it did
// what it set out to, helperLocked when it found the file locked. Any
// other end (a signal it catches, or one that kills it) means daemonctl
// signalled the hostile user's process.
func (w *randomWorld) runHostile(op, what string, cmd *exec.Cmd) {
	out, err := h.Output(cmd)
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		w.fail("%s: %v", what, err)
		return
	}
	w.note(op, code, fmt.Sprintf("%s: exit %d", what, code))
	if code != 0 && code != int(helperLocked) {
		w.fail("%s: %v (the hostile user's process was signalled?)\n%s", what, err, out)
	}
}

// foreignLock has the hostile user hold a read-only flock, shared or
// exclusive, on pidfile for a random moment up to 50 ms: it is never the
// service's lock, must never be signalled, and must not keep a start
// from starting.
func (w *randomWorld) foreignLock(rng *rand.Rand, pidfile string) {
	mode := []string{"shared", "exclusive"}[rng.IntN(2)]
	hold := time.Duration(1+rng.IntN(50)) * time.Millisecond
	w.runHostile("flock", fmt.Sprintf("%s flock of %s for %v", mode, filepath.Base(pidfile), hold),
		w.hostileCommand("flock", pidfile, mode, hold.String(), "-"))
}

// plantForeign plants a file of the hostile user naming a canary, with a
// record forged to vouch for it exactly, over a stale pidfile: in the
// directory the hostile user owns, by renaming its own file there, as
// root's service user can; among root's own pidfiles, as a nobody-owned
// file root finds there. Only a test run as root has another user.
func (w *randomWorld) plantForeign(pidfile string, c randomCanary) {
	if w.nobody == nil {
		return
	}
	if filepath.Dir(pidfile) == w.hostileDir {
		w.runHostile("plant-foreign", fmt.Sprintf("nobody renames its file naming canary %d over %s", c.pid, filepath.Base(pidfile)),
			w.hostileCommand("plant", pidfile, itoa(c.pid), "record", "guard"))
		return
	}
	f, err := os.OpenFile(pidfile, os.O_WRONLY|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		w.fail("plant %s: %v", pidfile, err)
		return
	}
	defer f.Close()
	lock, ok := w.lockStale(pidfile, f)
	if !ok {
		return
	}
	defer lock.Close()
	tmp := pidfile + ".plant"
	_ = os.Remove(tmp)
	rec, err := forgeRecord(c.pid, pidfile)
	if err == nil {
		err = createPIDFile(tmp, c.pid)
	}
	if err == nil {
		err = unix.Setxattr(tmp, "user.daemonctl", rec, 0)
	}
	if err == nil {
		err = os.Chown(tmp, int(w.nobody.uid), int(w.nobody.gid))
	}
	if err == nil {
		err = os.Rename(tmp, pidfile)
	}
	if err != nil {
		w.fail("plant nobody's file in %s: %v", pidfile, err)
		return
	}
	w.note("plant-foreign", 0, fmt.Sprintf("plant nobody's file naming canary %d with a forged record in %s", c.pid, filepath.Base(pidfile)))
}

// learnSupervisor keeps a pidfd on a supervisor a start of pidfile
// reported (our child: its PID cannot have been reused unless it is
// reaped, and then the pidfd fails or names an exited process), and
// forgets a stopped session of that PID, reused by a new stage.
func (w *randomWorld) learnSupervisor(pidfile string, pid int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, sessions := range w.stopped {
		delete(sessions, pid)
	}
	if old, ok := w.supervisors[pid]; ok {
		unix.Close(old)
	}
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		w.supervisors[pid] = fd
	} else {
		delete(w.supervisors, pid)
	}
}

// stoppedSupervisor checks, after a stop of pidfile that exited 0 naming
// pid, that pid, if it was a supervisor, is gone with every test daemon
// of its session, and makes the checker watch that none appears later.
func (w *randomWorld) stoppedSupervisor(pidfile string, pid, n int) {
	w.mu.Lock()
	fd, ok := w.supervisors[pid]
	w.mu.Unlock()
	if !ok {
		return
	}
	if !h.Exited(fd) {
		w.fail("op %d: stop of %s exited 0 but its supervisor %d runs", n, filepath.Base(pidfile), pid)
	}
	w.mu.Lock()
	if w.stopped[pidfile] == nil {
		w.stopped[pidfile] = map[int]bool{}
	}
	w.stopped[pidfile][pid] = true
	w.mu.Unlock()
	w.checkStoppedSessions(pidfile, testDaemons(w.t, randomMarker(pidfile)))
}

// checkStoppedSessions fails if one of daemons, test daemons of pidfile,
// is in the session of a supervisor a stop ended.
func (w *randomWorld) checkStoppedSessions(pidfile string, daemons []int) {
	w.mu.Lock()
	sessions := maps.Clone(w.stopped[pidfile])
	w.mu.Unlock()
	for _, pid := range daemons {
		if _, _, sid, err := h.ProcStat(pid); err == nil && sessions[sid] && aliveDaemon(pid) {
			w.fail("test daemon %d of %s runs in the session of supervisor %d, which a stop ended", pid, pidfile, sid)
		}
	}
}

// daemonOf reports whether pid is a live test daemon of pidfile.
func daemonOf(pid int, pidfile string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.HasPrefix(string(b), h.TestDaemon+"\x00") && strings.Contains(string(b), "\x00"+randomMarker(pidfile))
}

// closesFDs reports whether pid is a test daemon started with -close-fds,
// which runs without its lock.
func closesFDs(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && slices.Contains(strings.Split(string(b), "\x00"), "-close-fds")
}

// daemonLock is the inode a test daemon's lock descriptor (fd 3) holds a
// flock on; ok is false when it holds none.
func daemonLock(pid int) (id process.FileID, ok bool) {
	var st unix.Stat_t
	if unix.Stat("/proc/"+strconv.Itoa(pid)+"/fd/3", &st) != nil {
		return id, false
	}
	id = process.FileID{Dev: st.Dev, Ino: st.Ino}
	taker, err := process.LockTaker(pid, id)
	return id, err == nil && taker != 0
}

// alive reports whether pid is a live (not even exiting) test daemon.
func aliveDaemon(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && len(b) > 0 && strings.HasPrefix(string(b), h.TestDaemon+"\x00")
}

// checkAll checks the process invariants of every pidfile, from one scan
// of /proc.
func (w *randomWorld) checkAll() {
	byPidfile := map[string][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		w.fail("read /proc: %v", err)
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.HasPrefix(string(b), h.TestDaemon+"\x00") {
			continue
		}
		for _, pf := range w.pidfiles {
			if strings.Contains(string(b), "\x00"+randomMarker(pf)) {
				byPidfile[pf] = append(byPidfile[pf], pid)
			}
		}
	}
	for _, pf := range w.pidfiles {
		w.checkPidfile(pf, byPidfile[pf])
		w.checkStoppedSessions(pf, byPidfile[pf])
	}
}

// checkPidfile checks the process invariants of one pidfile, whose test
// daemons a scan found alive just now.
func (w *randomWorld) checkPidfile(pidfile string, daemons []int) {
	w.checks.Add(1)
	type holding struct {
		pid      int
		id       process.FileID
		unlocked bool // a -close-fds daemon, which holds no lock
	}
	var holders []holding
	for _, pid := range daemons {
		id, ok := daemonLock(pid)
		switch {
		case ok:
			holders = append(holders, holding{pid: pid, id: id})
		case closesFDs(pid):
			holders = append(holders, holding{pid: pid, unlocked: true})
		case aliveDaemon(pid):
			// It may have been reading its fd 3 at the moment it began
			// to exit; only a daemon that lives on without a lock is wrong.
			if _, ok := daemonLock(pid); !ok && aliveDaemon(pid) && !exitsSoon(pid) {
				w.fail("test daemon %d of %s lives without its lock", pid, pidfile)
			}
		}
	}
	if len(daemons) > 1 {
		w.overlaps.Add(1)
	}
	if len(holders) > 1 {
		// Each was seen holding in turn; the first still holding after the
		// last was seen means both held at once (a test daemon never
		// re-takes a lock it dropped; a -close-fds daemon "holds" while it
		// lives).
		first := holders[0]
		id, ok := daemonLock(first.pid)
		if first.unlocked && aliveDaemon(first.pid) || !first.unlocked && ok && id == first.id {
			w.fail("two test daemons run for %s at once: %+v", pidfile, holders)
		}
	}
	for _, hd := range holders {
		if hd.unlocked {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(pidfile, &st) == nil && st.Dev == hd.id.Dev && st.Ino == hd.id.Ino {
			continue
		}
		// The path names another inode, or none: a failure only if the
		// daemon still holds its lock afterwards.
		if id, ok := daemonLock(hd.pid); ok && id == hd.id {
			err := unix.Stat(pidfile, &st)
			if err != nil || st.Dev != hd.id.Dev || st.Ino != hd.id.Ino {
				w.fail("test daemon %d holds the lock of a file %s no longer names (stat: %v)", hd.pid, pidfile, err)
			}
		}
	}
}

// exitsSoon waits, by its pidfd, for pid to exit: a test daemon seen
// without its lock must be on its way out.
func exitsSoon(pid int) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return errors.Is(err, unix.ESRCH)
	}
	defer unix.Close(fd)
	return h.WaitExit(fd, eventTimeout)
}

// checkNamed checks that a PID daemonctl named for pidfile is, if still
// alive, a test daemon of that pidfile.
func (w *randomWorld) checkNamed(pidfile string, pid int, context string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return // exited since; a later scan covers what replaced it
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	marker := randomMarker(pidfile)
	if args[0] != h.TestDaemon || !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, marker) }) {
		w.fail("%s: pid %d is %q, not a test daemon of %s", context, pid, args, pidfile)
	}
}

// finish checks the quiet state, stops everything and checks that
// nothing is left and no canary was touched.
func (w *randomWorld) finish() {
	t := w.t
	for _, pf := range w.pidfiles {
		daemons := testDaemons(t, randomMarker(pf))
		w.checkPidfile(pf, daemons)
		filePID := 0
		b, readErr := os.ReadFile(pf)
		if readErr == nil {
			filePID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		running := len(daemons) == 1 && filePID == daemons[0]
		if running {
			if _, ok := daemonLock(daemons[0]); !ok && !closesFDs(daemons[0]) {
				running = false
			}
		}
		// A live supervisor keeps its service running (or in backoff).
		w.mu.Lock()
		supFD, supervised := w.supervisors[filePID]
		w.mu.Unlock()
		running = running || supervised && !h.Exited(supFD)
		r := h.Run(t, "status", "-p", pf)
		if (r.Code() == 0) != running {
			t.Errorf("at rest, %s holds %q, the test daemons are %v, and status exits %d: %s", pf, b, daemons, r.Code(), r)
		}
		r = h.Run(t, "stop", "-p", pf)
		if r.Code() != 0 {
			// Only planted garbage or a planted PID may make stop refuse.
			if b, _ := os.ReadFile(pf); !w.planted(string(b)) || len(daemons) > 0 {
				t.Errorf("final stop of %s: %s", pf, r)
			} else if err := os.Remove(pf); err != nil {
				t.Error(err)
			}
		}
		if left := testDaemons(t, randomMarker(pf)); len(left) > 0 {
			t.Errorf("test daemons %v of %s survived the final stop", left, pf)
		}
		if _, err := os.Lstat(pf); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after the final stop (%v)", pf, err)
		}
	}
	w.mu.Lock()
	for pid, fd := range w.supervisors {
		if !h.Exited(fd) {
			t.Errorf("supervisor %d survived the final stops", pid)
		}
	}
	w.mu.Unlock()
	for _, c := range w.canaries {
		if h.Exited(c.pidfd) {
			t.Errorf("canary %d died", c.pid)
		}
		if b, err := os.ReadFile(c.signals); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("canary %d was signalled: %q (%v)", c.pid, b, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(w.hostileDir, ".plant.*")); w.hostileDir != "" && len(left) > 0 {
		t.Errorf("the hostile user's plants left %v", left)
	}
}

// planted reports whether contents are what plant writes.
func (w *randomWorld) planted(contents string) bool {
	for _, c := range w.canaries {
		if contents == strconv.Itoa(c.pid)+"\n" {
			return true
		}
	}
	return contents == "garbage\n"
}

func (w *randomWorld) logOutcomes() {
	w.mu.Lock()
	defer w.mu.Unlock()
	cmds := make([]string, 0, len(w.outcomes))
	for c := range w.outcomes {
		cmds = append(cmds, c)
	}
	sort.Strings(cmds)
	var b strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&b, " %s", c)
		codes := make([]int, 0, len(w.outcomes[c]))
		for code := range w.outcomes[c] {
			codes = append(codes, code)
		}
		sort.Ints(codes)
		for _, code := range codes {
			fmt.Fprintf(&b, " %d:%d", code, w.outcomes[c][code])
		}
		b.WriteString(";")
	}
	w.t.Logf("exit codes (command code:count):%s", b.String())
	msgs := make([]string, 0, len(w.messages))
	for m := range w.messages {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	for _, m := range msgs {
		w.t.Logf("  %5d × %s", w.messages[m], m)
	}
}
