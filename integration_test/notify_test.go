package integration_test

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// readiness is a start with a readiness wait whose daemon writes its PID
// to a ready file.
type readiness struct {
	dir, pidfile, ready string
}

func newReadiness(t *testing.T) readiness {
	dir := t.TempDir()
	return readiness{dir: dir, pidfile: filepath.Join(dir, "web.pid"), ready: filepath.Join(dir, "web.ready")}
}

// start runs daemonctl start with flags and the test daemon with args.
func (r readiness) start(t *testing.T, flags []string, args ...string) h.Result {
	t.Helper()
	cmd := append([]string{"start", "-p", r.pidfile}, flags...)
	cmd = append(cmd, "--", h.TestDaemon, "-ready-file", r.ready)
	return h.Run(t, append(cmd, args...)...)
}

// daemonPID reads the PID the daemon wrote to its ready file and makes
// sure it is killed at the end of the test.
func (r readiness) daemonPID(t *testing.T) (pid, pidfd int) {
	t.Helper()
	if !h.WaitFile(t, r.ready, 10*time.Second) {
		t.Fatal("the daemon never wrote its ready file")
	}
	pid = h.ReadPID(t, r.ready)
	return pid, h.Watch(t, pid)
}

// assertGone checks that a failed start left neither pidfile nor daemon.
// The daemon was the caller's child and has been reaped, so its PID may
// already belong to someone else: it counts as alive only if a process
// with that PID still has our ready file on its command line.
func (r readiness) assertGone(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(r.pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind after a failed start (%v)", err)
	}
	if !h.WaitFile(t, r.ready, 10*time.Second) {
		t.Fatal("the daemon never wrote its ready file")
	}
	pid := h.ReadPID(t, r.ready)
	if cmdline, err := os.ReadFile("/proc/" + itoa(pid) + "/cmdline"); err == nil && strings.Contains(string(cmdline), r.ready) {
		fd := h.Watch(t, pid) // killed at cleanup
		if !h.Exited(fd) {
			t.Errorf("daemon %d still alive after a failed start", pid)
		}
	}
}

func contains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s: want %q in %q", what, want, got)
	}
}

func TestNotifyReady(t *testing.T) {
	r := newReadiness(t)
	res := r.start(t, []string{"--notify", "--timeout", "20s"}, "-notify-after", "50ms", "-notify-status", "loading the config")
	h.Expect(t, res, 0)
	pid, _ := r.daemonPID(t)
	contains(t, "stderr", res.Stderr(), "web: loading the config")
	contains(t, "stdout", res.Stdout(), "started (pid "+itoa(pid)+")")
	h.Expect(t, h.Run(t, "status", "-p", r.pidfile), 0)
	h.Expect(t, h.Run(t, "stop", "-p", r.pidfile), 0)
}

// TestNotifyStatusEscaped: a STATUS= message is the daemon's text. The
// controller drops its C0 controls; the C1 ones (U+009B is CSI to some
// terminals) reach the operator's terminal escaped.
func TestNotifyStatusEscaped(t *testing.T) {
	r := newReadiness(t)
	res := r.start(t, []string{"--notify", "--timeout", "20s"}, "-notify-after", "50ms", "-notify-status", "\x1b]0;pwned\x07\u009b2J")
	h.Expect(t, res, 0)
	if want := `web: ]0;pwned\u009b2J` + "\n"; res.Stderr() != want {
		t.Fatalf("stderr %q, want %q", res.Stderr(), want)
	}
	r.daemonPID(t)
	h.Expect(t, h.Run(t, "stop", "-p", r.pidfile), 0)
}

func TestNotifyFromChild(t *testing.T) {
	r := newReadiness(t)
	h.Expect(t, r.start(t, []string{"--notify", "--timeout", "20s"}, "-notify-from-child"), 0)
	r.daemonPID(t)
	h.Expect(t, h.Run(t, "status", "-p", r.pidfile), 0)
	h.Expect(t, h.Run(t, "stop", "-p", r.pidfile), 0)
}

func TestNotifyNeverReady(t *testing.T) {
	r := newReadiness(t)
	res := r.start(t, []string{"--notify", "--timeout", "300ms"})
	h.Expect(t, res, 1)
	contains(t, "stderr", res.Stderr(), "did not report READY=1 within 300ms; stopped it")
	r.assertGone(t)
}

func TestNotifyKeepOnTimeout(t *testing.T) {
	r := newReadiness(t)
	res := r.start(t, []string{"--notify", "--timeout", "300ms", "--keep-on-timeout"})
	h.Expect(t, res, 1)
	contains(t, "stderr", res.Stderr(), "left running")
	pid, fd := r.daemonPID(t)
	if h.Exited(fd) || h.ReadPID(t, r.pidfile) != pid {
		t.Fatal("--keep-on-timeout did not keep the daemon and its pidfile")
	}
	h.Expect(t, h.Run(t, "stop", "-p", r.pidfile), 0)
}

// TestNotifyGarbage: binary junk, READY=0, READY=10 and an oversized
// datagram never count as ready.
func TestNotifyGarbage(t *testing.T) {
	r := newReadiness(t)
	res := r.start(t, []string{"--notify", "--timeout", "500ms"}, "-notify-garbage")
	h.Expect(t, res, 1)
	contains(t, "stderr", res.Stderr(), "did not report READY=1")
	r.assertGone(t)

	// The same junk followed by a real READY=1 succeeds.
	h.Expect(t, r.start(t, []string{"--notify", "--timeout", "20s"}, "-notify-garbage", "-notify-after", "10ms"), 0)
	h.Expect(t, h.Run(t, "stop", "-p", r.pidfile), 0)
}

// TestNotifyCredentials: READY=1 from a process outside the daemon's tree
// (this test) is ignored.
func TestNotifyCredentials(t *testing.T) {
	r := newReadiness(t)
	info := filepath.Join(r.dir, "info.json")
	done := make(chan h.Result, 1)
	go func() { done <- r.start(t, []string{"--notify", "--timeout", "1500ms"}, "-info-file", info) }()
	if !h.WaitFile(t, info, 10*time.Second) {
		t.Fatal("no info file")
	}
	b, err := os.ReadFile(info)
	if err != nil {
		t.Fatal(err)
	}
	var desc struct{ Env []string }
	if err := json.Unmarshal(b, &desc); err != nil {
		t.Fatal(err)
	}
	var socket string
	for _, kv := range desc.Env {
		if v, ok := strings.CutPrefix(kv, "NOTIFY_SOCKET="); ok {
			socket = v
		}
	}
	if socket == "" {
		t.Fatalf("the daemon got no NOTIFY_SOCKET: %v", desc.Env)
	}
	if strings.HasPrefix(socket, "@") {
		socket = "\x00" + socket[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatalf("dial notify socket: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("READY=1")); err != nil {
		t.Fatalf("send READY=1: %v", err)
	}
	res := <-done
	h.Expect(t, res, 1)
	contains(t, "stderr", res.Stderr(), "did not report READY=1")
	r.assertGone(t)
}

func TestNotifyDeathBeforeReady(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"exit 0", []string{"-exit-after", "20ms", "-exit-code", "0"}, "exited with status 0 after"},
		{"exit 3", []string{"-exit-after", "20ms", "-exit-code", "3"}, "exited with status 3 after"},
		{"crash", []string{"-crash-after", "20ms"}, "killed by SIGSEGV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReadiness(t)
			res := r.start(t, []string{"--notify", "--timeout", "20s"}, tc.args...)
			h.Expect(t, res, 1)
			contains(t, "stderr", res.Stderr(), tc.want)
			r.assertGone(t)
		})
	}
}

func TestNotifySocketPath(t *testing.T) {
	r := newReadiness(t)
	sock := filepath.Join(r.dir, "notify.sock")
	h.Expect(t, r.start(t, []string{"--notify", "--notify-socket", sock}, "-notify-after", "10ms"), 0)
	r.daemonPID(t)
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("notify socket %s left behind", sock)
	}
	h.Expect(t, h.Run(t, "stop", "-p", r.pidfile), 0)

	long := "/tmp/" + strings.Repeat("x", 120) + "/notify.sock"
	res := r.start(t, []string{"--notify", "--notify-socket", long}, "-notify-after", "10ms")
	h.Expect(t, res, 2)
	contains(t, "stderr", res.Stderr(), "more than the 107")
	if _, err := os.Stat(r.pidfile); !os.IsNotExist(err) {
		t.Error("a rejected start left a pidfile")
	}
}

func TestWaitDiesEarly(t *testing.T) {
	r := newReadiness(t)
	logFile := filepath.Join(r.dir, "web.err")
	if err := os.WriteFile(logFile, []byte("an older run's line\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	res := r.start(t, []string{"--wait", "20s", "--stderr", logFile},
		"-stderr-line", "config error: no such file /etc/web.conf", "-exit-after", "20ms", "-exit-code", "3")
	h.Expect(t, res, 1)
	contains(t, "stderr", res.Stderr(), "web: exited with status 3 after")
	contains(t, "stderr", res.Stderr(), "config error: no such file /etc/web.conf")
	if strings.Contains(res.Stderr(), "an older run's line") {
		t.Errorf("the report quotes log lines from before this start: %q", res.Stderr())
	}
	r.assertGone(t)
}

// TestWaitDiesEarlyLogEscaped: the failure report quotes the daemon's
// log, which is the daemon's text: its lines are kept, their control
// characters escaped.
func TestWaitDiesEarlyLogEscaped(t *testing.T) {
	r := newReadiness(t)
	logFile := filepath.Join(r.dir, "web.err")
	res := r.start(t, []string{"--wait", "20s", "--stderr", logFile},
		"-stderr-line", "fatal\x1b[2J\x1b]0;pwned\x07", "-stderr-line", "second line\u009b", "-exit-after", "20ms", "-exit-code", "3")
	h.Expect(t, res, 1)
	contains(t, "stderr", res.Stderr(), "web: exited with status 3 after")
	contains(t, "stderr", res.Stderr(), "\n  | fatal\\x1b[2J\\x1b]0;pwned\\x07\n  | second line\\u009b\n")
	if strings.ContainsAny(res.Stderr(), "\x1b\x07\u009b") {
		t.Errorf("raw controls reached stderr: %q", res.Stderr())
	}
	r.assertGone(t)
}

func TestWaitAlive(t *testing.T) {
	r := newReadiness(t)
	res := r.start(t, []string{"--wait", "100ms"})
	h.Expect(t, res, 0)
	pid, fd := r.daemonPID(t)
	if h.Exited(fd) || h.ReadPID(t, r.pidfile) != pid {
		t.Fatal("daemon not running after a successful --wait")
	}
	h.Expect(t, h.Run(t, "stop", "-p", r.pidfile), 0)
}

// TestWaitLockDropped: a daemon that closes its inherited descriptors
// during the wait is reported.
func TestWaitLockDropped(t *testing.T) {
	r := newReadiness(t)
	res := r.start(t, []string{"--wait", "200ms"}, "-close-fds")
	h.Expect(t, res, 0)
	r.daemonPID(t)
	contains(t, "stderr", res.Stderr(), "closed the pidfile's lock descriptor")
	h.Expect(t, h.Run(t, "stop", "-p", r.pidfile), 0)
}

func TestWaitBadDuration(t *testing.T) {
	for _, d := range []string{"0", "-1s", "soon"} {
		r := newReadiness(t)
		res := r.start(t, []string{"--wait", d})
		h.Expect(t, res, 2)
		if _, err := os.Stat(r.pidfile); !os.IsNotExist(err) {
			t.Errorf("--wait %s: a rejected start left a pidfile", d)
		}
		if _, err := os.Stat(r.ready); !os.IsNotExist(err) {
			t.Errorf("--wait %s: a rejected start started the daemon", d)
		}
	}
}

// TestNotifyRestart: restart takes the readiness flags.
func TestNotifyRestart(t *testing.T) {
	r := newReadiness(t)
	h.Expect(t, r.start(t, nil), 0)
	_, first := r.daemonPID(t)
	os.Remove(r.ready)
	res := h.Run(t, "restart", "-p", r.pidfile, "--notify", "--timeout", "300ms", "--", h.TestDaemon, "-ready-file", r.ready)
	h.Expect(t, res, 1)
	contains(t, "stderr", res.Stderr(), "did not report READY=1")
	if !h.Exited(first) {
		t.Error("restart did not stop the first daemon")
	}
	r.assertGone(t)
}
