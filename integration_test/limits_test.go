package integration_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// This file tests daemonctl under a tight RLIMIT_NOFILE (issue 9, finding
// 11): with ulimit -n 7 or 8 start used to die with "fatal error:
// runtime: eventfd failed", a goroutine dump and exit 2.

// runLimited runs daemonctl with args under limit: a shell sets it
// (ulimit -n sets the soft and the hard limit; "-Sn" the soft one alone)
// and becomes daemonctl.
func runLimited(t *testing.T, ulimit string, limit int, env []string, args ...string) h.Result {
	t.Helper()
	cmd := exec.Command("/bin/sh", append([]string{"-c", `ulimit ` + ulimit + ` "$0" && exec "$@"`, strconv.Itoa(limit), h.Daemonctl}, args...)...)
	return h.RunCmd(t, cmd, env, append([]string{"(ulimit " + ulimit + " " + strconv.Itoa(limit) + ")"}, args...))
}

// refusal is the one line a command refused for lack of descriptors
// prints: it names the command, the limit, and the limit it needs.
var refusal = regexp.MustCompile(`^daemonctl (\w+): too few file descriptors: the limit is (\d+) \(ulimit -n\) and daemonctl (\w+) needs at least (\d+) here; raise it\n$`)

// limitPath is one way of using daemonctl, tried under every limit.
type limitPath struct {
	name string
	args []string
	// ok is its exit code when it works, refused when it refuses (1;
	// status: 4, unknown).
	ok, refused int
	// setup runs before each try, under the test's own limit.
	setup func(t *testing.T)
	// worked checks that a try that exited ok did all it should;
	// untouched that a refused one changed nothing. Either may be nil.
	worked, untouched func(t *testing.T, r h.Result)
}

// TestFDLimits: under every limit from 3 up, each path either works fully
// or refuses in one line (exit 1, status 4) saying which limit it needs,
// and changes nothing; never a Go runtime crash, never exit 2. From the
// limit it names on, it works, at every limit tried.
func TestFDLimits(t *testing.T) {
	// Daemons outlive the subtest that started them: they are watched
	// (and killed at the end) by the test as a whole.
	top := t
	s := newServices(t)
	names := []string{"alpha", "bravo", "charlie"}
	for _, n := range names {
		s.defineDaemon(t, n, "")
	}
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	hups := filepath.Join(dir, "web.hup")
	var web *h.Daemon
	running := func(*testing.T) {
		if h.Exited(web.PIDFD) {
			_ = os.Remove(web.Ready)
			web = h.StartDaemon(top, pidfile, nil, "-hup-file", hups)
		}
	}
	web = h.StartDaemon(t, pidfile, nil, "-hup-file", hups)
	stopped := func(t *testing.T) {
		if !h.Exited(web.PIDFD) {
			h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
		}
		if h.Locked(t, pidfile) {
			t.Fatal("web still holds its lock")
		}
	}
	fds := map[string]int{}
	allRunning := func(*testing.T) {
		for _, n := range names {
			if h.Locked(top, s.pidfile(n)) {
				continue
			}
			_ = os.Remove(s.ready(n))
			_, fds[n] = s.started(top, s.run(top, "start", n), n)
		}
	}
	startedWeb := func(t *testing.T, r h.Result) {
		t.Helper()
		pid := h.ReadPID(t, pidfile)
		web = &h.Daemon{PIDFile: pidfile, PID: pid, PIDFD: h.Watch(top, pid), Ready: web.Ready}
		if !strings.Contains(r.Stdout(), fmt.Sprintf("web: started (pid %d)", pid)) {
			t.Fatalf("start printed %q", r.Stdout())
		}
		if st := h.Run(t, "status", "-p", pidfile); st.Code() != 0 {
			t.Fatalf("started, yet status says %s", st)
		}
	}
	notStarted := func(t *testing.T, r h.Result) {
		t.Helper()
		assertNoFile(t, pidfile)
	}
	paths := []limitPath{
		{name: "status", args: []string{"status", "-p", pidfile}, ok: 0, refused: 4, setup: running,
			worked: func(t *testing.T, r h.Result) {
				if !strings.HasPrefix(r.Stdout(), fmt.Sprintf("web: running (pid %d, up ", web.PID)) {
					t.Fatalf("status printed %q", r.Stdout())
				}
			}},
		{name: "table", args: []string{"status"}, ok: 0, refused: 4, setup: allRunning,
			worked: func(t *testing.T, r h.Result) {
				if got := regexp.MustCompile(`(?m)^\w+ +running +\d+ `).FindAllString(r.Stdout(), -1); len(got) != len(names) {
					t.Fatalf("table %q: want %d running rows", r.Stdout(), len(names))
				}
			}},
		{name: "reload", args: []string{"reload", "-p", pidfile}, ok: 0, refused: 1, setup: running,
			worked: func(t *testing.T, r h.Result) {
				if !h.WaitFile(t, hups, eventTimeout) {
					t.Fatal("reload worked, yet no HUP arrived")
				}
				_ = os.Remove(hups)
			}},
		{name: "stop", args: []string{"stop", "-p", pidfile}, ok: 0, refused: 1, setup: running,
			worked: func(t *testing.T, r h.Result) {
				if !h.WaitExit(web.PIDFD, eventTimeout) {
					t.Fatal("stop worked, yet the daemon lives")
				}
				assertNoFile(t, pidfile)
			},
			untouched: func(t *testing.T, r h.Result) {
				if h.Exited(web.PIDFD) || !h.Locked(t, pidfile) {
					t.Fatal("a refused stop touched the daemon")
				}
			}},
		{name: "stop --all", args: []string{"stop", "--all"}, ok: 0, refused: 1, setup: allRunning,
			worked: func(t *testing.T, r h.Result) {
				for _, n := range names {
					if !h.WaitExit(fds[n], eventTimeout) {
						t.Fatalf("stop --all worked, yet %s lives", n)
					}
				}
			},
			untouched: func(t *testing.T, r h.Result) {
				for _, n := range names {
					if h.Exited(fds[n]) {
						t.Fatalf("a refused stop --all stopped %s", n)
					}
				}
			}},
		{name: "start --notify", args: []string{"start", "-p", pidfile, "--notify", "--", h.TestDaemon, "-notify-after", "1ms", "-hup-file", hups},
			ok: 0, refused: 1, setup: stopped, worked: startedWeb, untouched: notStarted},
		{name: "start --wait", args: []string{"start", "-p", pidfile, "--wait", "50ms", "--", h.TestDaemon, "-hup-file", hups},
			ok: 0, refused: 1, setup: stopped, worked: startedWeb, untouched: notStarted},
		{name: "restart", args: []string{"restart", "-p", pidfile, "--", h.TestDaemon, "-hup-file", hups},
			ok: 0, refused: 1, setup: running, worked: startedWeb,
			untouched: func(t *testing.T, r h.Result) {
				if h.Exited(web.PIDFD) {
					t.Fatal("a refused restart stopped the daemon")
				}
			}},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			needs, worked := 0, 0
			for limit := 3; limit <= max(20, needs+2); limit++ {
				p.setup(t)
				r := runLimited(t, "-n", limit, s.env, p.args...)
				if strings.Contains(r.Stderr(), "fatal error") || strings.Contains(r.Stderr(), "goroutine ") || r.Code() == 2 {
					t.Fatalf("under ulimit -n %d: %s", limit, r)
				}
				switch m := refusal.FindStringSubmatch(r.Stderr()); {
				case r.Code() == p.ok && r.Stderr() == "":
					if p.worked != nil {
						p.worked(t, r)
					}
					if worked == 0 {
						worked = limit
					}
				case r.Code() == p.refused && m != nil:
					if worked > 0 || needs > 0 && limit >= needs {
						t.Fatalf("refused under ulimit -n %d, though it worked under %d and said it needs %d: %s", limit, worked, needs, r)
					}
					stated, _ := strconv.Atoi(m[4])
					if m[1] != p.args[0] || m[2] != strconv.Itoa(limit) || stated <= limit {
						t.Fatalf("refusal under ulimit -n %d: %q", limit, r.Stderr())
					}
					needs = max(needs, stated)
					if p.untouched != nil {
						p.untouched(t, r)
					}
				default:
					t.Fatalf("under ulimit -n %d, neither worked nor refused in one line: %s", limit, r)
				}
			}
			if worked == 0 || needs > 0 && worked > needs {
				t.Fatalf("worked from ulimit -n %d on, but the refusals named %d", worked, needs)
			}
			t.Logf("%s: works from ulimit -n %d", p.name, worked)
		})
	}
}

// TestFDLimitDaemonGetsOperatorLimit: Go raises its own soft limit at
// start-up (to the hard one less one); the daemon must still get the
// operator's limit, through the launcher stage. A low soft limit alone
// never stops daemonctl (it works under the raised one). The daemon is
// sleep(1), which leaves its limits as it was given them (a Go daemon
// would raise its own); start returns once it has been exec'd.
func TestFDLimitDaemonGetsOperatorLimit(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	pidfile := filepath.Join(t.TempDir(), "web.pid")
	hard := openFilesLimit(t, os.Getpid())[1]
	// The smallest limit start takes, as its refusal says.
	r := runLimited(t, "-n", 3, nil, "start", "-p", pidfile, "--", sleep, "1000")
	m := refusal.FindStringSubmatch(r.Stderr())
	if r.Code() != 1 || m == nil {
		t.Fatalf("start under ulimit -n 3: %s", r)
	}
	least, _ := strconv.Atoi(m[4])
	for _, c := range []struct {
		ulimit     string
		limit      int
		soft, hard string
	}{
		{"-Sn", 5, "5", hard}, // below what any command needs: the raised limit counts
		{"-Sn", 40, "40", hard},
		{"-n", least, strconv.Itoa(least), strconv.Itoa(least)},
	} {
		t.Run(fmt.Sprintf("ulimit %s %d", c.ulimit, c.limit), func(t *testing.T) {
			r := runLimited(t, c.ulimit, c.limit, nil, "start", "-p", pidfile, "--", sleep, "1000")
			h.Expect(t, r, 0)
			pid := h.ReadPID(t, pidfile)
			fd := h.Watch(t, pid)
			if got := openFilesLimit(t, pid); got[0] != c.soft || got[1] != c.hard {
				t.Errorf("the daemon was given the open files limits %s/%s, want the operator's %s/%s", got[0], got[1], c.soft, c.hard)
			}
			h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
			if !h.WaitExit(fd, eventTimeout) {
				t.Fatal("the daemon survived stop")
			}
		})
	}
}

// openFilesLimit reads a process's soft and hard RLIMIT_NOFILE from
// /proc/PID/limits.
func openFilesLimit(t *testing.T, pid int) [2]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return [2]string{f[0], f[1]}
			}
		}
	}
	t.Fatalf("no open files limit in /proc/%d/limits: %q", pid, b)
	return [2]string{}
}
