package signals

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startSleeper starts a child that sleeps until signalled; it is killed
// (through Go's own pidfd, never by name) and reaped when the test ends.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func open(t *testing.T, pid int) *Process {
	t.Helper()
	p, err := Open(pid)
	if err != nil {
		t.Fatalf("Open(%d): %v", pid, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// wait waits for p to exit; the timeout only bounds a failing test.
func wait(t *testing.T, procs ...*Process) []*Process {
	t.Helper()
	exited, err := WaitAny(procs, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(exited) == 0 {
		t.Fatal("WaitAny timed out")
	}
	return exited
}

func TestSignalAndWait(t *testing.T) {
	cmd := startSleeper(t)
	p := open(t, cmd.Process.Pid)
	if p.PID != cmd.Process.Pid || p.Fd() < 0 {
		t.Errorf("Process = %+v, want pid %d with a pidfd", p, cmd.Process.Pid)
	}
	if p.Exited() {
		t.Fatal("Exited() for a live process")
	}
	if err := p.Signal(unix.SIGTERM); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	if exited := wait(t, p); len(exited) != 1 || exited[0] != p {
		t.Errorf("WaitAny = %v, want [%v]", exited, p)
	}
	// A zombie (not reaped yet) counts as exited.
	if !p.Exited() {
		t.Error("Exited() false after WaitAny returned it")
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("Wait: %v, want killed by a signal", err)
	}
	if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("child ended with %v, want killed by SIGTERM", ws)
	}
	// Reaped: signalling through the handle reaches nobody.
	if err := p.Signal(unix.SIGTERM); !errors.Is(err, ErrGone) {
		t.Errorf("Signal after exit: %v, want ErrGone", err)
	}
}

func TestWaitAnyTimeout(t *testing.T) {
	p := open(t, startSleeper(t).Process.Pid)
	exited, err := WaitAny([]*Process{p}, 20*time.Millisecond)
	if err != nil || len(exited) != 0 {
		t.Errorf("WaitAny(live process) = %v, %v; want none", exited, err)
	}
	exited, err = WaitAny([]*Process{p}, 0)
	if err != nil || len(exited) != 0 {
		t.Errorf("WaitAny(live process, 0) = %v, %v; want none", exited, err)
	}
	if p.Exited() {
		t.Error("the process exited")
	}
}

func TestWaitAnyReturnsOnlyTheExited(t *testing.T) {
	a := open(t, startSleeper(t).Process.Pid)
	b := open(t, startSleeper(t).Process.Pid)
	c := open(t, startSleeper(t).Process.Pid)
	if err := b.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exited := wait(t, a, b, c)
	if len(exited) != 1 || exited[0] != b {
		t.Errorf("WaitAny = %v, want only [%v]", exited, b)
	}
	if a.Exited() || c.Exited() {
		t.Error("a process that was not signalled exited")
	}
}

func TestOpenReaped(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if p, err := Open(cmd.Process.Pid); !errors.Is(err, ErrGone) {
		if err == nil {
			p.Close()
		}
		t.Errorf("Open(reaped pid %d): %v, want ErrGone", cmd.Process.Pid, err)
	}
}
