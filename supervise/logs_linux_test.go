package supervise_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/supervise"
)

func TestLogFloodStaysWithinItsBoundAndLosesNoLine(t *testing.T) {
	const total = 100 << 20 // 100 MiB of 100-byte lines
	const max = 1 << 20
	h, s := newConfig(t, "-flood-stdout", strconv.Itoa(total), "-exit-after", "1ms")
	out := filepath.Join(s.dir, "out.log")
	h.Config.Logs = supervise.Logs{Stdout: out, Stderr: s.stderr, MaxSize: max, Keep: 3}
	s.start(h)
	// The program exits 0 once it has written everything: the supervisor
	// drains the pipe, then ends the service.
	if end := s.waitExit(); end != "finished" {
		t.Fatalf("ended %q, want finished", end)
	}
	var all []byte
	for _, name := range []string{out + ".3", out + ".2", out + ".1", out} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > max {
			t.Errorf("%s holds %d bytes, more than %d", name, len(b), max)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s ends within a line", name)
		}
		all = append(all, b...)
	}
	if exists(out + ".4") {
		t.Errorf("%s.4 exists: keep is 3", out)
	}
	// The files kept hold consecutive whole lines, up to the very last.
	lines := bytes.Split(bytes.TrimSuffix(all, []byte("\n")), []byte("\n"))
	first, err := strconv.Atoi(string(lines[0][:12]))
	if err != nil {
		t.Fatalf("first line %q", lines[0])
	}
	for i, l := range lines {
		if len(l) != 99 || string(l[:12]) != fmt.Sprintf("%012d", first+i) {
			t.Fatalf("line %d of the kept files is %q, want line number %d", i, l, first+i)
		}
	}
	if last := first + len(lines) - 1; last != total/100 {
		t.Errorf("the last line kept is %d, want %d: the end of the output was lost", last, total/100)
	}
	if snap := s.snapshot(); snap.LogFailures != 0 {
		t.Errorf("snapshot = %+v, want no log failure", snap)
	}
}

func TestCrashKeepsItsLastLinesBeforeTheSupervisorsLine(t *testing.T) {
	h, s := newConfig(t, "-stderr-line", "last words 1", "-stderr-line", "last words 2", "-crash-after", "20ms")
	h.Config.Logs.Stdout = s.stderr
	s.start(h)
	s.waitLog("killed by SIGSEGV")
	s.signal(unix.SIGTERM)
	s.waitExit()
	lines := s.logLines()
	words, crash := -1, -1
	for i, l := range lines {
		if l == "last words 2" && words < 0 {
			words = i
		}
		if strings.Contains(l, "killed by SIGSEGV") && crash < 0 {
			crash = i
		}
	}
	if words < 0 || crash < words {
		t.Errorf("the program's last line (%d) is not before the supervisor's line about its crash (%d):\n%s", words, crash, strings.Join(lines, "\n"))
	}
}

func TestLogDirectoryRemoved(t *testing.T) {
	h, s := newConfig(t, "-usr1-stdout", "after")
	logs := filepath.Join(s.dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(logs, "out.log")
	h.Config.Logs.Stdout = out
	s.start(h)
	s.waitStarts(1)
	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	// The next line cannot be written anywhere: counted, and published.
	s.signal(unix.SIGUSR1)
	snap := s.waitSnapshot(func(snap supervise.Snapshot) bool { return snap.LogFailures > 0 })
	if snap.LogLost != int64(len("after\n")) || !strings.Contains(snap.LogError, "directory is gone") {
		t.Errorf("snapshot = %+v, want one line lost, its directory gone", snap)
	}
	if snap.State != supervise.Running || snap.PID != s.program {
		t.Errorf("snapshot = %+v, want the program running on", snap)
	}
	// The directory is back: the next line goes to a new file.
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	s.signal(unix.SIGUSR1)
	if !waitFor(t, logs, func() bool { b, _ := os.ReadFile(out); return string(b) == "after\n" }) {
		t.Fatal("the line after the directory came back was not written")
	}
}

func TestLogDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a tmpfs in a mount namespace of its own needs root")
	}
	const fs = 64 << 10
	h, s := newConfig(t, "-flood-stdout", strconv.Itoa(1<<20))
	logs := filepath.Join(s.dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	h.Tmpfs.Dir, h.Tmpfs.Size = logs, fs
	h.Config.Logs.Stdout = filepath.Join(logs, "out.log")
	report := s.startReport(h, &syscall.SysProcAttr{Setsid: true, Unshareflags: syscall.CLONE_NEWNS})
	if !strings.HasPrefix(report, "ok ") {
		t.Fatalf("report %q", report)
	}
	s.waitStarts(1)
	// 1 MiB into 64 KiB: the writes that do not fit are counted, and the
	// program and its supervisor run on.
	snap := s.waitSnapshot(func(snap supervise.Snapshot) bool { return snap.LogLost > 0 })
	if snap.LogFailures == 0 || !strings.Contains(snap.LogError, "no space left") || snap.State != supervise.Running {
		t.Errorf("snapshot = %+v, want failures for a full disk while running", snap)
	}
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/root%s", s.pid, h.Config.Logs.Stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size > fs || st.Size == 0 {
		t.Errorf("the log on the full disk holds %d bytes, want some, at most %d", st.Size, fs)
	}
	if !alive(s.program) {
		t.Error("the program died of the full disk")
	}
	s.signal(unix.SIGTERM)
	if end := s.waitExit(); end != "stopped" {
		t.Errorf("ended %q, want stopped", end)
	}
}
