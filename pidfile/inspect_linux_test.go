package pidfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/daemonctl/daemonctl/process"
)

// startLockHolder creates the pidfile at path, locks it, and starts a
// child that inherits the locked descriptor; this process then closes its
// own copy, so the child alone holds the lock, as a daemon does. The file's
// contents are left to the caller.
func startLockHolder(t testing.TB, path string) (pid int, f *File) {
	t.Helper()
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := startSleeper(t, f.OSFile())
	f.Close()
	return cmd.Process.Pid, f
}

func writePID(t *testing.T, path string, pid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func inspect(t *testing.T, path string) State {
	t.Helper()
	st, err := Inspect(path)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", path, err)
	}
	return st
}

func TestInspectNotRunning(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		filepath.Join(dir, "missing.pid"),
		filepath.Join(dir, "no", "such", "dir", "web.pid"),
	} {
		st := inspect(t, path)
		if st.Status != NotRunning || st.PID != 0 || st.Path != path {
			t.Errorf("Inspect(%s) = %+v, want NotRunning with no pid", path, st)
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Inspect created %s", path)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "no")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Inspect created a directory")
	}
}

func TestInspectRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	pid, _ := startLockHolder(t, path)
	writePID(t, path, pid)
	before := takeSnapshot(t, path)

	st := inspect(t, path)
	if st.Status != Running || st.PID != pid {
		t.Fatalf("Inspect = %v pid %d, want running pid %d", st.Status, st.PID, pid)
	}
	if st.Process.PID != pid || st.Process.PPID != os.Getpid() || len(st.Process.Command) == 0 || st.Process.Command[0] != "sleep" {
		t.Errorf("Process = %+v, want the sleep child of this test", st.Process)
	}
	if st.ID != before.id {
		t.Errorf("ID = %+v, want the file's %+v", st.ID, before.id)
	}
	if !st.Written.Equal(before.mtime) {
		t.Errorf("Written = %v, want the mtime %v", st.Written, before.mtime)
	}
	if !st.HeldBy(pid) || st.HeldBy(os.Getpid()) {
		t.Errorf("HeldBy(child) = %v, HeldBy(self) = %v; want true, false", st.HeldBy(pid), st.HeldBy(os.Getpid()))
	}
	if locked, err := Locked(path, st.ID); !locked || err != nil {
		t.Errorf("Locked = %v, %v; want true", locked, err)
	}
	// A start now must leave the running daemon's file alone.
	_, err := Acquire(path)
	var pe *PIDError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &pe) || pe.PID != pid {
		t.Errorf("Acquire: %v, want ErrLocked naming pid %d", err, pid)
	}
	assertUntouched(t, path, before)
}

func TestInspectStarting(t *testing.T) {
	// Locked, nothing written yet: a launcher between its lock and its
	// WritePID.
	path := filepath.Join(t.TempDir(), "web.pid")
	startLockHolder(t, path)
	st := inspect(t, path)
	if st.Status != Starting || st.PID != 0 {
		t.Errorf("Inspect = %+v, want Starting", st)
	}
}

func TestInspectStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	dead := reapedPID(t)
	writePID(t, path, dead)
	before := takeSnapshot(t, path)
	st := inspect(t, path)
	if st.Status != Stale || st.PID != dead || st.Reused {
		t.Errorf("Inspect = %+v, want Stale pid %d, not reused", st, dead)
	}
	assertUntouched(t, path, before)
	// A stale file does not stand in a start's way.
	f, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire over a stale pidfile: %v", err)
	}
	f.Close()
}

func TestInspectStaleReused(t *testing.T) {
	// The file is an hour old; the process now bearing its PID started
	// just now, so it cannot be the daemon that wrote it.
	path := filepath.Join(t.TempDir(), "web.pid")
	other := startSleeper(t).Process.Pid
	writeOld(t, path, strconv.Itoa(other)+"\n")
	before := takeSnapshot(t, path)
	st := inspect(t, path)
	if st.Status != Stale || st.PID != other || !st.Reused {
		t.Errorf("Inspect = %+v, want Stale pid %d, reused", st, other)
	}
	assertUntouched(t, path, before)

	f, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire over a reused pid's pidfile: %v", err)
	}
	f.Close()
	if removed, err := RemoveStale(path); !removed || err != nil {
		t.Errorf("RemoveStale = %v, %v; want true, nil", removed, err)
	}
	if !process.Alive(other) {
		t.Error("the process that reused the pid died")
	}
}

func TestInspectRunningUnlocked(t *testing.T) {
	// The daemon started, the file was written after it, and it closed the
	// lock descriptor (sshd -D, dnsmasq): alive, unlocked, and ours.
	path := filepath.Join(t.TempDir(), "web.pid")
	pid := startSleeper(t).Process.Pid
	writePID(t, path, pid)
	before := takeSnapshot(t, path)

	st := inspect(t, path)
	if st.Status != RunningUnlocked || st.PID != pid || st.Process.PID != pid {
		t.Errorf("Inspect = %+v, want RunningUnlocked pid %d", st, pid)
	}

	// A second start must not launch a second instance,
	_, err := Acquire(path)
	var pe *PIDError
	if !errors.Is(err, ErrRunningUnlocked) || !errors.As(err, &pe) || pe.PID != pid {
		t.Errorf("Acquire: %v, want ErrRunningUnlocked naming pid %d", err, pid)
	}
	// nor may its file be cleaned up as stale.
	removed, err := RemoveStale(path)
	if removed || !errors.Is(err, ErrRunningUnlocked) {
		t.Errorf("RemoveStale = %v, %v; want false, ErrRunningUnlocked", removed, err)
	}
	assertUntouched(t, path, before)
}

func TestInspectOrphaned(t *testing.T) {
	// The main process died; a child that inherited the lock lives on.
	path := filepath.Join(t.TempDir(), "web.pid")
	holder, _ := startLockHolder(t, path)
	dead := reapedPID(t)
	writePID(t, path, dead)
	st := inspect(t, path)
	if st.Status != Orphaned || st.PID != dead {
		t.Fatalf("Inspect = %+v, want Orphaned naming pid %d", st, dead)
	}
	if !slices.Equal(st.Holders, []int{holder}) {
		t.Errorf("Holders = %v, want [%d]", st.Holders, holder)
	}
	if removed, err := RemoveStale(path); removed || !errors.Is(err, ErrLocked) {
		t.Errorf("RemoveStale = %v, %v; want false, ErrLocked", removed, err)
	}
}

func TestInspectOrphanedLiveStranger(t *testing.T) {
	// The PID in the file is alive but is not among the holders (this
	// test process, which closed its copy): still orphaned, never running.
	path := filepath.Join(t.TempDir(), "web.pid")
	holder, _ := startLockHolder(t, path)
	writePID(t, path, os.Getpid())
	st := inspect(t, path)
	if st.Status != Orphaned || !slices.Equal(st.Holders, []int{holder}) {
		t.Errorf("Inspect = %+v, want Orphaned held by [%d]", st, holder)
	}
}

func TestInspectGarbage(t *testing.T) {
	dir := t.TempDir()
	for i, contents := range []string{"abc", "-1", "0", "1\n", "12 34\n", "99999999999", "\x00\xff"} {
		path := filepath.Join(dir, "garbage"+strconv.Itoa(i)+".pid")
		writeOld(t, path, contents)
		before := takeSnapshot(t, path)
		if st, err := Inspect(path); !errors.Is(err, ErrInvalid) {
			t.Errorf("Inspect(%q) = %v, %v; want ErrInvalid", contents, st.Status, err)
		}
		assertUntouched(t, path, before)
	}
	// Garbage under a held lock is no less garbage (and not Starting).
	path := filepath.Join(dir, "locked-garbage.pid")
	writeOld(t, path, "")
	lockElsewhere(t, path)
	if err := os.WriteFile(path, []byte("oops"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := Inspect(path); !errors.Is(err, ErrInvalid) {
		t.Errorf("Inspect(locked garbage) = %v, %v; want ErrInvalid", st.Status, err)
	}
}

func TestInspectHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.pid")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(10 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Inspect(path)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Inspect(10 MB file) = %v, want ErrInvalid", err)
	}
	if len(err.Error()) > 200 {
		t.Errorf("error is %d bytes long", len(err.Error()))
	}
}

func TestInspectSettlesOnWrite(t *testing.T) {
	// A start in progress: locked and empty. Once the PID is written the
	// next Inspect sees Running, not Starting.
	path := filepath.Join(t.TempDir(), "web.pid")
	pid, _ := startLockHolder(t, path)
	if st := inspect(t, path); st.Status != Starting {
		t.Fatalf("before write: %v, want starting", st.Status)
	}
	writePID(t, path, pid)
	if st := inspect(t, path); st.Status != Running || st.PID != pid {
		t.Errorf("after write: %v pid %d, want running pid %d", st.Status, st.PID, pid)
	}
}

func TestStatusString(t *testing.T) {
	for st, want := range map[Status]string{
		NotRunning: "not running", Running: "running", Starting: "starting",
		Stale: "dead", RunningUnlocked: "running unlocked", Orphaned: "orphaned", Status(42): "status(42)",
	} {
		if got := st.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", int(st), got, want)
		}
	}
}

func BenchmarkInspectRunning(b *testing.B) {
	path := filepath.Join(b.TempDir(), "web.pid")
	pid, _ := startLockHolder(b, path)
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		st, err := Inspect(path)
		if err != nil || st.Status != Running {
			b.Fatalf("Inspect = %v, %v", st.Status, err)
		}
	}
}
