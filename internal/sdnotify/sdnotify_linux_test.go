package sdnotify

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// listen binds a unix datagram socket at addr that receives the sender's
// credentials, as daemonctl's and systemd's listeners do.
func listen(t *testing.T, addr string) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: addr}); err != nil {
		t.Fatalf("bind %s: %v", addr, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		t.Fatal(err)
	}
	return fd
}

// received returns the datagram waiting on fd and its sender's
// credentials; ok is false when none waits. Send has queued its datagram
// by the time it returns, so nothing needs waiting for.
func received(t *testing.T, fd int) (msg string, cred *unix.Ucred, ok bool) {
	t.Helper()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_DONTWAIT)
	if errors.Is(err, unix.EAGAIN) {
		return "", nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v: want the sender's credentials", msgs, err)
	}
	cred, err = unix.ParseUnixCredentials(&msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n]), cred, true
}

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}

func TestSendWithoutSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := Send(true, Ready); sent || err != nil {
		t.Errorf("NOTIFY_SOCKET empty: Send = %v, %v; want false, nil", sent, err)
	}
	os.Unsetenv("NOTIFY_SOCKET")
	if sent, err := Send(false, Ready); sent || err != nil {
		t.Errorf("NOTIFY_SOCKET unset: Send = %v, %v; want false, nil", sent, err)
	}
}

func TestSendPath(t *testing.T) {
	addr := filepath.Join(t.TempDir(), "notify.sock")
	fd := listen(t, addr)
	t.Setenv("NOTIFY_SOCKET", addr)
	before := openFDs(t)

	const state = "READY=1\nSTATUS=serving"
	if sent, err := Send(false, state); !sent || err != nil {
		t.Fatalf("Send = %v, %v; want true, nil", sent, err)
	}
	msg, cred, ok := received(t, fd)
	if !ok || msg != state {
		t.Fatalf("received %q (%v), want %q in one datagram", msg, ok, state)
	}
	if int(cred.Pid) != os.Getpid() || int(cred.Uid) != os.Getuid() {
		t.Errorf("sender credentials pid %d uid %d, want %d %d", cred.Pid, cred.Uid, os.Getpid(), os.Getuid())
	}
	if got := os.Getenv("NOTIFY_SOCKET"); got != addr {
		t.Errorf("without unsetEnv NOTIFY_SOCKET became %q, want it kept", got)
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d descriptors open after Send, %d before: the socket leaked", after, before)
	}
}

func TestSendUnsetsEnvironment(t *testing.T) {
	addr := filepath.Join(t.TempDir(), "notify.sock")
	fd := listen(t, addr)
	t.Setenv("NOTIFY_SOCKET", addr)

	if sent, err := Send(true, Ready); !sent || err != nil {
		t.Fatalf("Send = %v, %v; want true, nil", sent, err)
	}
	if msg, _, ok := received(t, fd); !ok || msg != Ready {
		t.Fatalf("received %q (%v), want %q", msg, ok, Ready)
	}
	if v, set := os.LookupEnv("NOTIFY_SOCKET"); set {
		t.Fatalf("NOTIFY_SOCKET=%q after Send(true, …), want it unset", v)
	}
	if sent, err := Send(true, "STATUS=again"); sent || err != nil {
		t.Errorf("second Send = %v, %v; want false, nil", sent, err)
	}
	if msg, _, ok := received(t, fd); ok {
		t.Errorf("second Send delivered %q", msg)
	}
}

// A failed send still unsets NOTIFY_SOCKET, as go-systemd's SdNotify does:
// the caller asked that nothing after it sends there.
func TestSendFailureUnsets(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.sock")
	t.Setenv("NOTIFY_SOCKET", missing)
	sent, err := Send(true, Ready)
	if sent || !errors.Is(err, unix.ENOENT) {
		t.Errorf("Send to a missing socket = %v, %v; want false, ENOENT", sent, err)
	}
	if _, set := os.LookupEnv("NOTIFY_SOCKET"); set {
		t.Error("NOTIFY_SOCKET still set after a failed Send(true, …)")
	}
}

func TestSendBadAddress(t *testing.T) {
	for _, addr := range []string{"relative.sock", "vsock:2:1234"} {
		t.Setenv("NOTIFY_SOCKET", addr)
		if sent, err := Send(false, Ready); sent || !errors.Is(err, ErrBadAddress) {
			t.Errorf("NOTIFY_SOCKET=%s: Send = %v, %v; want false, ErrBadAddress", addr, sent, err)
		}
	}
}

func TestSendTooLarge(t *testing.T) {
	addr := filepath.Join(t.TempDir(), "notify.sock")
	fd := listen(t, addr)
	t.Setenv("NOTIFY_SOCKET", addr)
	huge := make([]byte, 1<<20)
	for i := range huge {
		huge[i] = 'x'
	}
	sent, err := Send(false, "STATUS="+string(huge))
	if sent || !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("Send of 1 MiB = %v, %v; want false, EMSGSIZE", sent, err)
	}
	if _, _, ok := received(t, fd); ok {
		t.Error("part of an oversized state was delivered")
	}
}

func TestSendAbstract(t *testing.T) {
	addr := fmt.Sprintf("@daemonctl-sdnotify-test/%d/%s", os.Getpid(), t.Name())
	fd := listen(t, addr)
	t.Setenv("NOTIFY_SOCKET", addr)
	if sent, err := Send(false, Ready); !sent || err != nil {
		t.Fatalf("Send = %v, %v; want true, nil", sent, err)
	}
	if msg, cred, ok := received(t, fd); !ok || msg != Ready || int(cred.Pid) != os.Getpid() {
		t.Fatalf("received %q (%v) from %+v, want %q from pid %d", msg, ok, cred, Ready, os.Getpid())
	}
}
