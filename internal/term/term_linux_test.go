package term

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal of cols columns and returns its master
// descriptor and its slave, opened.
func openPTY(t *testing.T, cols uint16) (master int, slave *os.File) {
	t.Helper()
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { unix.Close(master) })
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatalf("set window size: %v", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open slave: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

func TestWidth(t *testing.T) {
	_, pty := openPTY(t, 93)
	if cols, tty := Width(pty); !tty || cols != 93 {
		t.Errorf("Width(a 93-column terminal) = %d, %v", cols, tty)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if cols, tty := Width(w); tty || cols != 0 {
		t.Errorf("Width(a pipe) = %d, %v", cols, tty)
	}
	if cols, tty := Width(&bytes.Buffer{}); tty || cols != 0 {
		t.Errorf("Width(a buffer) = %d, %v", cols, tty)
	}
}

func TestColour(t *testing.T) {
	_, pty := openPTY(t, 80)
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !Colour(pty) {
		t.Error("no colour on a terminal")
	}
	if Colour(&bytes.Buffer{}) {
		t.Error("colour into a buffer")
	}
	t.Setenv("NO_COLOR", "1")
	if Colour(pty) {
		t.Error("colour despite NO_COLOR")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if Colour(pty) {
		t.Error("colour on TERM=dumb")
	}
}

// readUntil reads the terminal's master side until what it has read
// ends with suffix (or 10 s pass: a failure, not a measurement).
func readUntil(t *testing.T, master int, suffix string) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.HasSuffix(string(out), suffix) {
		fds := []unix.PollFd{{Fd: int32(master), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds())); err != nil && err != unix.EINTR || n == 0 {
			t.Fatalf("terminal output %q does not end with %q", out, suffix)
		}
		n, err := unix.Read(master, buf)
		if err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
		out = append(out, buf[:max(n, 0)]...)
	}
	return string(out)
}

// TestLine: on a terminal the line is drawn, cut short of the width so it
// never wraps, a message written meanwhile replaces it, and End erases
// it; anywhere else there is none, and End on it does nothing.
func TestLine(t *testing.T) {
	if l := NewLine(&bytes.Buffer{}, false, func(time.Time) string { return "x" }); l != nil {
		t.Fatal("a line on a buffer")
	}
	var none *Line
	none.End()

	master, pty := openPTY(t, 20)
	t.Setenv("TERM", "xterm")
	l := NewLine(pty, false, func(time.Time) string { return "stopping web (pid 4242): SIGTERM 3.1s ago" })
	if l == nil {
		t.Fatal("no line on a terminal")
	}
	readUntil(t, master, "\r\x1b[Kstopping web (pid 4") // 19 columns of 20
	if _, err := l.Write([]byte("web: loading\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, master, "\r\x1b[Kweb: loading\r\n")
	readUntil(t, master, "\r\x1b[Kstopping web (pid 4") // redrawn below it
	l.End()
	readUntil(t, master, "\r\x1b[K")
	if l := NewLine(pty, true, func(time.Time) string { return "x" }); l != nil {
		t.Fatal("a line despite quiet")
	}
}
