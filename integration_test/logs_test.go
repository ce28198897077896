//go:build linux

package integration_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// waitLog waits, by inotify, until the log at path ends with the line
// last.
func waitLog(t *testing.T, path, last string) {
	t.Helper()
	if !h.WaitFileFunc(t, path, eventTimeout, func(b []byte) bool { return strings.HasSuffix(string(b), last+"\n") }) {
		b, _ := os.ReadFile(path)
		t.Fatalf("%s never ended with %q; it holds %q", path, last, b)
	}
}

// TestLogsLastLines: the last N lines of a supervised service's stdout,
// -n 0 printing nothing, and the default showing a short log whole.
func TestLogsLastLines(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	s := startSupervised(t, []string{"--stdout", out}, "-stdout-line", "one", "-stdout-line", "two", "-stdout-line", "three")
	waitLog(t, out, "three")
	r := h.Run(t, "logs", "-p", s.pidfile, "-n", "2")
	h.Expect(t, r, 0)
	assertStdout(t, r, "two\nthree")
	r = h.Run(t, "logs", "-p", s.pidfile, "-n", "0")
	h.Expect(t, r, 0)
	if r.Stdout() != "" || r.Stderr() != "" {
		t.Fatalf("logs -n 0 printed %q, %q; want nothing", r.Stdout(), r.Stderr())
	}
	r = h.Run(t, "logs", "-p", s.pidfile)
	h.Expect(t, r, 0)
	assertStdout(t, r, "one\ntwo\nthree")
}

// TestLogsStdoutAndStderr: two files, each under a header; a service not
// supervised, whose files are found through its descriptors.
func TestLogsStdoutAndStderr(t *testing.T) {
	dir := t.TempDir()
	out, errLog := filepath.Join(dir, "out.log"), filepath.Join(dir, "err.log")
	pidfile := filepath.Join(dir, "web.pid")
	h.StartDaemon(t, pidfile, []string{"--stdout", out, "--stderr", errLog}, "-stdout-line", "to stdout", "-stderr-line", "to stderr")
	waitLog(t, out, "to stdout")
	waitLog(t, errLog, "to stderr")
	r := h.Run(t, "logs", "-p", pidfile, "-n", "1")
	h.Expect(t, r, 0)
	assertStdout(t, r, fmt.Sprintf("==> %s <==\nto stdout\n\n==> %s <==\nto stderr", out, errLog))
}

// TestLogsNamedService: NAME reads the definition's files; on a
// terminal the program's control characters are escaped, through a pipe
// they pass as they are.
func TestLogsNamedService(t *testing.T) {
	s := newServices(t)
	out := s.file("web", "log")
	s.defineDaemon(t, "web", fmt.Sprintf("supervise = true\nstdout = %q\n", out), "-stdout-line", "clear\x1b[2Jscreen")
	s.started(t, s.run(t, "start", "web"), "web")
	t.Cleanup(func() { s.run(t, "stop", "web") })
	waitLog(t, out, "clear\x1b[2Jscreen")
	r := s.run(t, "logs", "web")
	h.Expect(t, r, 0)
	assertStdout(t, r, "clear\x1b[2Jscreen")
	r, tty := runOnTerminal(t, "1", s.env, "logs", "web")
	h.Expect(t, r, 0)
	if !strings.Contains(tty, `clear\x1b[2Jscreen`) || strings.Contains(tty, "\x1b") {
		t.Fatalf("logs on a terminal printed %q, want the ESC escaped", tty)
	}
}

// rotatingScript writes "line 1" ... "line N" to stdout: the first 300,
// then, once a line can be read from the FIFO gate, the rest; then it
// sleeps.
const rotatingScript = `i=1
while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done
read go < "$1"
while [ $i -le $2 ]; do echo "line $i"; i=$((i+1)); done
exec sleep 3600
`

// TestLogsFollowAcrossRotation: logs -f follows a supervised service's
// stdout while the supervisor rotates it (4K files: some 40 rotations)
// and prints every line once, in order.
func TestLogsFollowAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	out, gate, script := filepath.Join(dir, "out.log"), filepath.Join(dir, "gate"), filepath.Join(dir, "lines.sh")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(rotatingScript), 0o755); err != nil {
		t.Fatal(err)
	}
	const total = 15000
	pidfile := filepath.Join(dir, "web.pid")
	r := h.Run(t, "start", "-p", pidfile, "--supervise", "--stdout", out, "--log-max-size", "4K", "--log-keep", "100",
		"--", "/bin/sh", script, gate, strconv.Itoa(total))
	h.Expect(t, r, 0)
	sup := h.ReadPID(t, pidfile)
	t.Cleanup(func() { cleanUpSession(sup, h.Watch(t, sup)) })
	waitLog(t, out, "line 300")

	cmd := exec.Command(h.Daemonctl, "logs", "-p", pidfile, "-n", "5", "-f")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.WaitDelay = time.Second
	wait, err := h.StartManaged(cmd)
	if err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		if !waited {
			_ = cmd.Process.Kill()
			_ = wait()
		}
	})
	lines := make(chan string, total)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	read := func(last string) []string {
		var got []string
		timeout := time.After(time.Minute)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("logs -f ended after %d lines, before %q", len(got), last)
				}
				got = append(got, l)
				if l == last {
					return got
				}
			case <-timeout:
				t.Fatalf("logs -f printed no %q within a minute (%d lines, the last %q)", last, len(got), got[max(0, len(got)-3):])
			}
		}
	}
	// The last 5 lines: logs -f watches the directory now.
	got := read("line 300")
	g, err := os.OpenFile(gate, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(g, "go")
	g.Close()
	got = append(got, read("line "+strconv.Itoa(total))...)
	for i, l := range got {
		if want := "line " + strconv.Itoa(296+i); l != want {
			t.Fatalf("line %d of logs -f is %q, want %q: a gap or a duplicate across a rotation", i, l, want)
		}
	}
	rotated, _ := filepath.Glob(out + ".*")
	if len(rotated) < 10 {
		t.Fatalf("only %d rotations happened; the test means to follow many", len(rotated))
	}
	// Interrupted, it exits 0.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waited = true
	if err := wait(); err != nil {
		t.Fatalf("logs -f after SIGINT: %v, want exit 0", err)
	}
}

// TestLogsAsNobody: a supervised root service's logs are 0640 root's: the
// user nobody, who may read its status, gets exit 4 and a one-line error
// naming the file, and nothing of the log; the service runs on.
func TestLogsAsNobody(t *testing.T) {
	p := asUnprivileged(t)
	out := filepath.Join(p.dir, "out.log")
	pidfile := filepath.Join(p.dir, "web.pid")
	r := h.Run(t, "start", "-p", pidfile, "--supervise", "--stdout", out, "--", h.TestDaemon, "-stdout-line", "secret")
	h.Expect(t, r, 0)
	sup := h.ReadPID(t, pidfile)
	supFD := h.Watch(t, sup)
	t.Cleanup(func() { cleanUpSession(sup, supFD) })
	waitLog(t, out, "secret")
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Fatalf("the log is %v, want 0640", st.Mode().Perm())
	}
	r = p.run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	r = p.run(t, "logs", "-p", pidfile)
	h.Expect(t, r, 4)
	if strings.Contains(r.Stdout(), "secret") || !strings.Contains(r.Stderr(), out) || strings.Count(r.Stderr(), "\n") != 1 {
		t.Fatalf("logs as nobody: stdout %q, stderr %q; want one line naming %s, nothing of the log", r.Stdout(), r.Stderr(), out)
	}
	if h.Exited(supFD) || !h.Locked(t, pidfile) {
		t.Fatal("the service did not survive nobody's logs")
	}
}

// TestLogsMissingAndNone: a log file removed (exit 1, naming it), a
// service that logs nowhere and a pidfile that does not exist (exit 6),
// and bad -n (exit 2).
func TestLogsMissingAndNone(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.log")
	s := startSupervised(t, []string{"--stdout", out}, "-stdout-line", "one")
	waitLog(t, out, "one")
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	r := h.Run(t, "logs", "-p", s.pidfile)
	h.Expect(t, r, 1)
	if !strings.Contains(r.Stderr(), out) || strings.Count(r.Stderr(), "\n") != 1 || r.Stdout() != "" {
		t.Fatalf("logs of a removed file: %q, %q; want one line naming %s", r.Stdout(), r.Stderr(), out)
	}

	quiet := startSupervised(t, nil)
	r = h.Run(t, "logs", "-p", quiet.pidfile)
	h.Expect(t, r, 6)
	if !strings.Contains(r.Stderr(), "--stdout") {
		t.Fatalf("logs of a service without logs: %q, want the fix (--stdout)", r.Stderr())
	}
	r = h.Run(t, "logs", "-p", filepath.Join(dir, "none.pid"))
	h.Expect(t, r, 6)
	for _, n := range []string{"-1", "abc"} {
		r = h.Run(t, "logs", "-p", s.pidfile, "-n", n)
		h.Expect(t, r, 2)
	}
}
