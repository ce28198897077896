//go:build linux

package integration_test

// The trust tests play the adversaries of DESIGN.md's "Trust" (issue 9's
// hostile-user review): a local user who can read root's pidfiles and
// write /tmp, the service user who owns the pidfile's directory, and a
// compromised --user daemon. The attacker is the real user nobody; each
// attack aims root's daemonctl at a canary (a root process that must never
// be signalled) or at a root file that must keep its owner. Cases that
// need root, to be the victim and to become nobody, skip without it.
//
// Some attacks need a process of their own: a copy of this test binary,
// re-executed with helperEnv set, plays it (runHelper): as nobody, or as
// the init of a PID namespace.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// helperEnv, in the environment of this test binary, makes it play the
// helper role it names (runHelper) instead of running tests.
const helperEnv = "DAEMONCTL_IT_HELPER"

// runHelper plays role with args and returns the process's exit code.
func runHelper(role string, args []string) int {
	var err error
	switch role {
	case "plant":
		err = helperPlant(args)
	case "flock":
		err = helperFlock(args)
	case "race":
		err = helperRace(args)
	case "pidreuse":
		err = helperPIDReuse(args)
	case "rofs":
		err = helperReadOnly(args)
	default:
		err = fmt.Errorf("unknown helper role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", role, err)
		var code exitCode
		if errors.As(err, &code) {
			return int(code)
		}
		return 1
	}
	return 0
}

// exitCode is a helper's outcome other than success or failure.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit %d", int(c)) }

const (
	// helperLocked: the plant or flock helper found the file locked (or,
	// for flock, missing) and did nothing.
	helperLocked exitCode = 3
	// helperSignalled: a helper was sent a signal it catches (TERM, HUP,
	// USR1, INT): daemonctl signalled an attacker's process.
	helperSignalled exitCode = 10
)

// helperBinary is a copy of this test binary that nobody may execute (go
// test builds it in a 0700 directory).
func (p *unprivileged) helperBinary(t *testing.T) string {
	t.Helper()
	if p.helper == "" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		p.helper = filepath.Join(p.dir, "bin", "helper")
		copyExecutable(t, exe, p.helper)
	}
	return p.helper
}

// helperCommand is this test binary playing role with args: as nobody
// when p is set, else as the test's own user.
func helperCommand(t *testing.T, p *unprivileged, role string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if p != nil {
		bin = p.helperBinary(t)
	}
	return helperCmd(bin, p, role, args...)
}

// helperCmd is helperCommand with the test binary at bin (for nobody, its
// copy), for goroutines that may not fail the test.
func helperCmd(bin string, p *unprivileged, role string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+role)
	if p != nil {
		cmd.Dir = p.dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.uid, Gid: p.gid, Groups: []uint32{}}}
	}
	return cmd
}

// runHelperAs runs a helper to completion and returns its exit code.
func runHelperAs(t *testing.T, p *unprivileged, role string, args ...string) int {
	t.Helper()
	cmd := helperCommand(t, p, role, args...)
	out, err := h.Output(cmd)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		if exit.ExitCode() < 0 {
			t.Fatalf("helper %s %v: %v\n%s", role, args, err, out)
		}
		return exit.ExitCode()
	case err != nil:
		t.Fatalf("helper %s %v: %v\n%s", role, args, err, out)
	}
	return 0
}

// forgeRecord makes the record daemonctl's launcher stage keeps in the
// pidfile's user.daemonctl attribute (pidfile/record.go's format, as an
// attacker who read it would), vouching for pid as the daemon of pidfile:
// its exact start time and pidfd inode, this boot, the file's directory
// and name. Only the file's owner and mode keep daemonctl from believing
// it.
func forgeRecord(pid int, pidfile string) ([]byte, error) {
	start, err := startTicks(pid)
	if err != nil {
		return nil, err
	}
	procID, err := pidfdInode(pid)
	if err != nil {
		return nil, err
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return nil, err
	}
	stageStart, err := startTicks(os.Getpid())
	if err != nil {
		return nil, err
	}
	var d unix.Stat_t
	if err := unix.Stat(filepath.Dir(pidfile), &d); err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "daemonctl/1 pid=%d start=%d procid=%d stage=%d stagestart=%d boot=%s dir=%d:%d name=%s",
		pid, start, procID, os.Getpid(), stageStart, bytes.TrimSpace(boot), d.Dev, d.Ino, hex.EncodeToString([]byte(filepath.Base(pidfile)))), nil
}

// startTicks is pid's start time in clock ticks since boot, field 22 of
// /proc/PID/stat, as anyone may read it.
func startTicks(pid int) (uint64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, stat)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// pidfdInode is the inode of a pidfd on pid, which on pidfs names that
// process for the boot: anyone may open one.
func pidfdInode(pid int) (uint64, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// createPIDFile creates a pidfile naming pid at path, 0644, owned by the
// caller.
func createPIDFile(path string, pid int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(strconv.Itoa(pid) + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// helperPlant (role "plant", as the attacker): TARGET PID RECORD GUARD.
// It writes a file of its own naming PID, with a forged record when
// RECORD is "record", beside TARGET and renames it over TARGET, as the
// owner of TARGET's directory can. With GUARD "guard" it first takes a
// shared lock on TARGET, read-only, and leaves a locked file alone
// (helperLocked): only a stale pidfile is replaced, as PID reuse would.
func helperPlant(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want TARGET PID RECORD GUARD, got %q", args)
	}
	target := args[0]
	pid, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(target), fmt.Sprintf(".plant.%d", os.Getpid()))
	if err := createPIDFile(tmp, pid); err != nil {
		return err
	}
	defer os.Remove(tmp)
	if args[2] == "record" {
		rec, err := forgeRecord(pid, target)
		if err != nil {
			return err
		}
		if err := unix.Setxattr(tmp, "user.daemonctl", rec, 0); err != nil {
			return fmt.Errorf("setxattr: %w", err)
		}
	}
	if args[3] == "guard" {
		f, err := os.OpenFile(target, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
		if err == nil {
			defer f.Close()
			if unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) != nil {
				return helperLocked
			}
			var held, named unix.Stat_t
			if unix.Fstat(int(f.Fd()), &held) != nil || unix.Stat(target, &named) != nil || held.Ino != named.Ino {
				return helperLocked // replaced meanwhile
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return os.Rename(tmp, target)
}

// helperFlock (role "flock", as the attacker): PATH MODE HOLD READY. It
// opens PATH read-only, takes a flock on it (MODE: "shared" or
// "exclusive"; "queue-" before either waits for it, else a held lock, or
// no file, is helperLocked), writes its PID to READY (unless "-") and holds the lock
// for HOLD (0: until killed). A signal it catches makes it exit
// helperSignalled.
func helperFlock(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want PATH MODE HOLD READY, got %q", args)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1, unix.SIGINT)
	mode, queue := strings.CutPrefix(args[1], "queue-")
	how := unix.LOCK_EX
	if mode == "shared" {
		how = unix.LOCK_SH
	}
	if !queue {
		how |= unix.LOCK_NB
	}
	hold, err := time.ParseDuration(args[2])
	if err != nil {
		return err
	}
	f, err := os.OpenFile(args[0], os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return helperLocked // nothing to lock
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return helperLocked
		}
		return err
	}
	if args[3] != "-" {
		if err := os.WriteFile(args[3], []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return err
		}
	}
	var done <-chan time.Time
	if hold > 0 {
		done = time.After(hold)
	}
	select {
	case sig := <-sigs:
		return fmt.Errorf("%w: got %v while holding the lock", helperSignalled, sig)
	case <-done:
		return nil
	}
}

// helperRace (role "race", as the attacker): LINK TARGET KIND. It keeps
// putting a link to TARGET at LINK (KIND "symlink" or "hardlink") and
// removing it again, as fast as it can, until killed: whoever binds a
// socket at LINK and then changes its owner by path hits TARGET.
func helperRace(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("want LINK TARGET KIND, got %q", args)
	}
	link, target := args[0], args[1]
	tmp := link + ".racer"
	makeLink := unix.Symlink
	if args[2] == "hardlink" {
		makeLink = unix.Link
	}
	for {
		_ = unix.Unlink(tmp)
		if err := makeLink(target, tmp); err != nil {
			return fmt.Errorf("%s %s: %w", args[2], tmp, err)
		}
		_ = unix.Rename(tmp, link)
		_ = unix.Unlink(link)
	}
}

// helperRun is one daemonctl run in a helper, for its report.
type helperRun struct {
	Args   []string
	Code   int
	Stdout string
	Stderr string
}

func (r helperRun) String() string {
	return fmt.Sprintf("daemonctl %s: exit %d, stdout %q, stderr %q", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// runDaemonctl runs daemonctl in a helper.
func runDaemonctl(daemonctl string, args ...string) helperRun {
	cmd := exec.Command(daemonctl, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := helperRun{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	case err != nil:
		r.Code, r.Stderr = -1, err.Error()
	}
	return r
}

// readPIDFile reads a pidfile's PID in a helper.
func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// awaitFile waits, in a helper, for path to exist.
func awaitFile(path string) error {
	ok, err := h.AwaitFile(path, eventTimeout, func([]byte) bool { return true })
	if err == nil && !ok {
		err = fmt.Errorf("%s never appeared", path)
	}
	return err
}

// reuseScenario is the report of one PID-reuse attack played by
// helperPIDReuse.
type reuseScenario struct {
	Name string
	// Starts is how many daemons were started until a stranger got the
	// daemon's PID (and, for the same-tick scenario, in the same tick).
	Starts int
	PID    int
	// DaemonStart and StrangerStart are the start times, in clock ticks.
	DaemonStart, StrangerStart uint64
	// Edited is set when the record was given the stranger's start time
	// because no try put the stranger in the daemon's tick; NoRecord when
	// the pidfile had no record to edit.
	Edited, NoRecord bool
	// Before is status while the daemon ran without its lock.
	Before helperRun
	Runs   []helperRun
	// StrangerAlive and StrangerLog (its TERM, HUP and USR1 logs, after a
	// TERM probe of its own) tell whether daemonctl signalled it.
	StrangerAlive bool
	StrangerLog   map[string]string
	Err           string
}

// helperPIDReuse (role "pidreuse", the init of a PID namespace of its
// own): DAEMONCTL TESTDAEMON DIR. In each scenario it starts a daemon that
// closes its descriptors, kills it, hands its PID to a stranger at once
// (ns_last_pid), and runs daemonctl against the pidfile; it prints a JSON
// list of reuseScenario.
func helperPIDReuse(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("want DAEMONCTL TESTDAEMON DIR, got %q", args)
	}
	if os.Getpid() != 1 {
		return fmt.Errorf("not the init of a PID namespace (pid %d)", os.Getpid())
	}
	var report []reuseScenario
	for _, name := range []string{"closed", "same-tick"} {
		s := reuseScenario{Name: name}
		if err := playReuse(&s, args[0], args[1], filepath.Join(args[2], name)); err != nil {
			s.Err = err.Error()
		}
		report = append(report, s)
	}
	return json.NewEncoder(os.Stdout).Encode(report)
}

// playReuse plays one scenario: "closed", where daemonctl vouched for the
// daemon without its lock before it died, and "same-tick", where the
// daemon is killed as soon as start returns and the stranger must start in
// the daemon's clock tick (or, after 5 tries, the record is edited as if
// it had).
func playReuse(s *reuseScenario, daemonctl, daemon, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pidfile := filepath.Join(dir, "web.pid")
	var stranger *exec.Cmd
	var strangerFiles map[string]string
	const tries = 5
	for stranger == nil && s.Starts < tries {
		s.Starts++
		ready := filepath.Join(dir, fmt.Sprintf("daemon%d.ready", s.Starts))
		if r := runDaemonctl(daemonctl, "start", "-p", pidfile, "--", daemon, "-close-fds", "-ready-file", ready); r.Code != 0 {
			return fmt.Errorf("%v", r)
		}
		pid, err := readPIDFile(pidfile)
		if err != nil {
			return err
		}
		ticks, err := startTicks(pid)
		if err != nil {
			return err
		}
		if s.Name == "closed" {
			if err := awaitFile(ready); err != nil {
				return err
			}
			s.Before = runDaemonctl(daemonctl, "status", "-p", pidfile)
		}
		if err := killAndReap(pid); err != nil {
			return err
		}
		strangerFiles = map[string]string{}
		for _, f := range []string{"ready", "term", "hup", "usr1"} {
			strangerFiles[f] = filepath.Join(dir, fmt.Sprintf("stranger%d.%s", s.Starts, f))
		}
		stranger, err = startOnPID(pid, daemon, "-ready-file", strangerFiles["ready"], "-ignore-term",
			"-term-file", strangerFiles["term"], "-hup-file", strangerFiles["hup"], "-usr1-file", strangerFiles["usr1"])
		if err != nil {
			return err
		}
		if stranger == nil {
			continue // another process took the PID first
		}
		s.PID, s.DaemonStart = pid, ticks
		if s.StrangerStart, err = startTicks(pid); err != nil {
			return err
		}
		if s.Name == "same-tick" && s.StrangerStart != s.DaemonStart && s.Starts < tries {
			_ = stranger.Process.Kill()
			_ = stranger.Wait()
			stranger = nil
		}
	}
	if stranger == nil {
		return fmt.Errorf("no stranger got a dead daemon's pid in %d starts", s.Starts)
	}
	defer func() { _ = stranger.Process.Kill(); _ = stranger.Wait() }()
	if err := awaitFile(strangerFiles["ready"]); err != nil {
		return err
	}
	pidfd, err := unix.PidfdOpen(s.PID, 0)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	contents, err := os.ReadFile(pidfile)
	if err != nil {
		return err
	}
	rec := make([]byte, 1024)
	n, err := unix.Getxattr(pidfile, "user.daemonctl", rec)
	switch {
	case errors.Is(err, unix.ENODATA):
		rec, s.NoRecord = nil, true // daemonctl before its trust model
	case err != nil:
		return err
	default:
		rec = rec[:n]
	}
	if s.Name == "same-tick" && s.StrangerStart != s.DaemonStart && rec != nil {
		// Not one natural try put the stranger in the daemon's tick: root
		// edits the record as if it had (the daemon's start time is the
		// stranger's), leaving only the pidfd inode to tell them apart.
		daemonStart := fmt.Appendf(nil, " start=%d ", s.DaemonStart)
		if !bytes.Contains(rec, daemonStart) {
			return fmt.Errorf("the record %q does not hold the daemon's start time %d", rec, s.DaemonStart)
		}
		rec = bytes.Replace(rec, daemonStart, fmt.Appendf(nil, " start=%d ", s.StrangerStart), 1)
		if err := unix.Setxattr(pidfile, "user.daemonctl", rec, 0); err != nil {
			return err
		}
		s.Edited = true
	}
	for _, args := range [][]string{
		{"status", "-p", pidfile},
		{"reload", "-p", pidfile},
		{"signal", "-p", pidfile, "USR1"},
		{"signal", "-p", pidfile, "KILL"},
		{"stop", "-p", pidfile},
	} {
		s.Runs = append(s.Runs, runDaemonctl(daemonctl, args...))
	}
	// stop removed the stale file: put it back, record and all, for
	// restart and start.
	if err := os.WriteFile(pidfile, contents, 0o644); err != nil {
		return err
	}
	if rec != nil {
		if err := unix.Setxattr(pidfile, "user.daemonctl", rec, 0); err != nil {
			return err
		}
	}
	ready := filepath.Join(dir, "restarted.ready")
	s.Runs = append(s.Runs,
		runDaemonctl(daemonctl, "restart", "-p", pidfile, "--", daemon, "-ready-file", ready),
		runDaemonctl(daemonctl, "stop", "-p", pidfile),
		runDaemonctl(daemonctl, "status", "-p", pidfile))
	// The stranger logs a TERM of ours; a signal daemonctl sent before it
	// was handled, and logged, first (see canary.assertNeverSignalled).
	if !h.Exited(pidfd) {
		if err := unix.PidfdSendSignal(pidfd, unix.SIGTERM, nil, 0); err != nil {
			return err
		}
		if _, err := h.AwaitFile(strangerFiles["term"], eventTimeout, func(b []byte) bool { return bytes.HasSuffix(b, []byte("\n")) }); err != nil {
			return err
		}
		s.StrangerAlive = !h.Exited(pidfd)
	}
	s.StrangerLog = map[string]string{}
	for _, f := range []string{"term", "hup", "usr1"} {
		b, _ := os.ReadFile(strangerFiles[f])
		s.StrangerLog[f] = string(b)
	}
	return nil
}

// killAndReap kills pid, a daemon whose launcher stage has reported (so
// that, in a PID namespace of our own, it is or will be our child), and
// reaps it and whatever else exited: its PID is free afterwards.
func killAndReap(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		return err
	}
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return fmt.Errorf("reap %d: %w", pid, err)
		case got == pid:
			return nil
		}
	}
}

// startOnPID starts daemon with args as the next process of this PID
// namespace after setting ns_last_pid to pid-1: it returns nil (and
// nothing runs) when some other process took pid first.
func startOnPID(pid int, daemon string, args ...string) (*exec.Cmd, error) {
	if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
		return nil, err
	}
	cmd := exec.Command(daemon, args...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if cmd.Process.Pid != pid {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, nil
	}
	return cmd, nil
}

// readOnlyReport is what helperReadOnly saw.
type readOnlyReport struct {
	PID    int
	Stop   helperRun
	Gone   bool
	Status helperRun
	// Remounts is how many tries the read-only remount took.
	Remounts int
}

// helperReadOnly (role "rofs", in a mount namespace of its own):
// DAEMONCTL TESTDAEMON DIR. It starts a daemon with its pidfile on a
// tmpfs at DIR/mnt, remounts the tmpfs read-only, stops the daemon, and
// prints a JSON readOnlyReport.
func helperReadOnly(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("want DAEMONCTL TESTDAEMON DIR, got %q", args)
	}
	daemonctl, daemon, mnt := args[0], args[1], filepath.Join(args[2], "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	pidfile, ready := filepath.Join(mnt, "web.pid"), filepath.Join(mnt, "web.ready")
	if r := runDaemonctl(daemonctl, "start", "-p", pidfile, "--", daemon, "-ready-file", ready); r.Code != 0 {
		return fmt.Errorf("%v", r)
	}
	var rep readOnlyReport
	var err error
	if rep.PID, err = readPIDFile(pidfile); err != nil {
		return err
	}
	pidfd, err := unix.PidfdOpen(rep.PID, 0)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	defer func() { _ = unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0) }()
	if err := awaitFile(ready); err != nil {
		return err
	}
	// Right after a start the remount fails now and then with EBUSY (in
	// 8 of 30 runs here; the kernel finishes releasing some of the
	// start's files a moment later) and no event tells when it no longer
	// would: try again.
	var mountErr error
	for rep.Remounts < 1000 {
		rep.Remounts++
		if mountErr = unix.Mount("", mnt, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); !errors.Is(mountErr, unix.EBUSY) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if mountErr != nil {
		return fmt.Errorf("remount read-only: %w", mountErr)
	}
	rep.Stop = runDaemonctl(daemonctl, "stop", "-p", pidfile)
	rep.Gone = h.WaitExit(pidfd, eventTimeout)
	rep.Status = runDaemonctl(daemonctl, "status", "-p", pidfile)
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// needRoot skips a test that needs root, saying what for.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: " + why)
	}
}

// runInNamespace runs this test binary as helper role under unshare(1)
// with unshareArgs and decodes the JSON it prints into report. It skips
// when the namespaces cannot be made here.
func runInNamespace(t *testing.T, role string, unshareArgs []string, report any, args ...string) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare(1) to make namespaces")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmdArgs := append(append(unshareArgs, exe), args...)
	r := h.RunCmd(t, exec.Command(unshare, cmdArgs...), []string{helperEnv + "=" + role}, cmdArgs)
	if r.Code() != 0 && strings.Contains(r.Stderr(), "unshare failed") {
		t.Skipf("cannot make namespaces here: %s", strings.TrimSpace(r.Stderr()))
	}
	h.Expect(t, r, 0)
	if err := json.Unmarshal([]byte(r.Stdout()), report); err != nil {
		t.Fatalf("helper %s report: %v", role, err)
	}
}

// refusedRuns are the commands root may run against a pidfile it cannot
// trust, with the exit each must give: nothing may be signalled, and no
// second instance started.
func refusedRuns(pidfile, daemon, marker string) []struct {
	args []string
	code int
} {
	return []struct {
		args []string
		code int
	}{
		{[]string{"status", "-p", pidfile}, 4},
		{[]string{"reload", "-p", pidfile}, 4},
		{[]string{"signal", "-p", pidfile, "USR1"}, 4},
		{[]string{"signal", "-p", pidfile, "KILL"}, 4},
		{[]string{"stop", "-p", pidfile}, 4},
		{[]string{"stop", "-p", pidfile, "--retry", "KILL/1"}, 4},
		{[]string{"start", "-p", pidfile, "--", daemon, "-ready-file", marker}, 1},
		{[]string{"restart", "-p", pidfile, "--", daemon, "-ready-file", marker}, 1},
	}
}

// TestTrustForeignPidfile: finding 1. nobody writes a pidfile naming
// root's canary where root will look for one: in a sticky /tmp-like
// directory, and in the service's own directory when nobody owns it (as
// /run/web often is), renamed over root's pidfile while root's daemon
// runs. Even with a perfect forged record of daemonctl's stage, root's
// status cannot vouch for the PID (exit 4), reload, signal and stop
// refuse (exit 4) and signal nothing, start starts nothing, and stop never
// reports "stopped" while root's daemon runs on.
func TestTrustForeignPidfile(t *testing.T) {
	p := asUnprivileged(t)
	c := startCanary(t)
	sticky := filepath.Join(p.dir, "tmp")
	if err := os.Mkdir(sticky, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o1777); err != nil {
		t.Fatal(err)
	}
	serviceDir := filepath.Join(p.dir, "run-web")
	if err := os.Mkdir(serviceDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(serviceDir, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		dir    string
		record string // "record": nobody forges one
		daemon bool   // root's daemon runs under the pidfile nobody replaces
	}{
		{"sticky dir", sticky, "none", false},
		{"sticky dir, forged record", sticky, "record", false},
		{"service user's dir", serviceDir, "none", true},
		{"service user's dir, forged record", serviceDir, "record", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidfile := filepath.Join(tc.dir, strings.NewReplacer(" ", "-", ",", "").Replace(tc.name)+".pid")
			var d *h.Daemon
			if tc.daemon {
				d = h.StartDaemon(t, pidfile, nil)
			}
			if code := runHelperAs(t, p, "plant", pidfile, itoa(c.pid), tc.record, "none"); code != 0 {
				t.Fatalf("nobody could not plant %s: exit %d", pidfile, code)
			}
			if st := snapshotFile(t, pidfile); st.uid != p.uid {
				t.Fatalf("the planted file belongs to uid %d, not nobody", st.uid)
			}
			before := snapshotFile(t, pidfile)
			marker := pidfile + ".second"
			for _, run := range refusedRuns(pidfile, h.TestDaemon, marker) {
				r := h.Run(t, run.args...)
				h.Expect(t, r, run.code)
				assertOneLineError(t, r, pidfile)
				if run.args[0] == "status" && !strings.Contains(r.Stderr(), "cannot vouch for pid "+itoa(c.pid)) {
					t.Fatalf("status does not say it cannot vouch for the canary: %s", r)
				}
				if strings.Contains(r.Stdout(), "stopped") {
					t.Fatalf("daemonctl %v reports a stop: %s", run.args, r)
				}
				assertFileUntouched(t, pidfile, before)
				if pids := testDaemons(t, marker); len(pids) > 0 {
					t.Fatalf("daemonctl %v started %v", run.args, pids)
				}
				if d != nil && h.Exited(d.PIDFD) {
					t.Fatalf("daemonctl %v stopped root's daemon, which nobody's file no longer names", run.args)
				}
			}
		})
	}
	// The control: the very record nobody forged vouches for the canary
	// on a file of root's in a directory only root writes. Ownership, not
	// a bad forgery, is what kept daemonctl from believing it above.
	control := filepath.Join(p.dir, "control.pid")
	if err := createPIDFile(control, c.pid); err != nil {
		t.Fatal(err)
	}
	rec, err := forgeRecord(c.pid, control)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(control, "user.daemonctl", rec, 0); err != nil {
		t.Fatal(err)
	}
	r := h.Run(t, "status", "-p", control)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "running (pid "+itoa(c.pid)) {
		t.Fatalf("the forged record does not vouch for the canary on a file of root's: %s", r)
	}
	c.assertNeverSignalled(t)
}

// TestTrustServiceDirSwap: finding 1, the service user's other move. In
// the directory nobody owns, root runs two services; nobody renames the
// pidfile of one (db, locked by its daemon) over the other's (web). The
// file web.pid names now is db's: its record says so. Root's status web
// must not call db's daemon web's, and stop web must stop neither.
func TestTrustServiceDirSwap(t *testing.T) {
	p := asUnprivileged(t)
	dir := filepath.Join(p.dir, "run-web")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	web := h.StartDaemon(t, filepath.Join(dir, "web.pid"), nil)
	db := h.StartDaemon(t, filepath.Join(dir, "db.pid"), nil)
	mv := exec.Command("mv", db.PIDFile, web.PIDFile)
	mv.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.uid, Gid: p.gid, Groups: []uint32{}}}
	if out, err := h.Output(mv); err != nil {
		t.Fatalf("nobody's mv: %v\n%s", err, out)
	}
	r := h.Run(t, "status", "-p", web.PIDFile)
	if r.Code() == 0 {
		t.Fatalf("status calls db's daemon %d web's: %s", db.PID, r)
	}
	for _, args := range [][]string{
		{"reload", "-p", web.PIDFile},
		{"signal", "-p", web.PIDFile, "USR1"},
		{"stop", "-p", web.PIDFile},
	} {
		r := h.Run(t, args...)
		if r.Code() == 0 {
			t.Fatalf("daemonctl %v acted on db's daemon %d as web's: %s", args, db.PID, r)
		}
		if h.Exited(db.PIDFD) || h.Exited(web.PIDFD) {
			t.Fatalf("daemonctl %v stopped a daemon", args)
		}
	}
}

// tamperAttempts are the attempts testdaemon's -tamper-pid reports, one
// line each.
var tamperAttempts = []string{"ftruncate", "write", "pwrite", "fsetxattr", "fremovexattr", "fchmod", "fchown",
	"reopen-proc-fd", "open-path", "truncate", "setxattr", "removexattr", "create-beside", "unlink"}

// TestTrustUserDaemonTampers: finding 2. A compromised --user nobody
// daemon tries to make its root-owned pidfile name root's canary: through
// the descriptor it inherited (write, ftruncate, pwrite, the record's
// attribute, a read-write reopen through /proc), through the path, and in
// the directory; then it closes the descriptor, so only the file's
// contents and record are left to go by. Every attempt fails, the file
// and record still name the daemon, and root's stop stops the daemon, not
// the canary.
func TestTrustUserDaemonTampers(t *testing.T) {
	p := asUnprivileged(t)
	c := startCanary(t)
	run := filepath.Join(p.dir, "run")
	own := filepath.Join(p.dir, "nobody")
	for _, d := range []string{run, own} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(own, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(run, "web.pid")
	report, ready := filepath.Join(own, "tamper.report"), filepath.Join(own, "ready")
	h.Expect(t, h.Run(t, "start", "-p", pidfile, "--user", "nobody", "--", p.daemon,
		"-tamper-pid", itoa(c.pid), "-tamper-report", report, "-ready-file", ready), 0)
	pid := h.ReadPID(t, pidfile)
	fd := h.Watch(t, pid)
	if !h.WaitFile(t, ready, eventTimeout) {
		t.Fatalf("daemon %d never became ready", pid)
	}
	lines := strings.Split(strings.TrimSpace(string(readFile(t, report))), "\n")
	for i, want := range tamperAttempts {
		if i >= len(lines) || !strings.HasPrefix(lines[i], want+" ") {
			t.Fatalf("tamper report %q: want line %d about %s", lines, i, want)
		}
		if strings.HasSuffix(lines[i], " ok") {
			t.Errorf("the --user daemon could %s its pidfile: %q", want, lines)
		}
	}
	assertFileContents(t, pidfile, []byte(itoa(pid)+"\n"))
	rec := make([]byte, 1024)
	n, err := unix.Getxattr(pidfile, "user.daemonctl", rec)
	if err != nil || !bytes.Contains(rec[:n], []byte(" pid="+itoa(pid)+" ")) {
		t.Fatalf("the record does not name the daemon %d: %q (%v)", pid, rec[:max(n, 0)], err)
	}
	if h.HoldsFlock(t, pid, pidfile) {
		t.Fatal("the daemon still holds its lock after closing descriptor 3")
	}
	// The record vouches for the daemon without its lock.
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "running (pid "+itoa(pid)) || !strings.Contains(r.Stdout(), "closed its lock descriptor") {
		t.Fatalf("status: %s", r)
	}
	r = h.Run(t, "stop", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "stopped (pid "+itoa(pid)+")") {
		t.Fatalf("stop: %s", r)
	}
	if !h.WaitExit(fd, eventTimeout) {
		t.Fatal("root's stop did not stop the daemon")
	}
	assertNoFile(t, pidfile)
	c.assertNeverSignalled(t)
}

// raceAttempts is how many starts TestTrustNotifySocketRace runs against
// each racer: DAEMONCTL_TRUST_RACE, or 40, which fits in CI. The chown by
// path of 23c7319 gave the file away after 3 to 73 starts to the symlink
// racer and 2 to 48 to the hard-link racer, on a loaded two-core machine
// (6 runs each), so 40 of each catch it about 9 times in 10.
func raceAttempts(t *testing.T) int {
	t.Helper()
	s := os.Getenv("DAEMONCTL_TRUST_RACE")
	if s == "" {
		return 40
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("DAEMONCTL_TRUST_RACE=%q: want a positive number", s)
	}
	return n
}

// TestTrustNotifySocketRace: finding 3. nobody owns the directory of a
// --notify-socket for a --user nobody daemon, and keeps swapping the
// socket's path for a link to a root file while root starts the service
// again and again: a chown by path between bind and the swap would give
// the root file to nobody. The file keeps its owner and mode. nobody can
// only make symbolic links to another user's file (protected_hardlinks);
// the hard-link racer, run by root, plays a system without that
// protection.
//
// Each start fails right after the socket is bound and chowned (its
// --stdout is a directory), so the race is run many times per second.
func TestTrustNotifySocketRace(t *testing.T) {
	p := asUnprivileged(t)
	protected, _ := os.ReadFile("/proc/sys/fs/protected_hardlinks")
	attempts := raceAttempts(t)
	for _, kind := range []string{"symlink", "hardlink"} {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(p.dir, kind)
			sockDir, logDir, run := filepath.Join(dir, "sock"), filepath.Join(dir, "logdir"), filepath.Join(dir, "run")
			for _, d := range []string{dir, sockDir, logDir, run} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chown(sockDir, int(p.uid), int(p.gid)); err != nil {
				t.Fatal(err)
			}
			secret := filepath.Join(dir, "secret")
			if err := os.WriteFile(secret, []byte("root's\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshotFile(t, secret)
			racerAs := p
			if kind == "hardlink" && strings.TrimSpace(string(protected)) != "0" {
				racerAs = nil
				t.Log("protected_hardlinks keeps nobody from linking root's file: root runs the hard-link racer")
			}
			sock := filepath.Join(sockDir, "sock")
			racer := helperCommand(t, racerAs, "race", sock, secret, kind)
			if err := racer.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = racer.Process.Release() })
			racerFD := h.Watch(t, racer.Process.Pid)
			bound := 0
			for i := range attempts {
				r := h.Run(t, "start", "--notify", "--notify-socket", sock, "--user", "nobody", "--stdout", logDir,
					"-p", filepath.Join(run, "web.pid"), "--", p.daemon)
				if r.Code() == 0 {
					t.Fatalf("start %d succeeded with a directory for --stdout: %s", i, r)
				}
				if !strings.Contains(r.Stderr(), "address already in use") {
					bound++
				}
				if st := snapshotFile(t, secret); st.uid != before.uid || st.mode != before.mode {
					t.Fatalf("start %d gave %s to uid %d, mode %v (was uid %d, %v): %s", i, secret, st.uid, st.mode, before.uid, before.mode, r)
				}
			}
			if h.Exited(racerFD) {
				t.Fatal("the racer died: nothing was raced")
			}
			if bound == 0 {
				t.Fatal("no start bound its socket: the racer kept the path taken, so the race never ran")
			}
			t.Logf("%d starts, %d of them bound the socket while the racer swapped links", attempts, bound)
			assertFileUntouched(t, secret, before)
		})
	}
}

// TestTrustPIDReuse: finding 5. In a PID namespace of the test's own, a
// daemon started by daemonctl is killed and its PID handed at once to a
// stranger (ns_last_pid): once after daemonctl vouched for the daemon
// running without its lock (-close-fds), and once with the stranger
// started in the daemon's own clock tick, where start times cannot tell
// them apart (tried a few times, then played by giving the record the
// stranger's start time). status says dead (exit 1, "another process"); reload,
// signal, stop and restart never signal the stranger.
func TestTrustPIDReuse(t *testing.T) {
	needRoot(t, "makes a PID namespace to hand a dead daemon's PID to another process (ns_last_pid)")
	dir := t.TempDir()
	var report []reuseScenario
	runInNamespace(t, "pidreuse", []string{"--pid", "--fork", "--mount-proc"}, &report, h.Daemonctl, h.TestDaemon, dir)
	if len(report) != 2 {
		t.Fatalf("report: %+v", report)
	}
	for _, s := range report {
		t.Run(s.Name, func(t *testing.T) {
			if s.Err != "" {
				t.Fatalf("%s: %s (runs %v)", s.Name, s.Err, s.Runs)
			}
			t.Logf("after %d starts, pid %d: the daemon started at tick %d, the stranger at tick %d", s.Starts, s.PID, s.DaemonStart, s.StrangerStart)
			if s.Name == "closed" && (s.Before.Code != 0 || !strings.Contains(s.Before.Stdout, "closed its lock descriptor")) {
				t.Errorf("status of the daemon that closed its descriptors: %v", s.Before)
			}
			if s.Edited {
				t.Logf("the stranger never started in the daemon's tick in %d starts: the record was given its start time", s.Starts)
			}
			if s.NoRecord {
				t.Error("the pidfile has no record of daemonctl's start")
			}
			want := []struct {
				code int
				says string
			}{
				{1, "another process"}, // status
				{7, ""},                // reload
				{7, ""},                // signal USR1
				{7, ""},                // signal KILL
				{0, "not running"},     // stop
				{0, "started"},         // restart
				{0, "stopped"},         // stop of the restarted daemon
				{3, "not running"},     // status
			}
			if len(s.Runs) != len(want) {
				t.Fatalf("runs: %v", s.Runs)
			}
			for i, w := range want {
				r := s.Runs[i]
				if r.Code != w.code || !strings.Contains(r.Stdout+r.Stderr, w.says) {
					t.Errorf("%v: want exit %d saying %q", r, w.code, w.says)
				}
				if strings.Contains(r.Stdout, "pid "+itoa(s.PID)+")") && r.Args[0] != "status" {
					t.Errorf("%v: names the stranger", r)
				}
			}
			if !s.StrangerAlive {
				t.Error("the stranger was killed")
			}
			if n := strings.Count(s.StrangerLog["term"], "TERM"); n != 1 {
				t.Errorf("the stranger got %d TERMs, 1 of them the probe: %q", n, s.StrangerLog["term"])
			}
			if s.StrangerLog["hup"] != "" || s.StrangerLog["usr1"] != "" {
				t.Errorf("the stranger was signalled: %q", s.StrangerLog)
			}
		})
	}
}

// TestTrustStopReadOnlyFS: finding 14. The pidfile's file system turns
// read-only while the daemon runs (a tmpfs remounted read-only in a mount
// namespace of the test's own): stop still stops the daemon, exits 0, and
// warns on stderr that the file stays; status then says dead.
func TestTrustStopReadOnlyFS(t *testing.T) {
	needRoot(t, "mounts a tmpfs and remounts it read-only in a mount namespace")
	var rep readOnlyReport
	runInNamespace(t, "rofs", []string{"--mount", "--propagation", "private"}, &rep, h.Daemonctl, h.TestDaemon, t.TempDir())
	t.Logf("the read-only remount took %d tries", rep.Remounts)
	if !rep.Gone {
		t.Errorf("the daemon %d survived stop", rep.PID)
	}
	if rep.Stop.Code != 0 || !strings.Contains(rep.Stop.Stdout, "stopped (pid "+itoa(rep.PID)+")") {
		t.Errorf("stop: %v", rep.Stop)
	}
	if msg := strings.TrimSuffix(rep.Stop.Stderr, "\n"); msg == "" || strings.Contains(msg, "\n") || !strings.Contains(msg, "read-only") {
		t.Errorf("stop's warning: want one line about the read-only file system: %q", rep.Stop.Stderr)
	}
	if rep.Status.Code != 1 || !strings.Contains(rep.Status.Stdout, "dead") {
		t.Errorf("status after the stop: %v", rep.Status)
	}
}

// startLocker runs the flock helper as nobody on path (mode as
// helperFlock's); it returns the helper's PID, its pidfd (killed when the
// test ends), and the file the helper writes once it holds the lock.
// While the helper lives, it has not been sent a signal it catches (those
// make it exit).
func startLocker(t *testing.T, p *unprivileged, path, mode string) (pid, pidfd int, locked string) {
	t.Helper()
	dir := filepath.Join(p.dir, "locker-"+strconv.Itoa(int(time.Now().UnixNano())))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	locked = filepath.Join(dir, "locked")
	cmd := helperCommand(t, p, "flock", path, mode, "0", locked)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Release() })
	return cmd.Process.Pid, h.Watch(t, cmd.Process.Pid), locked
}

// waitQueued waits until pid is blocked waiting for a flock, as
// /proc/locks shows ("-> FLOCK ... PID ..."). The kernel offers no event
// for it, so this looks every millisecond.
func waitQueued(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(eventTimeout)
	for time.Now().Before(deadline) {
		locks, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(locks)) {
			f := strings.Fields(line)
			if len(f) > 5 && f[1] == "->" && f[2] == "FLOCK" && f[5] == strconv.Itoa(pid) {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("pid %d never queued for the lock", pid)
}

// TestTrustForeignLock: finding 6. flock needs no write access: nobody
// can lock root's 0644 pidfile on a read-only descriptor. That lock is not
// the service's: status calls the service dead, not orphaned, stop exits
// 0 without signalling the locker, reload and signal say not running, and
// start replaces the file instead of waiting for the locker, however long
// it holds on; with a shared lock as with an exclusive one, and when
// nobody queued for the lock while the service ran and took it the
// instant stop ended the daemon.
func TestTrustForeignLock(t *testing.T) {
	p := asUnprivileged(t)
	for _, mode := range []string{"exclusive", "shared", "queue-exclusive"} {
		t.Run(mode, func(t *testing.T) {
			pidfile := filepath.Join(p.dir, mode+".pid")
			marker := pidfile + ".ready"
			d := h.StartDaemon(t, pidfile, nil)
			var locker, lockerFD int
			var locked string
			if mode == "queue-exclusive" {
				locker, lockerFD, locked = startLocker(t, p, pidfile, mode)
				waitQueued(t, locker)
				// The locker waits for the daemon's lock; stop ends the
				// daemon, the locker takes the lock as soon as it is free,
				// and stop must not take it for the service's.
				r := h.Run(t, "stop", "-p", pidfile, "--retry", "TERM/5/KILL/5")
				h.Expect(t, r, 0)
				if !strings.Contains(r.Stdout(), "stopped (pid "+itoa(d.PID)+")") {
					t.Fatalf("stop: %s", r)
				}
				if !h.WaitFile(t, locked, eventTimeout) {
					t.Fatal("the queued locker never got the lock")
				}
				if _, err := os.Lstat(pidfile); errors.Is(err, fs.ErrNotExist) {
					// The kernel wakes a waiter when a flock is released,
					// it does not hand the lock over: stop's own try came
					// first and removed the file. Nothing is left to test
					// but the start below.
					t.Log("stop removed the pidfile before the queued locker took the lock")
					h.Expect(t, h.Run(t, "status", "-p", pidfile), 3)
				} else {
					checkForeignLocked(t, pidfile, lockerFD)
				}
			} else {
				killDaemon(t, d.PID, d.PIDFD)
				_, lockerFD, locked = startLocker(t, p, pidfile, mode)
				if !h.WaitFile(t, locked, eventTimeout) {
					t.Fatal("nobody never took the lock")
				}
				checkForeignLocked(t, pidfile, lockerFD)
			}
			// start replaces the file rather than wait for the locker: the
			// new daemon holds the lock of the new file.
			h.Expect(t, h.Run(t, "start", "-p", pidfile, "--", h.TestDaemon, "-ready-file", marker), 0)
			daemon := h.ReadPID(t, pidfile)
			h.Watch(t, daemon)
			if !h.HoldsFlock(t, daemon, pidfile) {
				t.Fatalf("the new daemon %d does not hold the lock on %s", daemon, pidfile)
			}
			h.Expect(t, h.Run(t, "status", "-p", pidfile), 0)
			h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
			if h.Exited(lockerFD) {
				t.Fatal("daemonctl signalled the process holding a foreign lock")
			}
		})
	}
}

// checkForeignLocked checks what daemonctl does with a dead service's
// pidfile that only a foreign locker (pidfd lockerFD) holds locked: status
// says dead, stop exits 0 and says why the file stays, reload and signal
// say not running, nothing is changed and the locker is not signalled.
func checkForeignLocked(t *testing.T, pidfile string, lockerFD int) {
	t.Helper()
	before := snapshotFile(t, pidfile)
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 1)
	if !strings.Contains(r.Stdout(), "dead") {
		t.Fatalf("status with only a foreign lock: %s, want dead", r)
	}
	r = h.Run(t, "stop", "-p", pidfile, "--retry", "TERM/0.2/KILL/0.2")
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stderr(), "not the service's") {
		t.Errorf("stop does not say the file stays locked by someone else: %s", r)
	}
	for _, args := range [][]string{{"reload", "-p", pidfile}, {"signal", "-p", pidfile, "KILL"}} {
		h.Expect(t, h.Run(t, args...), 7)
	}
	assertFileUntouched(t, pidfile, before)
	if h.Exited(lockerFD) {
		t.Fatal("daemonctl signalled the process holding a foreign lock")
	}
}

// TestTrustNonUTF8: finding 7. Paths, arguments and environment values
// are bytes to the kernel: a pidfile, a program argument, an environment
// value and a log file with bytes that are not UTF-8 reach the kernel and
// the daemon exactly (read back from /proc, not through JSON, which would
// mangle them the same way), and status and stop find the daemon.
func TestTrustNonUTF8(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "\xff.pid")
	logFile := filepath.Join(dir, "out\xfe\x80.log")
	arg := "line \xff\xfe \xc3\x28 end"
	env := "ODD=\xfe\xff\x80"
	ready := filepath.Join(dir, "ready")
	h.Expect(t, h.Run(t, "start", "-p", pidfile, "--env", env, "--stdout", logFile, "--",
		h.TestDaemon, "-ready-file", ready, "-stdout-line", arg), 0)
	pid := h.ReadPID(t, pidfile)
	fd := h.Watch(t, pid)
	if !h.WaitFile(t, ready, eventTimeout) {
		t.Fatalf("daemon %d never became ready", pid)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	want := []string{filepath.Base(logFile), "ready", filepath.Base(pidfile)}
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("the directory holds %q, want %q", got, want)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := strings.Join([]string{h.TestDaemon, "-ready-file", ready, "-stdout-line", arg}, "\x00") + "\x00"
	if string(cmdline) != wantArgs {
		t.Errorf("the daemon's arguments are %q, want %q", cmdline, wantArgs)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(append([]byte{0}, environ...), []byte("\x00"+env+"\x00")) {
		t.Errorf("the daemon's environment lacks %q: %q", env, environ)
	}
	assertFileContents(t, logFile, []byte(arg+"\n"))
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "running (pid "+itoa(pid)) {
		t.Fatalf("status: %s", r)
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	if !h.WaitExit(fd, eventTimeout) {
		t.Fatal("stop did not stop the daemon")
	}
	assertNoFile(t, pidfile)
}

// TestTrustLogFileKinds: finding 8. A FIFO (with or without a reader), a
// device other than /dev/null, a directory, a socket or a symbolic link
// as --stdout or --stderr: start fails at once (exit 1, one line naming
// the file), nothing runs, nothing is written through the link, and
// status says stopped. /dev/null stays allowed.
func TestTrustLogFileKinds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	readFIFO := filepath.Join(dir, "read-fifo")
	if err := unix.Mkfifo(readFIFO, 0o644); err != nil {
		t.Fatal(err)
	}
	reader, err := os.OpenFile(readFIFO, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	symlink := filepath.Join(dir, "symlink")
	if err := os.Symlink(target, symlink); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "socket")
	sfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sfd)
	if err := unix.Bind(sfd, &unix.SockaddrUnix{Name: socket}); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(dir, "dir")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(dir, "web.pid")
	for _, flag := range []string{"--stdout", "--stderr"} {
		for _, bad := range []string{fifo, readFIFO, "/dev/zero", "/dev/full", logDir, socket, symlink} {
			t.Run(flag+"="+filepath.Base(bad), func(t *testing.T) {
				marker := filepath.Join(dir, "ready-"+strings.TrimPrefix(flag, "--")+"-"+filepath.Base(bad))
				// A start that blocks on the FIFO is killed, and fails the
				// test, instead of hanging it.
				args := []string{"start", "-p", pidfile, flag, bad, "--", h.TestDaemon, "-ready-file", marker, "-stdout-line", "x", "-stderr-line", "x"}
				r := h.RunCmd(t, commandWithDeadline(t, h.Daemonctl, args...), nil, args)
				h.Expect(t, r, 1)
				assertOneLineError(t, r, bad)
				if pids := testDaemons(t, marker); len(pids) > 0 {
					t.Fatalf("start refused, yet daemons %v run", pids)
				}
				assertNoFile(t, pidfile)
				r = h.Run(t, "status", "-p", pidfile)
				h.Expect(t, r, 3)
				assertStdout(t, r, "web: not running")
			})
		}
	}
	assertFileContents(t, target, []byte("kept\n"))
	h.StartDaemon(t, pidfile, []string{"--stdout", os.DevNull, "--stderr", os.DevNull})
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
}

// commandWithDeadline is a command killed (and failing) after a minute:
// a start that would hang forever fails its test instead.
func commandWithDeadline(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return exec.CommandContext(ctx, name, args...)
}

// TestTrustLogHardLink: finding 9. nobody owns the daemon's log directory
// and hard-links a root file into it under the log's name (where
// protected_hardlinks forbids nobody that, root makes the link, as nobody
// could on a system without the protection). start --user nobody refuses
// the log (exit 1, one line naming it) and gives the root file to nobody
// neither by --stdout nor by --stderr. A root file with one name in
// nobody's directory is not given away either; a log start creates is.
func TestTrustLogHardLink(t *testing.T) {
	p := asUnprivileged(t)
	logs, run := filepath.Join(p.dir, "logs"), filepath.Join(p.dir, "run")
	for _, d := range []string{logs, run} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(logs, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(p.dir, "secret")
	if err := os.WriteFile(secret, []byte("root's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshotFile(t, secret)
	link := filepath.Join(logs, "web.log")
	ln := exec.Command("ln", secret, link)
	ln.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.uid, Gid: p.gid, Groups: []uint32{}}}
	if out, err := h.Output(ln); err != nil {
		t.Logf("nobody cannot link root's file (%v: %s): root makes the link", err, bytes.TrimSpace(out))
		if err := os.Link(secret, link); err != nil {
			t.Fatal(err)
		}
	}
	pidfile := filepath.Join(run, "web.pid")
	marker := filepath.Join(logs, "ready")
	for _, flag := range []string{"--stdout", "--stderr"} {
		r := h.Run(t, "start", "-p", pidfile, "--user", "nobody", flag, link, "--", p.daemon, "-ready-file", marker)
		h.Expect(t, r, 1)
		assertOneLineError(t, r, link, "hard links")
		if pids := testDaemons(t, marker); len(pids) > 0 {
			t.Fatalf("start refused, yet daemons %v run", pids)
		}
		assertNoFile(t, pidfile)
		assertFileUntouched(t, secret, before)
	}

	roots := filepath.Join(logs, "roots.log")
	if err := os.WriteFile(roots, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(logs, "fresh.log")
	h.Expect(t, h.Run(t, "start", "-p", pidfile, "--user", "nobody", "--stdout", roots, "--stderr", fresh, "--",
		p.daemon, "-ready-file", marker, "-stdout-line", "out", "-stderr-line", "err"), 0)
	h.Watch(t, h.ReadPID(t, pidfile))
	if !h.WaitFile(t, marker, eventTimeout) {
		t.Fatal("the daemon never became ready")
	}
	if st := snapshotFile(t, roots); st.uid != 0 {
		t.Errorf("root's log in nobody's directory was given to uid %d", st.uid)
	}
	if st := snapshotFile(t, fresh); st.uid != p.uid {
		t.Errorf("the log start created belongs to uid %d, not the daemon's user", st.uid)
	}
	assertFileContents(t, roots, []byte("out\n"))
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
}

// TestTrustFailedStartLeavesNothing: finding 10. A daemon that forks a
// child holding the lock and then dies during the readiness wait
// (--wait, --notify), or that never reports ready (--notify --timeout):
// start fails (exit 1) and leaves neither the child nor the pidfile.
func TestTrustFailedStartLeavesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		tail  string // after forking the child
	}{
		{"wait", []string{"--wait", "0.3s"}, "exit 0"},
		{"notify", []string{"--notify"}, "exit 3"},
		{"notify timeout", []string{"--notify", "--timeout", "0.3s"}, "exec sleep 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pidfile := filepath.Join(dir, "web.pid")
			// A sleep no other test runs, to find the child by.
			child := strconv.Itoa(100000 + int(time.Now().UnixNano()%900000))
			t.Cleanup(func() {
				for _, pid := range sleeps(t, child) {
					if fd, err := unix.PidfdOpen(pid, 0); err == nil {
						_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
						unix.Close(fd)
					}
				}
			})
			args := append(append([]string{"start", "-p", pidfile}, tc.flags...), "--", "/bin/sh", "-c", "sleep "+child+" & "+tc.tail)
			r := h.Run(t, args...)
			h.Expect(t, r, 1)
			if left := sleeps(t, child); len(left) > 0 {
				t.Fatalf("the failed start left its daemon's child %v running", left)
			}
			assertNoFile(t, pidfile)
			h.Expect(t, h.Run(t, "status", "-p", pidfile), 3)
		})
	}
}

// sleeps lists the live "sleep ARG" processes.
func sleeps(t *testing.T, arg string) []int {
	t.Helper()
	return h.Processes(t, func(args []string) bool { return len(args) == 2 && args[0] == "sleep" && args[1] == arg })
}

// TestTrustLongPidfilePath: finding 14. A pidfile path over PATH_MAX, or
// with a name over NAME_MAX, is a usage error (exit 2; 4 for status) in
// one short line, not a directory that "does not exist" in five
// kilobytes.
func TestTrustLongPidfilePath(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat(strings.Repeat("d", 200)+"/", 25)+"web.pid")
	longName := filepath.Join(dir, strings.Repeat("n", 300)+".pid")
	for _, path := range []string{long, longName} {
		for _, tc := range []struct {
			args []string
			code int
		}{
			{[]string{"status", "-p", path}, 4},
			{[]string{"start", "-p", path, "--", h.TestDaemon}, 2},
			{[]string{"stop", "-p", path}, 2},
			{[]string{"reload", "-p", path}, 2},
			{[]string{"signal", "-p", path, "USR1"}, 2},
			{[]string{"restart", "-p", path, "--", h.TestDaemon}, 2},
		} {
			r := h.Run(t, tc.args...)
			h.Expect(t, r, tc.code)
			msg := r.Stdout() + r.Stderr()
			if strings.Count(msg, "\n") != 1 || len(msg) >= 300 {
				t.Fatalf("daemonctl %s with a %d-byte path: want one line under 300 bytes, got %d bytes: %q", tc.args[0], len(path), len(msg), msg)
			}
			if !strings.Contains(msg, "long") {
				t.Fatalf("daemonctl %s: %q does not say the path is too long", tc.args[0], msg)
			}
		}
	}
}

// TestTrustOrphanGrammar: finding 14. With one child left holding the
// lock of a dead main process, status, start and signal speak of one
// process, in the singular.
func TestTrustOrphanGrammar(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	childrenFile := filepath.Join(dir, "children")
	d := h.StartDaemon(t, pidfile, nil, "-children", "1", "-children-file", childrenFile)
	child, err := strconv.Atoi(strings.TrimSpace(string(readFile(t, childrenFile))))
	if err != nil {
		t.Fatal(err)
	}
	h.Watch(t, child)
	killDaemon(t, d.PID, d.PIDFD)
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 1)
	assertStdout(t, r, fmt.Sprintf("web: main process %d gone, 1 process still holds the lock (pid %d)", d.PID, child))
	for _, args := range [][]string{
		{"start", "-p", pidfile, "--", h.TestDaemon},
		{"signal", "-p", pidfile, "USR1"},
	} {
		r := h.Run(t, args...)
		h.Expect(t, r, 1)
		assertOneLineError(t, r, fmt.Sprintf("pid %d still holds the lock", child))
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
}

// Who may say what root runs (finding 4): definition files and
// directories writable by anyone but root or the caller are refused.

// TestServiceGroupWritableAttack: a root:nogroup 0664 definition lets any
// member of nogroup rewrite it. As the real user nobody (group nogroup)
// the attacker points program at its own command; root's check and start
// refuse the file (exit 6, one line naming it and the fix) and the
// attacker's command never runs. Once the file is 0644 the attacker's
// write fails and the service starts.
func TestServiceGroupWritableAttack(t *testing.T) {
	p := asUnprivileged(t)
	nogroup, err := user.LookupGroup("nogroup")
	if err != nil {
		t.Skipf("no group nogroup: %v", err)
	}
	gid, _ := strconv.Atoi(nogroup.Gid)
	// Definitions in p.dir (0755, root's), reachable by nobody.
	s := &services{dir: filepath.Join(p.dir, "daemonctl.d"), runDir: filepath.Join(p.dir, "run")}
	for _, d := range []string{s.dir, s.runDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.env = []string{"DAEMONCTL_CONFIG_DIR=" + s.dir}
	s.defineDaemon(t, "web", "")
	web := filepath.Join(s.dir, "web.toml")
	if err := os.Chown(web, 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(web, 0o664); err != nil {
		t.Fatal(err)
	}
	pwned := filepath.Join(p.dir, "pwned")
	evil := fmt.Sprintf("program = \"/usr/bin/touch\"\nargs = [%q]\npidfile = %q\n", pwned, s.pidfile("web"))
	asNobody := func(script string) error {
		cmd := exec.Command("/bin/sh", "-c", script, "sh", web)
		cmd.Stdin = nil
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.uid, Gid: uint32(gid), Groups: []uint32{}}}
		cmd.Env = []string{"EVIL=" + evil}
		_, err := h.Output(cmd)
		return err
	}
	if err := asNobody(`printf '%s' "$EVIL" > "$1"`); err != nil {
		t.Fatalf("nobody could not write the root:nogroup 0664 file, so the test shows nothing: %v", err)
	}
	want := web + ": refused: the file is group-writable (mode 0664), which would let others make root run any program; fix it (chmod go-w " + web + ")"
	for cmd, code := range map[string]int{"check": 6, "start": 6, "restart": 6, "status": 4} {
		r := s.run(t, cmd, "web")
		h.Expect(t, r, code)
		assertOneLineError(t, r, want)
	}
	h.Expect(t, s.run(t, "start", "--all"), 6)
	assertNoFile(t, pwned)
	assertNoFile(t, s.pidfile("web"))

	// Fixed as the message says: nobody can no longer write it.
	if out, err := exec.Command("chmod", "go-w", web).CombinedOutput(); err != nil {
		t.Fatalf("chmod go-w: %v %s", err, out)
	}
	s.defineDaemon(t, "web", "")
	if err := asNobody(`printf '%s' "$EVIL" > "$1"`); err == nil {
		t.Fatal("nobody wrote a 0644 file")
	}
	h.Expect(t, s.run(t, "check", "web"), 0)
	_, fd := s.started(t, s.run(t, "start", "web"), "web")
	assertNoFile(t, pwned)
	h.Expect(t, s.run(t, "stop", "web"), 0)
	if !h.Exited(fd) {
		t.Fatal("web survived stop")
	}
}

// TestServiceGroupWritableOwn: the caller's own definitions, made
// group-writable (a umask of 002), are refused too, as is a definition
// directory its group can write or one below a directory others can
// write; the messages name the path and the fix. Runs as whoever runs
// the tests.
func TestServiceGroupWritableOwn(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "api", "")
	web := filepath.Join(s.dir, "web.toml")
	if err := os.Chmod(web, 0o664); err != nil {
		t.Fatal(err)
	}
	who := "root"
	if os.Geteuid() != 0 {
		who = "you"
	}
	r := s.run(t, "check")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, web+": refused: the file is group-writable (mode 0664), which would let others make "+who+" run any program; fix it (chmod go-w "+web+")")
	h.Expect(t, s.run(t, "check", "api"), 0)
	if err := os.Chmod(web, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := os.Chmod(s.dir, 0o770); err != nil {
		t.Fatal(err)
	}
	for cmd, code := range map[string]int{"check": 6, "start": 6, "stop": 6, "status": 4} {
		r := s.run(t, cmd, "web")
		h.Expect(t, r, code)
		assertOneLineError(t, r, "definition directory "+s.dir+" is group-writable (mode 0770): it would let others make "+who+" run any program; fix it (chmod go-w "+s.dir+") or use another --config-dir")
	}
	h.Expect(t, s.run(t, "status"), 4)
	if err := os.Chmod(s.dir, 0o700); err != nil {
		t.Fatal(err)
	}

	parent := filepath.Dir(s.dir)
	if err := os.Chmod(parent, 0o775); err != nil {
		t.Fatal(err)
	}
	r = s.run(t, "start", "web")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, "definition directory "+s.dir+": "+parent+" is group-writable (mode 0775), so others could replace the definitions and make "+who+" run any program; fix it (chmod go-w "+parent+") or use another --config-dir")
	assertNoFile(t, s.pidfile("web"))
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	h.Expect(t, s.run(t, "check"), 0)
}

// TestServiceUnprivilegedOwnDefinitions: nobody's own definitions in a
// directory of its own are used when only nobody can write them, and
// refused when its group can.
func TestServiceUnprivilegedOwnDefinitions(t *testing.T) {
	p := asUnprivileged(t)
	dir := filepath.Join(p.dir, "conf")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(dir, "mine.toml")
	if err := os.WriteFile(def, fmt.Appendf(nil, "program = %q\npidfile = %q\n", p.daemon, filepath.Join(p.dir, "mine.pid")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{dir, def} {
		if err := os.Chown(f, int(p.uid), int(p.gid)); err != nil {
			t.Fatal(err)
		}
	}
	h.Expect(t, p.run(t, "--config-dir", dir, "check"), 0)
	if err := os.Chmod(def, 0o664); err != nil {
		t.Fatal(err)
	}
	r := p.run(t, "--config-dir", dir, "check")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, def+": refused: the file is group-writable (mode 0664), which would let others make you run any program; fix it (chmod go-w "+def+")")
	if err := os.Chmod(def, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	r = p.run(t, "--config-dir", dir, "start", "mine")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, "definition directory "+dir+" is group-writable (mode 0775)", "chmod go-w "+dir)
	// A root-owned directory is as good as one's own; a root-owned file too.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(def, 0, 0); err != nil {
		t.Fatal(err)
	}
	h.Expect(t, p.run(t, "--config-dir", dir, "check"), 0)
}
