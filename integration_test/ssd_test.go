package integration_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// The compatibility suite: each case runs dpkg's start-stop-daemon and
// daemonctl speaking as start-stop-daemon (its binary under a symbolic
// link of that name) on the same command lines against the same kind of
// test daemon, and compares exit codes and effects: who got which signal,
// who still runs, which files are left. Where daemonctl differs on
// purpose (ssd/doc.go), the case says so and asserts the better outcome.

// ssdTool is one start-stop-daemon under test.
type ssdTool struct {
	name string
	path string
	ours bool
}

// ssdTools are dpkg's start-stop-daemon and daemonctl's, for a suite that
// compares them; without dpkg's there is nothing to compare with.
func ssdTools(t *testing.T) []ssdTool {
	t.Helper()
	if _, err := os.Stat(ssdPath); err != nil {
		t.Skipf("%s is not installed: nothing to compare daemonctl's start-stop-daemon with", ssdPath)
	}
	return []ssdTool{{name: "dpkg", path: ssdPath}, {name: "daemonctl", path: h.StartStopDaemon, ours: true}}
}

// ssdRun is one case run with one tool, in a directory of its own.
type ssdRun struct {
	t    *testing.T
	tool ssdTool
	dir  string
}

// eachSSD runs body as a subtest for each tool.
func eachSSD(t *testing.T, body func(s *ssdRun)) {
	t.Helper()
	for _, tool := range ssdTools(t) {
		t.Run(tool.name, func(t *testing.T) {
			body(&ssdRun{t: t, tool: tool, dir: t.TempDir()})
		})
	}
}

// run runs the tool with args.
func (s *ssdRun) run(args ...string) h.Result {
	s.t.Helper()
	return h.RunCmd(s.t, exec.Command(s.tool.path, args...), nil, args)
}

// expect runs the tool and checks its exit code.
func (s *ssdRun) expect(want int, args ...string) h.Result {
	s.t.Helper()
	r := s.run(args...)
	if r.Code() != want {
		s.t.Fatalf("%s %s: exit %d, want %d\nstdout %q\nstderr %q", s.tool.name, strings.Join(args, " "), r.Code(), want, r.Stdout(), r.Stderr())
	}
	return r
}

// expectDiffering is expect where daemonctl differs on purpose: dpkg's
// exits real, daemonctl's ours.
func (s *ssdRun) expectDiffering(real, ours int, why string, args ...string) h.Result {
	s.t.Helper()
	want := real
	if s.tool.ours {
		want = ours
	}
	s.t.Logf("deliberate difference (%s): dpkg's exits %d, daemonctl's %d", why, real, ours)
	return s.expect(want, args...)
}

// stopped reports whether the process behind pidfd fd, which a stop just
// ended, is gone. daemonctl's stop returns once it has exited; dpkg's,
// matching --exec, may return while it is still exiting (its
// /proc/PID/exe gone), so for dpkg's the exit is waited for.
func (s *ssdRun) stopped(fd int) bool {
	if s.tool.ours {
		return h.Exited(fd)
	}
	if h.Exited(fd) {
		return true
	}
	s.t.Logf("dpkg's start-stop-daemon returned before the process had exited")
	return h.WaitExit(fd, eventTimeout)
}

// path names a file in the run's directory.
func (s *ssdRun) path(name string) string { return filepath.Join(s.dir, name) }

// watchPidfile waits until path names a live process, which it watches
// (killed when the test ends), and returns its PID and pidfd.
func watchPidfile(t *testing.T, path string) (int, int) {
	t.Helper()
	var pid int
	if !h.WaitFileFunc(t, path, eventTimeout, func(b []byte) bool {
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		pid = n
		return err == nil && n > 1
	}) {
		t.Fatalf("%s never named a process", path)
	}
	return pid, h.Watch(t, pid)
}

// termCount is how many TERMs a test daemon logged in its -term-file.
func termCount(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("TERM "))
}

// startForking starts the test daemon as a program that detaches itself
// and writes its own pidfile (as nginx and sshd do), through the tool
// without --background, and returns its PID and pidfd.
func (s *ssdRun) startForking(pidfile string, extra ...string) (int, int) {
	s.t.Helper()
	args := append([]string{"--start", "--pidfile", pidfile, "--exec", h.TestDaemon, "--",
		"-daemonize", "-pidfile", pidfile, "-ready-file", pidfile + ".ready", "-term-file", pidfile + ".term"}, extra...)
	s.expect(0, args...)
	return watchPidfile(s.t, pidfile)
}

// startForeground starts the test daemon in the foreground under the
// tool's --background --make-pidfile, and returns its PID and pidfd once
// its signal handlers are in place.
func (s *ssdRun) startForeground(pidfile string, extra ...string) (int, int) {
	s.t.Helper()
	ready := pidfile + ".ready"
	os.Remove(ready)
	args := append([]string{"--start", "--background", "--make-pidfile", "--pidfile", pidfile, "--exec", h.TestDaemon, "--",
		"-ready-file", ready, "-term-file", pidfile + ".term"}, extra...)
	s.expect(0, args...)
	pid, fd := watchPidfile(s.t, pidfile)
	if !h.WaitFile(s.t, ready, eventTimeout) {
		s.t.Fatalf("daemon %d never became ready", pid)
	}
	return pid, fd
}

// startStranger starts a process directly (no tool, no pidfile): one
// that must never be signalled. It is killed when the test ends.
func startStranger(t *testing.T, path string, args ...string) (int, int) {
	t.Helper()
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Release() })
	return cmd.Process.Pid, h.Watch(t, cmd.Process.Pid)
}

// TestSSDForegroundDaemon: a daemon that stays in the foreground, under
// --background --make-pidfile, through start, status, a second start, a
// stop, and the stale pidfile's status and stop.
func TestSSDForegroundDaemon(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("fg.pid")
		pid, fd := s.startForeground(pidfile)
		s.expect(0, "--status", "--pidfile", pidfile)
		s.expect(0, "-T", "-p", pidfile, "-x", h.TestDaemon)
		s.expect(1, "--start", "--quiet", "--background", "--make-pidfile", "--pidfile", pidfile, "--exec", h.TestDaemon)
		s.expect(0, "--start", "--oknodo", "--quiet", "--background", "--make-pidfile", "--pidfile", pidfile, "--exec", h.TestDaemon)
		if got := h.ReadPID(s.t, pidfile); got != pid {
			s.t.Fatalf("a second start rewrote the pidfile: %d, was %d", got, pid)
		}
		s.expect(0, "--stop", "--quiet", "--pidfile", pidfile, "--exec", h.TestDaemon, "--retry", "5")
		if !s.stopped(fd) {
			s.t.Fatalf("daemon %d still runs after --stop --retry", pid)
		}
		if n := termCount(pidfile + ".term"); n != 1 {
			s.t.Fatalf("daemon got %d TERMs, want 1", n)
		}
		s.expect(1, "--status", "--pidfile", pidfile)
		s.expect(1, "--stop", "--quiet", "--pidfile", pidfile)
		s.expect(0, "--stop", "--quiet", "--oknodo", "--pidfile", pidfile, "--remove-pidfile")
		assertNoFile(s.t, pidfile)
		s.expect(3, "--status", "--pidfile", pidfile)
	})
}

// TestSSDForkingDaemon: a program that detaches itself and writes its own
// pidfile, started without --background (executed in place), checked and
// stopped by --pidfile and --exec or --name; a reload by --signal HUP.
func TestSSDForkingDaemon(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("fork.pid")
		pid, fd := s.startForking(pidfile, "-hup-file", s.path("hup"))
		_, sid := procStat(s.t, pid)
		if sid != pid {
			s.t.Fatalf("the daemon %d does not lead its session (%d): it did not detach itself", pid, sid)
		}
		s.expect(0, "-T", "-p", pidfile, "-x", h.TestDaemon)
		s.expect(0, "-T", "-p", pidfile, "-n", "testdaemon")
		s.expect(1, "-S", "-q", "-p", pidfile, "-x", h.TestDaemon, "--", "-daemonize", "-pidfile", pidfile)
		s.expect(0, "-K", "-q", "-s", "HUP", "-p", pidfile, "-x", h.TestDaemon)
		if !countLinesAtLeast(s.t, s.path("hup"), "HUP", 1) || h.Exited(fd) {
			s.t.Fatalf("daemon %d did not take the HUP and go on", pid)
		}
		s.expect(0, "-K", "-q", "-s", "0", "-p", pidfile, "-n", "testdaemon")
		s.expect(0, "-K", "-q", "-p", pidfile, "-n", "testdaemon", "-R", "TERM/5")
		if !s.stopped(fd) || termCount(pidfile+".term") != 1 {
			s.t.Fatalf("daemon %d: exited %v after %d TERMs, want gone after 1", pid, h.Exited(fd), termCount(pidfile+".term"))
		}
		s.expect(1, "-T", "-p", pidfile, "-x", h.TestDaemon)
		s.expect(1, "-K", "-q", "-s", "0", "-p", pidfile, "-n", "testdaemon")
		s.expect(1, "-K", "-q", "-p", pidfile, "-x", h.TestDaemon)
	})
}

// TestSSDIgnoresTerm: a daemon that ignores TERM outlives TERM/1 (exit
// 2) and is killed by TERM/1/KILL/5.
func TestSSDIgnoresTerm(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("stubborn.pid")
		pid, fd := s.startForking(pidfile, "-ignore-term")
		s.expect(2, "-K", "-q", "-p", pidfile, "-x", h.TestDaemon, "-R", "TERM/1")
		if h.Exited(fd) || termCount(pidfile+".term") != 1 {
			s.t.Fatalf("daemon %d: exited %v after %d TERMs, want alive after 1", pid, h.Exited(fd), termCount(pidfile+".term"))
		}
		s.expect(0, "-K", "-q", "-p", pidfile, "-x", h.TestDaemon, "-R", "TERM/1/KILL/5")
		if !s.stopped(fd) {
			s.t.Fatalf("daemon %d survived KILL", pid)
		}
		if n := termCount(pidfile + ".term"); n != 2 {
			s.t.Fatalf("daemon got %d TERMs, want 2", n)
		}
	})
}

// TestSSDLocksOwnPidfile: a daemon that locks its own pidfile, as cron
// does, is neither locked out by the start nor judged by a lock of
// daemonctl's.
func TestSSDLocksOwnPidfile(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("crond.pid")
		pid, fd := s.startForking(pidfile, "-lock-pidfile")
		if h.Exited(fd) || !h.HoldsFlock(s.t, pid, pidfile) {
			s.t.Fatalf("the daemon %d died or does not hold its own lock", pid)
		}
		s.expect(0, "--status", "--pidfile", pidfile, "--name", "testdaemon")
		s.expect(1, "--start", "--quiet", "--pidfile", pidfile, "--exec", h.TestDaemon, "--", "-daemonize", "-pidfile", pidfile, "-lock-pidfile")
		s.expect(0, "--stop", "--quiet", "--retry", "5", "--name", "testdaemon", "--pidfile", pidfile)
		if !s.stopped(fd) {
			s.t.Fatalf("daemon %d still runs", pid)
		}
	})
}

// TestSSDReusedPIDProgramsPidfile: the program's own pidfile names a PID
// now another program's; matched by --exec, both see no daemon and leave
// the stranger alone.
func TestSSDReusedPIDProgramsPidfile(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("gone.pid")
		stranger, fd := startStranger(s.t, "sleep", "1000")
		if err := os.WriteFile(pidfile, []byte(strconv.Itoa(stranger)+"\n"), 0o644); err != nil {
			s.t.Fatal(err)
		}
		s.expect(1, "--status", "--pidfile", pidfile, "--exec", h.TestDaemon)
		s.expect(1, "--stop", "--quiet", "--pidfile", pidfile, "--exec", h.TestDaemon, "--retry", "5")
		s.expect(1, "--stop", "--quiet", "--pidfile", pidfile, "--name", "testdaemon")
		if h.Exited(fd) {
			s.t.Fatalf("the stranger %d was killed", stranger)
		}
	})
}

// TestSSDReusedPIDOwnPidfile: a daemon started with --background
// --make-pidfile was SIGKILLed and its PID taken by a stranger running
// the same program. dpkg's sees it running and stops the stranger;
// daemonctl's start recorded the daemon, so the PID reads as dead and
// nothing is signalled.
func TestSSDReusedPIDOwnPidfile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: reuses a PID through /proc/sys/kernel/ns_last_pid")
	}
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("fg.pid")
		pid, fd := s.startForeground(pidfile)
		if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil || !h.WaitExit(fd, eventTimeout) {
			s.t.Fatalf("kill %d: %v", pid, err)
		}
		strangerFD := reusePID(s.t, pid, h.TestDaemon, "-term-file", s.path("stranger.term"))
		s.expectDiffering(0, 1, "a reused PID is not the recorded daemon", "--status", "--pidfile", pidfile)
		s.expectDiffering(0, 1, "a reused PID is not the recorded daemon", "--stop", "--quiet", "--pidfile", pidfile, "--exec", h.TestDaemon, "--retry", "5")
		if s.tool.ours {
			if h.Exited(strangerFD) || termCount(s.path("stranger.term")) != 0 {
				s.t.Fatalf("daemonctl's start-stop-daemon signalled the stranger %d that reused the PID", pid)
			}
		} else if !s.stopped(strangerFD) {
			s.t.Fatalf("dpkg's start-stop-daemon was expected to stop the stranger %d", pid)
		}
	})
}

// reusePID starts path with PID pid, which must be free, by setting the
// kernel's last PID just below it; it retries when another process takes
// the PID first. It returns the process's pidfd (killed when the test
// ends).
func reusePID(t *testing.T, pid int, path string, args ...string) int {
	t.Helper()
	// Reap the old holder of the PID if the harness's reaper has not.
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, 0, nil)
	for range 200 {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0o644); err != nil {
			t.Skipf("cannot choose the next PID: %v", err)
		}
		cmd := exec.Command(path, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Release() })
		fd := h.Watch(t, cmd.Process.Pid)
		if cmd.Process.Pid == pid {
			return fd
		}
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
	t.Fatalf("could not start a process with pid %d", pid)
	return -1
}

// TestSSDStrangerWithMatchingName: a process with the daemon's name (a
// copy of its program elsewhere) that the pidfile does not name is left
// alone by a stop matched on --pidfile and --name; without --pidfile,
// start-stop-daemon matches like killall, and so do both.
func TestSSDStrangerWithMatchingName(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		twin := s.path("bin/testdaemon")
		if err := os.Mkdir(filepath.Dir(twin), 0o755); err != nil {
			s.t.Fatal(err)
		}
		copyExecutable(s.t, h.TestDaemon, twin)
		pidfile := s.path("d.pid")
		pid, fd := s.startForking(pidfile)
		stranger, strangerFD := startStranger(s.t, twin, "-ready-file", s.path("stranger.ready"), "-term-file", s.path("stranger.term"))
		if !h.WaitFile(s.t, s.path("stranger.ready"), eventTimeout) {
			s.t.Fatal("stranger never became ready")
		}
		s.expect(0, "--stop", "--quiet", "--pidfile", pidfile, "--name", "testdaemon", "--retry", "5")
		if !s.stopped(fd) {
			s.t.Fatalf("daemon %d still runs", pid)
		}
		if h.Exited(strangerFD) || termCount(s.path("stranger.term")) != 0 {
			s.t.Fatalf("the stranger %d with the daemon's name was signalled", stranger)
		}
		s.expect(0, "--status", "--exec", twin)
		s.expect(0, "--stop", "--quiet", "--exec", twin, "--retry", "5")
		if !s.stopped(strangerFD) {
			s.t.Fatalf("the stranger %d matched by --exec alone survived", stranger)
		}
		s.expect(3, "--status", "--exec", twin)
	})
}

// TestSSDOrphans: a self-forking daemon's main process is SIGKILLed and
// its children go on in its session (nginx's workers). dpkg's
// start-stop-daemon finds nothing to stop and leaves them running;
// daemonctl's stops them.
func TestSSDOrphans(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("master.pid")
		pid, fd := s.startForking(pidfile, "-children", "2", "-children-file", s.path("children"))
		children := readPIDs(s.t, s.path("children"))
		var childFDs []int
		for _, c := range children {
			childFDs = append(childFDs, h.Watch(s.t, c))
		}
		if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil || !h.WaitExit(fd, eventTimeout) {
			s.t.Fatalf("kill %d: %v", pid, err)
		}
		s.expect(1, "--status", "--pidfile", pidfile, "--name", "testdaemon")
		s.expectDiffering(1, 0, "the dead master's session still runs processes that match", "--stop", "--quiet", "--pidfile", pidfile, "--name", "testdaemon", "--retry", "TERM/5")
		for i, cfd := range childFDs {
			if s.tool.ours != h.Exited(cfd) {
				s.t.Fatalf("child %d: exited %v", children[i], h.Exited(cfd))
			}
		}
	})
}

// readPIDs reads a file of PIDs, one a line, once it is complete.
func readPIDs(t *testing.T, path string) []int {
	t.Helper()
	if !h.WaitFile(t, path, eventTimeout) {
		t.Fatalf("no %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %q", path, b)
		}
		pids = append(pids, pid)
	}
	return pids
}

// TestSSDRacingStarts: five --background --make-pidfile starts at once.
// daemonctl's start takes the pidfile's lock, so exactly one daemon runs;
// dpkg's checks, then forks, and may start several (logged, not
// asserted).
func TestSSDRacingStarts(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("race.pid")
		marker := s.path("race.marker")
		args := []string{"--start", "--oknodo", "--quiet", "--background", "--make-pidfile", "--pidfile", pidfile, "--exec", h.TestDaemon, "--", "-ready-file", marker}
		var wg sync.WaitGroup
		codes := make([]int, 5)
		for i := range codes {
			wg.Go(func() {
				out, err := h.Output(exec.Command(s.tool.path, args...))
				if ee, ok := err.(*exec.ExitError); ok {
					codes[i] = ee.ExitCode()
				} else if err != nil {
					s.t.Errorf("%v: %s", err, out)
				}
			})
		}
		wg.Wait()
		daemons := processesWithArg(s.t, marker)
		for _, pid := range daemons {
			h.Watch(s.t, pid)
		}
		s.t.Logf("%s: exit codes %v, %d daemon(s) running", s.tool.name, codes, len(daemons))
		if s.tool.ours && len(daemons) != 1 {
			s.t.Fatalf("racing starts left %d daemons (%v), want 1", len(daemons), daemons)
		}
		if s.tool.ours && h.ReadPID(s.t, pidfile) != daemons[0] {
			s.t.Fatalf("the pidfile names %d, the daemon is %d", h.ReadPID(s.t, pidfile), daemons[0])
		}
	})
}

// TestSSDServiceUsersPidfile: a daemon run as a service user writes its
// pidfile in that user's directory, as redis-server's script arranges.
// Both stop it. When that user (compromised) points the file at root's
// process running the same program, dpkg's start-stop-daemon signals
// root's process; daemonctl's believes the file only for the service
// user's processes and leaves it alone.
func TestSSDServiceUsersPidfile(t *testing.T) {
	p := asUnprivileged(t)
	eachSSD(t, func(s *ssdRun) {
		dir := filepath.Join(p.dir, s.tool.name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			s.t.Fatal(err)
		}
		if err := os.Chown(dir, int(p.uid), int(p.gid)); err != nil {
			s.t.Fatal(err)
		}
		pidfile := filepath.Join(dir, "redis.pid")
		s.expect(0, "--start", "--quiet", "--chuid", "nobody", "--pidfile", pidfile, "--exec", p.daemon, "--",
			"-daemonize", "-pidfile", pidfile, "-ready-file", pidfile+".ready")
		pid, fd := watchPidfile(s.t, pidfile)
		s.expect(0, "--status", "--pidfile", pidfile, "--exec", p.daemon)
		// A non-root pidfile alone: refused by both.
		s.expect(4, "--status", "--quiet", "--pidfile", pidfile)
		s.expect(2, "--stop", "--quiet", "--pidfile", pidfile)
		s.expect(0, "--stop", "--quiet", "--retry", "5", "--pidfile", pidfile, "--exec", p.daemon)
		if !s.stopped(fd) {
			s.t.Fatalf("daemon %d still runs", pid)
		}
		// The service user rewrites its pidfile to name root's process.
		rootsPID, rootsFD := startStranger(s.t, p.daemon, "-ready-file", filepath.Join(s.dir, "root.ready"), "-term-file", filepath.Join(s.dir, "root.term"))
		if !h.WaitFile(s.t, filepath.Join(s.dir, "root.ready"), eventTimeout) {
			s.t.Fatal("root's process never became ready")
		}
		if err := os.WriteFile(pidfile, []byte(strconv.Itoa(rootsPID)+"\n"), 0o644); err != nil {
			s.t.Fatal(err)
		}
		s.expectDiffering(0, 1, "a file nobody could write names only nobody's processes", "--stop", "--quiet", "--retry", "5", "--pidfile", pidfile, "--exec", p.daemon)
		if s.tool.ours && h.Exited(rootsFD) {
			s.t.Fatalf("daemonctl's start-stop-daemon killed root's process %d", rootsPID)
		}
		if !s.tool.ours && !s.stopped(rootsFD) {
			s.t.Fatalf("dpkg's start-stop-daemon was expected to stop root's process %d", rootsPID)
		}
	})
}

// TestSSDBackgroundExecFailure: with --background, dpkg's
// start-stop-daemon cannot tell that the program failed to execute and
// exits 0; daemonctl's says so and exits 2.
func TestSSDBackgroundExecFailure(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		notExecutable := s.path("daemon")
		if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644); err != nil {
			s.t.Fatal(err)
		}
		r := s.expectDiffering(0, 2, "a program that cannot be executed is reported", "--start", "--background", "--exec", notExecutable)
		if s.tool.ours && !strings.Contains(r.Stderr(), "unable to start "+notExecutable) {
			s.t.Fatalf("stderr %q does not say why", r.Stderr())
		}
	})
}

// TestSSDStartEnvironment: what the program gets from --chdir, --umask,
// --nicelevel, --chuid and --output, with --background and
// --make-pidfile (daemonctl's own start) and with --background alone (its
// detaching stage): the same as from dpkg's.
func TestSSDStartEnvironment(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: --chuid")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	infos := map[string][]daemonInfo{}
	for _, makePidfile := range []bool{true, false} {
		eachSSD(t, func(s *ssdRun) {
			for _, d := range []string{filepath.Dir(s.dir), s.dir} {
				if err := os.Chmod(d, 0o755); err != nil {
					s.t.Fatal(err)
				}
			}
			daemon := s.path("testdaemon")
			copyExecutable(s.t, h.TestDaemon, daemon)
			pidfile, info, out := s.path("env.pid"), s.path("info"), s.path("out")
			args := []string{"--start", "--background", "--pidfile", pidfile, "--exec", daemon,
				"--chdir", s.dir, "--umask", "027", "--nicelevel", "3", "--chuid", "nobody", "--output", out, "--"}
			if makePidfile {
				args = append([]string{"--make-pidfile"}, args...)
			} else {
				args = append(args, "-pidfile", pidfile)
			}
			args = append(args, "-info-file", info, "-stdout-line", "hello", "-stderr-line", "world")
			if err := os.Chown(s.dir, mustAtoi(s.t, nobody.Uid), -1); err != nil {
				s.t.Fatal(err)
			}
			s.expect(0, args...)
			watchPidfile(s.t, pidfile)
			in := readDaemonInfo(s.t, info)
			infos[s.tool.name] = append(infos[s.tool.name], in)
			if in.Cwd != s.dir || in.Umask != "0027" || in.Nice != 3 || strconv.Itoa(in.UID) != nobody.Uid || strconv.Itoa(in.GID) != nobody.Gid || in.HasTTY || in.SID == in.PID {
				s.t.Errorf("makePidfile=%v: the daemon got %+v", makePidfile, in)
			}
			if !h.WaitFileFunc(s.t, out, eventTimeout, func(b []byte) bool { return string(b) == "hello\nworld\n" }) {
				b, _ := os.ReadFile(out)
				s.t.Errorf("--output holds %q", b)
			}
			s.expect(0, "--stop", "--quiet", "--retry", "5", "--pidfile", pidfile, "--exec", daemon)
		})
	}
	if t.Failed() {
		return
	}
	for i := range infos["dpkg"] {
		a, b := infos["dpkg"][i], infos["daemonctl"][i]
		// Deliberately, daemonctl's own start (run 0, --make-pidfile)
		// gives the daemon its pidfile's lock, read-only, as fd 3.
		wantFDs := fmt.Sprint(a.InheritedFDs)
		if i == 0 {
			wantFDs = fmt.Sprint(append(a.InheritedFDs, 3))
		}
		if fmt.Sprint(a.Groups) != fmt.Sprint(b.Groups) || a.Umask != b.Umask || a.Nice != b.Nice || fmt.Sprint(b.InheritedFDs) != wantFDs {
			t.Errorf("run %d: dpkg's daemon got %+v, daemonctl's %+v", i, a, b)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSSDCommandLine: the same command lines, read the same way: getopt's
// bundling, abbreviations, "=" values, argument permutation and "--",
// usage errors and their exit codes (3, 4 under --status), trouble found
// while running (2), and --test's report of what would be done.
func TestSSDCommandLine(t *testing.T) {
	tools := ssdTools(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		args []string
		env  []string
		// sameStderr: compare the error messages too (with the program
		// name replaced); those of getopt and of the checks are the same.
		sameStderr bool
	}{
		{args: []string{"-Stx", h.TestDaemon, "a", "b"}},
		{args: []string{"-Sqtx", h.TestDaemon}},
		{args: []string{"--start", "--test", "--exec=" + h.TestDaemon, "--", "-x", "y"}},
		{args: []string{"--sta", "--tes", "--exe", h.TestDaemon}, sameStderr: true},
		{args: []string{"--start", "--tes", "--exe", h.TestDaemon, "arg"}},
		{args: []string{"arg1", "-S", "-t", "-x", h.TestDaemon, "arg2", "--", "arg3"}},
		{args: []string{"-S", "-t", "-x", h.TestDaemon, "arg", "-q"}, env: []string{"POSIXLY_CORRECT=1"}},
		{args: []string{"-S", "-t", "-a", h.TestDaemon, "-n", "foo", "-N", "5"}},
		{args: []string{"-S", "-t", "-x", h.TestDaemon, "-P", "other", "-I", "idle"}},
		{args: []string{"-S", "-t", "-x", h.TestDaemon, "-c", "root:root", "-r", "/"}},
		{args: []string{"-S", "-t", "-x"}, sameStderr: true},
		{args: []string{"--start=1", "-x", h.TestDaemon}, sameStderr: true},
		{args: []string{"-S", "-K", "-x", h.TestDaemon}, sameStderr: true},
		{args: []string{"-T"}, sameStderr: true},
		{args: []string{"-T", "--bogus"}, sameStderr: true},
		{args: []string{"--bogus", "-T"}, sameStderr: true},
		{args: []string{"-Z", "-T"}, sameStderr: true},
		{args: []string{"-K", "-s", "FOO", "-n", "x"}, sameStderr: true},
		{args: []string{"-T", "-s", "FOO", "-n", "x"}, sameStderr: true},
		{args: []string{"-K", "--pid", "0"}, sameStderr: true},
		{args: []string{"-K", "--ppid", "-1", "-n", "x"}, sameStderr: true},
		{args: []string{"-K", "--pid", "5", "-p", missing}, sameStderr: true},
		{args: []string{"-K", "-n", "x", "-k", "08"}, sameStderr: true},
		{args: []string{"-K", "-n", "x", "-P", "foo"}, sameStderr: true},
		{args: []string{"-K", "-n", "x", "--notify-timeout", "x"}, sameStderr: true},
		{args: []string{"-K", "-n", "x", "-R", "bogus"}},
		{args: []string{"-K", "-q", "-n", "nosuchdaemon", "-R", "forever/TERM/1"}},
		{args: []string{"-K", "-q", "-n", "nosuchdaemon", "-R", "TERM/KILL/5"}},
		{args: []string{"-K", "-q", "-n", "nosuchdaemon", "-R", "1/TERM/2"}},
		{args: []string{"-K", "-q", "-n", "nosuchdaemon", "-R", "TERM/5/forever"}},
		{args: []string{"-K", "-q", "-n", "nosuchdaemon", "--retry=HUP/1/TERM/forever/5"}},
		{args: []string{"-K", "-n", "x", "-b"}, sameStderr: true},
		{args: []string{"-S", "-x", h.TestDaemon, "-m"}, sameStderr: true},
		{args: []string{"-K", "-n", "x", "--remove-pidfile"}, sameStderr: true},
		{args: []string{"-S", "-x", h.TestDaemon, "-C"}, sameStderr: true},
		{args: []string{"-S", "-x", h.TestDaemon, "-O", missing}, sameStderr: true},
		{args: []string{"-S", "-b", "-n", "x"}, sameStderr: true},
		{args: []string{"-K", "-n", "x", "-c", "root:"}, sameStderr: true},
		{args: []string{"-S", "-x", missing}, sameStderr: true},
		{args: []string{"-T", "-x", missing}, sameStderr: true},
		{args: []string{"-K", "-u", "no-such-user-here"}, sameStderr: true},
		{args: []string{"-K", "-n", "nosuchdaemon"}, sameStderr: true},
		{args: []string{"-K", "-o", "-n", "nosuchdaemon"}, sameStderr: true},
		{args: []string{"-K", "-t", "-n", "nosuchdaemon"}, sameStderr: true},
		{args: []string{"-K", "-t", "-n", "nosuchdaemon", "-R", "5"}, sameStderr: true},
		{args: []string{"-T", "-n", "nosuchdaemon"}, sameStderr: true},
		{args: []string{"-T", "-p", missing}, sameStderr: true},
		{args: []string{"-K", "-n", "1234567890123456"}, sameStderr: true},
		{args: []string{"-H"}},
	}
	for _, c := range cases {
		var results [2]h.Result
		for i, tool := range tools {
			cmd := exec.Command(tool.path, c.args...)
			results[i] = h.RunCmd(t, cmd, c.env, c.args)
		}
		a, b := results[0], results[1]
		prog := func(i int, s string) string { return strings.ReplaceAll(s, tools[i].path, "PROG") }
		switch {
		case a.Code() != b.Code():
			t.Errorf("%q: dpkg's exits %d, daemonctl's %d\n  dpkg: %q %q\n  daemonctl: %q %q", c.args, a.Code(), b.Code(), a.Stdout(), a.Stderr(), b.Stdout(), b.Stderr())
		case c.args[0] != "-H" && a.Stdout() != b.Stdout():
			t.Errorf("%q: stdout differs\n  dpkg: %q\n  daemonctl: %q", c.args, a.Stdout(), b.Stdout())
		case c.sameStderr && prog(0, a.Stderr()) != prog(1, b.Stderr()):
			t.Errorf("%q: stderr differs\n  dpkg: %q\n  daemonctl: %q", c.args, prog(0, a.Stderr()), prog(1, b.Stderr()))
		}
	}
}

// TestSSDStopTest: --stop --test reports the signal it would send, and
// sends nothing.
func TestSSDStopTest(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pidfile := s.path("t.pid")
		pid, fd := s.startForking(pidfile)
		r := s.expect(0, "--stop", "--test", "--pidfile", pidfile, "--exec", h.TestDaemon)
		if want := fmt.Sprintf("Would send signal 15 to %d.\n", pid); r.Stdout() != want {
			s.t.Fatalf("stdout %q, want %q", r.Stdout(), want)
		}
		if h.Exited(fd) || termCount(pidfile+".term") != 0 {
			s.t.Fatalf("--test signalled the daemon")
		}
		s.expect(0, "--status", "--pid", strconv.Itoa(pid))
		s.expect(0, "--stop", "--quiet", "--retry", "5", "--pid", strconv.Itoa(pid))
		s.expect(3, "--status", "--pid", strconv.Itoa(pid))
	})
}

// TestSSDInsecurePidfiles: pidfiles both refuse to act on, with exit 2
// (4 for --status): one anyone may write, and one another user owns
// matched by --pidfile alone.
func TestSSDInsecurePidfiles(t *testing.T) {
	eachSSD(t, func(s *ssdRun) {
		pid, fd := startStranger(s.t, "sleep", "1000")
		pidfile := s.path("open.pid")
		if err := os.WriteFile(pidfile, []byte(strconv.Itoa(pid)+"\n"), 0o666); err != nil {
			s.t.Fatal(err)
		}
		if err := os.Chmod(pidfile, 0o666); err != nil {
			s.t.Fatal(err)
		}
		s.expect(4, "--status", "--pidfile", pidfile, "--name", "sleep")
		s.expect(2, "--stop", "--quiet", "--pidfile", pidfile, "--name", "sleep")
		if os.Geteuid() == 0 {
			if err := os.Chmod(pidfile, 0o644); err != nil {
				s.t.Fatal(err)
			}
			if err := os.Chown(pidfile, 65534, 65534); err != nil {
				s.t.Fatal(err)
			}
			s.expect(2, "--stop", "--quiet", "--pidfile", pidfile)
		}
		if h.Exited(fd) {
			s.t.Fatal("the process named by a pidfile that must not be believed was killed")
		}
	})
}
