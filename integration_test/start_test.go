package integration_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// TestStartDetaches checks the classic daemon shape: new session but not its
// leader, no controlling terminal, reparented to the subreaper (this test
// process), cwd /, umask 022, stdio on /dev/null, and a pidfile holding
// "PID\n" (mode 0644) whose lock the daemon itself holds.
func TestStartDetaches(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	infoFile := filepath.Join(dir, "info.json")
	r := h.Run(t, "start", "-p", pidfile, "--", h.TestDaemon, "-ready-file", filepath.Join(dir, "ready"), "-info-file", infoFile)
	h.Expect(t, r, 0)
	pid := h.ReadPID(t, pidfile)
	h.Watch(t, pid)
	assertStdout(t, r, fmt.Sprintf("web: started (pid %d)", pid))
	if r.Stderr() != "" {
		t.Fatalf("stderr: %q", r.Stderr())
	}
	in := readDaemonInfo(t, infoFile)

	if in.PID != pid {
		t.Fatalf("pidfile says %d, the daemon is %d", pid, in.PID)
	}
	waitLauncherGone(t, pid)
	ppid, sid := procStat(t, pid)
	if sid == pid || in.SID == pid {
		t.Fatalf("daemon %d leads its session: it could acquire a terminal", pid)
	}
	if _, mySID := procStat(t, os.Getpid()); sid == mySID {
		t.Fatalf("daemon %d is still in the caller's session %d", pid, sid)
	}
	if ppid != os.Getpid() {
		t.Fatalf("daemon's parent is %d, want the subreaper %d", ppid, os.Getpid())
	}
	if in.HasTTY {
		t.Fatal("daemon has a controlling terminal")
	}
	if in.Cwd != "/" {
		t.Fatalf("cwd %q, want /", in.Cwd)
	}
	if in.Umask != "0022" {
		t.Fatalf("umask %s, want 0022", in.Umask)
	}
	for fd := 0; fd <= 2; fd++ {
		if in.FDTargets[fd] != os.DevNull {
			t.Fatalf("fd %d is %q, want /dev/null", fd, in.FDTargets[fd])
		}
	}

	assertFileContents(t, pidfile, []byte(strconv.Itoa(pid)+"\n"))
	st, err := os.Stat(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Fatalf("pidfile mode %v, want 0644", st.Mode().Perm())
	}
	if !h.Locked(t, pidfile) {
		t.Fatal("pidfile is not locked")
	}
	if !h.HoldsFlock(t, pid, pidfile) {
		t.Fatalf("daemon %d does not hold the pidfile's flock", pid)
	}
	var lockFDs int
	for _, fd := range in.InheritedFDs {
		if fd > 2 && in.FDTargets[fd] == pidfile {
			lockFDs++
		} else if fd > 2 {
			t.Fatalf("daemon inherited fd %d (%s): only the lock should reach it", fd, in.FDTargets[fd])
		}
	}
	if lockFDs != 1 {
		t.Fatalf("daemon inherited %d descriptors on the pidfile, want 1", lockFDs)
	}
}

// TestStartChdirUmask checks --chdir and --umask reach the daemon, and that
// the pidfile stays 0644 (readable by every status caller) whatever the
// daemon's umask.
func TestStartChdirUmask(t *testing.T) {
	dir := t.TempDir()
	work := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	infoFile := filepath.Join(dir, "info.json")
	h.StartDaemon(t, pidfile, []string{"--chdir", work, "--umask", "027"}, "-info-file", infoFile)
	in := readDaemonInfo(t, infoFile)
	if in.Cwd != work {
		t.Fatalf("cwd %q, want %q", in.Cwd, work)
	}
	if in.Umask != "0027" {
		t.Fatalf("umask %s, want 0027", in.Umask)
	}
	st, err := os.Stat(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Fatalf("pidfile mode %v with --umask 027, want 0644", st.Mode().Perm())
	}
}

// TestStartStdoutStderr checks --stdout and --stderr: appended to, created
// 0640, each receiving its own stream.
func TestStartStdoutStderr(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	stdout := filepath.Join(dir, "out.log")
	stderr := filepath.Join(dir, "err.log")
	if err := os.WriteFile(stdout, []byte("earlier line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.StartDaemon(t, pidfile, []string{"--stdout", stdout, "--stderr", stderr},
		"-stdout-line", "to stdout", "-stderr-line", "to stderr")
	// The lines are written before the ready file, which StartDaemon awaited.
	assertFileContents(t, stdout, []byte("earlier line\nto stdout\n"))
	assertFileContents(t, stderr, []byte("to stderr\n"))
	st, err := os.Stat(stderr)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Fatalf("%s created with mode %v, want 0640", stderr, st.Mode().Perm())
	}
	if st, _ := os.Stat(stdout); st.Mode().Perm() != 0o600 {
		t.Fatalf("existing %s changed mode to %v", stdout, st.Mode().Perm())
	}
}

// TestStartResolvesPATH starts a program by its bare name.
func TestStartResolvesPATH(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep on PATH")
	}
	sleep, err = filepath.EvalSymlinks(sleep)
	if err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(t.TempDir(), "nap.pid")
	h.Expect(t, h.Run(t, "start", "-p", pidfile, "--", "sleep", "1000"), 0)
	pid := h.ReadPID(t, pidfile)
	h.Watch(t, pid)
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	if exe != sleep {
		t.Fatalf("pid %d runs %s, want %s", pid, exe, sleep)
	}
	if !h.HoldsFlock(t, pid, pidfile) {
		t.Fatalf("sleep %d does not hold the lock", pid)
	}
	r := h.Run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	assertNoFile(t, pidfile)
}

// TestStartEnvNice checks --env entries and --nice reach the daemon.
func TestStartEnvNice(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	infoFile := filepath.Join(dir, "info.json")
	h.StartDaemon(t, pidfile, []string{"--env", "GREETING=hello world", "--env", "EMPTY=", "--nice", "5"}, "-info-file", infoFile)
	in := readDaemonInfo(t, infoFile)
	for _, kv := range []string{"GREETING=hello world", "EMPTY="} {
		if !slices.Contains(in.Env, kv) {
			t.Fatalf("%q missing from the daemon's environment %q", kv, in.Env)
		}
	}
	for _, kv := range in.Env {
		if strings.HasPrefix(kv, "DAEMONCTL_") {
			t.Fatalf("daemonctl's own marker %q reached the daemon", kv)
		}
	}
	if in.Nice != 5 {
		t.Fatalf("nice %d, want 5", in.Nice)
	}
}

// TestStartAlreadyRunning checks that a second start reports the running
// daemon, exits 0 and starts nothing.
func TestStartAlreadyRunning(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	d := h.StartDaemon(t, pidfile, nil)
	second := filepath.Join(dir, "second-ready")
	r := h.Run(t, "start", "-p", pidfile, "--", h.TestDaemon, "-ready-file", second)
	h.Expect(t, r, 0)
	assertStdout(t, r, fmt.Sprintf("web: already running (pid %d)", d.PID))
	if pids := processesWithArg(t, second); len(pids) != 0 {
		h.Watch(t, pids[0])
		t.Fatalf("a second daemon was started: %v", pids)
	}
	assertFileContents(t, pidfile, []byte(fmt.Sprintf("%d\n", d.PID)))
	if !h.HoldsFlock(t, d.PID, pidfile) {
		t.Fatal("the first daemon lost its lock")
	}

	r = h.Run(t, "start", "-p", pidfile, "--name", "frontend", "--", h.TestDaemon, "-ready-file", second)
	h.Expect(t, r, 0)
	assertStdout(t, r, fmt.Sprintf("frontend: already running (pid %d)", d.PID))
	if h.Exited(d.PIDFD) {
		t.Fatal("the first daemon died")
	}
}

// TestStartName checks the default name (the pidfile's base name without
// .pid) and --name in start's messages.
func TestStartName(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ file, flag, name string }{
		{"web.pid", "", "web"},
		{"db.lock", "", "db.lock"},
		{"x.pid", "backend", "backend"},
	} {
		pidfile := filepath.Join(dir, c.file)
		args := []string{"start", "-p", pidfile}
		if c.flag != "" {
			args = append(args, "--name", c.flag)
		}
		r := h.Run(t, append(args, "--", "sleep", "1000")...)
		h.Expect(t, r, 0)
		pid := h.ReadPID(t, pidfile)
		h.Watch(t, pid)
		assertStdout(t, r, fmt.Sprintf("%s: started (pid %d)", c.name, pid))
	}
}

// TestStartProgramNotInstalled checks that a program that does not exist,
// is not executable or is a directory fails before anything detaches:
// exit 5, one line naming it, no pidfile.
func TestStartProgramNotInstalled(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\nsleep 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, prog := range []string{
		filepath.Join(dir, "missing"),
		"no-such-program-daemonctl-test",
		notExec,
		dir,
	} {
		t.Run(filepath.Base(prog), func(t *testing.T) {
			pidfile := filepath.Join(dir, "web.pid")
			r := h.Run(t, "start", "-p", pidfile, "--", prog, "arg")
			h.Expect(t, r, 5)
			assertOneLineError(t, r, prog)
			assertNoFile(t, pidfile)
		})
	}
}

// TestStartExecFails checks a program that passes the checks but whose exec
// fails in the launcher (a script naming a missing interpreter): exit 5,
// the reason, and no pidfile left.
func TestStartExecFails(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/nonexistent/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(dir, "web.pid")
	r := h.Run(t, "start", "-p", pidfile, "--", script)
	h.Expect(t, r, 5)
	assertOneLineError(t, r, script)
	assertNoFile(t, pidfile)
}

// TestStartUserGroup checks --user and --group as root: the daemon runs as
// nobody with nobody's groups, after the root-owned pidfile was written.
func TestStartUserGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("--user and --group need root (their refusal without root, exit 4, is a privilege test)")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	var groups []int
	ids, err := nobody.GroupIds()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		n, _ := strconv.Atoi(id)
		groups = append(groups, n)
	}
	slices.Sort(groups)
	// The daemon writes its ready and info files next to the pidfile, so
	// nobody must be able to reach and write that directory.
	dir, err := os.MkdirTemp("", "daemonctl-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	// The harness's build directory is private (0700): give nobody a copy
	// of the test daemon it can execute.
	daemon := filepath.Join(dir, "testdaemon")
	bin, err := os.ReadFile(h.TestDaemon)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(daemon, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// startAsNobody starts the copy through daemonctl with extra start
	// flags, as StartDaemon does, and returns its PID and pidfd.
	startAsNobody := func(t *testing.T, pidfile string, startFlags []string, infoFile string) (int, int) {
		t.Helper()
		ready := pidfile + ".ready"
		args := append([]string{"start", "-p", pidfile}, startFlags...)
		h.Expect(t, h.Run(t, append(args, "--", daemon, "-ready-file", ready, "-info-file", infoFile)...), 0)
		pid := h.ReadPID(t, pidfile)
		pidfd := h.Watch(t, pid)
		if !h.WaitFile(t, ready, eventTimeout) {
			t.Fatalf("daemon %d running as nobody never became ready", pid)
		}
		return pid, pidfd
	}

	t.Run("user", func(t *testing.T) {
		pidfile := filepath.Join(dir, "user.pid")
		infoFile := filepath.Join(dir, "user.json")
		pid, pidfd := startAsNobody(t, pidfile, []string{"--user", "nobody"}, infoFile)
		in := readDaemonInfo(t, infoFile)
		if in.UID != uid || in.EUID != uid || in.GID != gid || in.EGID != gid {
			t.Fatalf("uid %d euid %d gid %d egid %d, want uid %d gid %d", in.UID, in.EUID, in.GID, in.EGID, uid, gid)
		}
		slices.Sort(in.Groups)
		if !slices.Equal(in.Groups, groups) {
			t.Fatalf("groups %v, want nobody's %v", in.Groups, groups)
		}
		st, err := os.Stat(pidfile)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Fatalf("pidfile mode %v", st.Mode().Perm())
		}
		if !h.HoldsFlock(t, pid, pidfile) {
			t.Fatal("the unprivileged daemon does not hold the lock")
		}
		h.Expect(t, h.Run(t, "status", "-p", pidfile), 0)
		h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
		if !h.Exited(pidfd) {
			t.Fatal("daemon survived stop")
		}
	})

	t.Run("group", func(t *testing.T) {
		// A group other than nobody's own, by name.
		group, err := user.LookupGroup("daemon")
		if err != nil || group.Gid == nobody.Gid {
			t.Skip("no group daemon distinct from nobody's")
		}
		groupID, _ := strconv.Atoi(group.Gid)
		pidfile := filepath.Join(dir, "group.pid")
		infoFile := filepath.Join(dir, "group.json")
		startAsNobody(t, pidfile, []string{"--user", "nobody", "--group", "daemon"}, infoFile)
		in := readDaemonInfo(t, infoFile)
		if in.UID != uid || in.GID != groupID || in.EGID != groupID {
			t.Fatalf("uid %d gid %d egid %d, want uid %d gid %d", in.UID, in.GID, in.EGID, uid, groupID)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		pidfile := filepath.Join(dir, "unknown.pid")
		r := h.Run(t, "start", "-p", pidfile, "--user", "no-such-user-daemonctl", "--", daemon)
		h.Expect(t, r, 2)
		assertOneLineError(t, r, "no-such-user-daemonctl")
		assertNoFile(t, pidfile)
	})
}

// TestStartConcurrent races 20 starts of one pidfile, five times: exactly
// one daemon runs afterwards, every start exits 0 naming it, and exactly
// one of them says it started it.
func TestStartConcurrent(t *testing.T) {
	const starts = 20
	for round := range 5 {
		dir := t.TempDir()
		pidfile := filepath.Join(dir, "web.pid")
		ready := filepath.Join(dir, "ready")
		results := make([]h.Result, starts)
		var wg sync.WaitGroup
		for i := range starts {
			wg.Go(func() {
				results[i] = h.Run(t, "start", "-p", pidfile, "--", h.TestDaemon, "-ready-file", ready)
			})
		}
		wg.Wait()
		running := processesWithArg(t, ready)
		for _, pid := range running {
			h.Watch(t, pid)
		}
		var started int
		pids := map[int]bool{}
		for _, r := range results {
			h.Expect(t, r, 0)
			pids[pidInOutput(t, r.Stdout())] = true
			if strings.Contains(r.Stdout(), ": started (pid ") {
				started++
			}
		}
		if len(running) != 1 {
			t.Fatalf("round %d: %d daemons run: %v", round, len(running), running)
		}
		if started != 1 || len(pids) != 1 || !pids[running[0]] {
			t.Fatalf("round %d: %d starts said started; pids named %v; daemon %d", round, started, pids, running[0])
		}
		if !h.HoldsFlock(t, running[0], pidfile) || h.ReadPID(t, pidfile) != running[0] {
			t.Fatalf("round %d: daemon %d does not hold the pidfile", round, running[0])
		}
		h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	}
}

// TestStartPidfileKinds: a symlink (to a live daemon's pidfile), a
// directory, a missing directory, an unreadable file or a FIFO as -p:
// a one-line error naming it, and nothing started.
func TestStartPidfileKinds(t *testing.T) {
	checkPidfileCases(t, "start")
}
