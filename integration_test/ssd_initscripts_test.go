package integration_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// Debian's own init scripts, from their packages (installed by .ci/run),
// run with daemonctl standing in for start-stop-daemon: inside a private
// mount namespace (unshare -m) the daemonctl binary is bound over
// /sbin/start-stop-daemon and a copy of /lib/lsb/init-functions.d with
// daemonctl-ssd's hook over that directory, so nothing changes outside
// the test. Each script goes through start, status, reload, restart,
// force-reload and stop, and the service must answer on its port (cron:
// run) or be gone each time; then status must be right after a kill -9 of
// the daemon, and after its PID was reused by another program.

// stockService is one package's init script and how to tell that its
// daemon serves.
type stockService struct {
	script  string
	pidfile string
	actions []string // between start and stop
	// port is where the daemon answers (0 for cron, which only runs: its
	// pidfile names a live cron); probe is sent on connecting ("" to read
	// a greeting) and reply is the answer's prefix.
	port  int
	probe string
	reply string
	// rewrites lists the actions after which the daemon writes its
	// pidfile anew, a while after the script returned: sshd re-executes
	// itself on reload, removing and rewriting the file meanwhile, so
	// that another action at that moment would find no daemon.
	rewrites []string
}

func stockServices() []stockService {
	return []stockService{
		{script: "nginx", pidfile: "/run/nginx.pid", actions: []string{"reload", "restart", "force-reload"},
			port: 80, probe: "HEAD / HTTP/1.0\r\n\r\n", reply: "HTTP/1.1 "},
		{script: "ssh", pidfile: "/run/sshd.pid", actions: []string{"reload", "restart", "force-reload"},
			port: 22, reply: "SSH-2.0-", rewrites: []string{"reload", "force-reload"}},
		{script: "redis-server", pidfile: "/run/redis/redis-server.pid", actions: []string{"restart", "force-reload"},
			port: 6379, probe: "PING\r\n", reply: "+PONG"},
		{script: "memcached", pidfile: "/var/run/memcached.pid", actions: []string{"restart", "force-reload"},
			port: 11211, probe: "version\r\n", reply: "VERSION "},
		{script: "cron", pidfile: "/var/run/crond.pid", actions: []string{"reload", "restart", "force-reload"}},
	}
}

// standIn is the mount namespace's setup: the files bound over
// start-stop-daemon and init-functions.d.
type standIn struct {
	ssd   string // the real /sbin/start-stop-daemon's path, resolved
	hooks string // a copy of init-functions.d with daemonctl's hook
}

func newStandIn(t *testing.T) *standIn {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs Debian's init scripts in a private mount namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1) from util-linux")
	}
	ssd, err := filepath.EvalSymlinks("/sbin/start-stop-daemon")
	if err != nil {
		t.Skipf("no /sbin/start-stop-daemon to stand in for: %v", err)
	}
	hooks := t.TempDir()
	entries, _ := os.ReadDir("/lib/lsb/init-functions.d")
	for _, e := range entries {
		copyExecutable(t, filepath.Join("/lib/lsb/init-functions.d", e.Name()), filepath.Join(hooks, e.Name()))
	}
	copyExecutable(t, "../packaging/daemonctl-ssd/60-daemonctl", filepath.Join(hooks, "60-daemonctl"))
	return &standIn{ssd: ssd, hooks: hooks}
}

// script runs /etc/init.d/NAME ACTION with daemonctl standing in.
func (s *standIn) script(t *testing.T, name, action string) h.Result {
	t.Helper()
	args := []string{"-m", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" "$2" && mount --bind "$3" /lib/lsb/init-functions.d && exec "$4" "$5"`,
		"sh", h.Daemonctl, s.ssd, s.hooks, "/etc/init.d/" + name, action}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), "SYSTEMCTL_SKIP_REDIRECT=1")
	return h.RunCmd(t, cmd, nil, []string{"/etc/init.d/" + name, action})
}

func TestSSDStockInitScripts(t *testing.T) {
	s := newStandIn(t)
	for _, svc := range stockServices() {
		t.Run(svc.script, func(t *testing.T) {
			if _, err := os.Stat("/etc/init.d/" + svc.script); err != nil {
				t.Skipf("/etc/init.d/%s is not installed (.ci/run installs nginx, openssh-server, redis-server, memcached and cron)", svc.script)
			}
			if svc.port != 0 && answers(svc) == nil {
				t.Skipf("something already listens on port %d", svc.port)
			}
			if pid, ok := livePID(svc.pidfile); ok {
				t.Skipf("%s already runs (pid %d in %s)", svc.script, pid, svc.pidfile)
			}
			w := &watcher{watched: map[int]int{}}
			_, existed := os.Stat(svc.pidfile)
			t.Cleanup(func() {
				// Cleanups run last-registered first: the watcher's pidfd
				// kills of every process of the service come before this.
				// Whatever still runs is stopped as the script would; a
				// pidfile a killed daemon left behind is removed.
				if _, ok := livePID(svc.pidfile); ok {
					s.script(t, svc.script, "stop")
				}
				if _, ok := livePID(svc.pidfile); !ok && existed != nil {
					os.Remove(svc.pidfile)
				}
			})
			run := func(action string) {
				t.Helper()
				if r := s.script(t, svc.script, action); r.Code() != 0 {
					t.Fatalf("%s %s: exit %d\n%s%s", svc.script, action, r.Code(), r.Stdout(), r.Stderr())
				}
			}
			status := func(want int, when string) {
				t.Helper()
				if r := s.script(t, svc.script, "status"); r.Code() != want {
					t.Fatalf("%s status %s: exit %d, want %d\n%s%s", svc.script, when, r.Code(), want, r.Stdout(), r.Stderr())
				}
			}
			for _, action := range append([]string{"start"}, svc.actions...) {
				before := fileStamp(svc.pidfile)
				run(action)
				if slices.Contains(svc.rewrites, action) {
					if !h.WaitFileFunc(t, svc.pidfile, eventTimeout, func([]byte) bool { return fileStamp(svc.pidfile) != before }) {
						t.Fatalf("%s %s: the daemon never wrote %s again", svc.script, action, svc.pidfile)
					}
				}
				w.running(t, svc, action)
				status(0, "after "+action)
			}
			run("stop")
			w.gone(t, svc, "stop")
			status(stoppedStatus(svc), "after stop")

			// kill -9: the pidfile is left, naming a dead process.
			run("start")
			main := w.running(t, svc, "start")
			fd := w.watched[main]
			if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil || !h.WaitExit(fd, eventTimeout) {
				t.Fatalf("kill -9 %d: %v", main, err)
			}
			// Once another program has its PID (which the kernel gives only
			// when nothing is left of the session it led), status must
			// still say dead, where kill -0 said running. Not for
			// memcached's script, whose status asks --status --pidfile
			// alone (which matches any process, as start-stop-daemon's)
			// and removes the pidfile of a dead daemon.
			switch left := sessionMembers(t, main); {
			case svc.script == "memcached":
				t.Logf("status after the PID's reuse not checked: memcached's script asks --status --pidfile alone")
			case len(left) > 0:
				t.Logf("status after the PID's reuse not checked: pid %d cannot be reused while its session lives on (%v)", main, left)
			default:
				stranger := reusePID(t, main, "sleep", "1000")
				// For the record: Debian's own pidofproc (kill -0) says running.
				stock := h.RunCmd(t, exec.Command("/etc/init.d/"+svc.script, "status"), nil, []string{svc.script, "status", "(dpkg's start-stop-daemon, Debian's init-functions)"})
				t.Logf("pid %d now runs sleep: Debian's own status exits %d", main, stock.Code())
				defer func() {
					if h.Exited(stranger) {
						t.Errorf("the program that reused pid %d was killed", main)
					}
				}()
			}
			status(1, "after kill -9 of its daemon")
			run("stop")
			w.gone(t, svc, "stop after kill -9")
			status(stoppedStatus(svc), "after the last stop")
		})
	}
}

// fileStamp tells a file from the one at its path before: its inode and
// change time ("" when there is none).
func fileStamp(path string) string {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return ""
	}
	return fmt.Sprint(st.Ino, st.Ctim)
}

// stoppedStatus is LSB's status for a stopped service: 1 when its
// pidfile is left (the script did not remove it), 3 when it is not.
func stoppedStatus(svc stockService) int {
	if _, err := os.Stat(svc.pidfile); err == nil {
		return 1
	}
	return 3
}

// watcher watches (by pidfd, killed when the test ends) every process of
// the services the test starts.
type watcher struct {
	watched map[int]int // PID to pidfd
}

// running checks that the service serves after action, watches its
// processes and returns the PID its pidfile names. Several daemons write
// their pidfile, and bind their port, only after the parent the script
// waited for has exited: the pidfile is waited for by inotify, the port
// by connecting again while it refuses (there is no event to wait on).
func (w *watcher) running(t *testing.T, svc stockService, action string) int {
	t.Helper()
	var pid int
	if !h.WaitFileFunc(t, svc.pidfile, eventTimeout, func([]byte) bool {
		var ok bool
		pid, ok = livePID(svc.pidfile)
		return ok
	}) {
		t.Fatalf("after %s %s, %s names no live process", svc.script, action, svc.pidfile)
	}
	_, sid := procStat(t, pid)
	for _, p := range append(sessionMembers(t, sid), pid) {
		if fd, ok := w.watched[p]; !ok || h.Exited(fd) {
			if fd, ok := watchSession(t, p, sid); ok {
				w.watched[p] = fd
			}
		}
	}
	if svc.port != 0 {
		if err := answersSoon(svc); err != nil {
			t.Fatalf("after %s %s, port %d does not answer: %v", svc.script, action, svc.port, err)
		}
	}
	return pid
}

// watchSession opens a pidfd on pid and, if pid is still in session sid
// (so the pidfd is on the process the scan found, not one that reused its
// PID), keeps it to kill the process when the test ends.
func watchSession(t *testing.T, pid, sid int) (int, bool) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, false // gone meanwhile
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if err != nil || len(f) < 4 || f[3] != strconv.Itoa(sid) {
		unix.Close(fd)
		return -1, false
	}
	t.Cleanup(func() {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		unix.Close(fd)
	})
	return fd, true
}

// gone checks that nothing of the service runs or listens after action.
// A process the test caught in the daemon's session may be one of sshd's
// connection handlers, for the test's own probe, before it left for a
// session of its own; it ends by itself, so each is given eventTimeout.
func (w *watcher) gone(t *testing.T, svc stockService, action string) {
	t.Helper()
	for p, fd := range w.watched {
		if !h.WaitExit(fd, eventTimeout) {
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline")
			t.Fatalf("after %s %s, its process %d (%q) still runs", svc.script, action, p, cmdline)
		}
	}
	if svc.port != 0 {
		if err := answers(svc); err == nil || !errors.Is(err, unix.ECONNREFUSED) {
			t.Fatalf("after %s %s, port %d: %v (want connection refused)", svc.script, action, svc.port, err)
		}
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// livePID is the PID in path when it names a live process.
func livePID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 1 && alive(pid)
}

// sessionMembers lists the live processes of session sid.
func sessionMembers(t *testing.T, sid int) []int {
	t.Helper()
	var members []int
	for _, pid := range h.Processes(t, func([]string) bool { return true }) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 3 && f[3] == strconv.Itoa(sid) {
			members = append(members, pid)
		}
	}
	return members
}

// answersSoon is answers, tried again while the port refuses, up to
// eventTimeout: a daemon binds its port some time after it was started.
func answersSoon(svc stockService) error {
	deadline := time.Now().Add(eventTimeout)
	pause := time.Millisecond
	for {
		err := answers(svc)
		if err == nil || !errors.Is(err, unix.ECONNREFUSED) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// answers connects to the service's port on the loopback and checks its
// answer: nil when it serves, the connection's error otherwise.
func answers(svc stockService) error {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(svc.port)), eventTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(eventTimeout))
	if svc.probe != "" {
		if _, err := conn.Write([]byte(svc.probe)); err != nil {
			return err
		}
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, svc.reply) {
		return errors.New("unexpected answer " + strconv.Quote(line))
	}
	return nil
}
