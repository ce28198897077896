package pidfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"

	"github.com/daemonctl/daemonctl/internal/proctest"
)

// snapshot is what a failed operation must leave exactly as it was.
type snapshot struct {
	contents string
	mtime    time.Time
	mode     fs.FileMode
	id       process.FileID
}

func takeSnapshot(t *testing.T, path string) snapshot {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{contents: string(b), mtime: st.ModTime(), mode: st.Mode(), id: fileID(t, path)}
}

func assertUntouched(t *testing.T, path string, before snapshot) {
	t.Helper()
	after := takeSnapshot(t, path)
	if after != before {
		t.Errorf("%s changed: before %+v, after %+v", path, before, after)
	}
}

func fileID(t *testing.T, path string) process.FileID {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}
}

// writeOld writes contents to path and backdates it an hour, so that any
// write, however quick, shows in the mtime.
func writeOld(t *testing.T, path, contents string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(contents), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

// lockElsewhere opens path as a separate open file description and takes
// its exclusive flock, as another process would; flock locks belong to the
// open file description, so this conflicts with any other open of the file
// in this process too.
func lockElsewhere(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatalf("flock %s: %v", path, err)
	}
	return f
}

// foreignLock makes another process (flock(1)) open path itself and take
// a lock on it, as any user who can read the file can; it returns that
// process's PID, the lock's taker. The process is killed when the test
// ends.
func foreignLock(t testing.TB, path string, shared bool) int {
	t.Helper()
	mode := "-x"
	if shared {
		mode = "-s"
	}
	cmd := exec.Command("flock", mode, "-n", path, "sh", "-c", "echo locked; exec sleep 100")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make([]byte, 7)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "locked\n" {
		t.Fatalf("flock %s: %q, %v", path, line, err)
	}
	return cmd.Process.Pid
}

// startDaemon does what daemonctl's launcher stage does: it acquires the
// pidfile, starts a child (sleep) that inherits the read-only lock
// descriptor, commits the child's PID and lets go of its own copy. With
// inherit unset the child does not get the lock: a daemon that closed its
// inherited descriptors.
func startDaemon(t testing.TB, path string, inherit bool) *exec.Cmd {
	t.Helper()
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	var files []*os.File
	if inherit {
		files = append(files, f.LockFile())
	}
	cmd := startSleeper(t, files...)
	if err := f.Commit(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return cmd
}

// startSleeper starts a child that waits (cat, confirmed running; see
// proctest.Cat), inheriting files as descriptors 3, 4, ...; it is killed
// (through its pidfd, never by name) and reaped when the test ends.
func startSleeper(t testing.TB, files ...*os.File) *exec.Cmd {
	t.Helper()
	return proctest.Cat(t, files, "cat")
}

func inspect(t *testing.T, path string) State {
	t.Helper()
	st, err := Inspect(path)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", path, err)
	}
	return st
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAcquireCommitRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path() != path {
		t.Errorf("Path() = %q, want %q", f.Path(), path)
	}
	if got := readFile(t, path); got != "" {
		t.Errorf("a new pidfile holds %q before Commit", got)
	}
	// The lock is on a read-only descriptor: the one a daemon inherits,
	// through which it cannot rewrite the file.
	if flags, err := unix.FcntlInt(f.LockFile().Fd(), unix.F_GETFL, 0); err != nil || flags&unix.O_ACCMODE != unix.O_RDONLY {
		t.Errorf("lock descriptor flags = %#o, %v; want read-only", flags, err)
	}
	if _, err := f.LockFile().Write([]byte("1\n")); err == nil {
		t.Error("wrote through the lock descriptor")
	}
	// Until Commit, another start waits for this one; a start in
	// progress reads as Starting.
	if st := inspect(t, path); st.Status != Starting {
		t.Errorf("before Commit: %v, want starting", st.Status)
	}
	child := startSleeper(t, f.LockFile())
	if err := f.Commit(child.Process.Pid); err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(child.Process.Pid) + "\n"
	if got := readFile(t, path); got != want {
		t.Errorf("contents = %q, want %q", got, want)
	}
	if _, err := os.Lstat(startLockPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("start lock left after Commit: %v", err)
	}
	// The lock is held: a second start is refused as "running" and names
	// the PID.
	_, err = Acquire(path)
	var busy *BusyError
	if !errors.Is(err, ErrRunning) || !errors.As(err, &busy) || busy.State.PID != child.Process.Pid {
		t.Fatalf("second Acquire: %v, want ErrRunning naming pid %d", err, child.Process.Pid)
	}
	if err := f.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pidfile still there after Release: %v", err)
	}
}

func TestAcquireOwnPIDInFile(t *testing.T) {
	// A pidfile naming this very process, without a record, written by
	// someone and left unlocked: nobody can vouch that it is the daemon,
	// so no start may take the file.
	path := filepath.Join(t.TempDir(), "self.pid")
	writeOld(t, path, strconv.Itoa(os.Getpid())+"\n")
	before := takeSnapshot(t, path)
	if _, err := Acquire(path); !errors.Is(err, ErrUnverified) {
		t.Fatalf("Acquire: %v, want ErrUnverified", err)
	}
	assertUntouched(t, path, before)
}

func TestAcquireNewFileMode(t *testing.T) {
	// Not parallel: the umask is the whole process's.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "mode.pid")
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("new pidfile with umask 0 has mode %v, want 0644", st.Mode().Perm())
	}
}

func TestAcquireLockedTouchesNothing(t *testing.T) {
	// go-daemon's bug: the second start, losing the race, deleted (or
	// truncated) the running daemon's pidfile.
	path := filepath.Join(t.TempDir(), "busy.pid")
	daemon := startDaemon(t, path, true)
	before := takeSnapshot(t, path)

	_, err := Acquire(path)
	var busy *BusyError
	if !errors.Is(err, ErrRunning) || !errors.Is(err, ErrLocked) || !errors.As(err, &busy) || busy.State.PID != daemon.Process.Pid {
		t.Errorf("Acquire: %v, want ErrRunning naming pid %d", err, daemon.Process.Pid)
	}
	assertUntouched(t, path, before)

	removed, err := RemoveStale(path)
	if removed || !errors.Is(err, ErrLocked) {
		t.Errorf("RemoveStale = %v, %v; want false, ErrLocked", removed, err)
	}
	assertUntouched(t, path, before)
}

func TestAcquireReplacesAForeignLock(t *testing.T) {
	// Anyone who can read the 0644 pidfile can flock it. Such a lock is
	// not the service's: it must not keep the service from starting.
	dir := t.TempDir()
	path := filepath.Join(dir, "web.pid")
	old := startDaemon(t, path, true)
	_ = old.Process.Kill()
	_ = old.Wait()
	oldID := fileID(t, path)
	for _, shared := range []bool{true, false} {
		locker := foreignLock(t, path, shared)
		// A shared lock lets Inspect's shared probe through; it is named
		// all the same.
		st := inspect(t, path)
		if st.Status != Stale || !slices.Equal(st.Foreign, []int{locker}) {
			t.Fatalf("Inspect = %v (foreign %v), want dead, with the lock of %d not the service's", st.Status, st.Foreign, locker)
		}
		f, err := Acquire(path)
		if err != nil {
			t.Fatalf("Acquire past a foreign lock: %v", err)
		}
		if id := fileID(t, path); id == oldID {
			t.Error("the foreign-locked file was not replaced")
		}
		child := startSleeper(t, f.LockFile())
		if err := f.Commit(child.Process.Pid); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if st := inspect(t, path); st.Status != Running || st.PID != child.Process.Pid {
			t.Errorf("after the replacing start: %v pid %d, want running pid %d", st.Status, st.PID, child.Process.Pid)
		}
		_ = child.Process.Kill()
		_ = child.Wait()
		oldID = fileID(t, path)
	}
	// Nothing but the pidfile is left in the directory.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only web.pid", entries)
	}
}

func TestAcquireWaitsForAnotherStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	first, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		f, err := Acquire(path)
		if err == nil {
			f.Close()
		}
		second <- err
	}()
	child := startSleeper(t, first.LockFile())
	select {
	case err := <-second:
		t.Fatalf("second Acquire returned %v while the first start had not committed", err)
	default:
	}
	if err := first.Commit(child.Process.Pid); err != nil {
		t.Fatal(err)
	}
	first.Close()
	if err := <-second; !errors.Is(err, ErrRunning) {
		t.Errorf("second Acquire: %v, want ErrRunning", err)
	}
}

func TestStartLockOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "web.pid")
	lock := startLockPath(path)
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(lock, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(path); !errors.Is(err, ErrStartLock) {
		t.Errorf("Acquire with another user's start lock: %v, want ErrStartLock", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Acquire created the pidfile: %v", err)
	}
}

func TestAcquireRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "passwd")
	writeOld(t, target, "root:x:0:0\n")
	before := takeSnapshot(t, target)
	link := filepath.Join(dir, "web.pid")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("Acquire(symlink): %v, want ErrSymlink", err)
	}
	if _, err := RemoveStale(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("RemoveStale(symlink): %v, want ErrSymlink", err)
	}
	if _, err := Inspect(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("Inspect(symlink): %v, want ErrSymlink", err)
	}
	assertUntouched(t, target, before)
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symlink itself was changed: %v, %v", st, err)
	}
}

func TestAcquireDanglingSymlinkCreatesNothing(t *testing.T) {
	// O_CREAT through a dangling link would create a file wherever it
	// points: the classic /tmp attack.
	dir := t.TempDir()
	target := filepath.Join(dir, "planted")
	link := filepath.Join(dir, "web.pid")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("Acquire(dangling symlink): %v, want ErrSymlink", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the symlink's target was created: %v", err)
	}
}

func TestAcquireRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "dir.pid")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.pid")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{sub, fifo, os.DevNull} {
		// A FIFO must be refused, not block the open waiting for a writer.
		if _, err := Acquire(path); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Acquire(%s): %v, want ErrNotRegular", path, err)
		}
		if _, err := RemoveStale(path); !errors.Is(err, ErrNotRegular) {
			t.Errorf("RemoveStale(%s): %v, want ErrNotRegular", path, err)
		}
		if _, err := Inspect(path); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Inspect(%s): %v, want ErrNotRegular", path, err)
		}
	}
	if st, err := os.Lstat(sub); err != nil || !st.IsDir() {
		t.Errorf("directory changed: %v, %v", st, err)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("FIFO changed: %v, %v", st, err)
	}
}

func TestAcquireRefusesHardLink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.pid")
	other := filepath.Join(dir, "shadow")
	writeOld(t, other, "4242\n")
	if err := os.Link(other, path); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, other)
	for _, p := range []string{path, other} {
		if _, err := Acquire(p); !errors.Is(err, ErrHardLink) {
			t.Errorf("Acquire(%s): %v, want ErrHardLink", p, err)
		}
		if _, err := RemoveStale(p); !errors.Is(err, ErrHardLink) {
			t.Errorf("RemoveStale(%s): %v, want ErrHardLink", p, err)
		}
	}
	assertUntouched(t, other, before)
	assertUntouched(t, path, before)
}

func TestAcquireMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "web")
	path := filepath.Join(dir, "web.pid")
	_, err := Acquire(path)
	if !errors.Is(err, ErrNoDirectory) {
		t.Fatalf("Acquire: %v, want ErrNoDirectory", err)
	}
	if _, serr := os.Stat(filepath.Dir(dir)); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("Acquire created a directory: %v", serr)
	}
	if removed, err := RemoveStale(path); removed || err != nil {
		t.Errorf("RemoveStale = %v, %v; want false, nil", removed, err)
	}
}

func TestAcquireUnsafeInWorldWritableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	const nobody = 65534
	dir := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o1777); err != nil { // like /tmp, past the umask
		t.Fatal(err)
	}
	planted := filepath.Join(dir, "planted.pid")
	writeOld(t, planted, "4242\n")
	if err := os.Chown(planted, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, planted)
	if _, err := Acquire(planted); !errors.Is(err, ErrUnsafe) {
		t.Errorf("Acquire(another user's file in a world-writable dir): %v, want ErrUnsafe", err)
	}
	if _, err := RemoveStale(planted); !errors.Is(err, ErrUnsafe) {
		t.Errorf("RemoveStale: %v, want ErrUnsafe", err)
	}
	assertUntouched(t, planted, before)

	// One's own file there is fine,
	mine := filepath.Join(dir, "mine.pid")
	f, err := Acquire(mine)
	if err != nil {
		t.Errorf("Acquire(own file in a world-writable dir): %v", err)
	} else {
		f.Release()
	}
	// and so is another user's (empty) file in a directory only we can
	// write.
	safeDir := t.TempDir()
	theirs := filepath.Join(safeDir, "theirs.pid")
	writeOld(t, theirs, "")
	if err := os.Chown(theirs, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if f, err := Acquire(theirs); err != nil {
		t.Errorf("Acquire(another user's file in a private dir): %v", err)
	} else {
		f.Close()
	}
}

func TestReleaseOnlyRemovesItsOwnInode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.pid")
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	// The file is renamed away and a new one takes its name (another
	// daemon's) before we release ours.
	moved := filepath.Join(dir, "web.pid.old")
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	writeOld(t, path, "777\n")
	before := takeSnapshot(t, path)
	if err := f.Release(); err != nil {
		t.Fatal(err)
	}
	assertUntouched(t, path, before)
	if got := readFile(t, moved); got != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("renamed file = %q, want it left alone", got)
	}
}

func TestCloseKeepsFileAndDropsLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	st := inspect(t, path)
	if held, err := st.LockHeld(); !held || err != nil {
		t.Errorf("LockHeld while held = %v, %v; want true", held, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("contents after Close = %q", got)
	}
	if held, err := st.LockHeld(); held || err != nil {
		t.Errorf("LockHeld after Close = %v, %v; want false", held, err)
	}
}

func TestLockHeldFollowsTheInode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.pid")
	startDaemon(t, path, true)
	st := inspect(t, path)
	// The held file is renamed away; the path now names a new, unlocked file.
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	if held, err := st.LockHeld(); held || err != nil {
		t.Errorf("LockHeld(renamed away) = %v, %v; want false", held, err)
	}
	writeOld(t, path, "")
	if held, err := st.LockHeld(); held || err != nil {
		t.Errorf("LockHeld(replaced) = %v, %v; want false", held, err)
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.pid")
	if removed, err := RemoveStale(missing); removed || err != nil {
		t.Errorf("RemoveStale(missing) = %v, %v; want false, nil", removed, err)
	}
	if _, err := os.Lstat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RemoveStale created %s", missing)
	}

	dead := filepath.Join(dir, "dead.pid")
	daemon := startDaemon(t, dead, true)
	_ = daemon.Process.Kill()
	_ = daemon.Wait()
	if removed, err := RemoveStale(dead); !removed || err != nil {
		t.Errorf("RemoveStale(dead pid) = %v, %v; want true, nil", removed, err)
	}
	if _, err := os.Lstat(dead); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale pidfile still there: %v", err)
	}

	// Unlocked garbage names no process to protect.
	garbage := filepath.Join(dir, "garbage.pid")
	writeOld(t, garbage, "-1\n")
	if removed, err := RemoveStale(garbage); !removed || err != nil {
		t.Errorf("RemoveStale(garbage) = %v, %v; want true, nil", removed, err)
	}
}

func TestAdopt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	writeOld(t, path, "")
	held := lockElsewhere(t, path)
	// The launcher passes its locked descriptor on; a dup shares its open
	// file description, and so its lock.
	fd, err := unix.Dup(int(held.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Adopt(uintptr(fd), path)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("Adopt: %v", err)
	}
	defer f.Close()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("adopted descriptor flags = %#x, %v; want close-on-exec", flags, err)
	}
	if err := f.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Release left the file: %v", err)
	}
}

func TestAdoptRefusesAnotherFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.pid")
	writeOld(t, path, "")
	other, err := os.Create(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	fd, err := unix.Dup(int(other.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Adopt(uintptr(fd), path); err == nil {
		f.Close()
		t.Fatal("Adopt accepted a descriptor on another file")
	}
}

func TestAdoptRefusesLockHeldElsewhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	writeOld(t, path, "")
	lockElsewhere(t, path)
	mine, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Dup(int(mine.Fd()))
	mine.Close()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Adopt(uintptr(fd), path); !errors.Is(err, ErrLocked) {
		if err == nil {
			f.Close()
		}
		t.Fatalf("Adopt: %v, want ErrLocked", err)
	}
}

func TestAdoptClosedDescriptor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	writeOld(t, path, "")
	fd, err := unix.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if f, err := Adopt(uintptr(fd), path); err == nil {
		f.Close()
		t.Fatal("Adopt accepted a closed descriptor")
	}
	// The number is handed out again, to a file that is not Adopt's to
	// close: nothing Adopt left behind may close it when collected.
	reused, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer reused.Close()
	if reused.Fd() != uintptr(fd) {
		if err := unix.Dup2(int(reused.Fd()), fd); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
	}
	for range 3 {
		// Finalizers queued by one collection run before those of a later
		// one: once the sentinel's has run, any *os.File's has too.
		done := make(chan struct{})
		sentinel := new([16]byte)
		runtime.SetFinalizer(sentinel, func(*[16]byte) { close(done) })
		sentinel = nil
		runtime.GC()
		<-done
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatalf("descriptor %d, reused after a failed Adopt, was closed behind our back: %v", fd, err)
	}
}

func BenchmarkAcquireCommitRelease(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.pid")
	for b.Loop() {
		f, err := Acquire(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Commit(os.Getpid()); err != nil {
			b.Fatal(err)
		}
		if err := f.Release(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReadTrusted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cron.pid")
	writeOld(t, path, "4242\n")
	if pid, err := ReadTrusted(path); pid != 4242 || err != nil {
		t.Errorf("ReadTrusted(own file) = %d, %v; want 4242", pid, err)
	}
	if err := os.Chmod(path, 0o664); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTrusted(path); !errors.Is(err, ErrUntrusted) {
		t.Errorf("ReadTrusted(group-writable) = %v, want ErrUntrusted", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTrusted(path); !errors.Is(err, ErrUntrusted) {
		t.Errorf("ReadTrusted(in a directory others may write) = %v, want ErrUntrusted", err)
	}
	if _, err := ReadTrusted(filepath.Join(dir, "missing.pid")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadTrusted(missing) = %v, want fs.ErrNotExist", err)
	}
}

// TestReadConfined: a pidfile one service user could have written names
// that user, and any doubt about who wrote it refuses it.
func TestReadConfined(t *testing.T) {
	const nobody, daemon = 65534, 1
	dir := t.TempDir()
	path := filepath.Join(dir, "redis.pid")
	writeOld(t, path, "4242\n")
	if pid, uid, err := ReadConfined(path); pid != 4242 || uid != -1 || err != nil {
		t.Errorf("ReadConfined(own file) = %d, %d, %v; want 4242, -1", pid, uid, err)
	}
	for _, c := range []struct {
		name   string
		mode   os.FileMode
		dirMod os.FileMode
		want   error
	}{
		{"group-writable", 0o664, 0o755, ErrUntrusted},
		{"world-writable", 0o646, 0o755, ErrUntrusted},
		{"directory writable by others", 0o644, 0o777, ErrUntrusted},
		{"directory writable by its group", 0o644, 0o775, ErrUntrusted},
	} {
		if err := os.Chmod(path, c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, c.dirMod); err != nil {
			t.Fatal(err)
		}
		if pid, _, err := ReadConfined(path); !errors.Is(err, c.want) || pid != 0 {
			t.Errorf("ReadConfined(%s) = %d, %v; want 0, %v", c.name, pid, err, c.want)
		}
	}
	mustChmod(t, path, 0o644)
	mustChmod(t, dir, 0o755)
	link := filepath.Join(dir, "link.pid")
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadConfined(path); !errors.Is(err, ErrUntrusted) {
		t.Errorf("ReadConfined(hard link) = %v, want ErrUntrusted", err)
	}
	os.Remove(link)
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadConfined(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("ReadConfined(symlink) = %v, want ErrSymlink", err)
	}
	empty := filepath.Join(dir, "empty.pid")
	writeOld(t, empty, "")
	if _, _, err := ReadConfined(empty); !errors.Is(err, ErrInvalid) {
		t.Errorf("ReadConfined(empty) = %v, want ErrInvalid", err)
	}
	if _, _, err := ReadConfined(filepath.Join(dir, "missing.pid")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadConfined(missing) = %v, want fs.ErrNotExist", err)
	}

	if os.Geteuid() != 0 {
		t.Skip("the cases of files other users own need root (chown)")
	}
	// The service's user owns the file (redis-server's init script chowns
	// it), its directory, or both: that user is named.
	for _, c := range []struct {
		name            string
		fileUID, dirUID int
		dirMode         os.FileMode
		want            int
	}{
		{"file of the service user", nobody, 0, 0o755, nobody},
		{"directory of the service user", 0, nobody, 0o755, nobody},
		{"both the service user's", nobody, nobody, 0o755, nobody},
		{"file of the service user in a sticky shared directory", nobody, 0, os.ModeSticky | 0o777, nobody},
	} {
		mustChown(t, path, c.fileUID)
		mustChown(t, dir, c.dirUID)
		mustChmod(t, dir, c.dirMode)
		if pid, uid, err := ReadConfined(path); pid != 4242 || uid != c.want || err != nil {
			t.Errorf("ReadConfined(%s) = %d, %d, %v; want 4242, %d", c.name, pid, uid, err, c.want)
		}
	}
	// Two users could have written it: nobody can be named.
	mustChown(t, path, nobody)
	mustChown(t, dir, daemon)
	mustChmod(t, dir, 0o755)
	if _, _, err := ReadConfined(path); !errors.Is(err, ErrUntrusted) {
		t.Errorf("ReadConfined(file and directory of two users) = %v, want ErrUntrusted", err)
	}
	mustChown(t, dir, 0)
}

// TestRecorded: only a file from daemonctl's own start, with a record
// nobody else could have written, counts as recorded.
func TestRecorded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.pid")
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !Recorded(path) {
		t.Errorf("Recorded(daemonctl's own start) = false")
	}
	plain := filepath.Join(dir, "cron.pid")
	writeOld(t, plain, "4242\n")
	if Recorded(plain) {
		t.Errorf("Recorded(a file the program wrote) = true")
	}
	if Recorded(filepath.Join(dir, "missing.pid")) {
		t.Errorf("Recorded(missing) = true")
	}
	if os.Geteuid() == 0 {
		// A record in a file another user owns could be that user's.
		mustChown(t, path, 65534)
		if Recorded(path) {
			t.Errorf("Recorded(another user's file) = true")
		}
	}
}

func mustChmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func mustChown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Chown(path, uid, -1); err != nil {
		t.Fatal(err)
	}
}
