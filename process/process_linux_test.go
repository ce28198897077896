package process

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/internal/proctest"
)

// bootTimeFromProcStat is the boot time as /proc/stat gives it, in whole
// seconds: an independent check on Get's arithmetic.
func bootTimeFromProcStat(t *testing.T) time.Time {
	t.Helper()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return time.Unix(sec, 0)
		}
	}
	t.Fatal("no btime in /proc/stat")
	return time.Time{}
}

func TestGetSelf(t *testing.T) {
	info, err := Get(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if info.PID != os.Getpid() || info.PPID != os.Getppid() {
		t.Errorf("PID, PPID = %d, %d; want %d, %d", info.PID, info.PPID, os.Getpid(), os.Getppid())
	}
	if sid, _ := unix.Getsid(0); info.Session != sid {
		t.Errorf("Session = %d, want %d", info.Session, sid)
	}
	if !slices.Equal(info.Command, os.Args) {
		t.Errorf("Command = %q, want os.Args %q", info.Command, os.Args)
	}
	// now minus the process's uptime, with the boot time taken from
	// /proc/stat rather than the clocks Get reads.
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields, err := statFields(stat)
	if err != nil {
		t.Fatal(err)
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	want := bootTimeFromProcStat(t).Add(time.Duration(ticks) * 10 * time.Millisecond)
	if d := info.Started.Sub(want).Abs(); d > time.Second {
		t.Errorf("Started = %v, %v away from /proc/stat's %v", info.Started, d, want)
	}
	if info.Started.After(time.Now()) {
		t.Errorf("Started = %v, in the future", info.Started)
	}
}

func TestGetChild(t *testing.T) {
	before := time.Now()
	cmd := proctest.Cat(t, nil, "cat")
	after := time.Now()
	info, err := Get(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if info.PPID != os.Getpid() || !slices.Equal(info.Command, []string{"cat", "-"}) {
		t.Errorf("Get(child) = %+v, want cat -, child of %d", info, os.Getpid())
	}
	// The kernel rounds the start time down to a clock tick; otherwise it
	// falls between the two readings of the clock around Start.
	const tick = 10 * time.Millisecond
	if info.Started.Before(before.Add(-2*tick)) || info.Started.After(after) {
		t.Errorf("Started = %v, not within [%v - 2 ticks, %v]", info.Started, before, after)
	}
	if !Alive(cmd.Process.Pid) {
		t.Error("Alive(child) = false")
	}
}

func TestGetOddCommandName(t *testing.T) {
	// The command name in /proc/PID/stat is whatever the executable is
	// called, parentheses and spaces included; it must not shift the
	// fields that follow.
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat(1)")
	}
	odd := filepath.Join(t.TempDir(), "x) Z 1 2 (y")
	if err := os.Symlink(cat, odd); err != nil {
		t.Fatal(err)
	}
	cmd := proctest.Cat(t, nil, odd)
	info, err := Get(cmd.Process.Pid)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if info.PPID != os.Getpid() || len(info.Command) != 2 || info.Command[0] != odd {
		t.Errorf("Get = %+v, want PPID %d and command %q", info, os.Getpid(), odd)
	}
}

func TestGetZombieAndGone(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reaped := false
	t.Cleanup(func() {
		if !reaped {
			_ = cmd.Wait()
		}
	})
	pid := cmd.Process.Pid
	// Wait for the exit without reaping: the pidfd polls readable once
	// the child is a zombie.
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	for {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); errors.Is(err, unix.EINTR) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		break
	}
	if err := unix.Kill(pid, 0); err != nil {
		t.Fatalf("the zombie should still exist: %v", err)
	}
	if _, err := Get(pid); !errors.Is(err, ErrGone) {
		t.Errorf("Get(zombie): %v, want ErrGone", err)
	}
	if Alive(pid) {
		t.Error("Alive(zombie) = true")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	reaped = true
	if _, err := Get(pid); !errors.Is(err, ErrGone) {
		t.Errorf("Get(reaped): %v, want ErrGone", err)
	}
	if taker, err := LockTaker(pid, FileID{}); taker != 0 || !errors.Is(err, ErrGone) {
		t.Errorf("LockTaker(reaped) = %v, %v; want 0, ErrGone", taker, err)
	}
}

func TestFlockOwnership(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.pid")
	// The lock is taken on a read-only descriptor, as daemonctl's stage
	// does: flock needs no write access.
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	locked, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(locked.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	id := FileID{Dev: uint64(st.Dev), Ino: st.Ino}
	if err := unix.Flock(int(locked.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	// The daemon inherits the locked descriptor; this process, which took
	// the lock, then lets go of its copy.
	holder := proctest.Cat(t, []*os.File{locked}, "cat")
	locked.Close()
	// Another process has the same file open, without the lock.
	plain, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	bystander := proctest.Cat(t, []*os.File{plain}, "cat")
	plain.Close()

	// Every sharer of the lock shows its taker: this process.
	if taker, err := LockTaker(holder.Process.Pid, id); taker != os.Getpid() || err != nil {
		t.Errorf("LockTaker(holder) = %v, %v; want %d (the taker)", taker, err, os.Getpid())
	}
	if taker, err := LockTaker(bystander.Process.Pid, id); taker != 0 || err != nil {
		t.Errorf("LockTaker(open without lock) = %v, %v; want 0", taker, err)
	}
	if taker, err := LockTaker(os.Getpid(), id); taker != 0 || err != nil {
		t.Errorf("LockTaker(self, after closing) = %v, %v; want 0", taker, err)
	}
	other := id
	other.Ino++
	if taker, err := LockTaker(holder.Process.Pid, other); taker != 0 || err != nil {
		t.Errorf("LockTaker(holder, another inode) = %v, %v; want 0", taker, err)
	}
	holders, err := FlockHolders(id)
	if want := []Holder{{PID: holder.Process.Pid, Taker: os.Getpid()}}; err != nil || !slices.Equal(holders, want) {
		t.Errorf("FlockHolders = %v, %v; want %v", holders, err, want)
	}
	// /proc/locks names the taker, this process, though it holds nothing
	// now.
	takers, err := FlockTakers(id)
	if err != nil || !slices.Equal(takers, []int{os.Getpid()}) {
		t.Errorf("FlockTakers = %v, %v; want [%d]", takers, err, os.Getpid())
	}

	// A reader who opens the file and locks it itself (when it is free)
	// holds a lock of its own, whose taker is the reader.
	_ = holder.Process.Kill()
	_ = holder.Wait()
	if holders, err := FlockHolders(id); err != nil || len(holders) != 0 {
		t.Errorf("FlockHolders after the holder died = %v, %v; want none", holders, err)
	}
	reader := exec.Command("flock", "-s", path, "sh", "-c", "echo locked; exec sleep 100")
	out, err := reader.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reader.Process.Kill(); _ = reader.Wait() })
	line := make([]byte, 7)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "locked\n" {
		t.Fatalf("flock said %q, %v", line, err)
	}
	got, err := FlockHolders(id)
	if err != nil || len(got) == 0 || slices.ContainsFunc(got, func(h Holder) bool { return h.Taker != reader.Process.Pid }) {
		t.Errorf("FlockHolders with a reader's own lock = %v, %v; want holders whose taker is the reader %d", got, err, reader.Process.Pid)
	}
}

func TestSharedFlock(t *testing.T) {
	// A shared lock (a status probe's) shows as READ, and counts too.
	path := filepath.Join(t.TempDir(), "web.pid")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if taker, err := LockTaker(os.Getpid(), FileID{Dev: uint64(st.Dev), Ino: st.Ino}); taker != os.Getpid() || err != nil {
		t.Errorf("LockTaker(shared) = %v, %v; want %d", taker, err, os.Getpid())
	}
}

func TestIdentity(t *testing.T) {
	a := proctest.Cat(t, nil, "cat")
	b := proctest.Cat(t, nil, "cat")
	ia, err := ProcID(a.Process.Pid)
	if errors.Is(err, ErrUnsupported) {
		t.Skip("no pidfs on this kernel (Linux < 6.9)")
	}
	if err != nil {
		t.Fatal(err)
	}
	ib, err := ProcID(b.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if ia == ib || ia == 0 {
		t.Errorf("ProcID = %d and %d for two processes, want two distinct non-zero ids", ia, ib)
	}
	again, err := ProcID(a.Process.Pid)
	if err != nil || again != ia {
		t.Errorf("ProcID(a) again = %d, %v; want %d", again, err, ia)
	}
	_ = a.Process.Kill()
	_ = a.Wait()
	if _, err := ProcID(a.Process.Pid); !errors.Is(err, ErrGone) {
		t.Errorf("ProcID(reaped) = %v, want ErrGone", err)
	}
	boot, err := BootID()
	if err != nil || len(boot) != 36 {
		t.Errorf("BootID = %q, %v; want a UUID", boot, err)
	}
	exe, err := Exe(b.Process.Pid)
	var st unix.Stat_t
	if serr := unix.Stat(b.Path, &st); err != nil || serr != nil || exe != (FileID{Dev: uint64(st.Dev), Ino: st.Ino}) {
		t.Errorf("Exe(sleep) = %v, %v; want %s's inode", exe, err, b.Path)
	}
	info, err := Get(b.Process.Pid)
	if err != nil || info.StartTicks == 0 {
		t.Errorf("Get(b).StartTicks = %d, %v", info.StartTicks, err)
	}
}

func TestPIDMax(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	want, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := PIDMax(); got != want {
		t.Errorf("PIDMax() = %d, want %d", got, want)
	}
}

func BenchmarkLockTaker(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "web.pid"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		b.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		b.Fatal(err)
	}
	id := FileID{Dev: uint64(st.Dev), Ino: st.Ino}
	for b.Loop() {
		if taker, err := LockTaker(os.Getpid(), id); taker == 0 || err != nil {
			b.Fatal(taker, err)
		}
	}
}

// TestUIDs reads this process's user IDs, and a gone process is ErrGone.
func TestUIDs(t *testing.T) {
	r, e, s, err := UIDs(os.Getpid())
	if err != nil || r != os.Getuid() || e != os.Geteuid() || s != os.Geteuid() {
		t.Errorf("UIDs(self) = %d, %d, %d, %v; want %d, %d, %d", r, e, s, err, os.Getuid(), os.Geteuid(), os.Geteuid())
	}
	if _, _, _, err := UIDs(PIDMax() + 1); !errors.Is(err, ErrGone) {
		t.Errorf("UIDs(no such pid) = %v, want ErrGone", err)
	}
}
