package pidfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// superviseHere makes this test process the supervisor of path: it takes
// the lock, gets a Publisher and commits its own PID, as the launcher
// stage does in supervise mode.
func superviseHere(t *testing.T, path string) (*File, *Publisher) {
	t.Helper()
	f, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := f.Publisher()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(); f.Close() })
	if err := f.Commit(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	return f, pub
}

func TestSupervisionLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	f, pub := superviseHere(t, path)
	if _, err := inspect(t, path).Supervision(); !errors.Is(err, ErrNoRecord) {
		t.Errorf("Supervision before Publish: %v, want ErrNoRecord", err)
	}
	for _, body := range []string{"state=starting", "state=running pid=42"} {
		if err := pub.Publish([]byte(body)); err != nil {
			t.Fatal(err)
		}
		st := inspect(t, path)
		sup, err := st.Supervision()
		if err != nil {
			t.Fatalf("Supervision: %v", err)
		}
		if string(sup.Body) != body || !sup.Live || sup.Supervisor != os.Getpid() {
			t.Errorf("Supervision = %q live %v supervisor %d; want %q, live, %d", sup.Body, sup.Live, sup.Supervisor, body, os.Getpid())
		}
	}
	if readFile(t, path) != strings.TrimSpace(readFile(t, path))+"\n" {
		t.Errorf("the pidfile's contents changed: %q", readFile(t, path))
	}
	// The supervisor lets go while its program holds the lock: the state is
	// its last word, no longer live.
	prog := startSleeper(t, f.LockFile())
	f.Close()
	st := inspect(t, path)
	if st.Status != Orphaned {
		t.Fatalf("Inspect = %v, want orphaned (the program holds the lock)", st.Status)
	}
	sup, err := st.Supervision()
	if err != nil || sup.Live || string(sup.Body) != "state=running pid=42" {
		t.Errorf("Supervision after the supervisor let go = %q live %v, %v; want the last body, not live", sup.Body, sup.Live, err)
	}
	_ = prog.Process.Kill()
	_ = prog.Wait()
	// This test process, the "supervisor", lives on without the lock: its
	// record vouches for it (Running, Unlocked), but a supervisor is live
	// only while it holds the service's lock.
	st = inspect(t, path)
	if sup, err := st.Supervision(); err != nil || sup.Live {
		t.Errorf("Supervision with the lock free (%v, unlocked %v) = live %v, %v; want not live", st.Status, st.Unlocked, sup.Live, err)
	}
}

func TestSupervisionOfAnotherStartIsNotBelieved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	_, pub := superviseHere(t, path)
	if err := pub.Publish([]byte("state=failed")); err != nil {
		t.Fatal(err)
	}
	// An earlier supervisor's state: the header names another stage.
	setSupervisionHead(t, path, "daemonctl-state/1 stage=12345 stagestart=1\n")
	if _, err := inspect(t, path).Supervision(); !errors.Is(err, ErrNoRecord) {
		t.Errorf("Supervision of another stage: %v, want ErrNoRecord", err)
	}
	for _, head := range []string{"", "garbage\n", "daemonctl-state/2 stage=1 stagestart=1\n", "daemonctl-state/1 stage=x stagestart=1\n", "daemonctl-state/1 stagestart=1 stage=1\n"} {
		setSupervisionHead(t, path, head)
		if _, err := inspect(t, path).Supervision(); err == nil {
			t.Errorf("Supervision with header %q: nil error", head)
		}
	}
}

func TestSupervisionOfAnUnsupervisedStart(t *testing.T) {
	// A daemon started without supervision: the record names a daemon
	// other than the stage; whatever state attribute the file carries
	// belongs to nobody.
	path := filepath.Join(t.TempDir(), "web.pid")
	startDaemon(t, path, true)
	setSupervisionHead(t, path, "daemonctl-state/1 stage=1 stagestart=1\n")
	if _, err := inspect(t, path).Supervision(); !errors.Is(err, ErrNoRecord) {
		t.Errorf("Supervision of an unsupervised daemon: %v, want ErrNoRecord", err)
	}
}

func TestPublishTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	_, pub := superviseHere(t, path)
	if err := pub.Publish([]byte("state=running")); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(make([]byte, maxSupervision)); err == nil {
		t.Error("Publish of an oversized state: nil error")
	}
	sup, err := inspect(t, path).Supervision()
	if err != nil || string(sup.Body) != "state=running" {
		t.Errorf("after a refused Publish: %q, %v; want the earlier state", sup.Body, err)
	}
}

func TestPublisherAfterCommit(t *testing.T) {
	f, err := Acquire(filepath.Join(t.TempDir(), "web.pid"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Commit(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Publisher(); err == nil {
		t.Error("Publisher after Commit: nil error")
	}
}

func TestPublisherIsCloseOnExec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pid")
	_, pub := superviseHere(t, path)
	flags, err := unix.FcntlInt(pub.file.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("Publisher descriptor flags %#x, %v: want close-on-exec", flags, err)
	}
	acc, err := unix.FcntlInt(pub.file.Fd(), unix.F_GETFL, 0)
	if err != nil || acc&unix.O_ACCMODE != unix.O_RDWR {
		t.Errorf("Publisher descriptor access %#x, %v: want read-write", acc, err)
	}
}

// setSupervisionHead replaces the header of path's published state, as
// only root or the file's owner could.
func setSupervisionHead(t *testing.T, path, head string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), supervisionAttr, []byte(head+"state=failed"), 0); err != nil {
		t.Fatal(err)
	}
}
