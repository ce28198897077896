//go:build linux

package integration_test

import (
	"errors"
	"fmt"
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
// into pidfiles nobody holds, while a checker scans the processes. The
// invariants, checked throughout and at the end:
//
//   - At most one test daemon per pidfile holds a lock, and it holds the
//     lock of the file the path names: never two daemons for one pidfile.
//     (A test daemon never closes its lock descriptor, and its cmdline is
//     empty from the moment its descriptors start closing, so every test
//     daemon the scan sees alive holds a lock.)
//   - A PID that status calls running, or that start, reload or signal
//     name, is a test daemon of that pidfile (or has exited since).
//   - The canaries, started directly by this test, receive no signal.
//   - Every exit code is one the command documents for these requests.
//   - At the end, stopping each pidfile leaves no daemon and no file.
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

	const workers, pidfiles, canaries = 6, 3, 2
	w := newRandomWorld(t, pidfiles, canaries)
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
		min(int(next.Load())-workers, ops), elapsed.Round(time.Millisecond), workers, pidfiles, w.checks.Load(), w.overlaps.Load())
	w.logOutcomes()
}

// randomWorld is the shared state of one randomized run.
type randomWorld struct {
	t        *testing.T
	dir      string
	pidfiles []string
	canaries []randomCanary

	checks   atomic.Int64
	overlaps atomic.Int64
	failed   atomic.Bool

	mu       sync.Mutex
	outcomes map[string]map[int]int // command, exit code: count
	messages map[string]int         // command and exit code, first line of output with numbers masked: count
	recent   []string               // the last operations, for a failure report
}

// randomCanary is a process the test started itself, outside any
// pidfile: daemonctl must never signal it.
type randomCanary struct {
	pid, pidfd int
	started    time.Time
	signals    string // the file its TERM, HUP and USR1 are logged to
}

func newRandomWorld(t *testing.T, pidfiles, canaries int) *randomWorld {
	t.Helper()
	w := &randomWorld{t: t, dir: t.TempDir(), outcomes: map[string]map[int]int{}, messages: map[string]int{}}
	for i := range pidfiles {
		w.pidfiles = append(w.pidfiles, filepath.Join(w.dir, fmt.Sprintf("svc%d.pid", i)))
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
		if !h.WaitFile(t, ready, faultWait) {
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
var namedPID = regexp.MustCompile(`(?:started|already running|running) \(pid (\d+)|to pid (\d+)`)

// stoppedPID finds the PID stop reports stopping.
var stoppedPID = regexp.MustCompile(`stopped \(pid (\d+)\)`)

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
	var cmd string
	var args []string
	switch p := rng.IntN(100); {
	case p < 25:
		cmd, args = "start", append([]string{"start", "-p", pf}, daemon...)
	case p < 45:
		cmd, args = "stop", []string{"stop", "-p", pf}
	case p < 55:
		cmd, args = "restart", append([]string{"restart", "-p", pf, "--retry", "TERM/5/KILL/5"}, daemon...)
	case p < 73:
		cmd, args = "status", []string{"status", "-p", pf}
	case p < 83:
		cmd, args = "reload", []string{"reload", "-p", pf}
	case p < 93:
		sig := []string{"USR1", "HUP", "KILL", "TERM"}[rng.IntN(4)]
		cmd, args = "signal", []string{"signal", "-p", pf, sig}
	default:
		w.plant(pf, w.canaries[rng.IntN(len(w.canaries))], p >= 98)
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
		if pid, _ := strconv.Atoi(m[1]); aliveDaemon(pid) {
			w.fail("op %d: stop said %q but pid %d lives on", n, strings.TrimSpace(r.Stdout()), pid)
		}
	}
	for _, m := range namedPID.FindAllStringSubmatch(r.Stdout(), -1) {
		pid, _ := strconv.Atoi(m[1] + m[2])
		w.checkNamed(pf, pid, fmt.Sprintf("op %d: daemonctl %s said %q", n, cmd, strings.TrimSpace(r.Stdout())))
	}
	if out := r.Stdout() + r.Stderr(); strings.Contains(out, "closed its lock descriptor") {
		// Test daemons never close their lock descriptor, and canaries
		// are planted without a record: nothing here runs without its lock.
		w.fail("op %d: daemonctl %s saw a daemon running without its lock:\n%s", n, cmd, r)
	}
	if cmd == "status" && r.Code() == 0 && !namedPID.MatchString(r.Stdout()) {
		w.fail("op %d: status exited 0 without naming a pid: %q", n, r.Stdout())
	}
}

func (w *randomWorld) record(cmd, pidfile string, r h.Result, n int) {
	out := strings.TrimSpace(r.Stderr())
	if out == "" {
		out = strings.TrimSpace(r.Stdout())
	}
	first, _, _ := strings.Cut(out, "\n")
	first = strings.ReplaceAll(first, w.dir, "DIR")
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
// into pidfile, if nobody holds its lock. The planted file carries no
// record of daemonctl's stage: nobody may vouch for its PID. The lock it holds meanwhile is
// taken on a read-only descriptor, as any user who can read the file
// could: that never makes the test process one of the service's.
func (w *randomWorld) plant(pidfile string, c randomCanary, garbage bool) {
	f, err := os.OpenFile(pidfile, os.O_WRONLY|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		w.fail("plant %s: %v", pidfile, err)
		return
	}
	defer f.Close()
	lock, err := os.OpenFile(pidfile, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return // removed meanwhile
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return // a daemon holds it: planting would be no reuse but an attack by its owner
	}
	var written, held, named unix.Stat_t
	if unix.Fstat(int(f.Fd()), &written) != nil || unix.Fstat(int(lock.Fd()), &held) != nil || unix.Stat(pidfile, &named) != nil ||
		written.Ino != named.Ino || held.Ino != named.Ino {
		return // replaced meanwhile
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
	w.mu.Lock()
	w.outcomes["plant"] = map[int]int{0: w.outcomes["plant"][0] + 1}
	w.recent = append(w.recent, fmt.Sprintf("plant %q in %s", content, filepath.Base(pidfile)))
	w.mu.Unlock()
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
	}
}

// checkPidfile checks the process invariants of one pidfile, whose test
// daemons a scan found alive just now.
func (w *randomWorld) checkPidfile(pidfile string, daemons []int) {
	w.checks.Add(1)
	type holding struct {
		pid int
		id  process.FileID
	}
	var holders []holding
	for _, pid := range daemons {
		id, ok := daemonLock(pid)
		switch {
		case ok:
			holders = append(holders, holding{pid, id})
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
		// re-takes a lock it dropped).
		if id, ok := daemonLock(holders[0].pid); ok && id == holders[0].id {
			w.fail("two test daemons hold locks for %s at once: %+v", pidfile, holders)
		}
	}
	for _, hd := range holders {
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
	return h.WaitExit(fd, faultWait)
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
			if _, ok := daemonLock(daemons[0]); !ok {
				running = false
			}
		}
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
	for _, c := range w.canaries {
		if h.Exited(c.pidfd) {
			t.Errorf("canary %d died", c.pid)
		}
		if b, err := os.ReadFile(c.signals); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("canary %d was signalled: %q (%v)", c.pid, b, err)
		}
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
