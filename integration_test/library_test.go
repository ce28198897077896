package integration_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// runExample runs the example Go daemon (testdata/example), which
// daemonizes itself with controller.Daemonize, and returns its exit code
// and output.
func runExample(t *testing.T, args ...string) h.Result {
	t.Helper()
	if h.Example == "" {
		t.Fatal("testdata/example was not built")
	}
	return h.RunCmd(t, exec.Command(h.Example, args...), nil, append([]string{"(example)"}, args...))
}

// TestLibraryLifecycle: the example daemonizes itself; daemonctl manages
// it like any daemon: status 0, reload reaches its HUP handler, stop ends
// it and the pidfile is gone.
func TestLibraryLifecycle(t *testing.T) {
	dir := t.TempDir()
	pidfile, logFile := filepath.Join(dir, "app.pid"), filepath.Join(dir, "app.log")
	h.Expect(t, runExample(t, "-pidfile", pidfile, "-log", logFile), 0)
	pid := h.ReadPID(t, pidfile)
	fd := h.Watch(t, pid)
	if !h.Locked(t, pidfile) {
		t.Fatal("the daemon does not hold the pidfile's lock")
	}
	st := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, st, 0)
	if !strings.Contains(st.Stdout(), "running (pid ") {
		t.Fatalf("status does not say running: %q", st.Stdout())
	}
	h.Expect(t, h.Run(t, "reload", "-p", pidfile), 0)
	if !h.WaitFileFunc(t, logFile, 10*time.Second, func(b []byte) bool { return strings.Contains(string(b), "reload") }) {
		t.Fatal("the daemon's HUP handler never logged the reload")
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	if !h.Exited(fd) {
		t.Fatal("daemon alive after stop")
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Fatalf("pidfile left after stop: %v", err)
	}
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), "stopping") {
		t.Fatalf("the daemon did not see SIGTERM through its StopContext; log:\n%s", b)
	}
}

// TestLibraryErrors: a second instance, an unwritable pidfile and a
// daemon that fails in its own Daemonize each make the parent fail with a
// clear message; a crashed daemon's leftover pidfile reads as dead.
func TestLibraryErrors(t *testing.T) {
	dir := t.TempDir()
	pidfile, logFile := filepath.Join(dir, "app.pid"), filepath.Join(dir, "app.log")
	h.Expect(t, runExample(t, "-pidfile", pidfile, "-log", logFile), 0)
	pid := h.ReadPID(t, pidfile)
	fd := h.Watch(t, pid)

	t.Run("already running", func(t *testing.T) {
		r := runExample(t, "-pidfile", pidfile)
		h.Expect(t, r, 1)
		if want := "already running as pid " + itoa(pid); !strings.Contains(r.Stderr(), want) {
			t.Fatalf("want %q in stderr, got %q", want, r.Stderr())
		}
		if h.ReadPID(t, pidfile) != pid || !h.Locked(t, pidfile) {
			t.Fatal("the failed second start disturbed the running instance's pidfile")
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		missing := filepath.Join(dir, "nope", "app.pid")
		r := runExample(t, "-pidfile", missing)
		h.Expect(t, r, 1)
		if !strings.Contains(r.Stderr(), filepath.Dir(missing)) {
			t.Fatalf("the error does not name the directory: %q", r.Stderr())
		}
	})
	t.Run("child fails in Daemonize", func(t *testing.T) {
		other := filepath.Join(dir, "twice.pid")
		r := runExample(t, "-pidfile", other, "-log", filepath.Join(dir, "twice.log"), "-notify", "-daemonize-twice")
		h.Expect(t, r, 1)
		if !strings.Contains(r.Stderr(), "exited with status 3") {
			t.Fatalf("the parent did not report the child's failure: %q", r.Stderr())
		}
		if _, err := os.Stat(other); !os.IsNotExist(err) {
			t.Fatalf("pidfile left behind: %v", err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "twice.log"))
		if !strings.Contains(string(b), "already holds the pidfile's lock") {
			t.Fatalf("the second Daemonize did not fail with ErrAlreadyDaemon; log:\n%s", b)
		}
	})
	t.Run("crash leaves a dead pidfile", func(t *testing.T) {
		if err := unixKill(fd); err != nil {
			t.Fatal(err)
		}
		if !h.WaitExit(fd, 10*time.Second) {
			t.Fatal("daemon survived SIGKILL")
		}
		r := h.Run(t, "status", "-p", pidfile)
		h.Expect(t, r, 1)
		if !strings.Contains(r.Stdout(), "dead") {
			t.Fatalf("status after a crash: %q", r.Stdout())
		}
	})
}

// TestLibraryReturnInParent: with ReturnInParent the original process gets
// the daemon's PID back instead of exiting.
func TestLibraryReturnInParent(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "app.pid")
	r := runExample(t, "-pidfile", pidfile, "-return")
	h.Expect(t, r, 0)
	pid := h.ReadPID(t, pidfile)
	h.Watch(t, pid)
	if want := "parent: daemon is pid " + itoa(pid); !strings.Contains(r.Stdout(), want) {
		t.Fatalf("want %q, got %q", want, r.Stdout())
	}
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
}
