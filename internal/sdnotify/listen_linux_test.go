package sdnotify

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// send sends msg to the socket name with Send, the sending half.
func send(t *testing.T, name, msg string) {
	t.Helper()
	t.Setenv("NOTIFY_SOCKET", name)
	if ok, err := Send(false, msg); !ok || err != nil {
		t.Fatalf("Send(%q) to %s: %v, %v", msg, name, ok, err)
	}
}

func listenSocket(t *testing.T, path string, owner *Owner) *Socket {
	t.Helper()
	s, err := Listen(path, owner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestReceiveChecksTheSender(t *testing.T) {
	s := listenSocket(t, "", nil)
	if s.Name()[0] != '@' {
		t.Fatalf("Name = %q, want an abstract socket", s.Name())
	}
	var senders []int
	accept := func(pid int) bool { senders = append(senders, pid); return pid == os.Getpid() }
	send(t, s.Name(), "READY=1")
	msgs := s.Receive(accept)
	if len(msgs) != 1 || !msgs[0].Ready || len(senders) != 1 || senders[0] != os.Getpid() {
		t.Errorf("Receive = %+v from %v, want READY=1 from this process (%d)", msgs, senders, os.Getpid())
	}
	// A datagram whose sender accept refuses is dropped.
	reject := func(pid int) bool { return false }
	send(t, s.Name(), "READY=1")
	if msgs := s.Receive(reject); len(msgs) != 0 {
		t.Errorf("Receive with every sender refused = %+v", msgs)
	}
	// Nothing waiting: Receive returns at once.
	if msgs := s.Receive(accept); len(msgs) != 0 {
		t.Errorf("Receive on an empty socket = %+v", msgs)
	}
}

func TestReceiveDropsTruncated(t *testing.T) {
	s := listenSocket(t, "", nil)
	big := make([]byte, MaxDatagram+100)
	copy(big, "READY=1\n")
	send(t, s.Name(), string(big))
	send(t, s.Name(), "WATCHDOG=1")
	msgs := s.Receive(func(int) bool { return true })
	if len(msgs) != 1 || msgs[0].Ready || !msgs[0].Watchdog {
		t.Errorf("Receive = %+v, want only WATCHDOG=1 (the oversized datagram dropped whole)", msgs)
	}
}

func TestNextWaitsForAnAcceptedMessage(t *testing.T) {
	s := listenSocket(t, filepath.Join(t.TempDir(), "notify"), nil)
	got := make(chan []Message, 1)
	go func() {
		msgs, err := s.Next(func(pid int) bool { return pid == os.Getpid() })
		if err != nil {
			t.Error(err)
		}
		got <- msgs
	}()
	send(t, s.Name(), "STATUS=hello\nWATCHDOG=1")
	select {
	case msgs := <-got:
		if len(msgs) != 1 || msgs[0].Status != "hello" || !msgs[0].Watchdog {
			t.Errorf("Next = %+v", msgs)
		}
	case <-time.After(time.Minute):
		t.Fatal("Next never returned")
	}
	// Close wakes a waiting Next with an error.
	errc := make(chan error, 1)
	go func() { _, err := s.Next(func(int) bool { return true }); errc <- err }()
	s.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("Next after Close: nil error")
		}
	case <-time.After(time.Minute):
		t.Fatal("Next did not return after Close")
	}
	if _, err := os.Lstat(s.Name()); err == nil {
		t.Error("Close left the socket file")
	}
}

func TestListenPathTooLong(t *testing.T) {
	long := "/tmp/" + string(make([]byte, 200))
	if _, err := Listen(long, nil); err == nil {
		t.Error("Listen with a 205-byte path: nil error")
	}
}

func TestListenGivesTheSocketToOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a socket to another user needs root")
	}
	path := filepath.Join(t.TempDir(), "notify")
	listenSocket(t, path, &Owner{UID: 65534, GID: 65534})
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("socket owner %d:%d, want 65534:65534", st.Uid, st.Gid)
	}
}

func TestChownSocketRefusesAReplacement(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "notify")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := chownSocket(link, &Owner{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}); err == nil {
		t.Error("chownSocket followed a symbolic link")
	}
	if err := chownSocket(target, &Owner{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}); err == nil {
		t.Error("chownSocket changed a regular file")
	}
}
