package pidfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
)

func writePID(t *testing.T, path string, pid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// setRecord replaces path's record with what change makes of it, as only
// root or the file's owner could.
func setRecord(t *testing.T, path string, change func(*Record)) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := readRecord(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	change(&rec)
	if err := writeRecord(int(f.Fd()), rec); err != nil {
		t.Fatal(err)
	}
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
	daemon := startDaemon(t, path, true)
	pid := daemon.Process.Pid
	before := takeSnapshot(t, path)

	st := inspect(t, path)
	if st.Status != Running || st.PID != pid || st.Unlocked {
		t.Fatalf("Inspect = %v pid %d unlocked %v, want running pid %d, locked", st.Status, st.PID, st.Unlocked, pid)
	}
	if st.Process.PID != pid || st.Process.PPID != os.Getpid() || len(st.Process.Command) == 0 || st.Process.Command[0] != "cat" {
		t.Errorf("Process = %+v, want the cat child of this test", st.Process)
	}
	if st.Record == nil || st.Record.PID != pid || st.Record.Stage != os.Getpid() {
		t.Errorf("Record = %+v, want pid %d taken by this test", st.Record, pid)
	}
	if st.ID != before.id {
		t.Errorf("ID = %+v, want the file's %+v", st.ID, before.id)
	}
	if !st.Written.Equal(before.mtime) {
		t.Errorf("Written = %v, want the mtime %v", st.Written, before.mtime)
	}
	if !st.Owns(pid, -1) || st.Owns(os.Getpid(), -1) {
		t.Errorf("Owns(daemon) = %v, Owns(self) = %v; want true, false", st.Owns(pid, -1), st.Owns(os.Getpid(), -1))
	}
	if held, err := st.LockHeld(); !held || err != nil {
		t.Errorf("LockHeld = %v, %v; want true", held, err)
	}
	// With --exec: the daemon runs cat, not true.
	if st, _ := Inspect(path, WithExec(daemon.Path)); st.Status != Running {
		t.Errorf("Inspect(WithExec(%s)) = %v, want running", daemon.Path, st.Status)
	}
	if st, _ := Inspect(path, WithExec("/bin/true")); st.Status != Unverified {
		t.Errorf("Inspect(WithExec(/bin/true)) = %v, want unverified", st.Status)
	}
	assertUntouched(t, path, before)
}

func TestInspectStarting(t *testing.T) {
	// Locked, nothing written yet: a launcher between its lock and its
	// Commit.
	path := filepath.Join(t.TempDir(), "web.pid")
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st := inspect(t, path)
	if st.Status != Starting || st.PID != 0 {
		t.Errorf("Inspect = %+v, want Starting", st)
	}
}

func TestInspectStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	daemon := startDaemon(t, path, true)
	_ = daemon.Process.Kill()
	_ = daemon.Wait()
	before := takeSnapshot(t, path)
	st := inspect(t, path)
	if st.Status != Stale || st.PID != daemon.Process.Pid || st.Reused {
		t.Errorf("Inspect = %+v, want Stale pid %d, not reused", st, daemon.Process.Pid)
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
	// The record names the daemon exactly; the process now bearing its PID
	// is another one (here: the record's start time is one tick off, as
	// for a PID reused one tick after the daemon died).
	path := filepath.Join(t.TempDir(), "web.pid")
	other := startDaemon(t, path, false)
	setRecord(t, path, func(r *Record) { r.Start--; r.ProcID = 0 })
	before := takeSnapshot(t, path)
	st := inspect(t, path)
	if st.Status != Stale || st.PID != other.Process.Pid || !st.Reused {
		t.Errorf("Inspect = %+v, want Stale pid %d, reused", st, other.Process.Pid)
	}
	if st.Owns(other.Process.Pid, -1) {
		t.Error("Owns(the process that reused the pid) = true")
	}
	assertUntouched(t, path, before)

	// The same with the pidfd inode: exact, even within one tick.
	setRecord(t, path, func(r *Record) { r.Start++; r.ProcID++ })
	if st := inspect(t, path); st.Status != Stale || !st.Reused {
		if st.Record == nil || st.Record.ProcID != 1 {
			t.Errorf("Inspect with another process's pidfd inode = %+v, want Stale, reused", st)
		}
	}

	f, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire over a reused pid's pidfile: %v", err)
	}
	f.Close()
	if removed, err := RemoveStale(path); !removed || err != nil {
		t.Errorf("RemoveStale = %v, %v; want true, nil", removed, err)
	}
	if !process.Alive(other.Process.Pid) {
		t.Error("the process that reused the pid died")
	}
}

func TestInspectRunningUnlocked(t *testing.T) {
	// The daemon closed the lock descriptor (sshd -D, dnsmasq): the record
	// proves it is the process the start forked, so it is running.
	path := filepath.Join(t.TempDir(), "web.pid")
	daemon := startDaemon(t, path, false)
	pid := daemon.Process.Pid
	before := takeSnapshot(t, path)

	st := inspect(t, path)
	if st.Status != Running || !st.Unlocked || st.PID != pid || st.Process.PID != pid {
		t.Errorf("Inspect = %+v, want Running, unlocked, pid %d", st, pid)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if !st.Owns(pid, fd) {
		t.Error("Owns(daemon, its pidfd) = false")
	}
	if st, _ := Inspect(path, WithProgram(daemon.Path)); st.Status != Running {
		t.Errorf("Inspect(WithProgram(cat)) = %v, want running", st.Status)
	}
	if st, _ := Inspect(path, WithProgram("/bin/true")); st.Status != Unverified {
		t.Errorf("Inspect(WithProgram(/bin/true)) = %v, want unverified", st.Status)
	}

	// A second start must not launch a second instance,
	_, err = Acquire(path)
	var busy *BusyError
	if !errors.Is(err, ErrRunning) || !errors.As(err, &busy) || busy.State.PID != pid {
		t.Errorf("Acquire: %v, want ErrRunning naming pid %d", err, pid)
	}
	// nor may its file be cleaned up as stale.
	removed, err := RemoveStale(path)
	if removed || !errors.Is(err, ErrRunning) {
		t.Errorf("RemoveStale = %v, %v; want false, ErrRunning", removed, err)
	}
	assertUntouched(t, path, before)
}

func TestInspectUnverified(t *testing.T) {
	// A live PID without the service's lock is believed only with a
	// record that vouches for it, on a file nobody else could have
	// written; otherwise it is Unverified, and neither started over nor
	// owned.
	live := startSleeper(t).Process.Pid
	cases := []struct {
		name  string
		setup func(t *testing.T, dir, path string)
		why   string
	}{
		{"no record", func(t *testing.T, dir, path string) {
			writePID(t, path, live)
		}, "no record"},
		{"rewritten", func(t *testing.T, dir, path string) {
			startDaemon(t, path, false)
			writePID(t, path, live)
		}, "it was rewritten"},
		{"group-writable", func(t *testing.T, dir, path string) {
			startDaemon(t, path, false)
			writePID(t, path, live)
			setRecord(t, path, func(r *Record) { r.PID = live })
			if err := os.Chmod(path, 0o664); err != nil {
				t.Fatal(err)
			}
		}, "writable by group or others"},
		{"directory writable by others", func(t *testing.T, dir, path string) {
			startDaemon(t, path, false)
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
		}, "writable by group or others"},
		{"moved from another name", func(t *testing.T, dir, path string) {
			other := filepath.Join(dir, "api.pid")
			startDaemon(t, other, false)
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}, "moved here"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "web.pid")
			c.setup(t, dir, path)
			before := takeSnapshot(t, path)
			st := inspect(t, path)
			if st.Status != Unverified || !strings.Contains(st.Why, c.why) {
				t.Errorf("Inspect = %v (%q), want unverified because %s", st.Status, st.Why, c.why)
			}
			if st.Owns(st.PID, -1) {
				t.Errorf("Owns(%d) = true", st.PID)
			}
			if _, err := Acquire(path); !errors.Is(err, ErrUnverified) {
				t.Errorf("Acquire: %v, want ErrUnverified", err)
			}
			if removed, err := RemoveStale(path); removed || !errors.Is(err, ErrUnverified) {
				t.Errorf("RemoveStale = %v, %v; want false, ErrUnverified", removed, err)
			}
			assertUntouched(t, path, before)
		})
	}
}

func TestInspectForeignLockIsNotTheService(t *testing.T) {
	// A reader flocks the file of a daemon that closed its descriptor: it
	// runs, and the reader's lock counts for nothing.
	path := filepath.Join(t.TempDir(), "web.pid")
	daemon := startDaemon(t, path, false)
	locker := foreignLock(t, path, false)
	st := inspect(t, path)
	if st.Status != Running || !st.Unlocked || st.PID != daemon.Process.Pid || !slices.Equal(st.Foreign, []int{locker}) {
		t.Errorf("Inspect = %+v, want Running unlocked pid %d, foreign lock of %d", st, daemon.Process.Pid, locker)
	}
	if st.Owns(locker, -1) {
		t.Error("Owns(the reader holding its own lock) = true")
	}
	if held, err := st.LockHeld(); held || err != nil {
		t.Errorf("LockHeld = %v, %v; want false (the reader's lock is not the service's)", held, err)
	}
}

func TestInspectOrphaned(t *testing.T) {
	// The main process died; a child that inherited the lock lives on.
	path := filepath.Join(t.TempDir(), "web.pid")
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	holder := startSleeper(t, f.LockFile())
	main := startSleeper(t)
	if err := f.Commit(main.Process.Pid); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_ = main.Process.Kill()
	_ = main.Wait()
	st := inspect(t, path)
	if st.Status != Orphaned || st.PID != main.Process.Pid {
		t.Fatalf("Inspect = %+v, want Orphaned naming pid %d", st, main.Process.Pid)
	}
	if !slices.Equal(st.Holders, []int{holder.Process.Pid}) {
		t.Errorf("Holders = %v, want [%d]", st.Holders, holder.Process.Pid)
	}
	if !st.Owns(holder.Process.Pid, -1) {
		t.Error("Owns(holder) = false")
	}
	if removed, err := RemoveStale(path); removed || !errors.Is(err, ErrLocked) {
		t.Errorf("RemoveStale = %v, %v; want false, ErrLocked", removed, err)
	}
	if _, err := Acquire(path); !errors.Is(err, ErrOrphaned) {
		t.Errorf("Acquire: %v, want ErrOrphaned", err)
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

func TestStatusString(t *testing.T) {
	for st, want := range map[Status]string{
		NotRunning: "stopped", Running: "running", Starting: "starting",
		Stale: "dead", Orphaned: "orphaned", Unverified: "unverified", Status(42): "status(42)",
	} {
		if got := st.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", int(st), got, want)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	r := Record{PID: 4242, Start: 123456, ProcID: 99, Stage: 4241, StageStart: 123450, Boot: "3f0c", Dir: process.FileID{Dev: 2049, Ino: 77}, Name: "w\xffb .pid"}
	got, err := parseRecord(r.encode())
	if err != nil || got != r {
		t.Fatalf("parseRecord(encode(%+v)) = %+v, %v", r, got, err)
	}
	for _, bad := range []string{"", "daemonctl/2 pid=1", "daemonctl/1 pid=1", string(r.encode()) + " pid=5", string(r.encode())[:40]} {
		if _, err := parseRecord([]byte(bad)); !errors.Is(err, ErrRecord) {
			t.Errorf("parseRecord(%q) = %v, want ErrRecord", bad, err)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add(Record{PID: 4242, Start: 1, Stage: 4241, Name: "web.pid"}.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRecord(b)
		if err != nil {
			return
		}
		again, err := parseRecord(r.encode())
		if err != nil || again != r {
			t.Errorf("record %+v does not survive encode: %+v, %v", r, again, err)
		}
	})
}

func BenchmarkInspectRunning(b *testing.B) {
	path := filepath.Join(b.TempDir(), "web.pid")
	startDaemon(b, path, true)
	for b.Loop() {
		st, err := Inspect(path)
		if err != nil || st.Status != Running {
			b.Fatalf("Inspect = %v, %v", st.Status, err)
		}
	}
}
