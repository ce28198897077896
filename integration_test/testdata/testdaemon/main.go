// Command testdaemon is a small, predictable daemon used by daemonctl's
// integration tests. daemonctl starts it as a real daemon (stdio on /dev/null,
// the PID file's lock on some descriptor >= 3) and the tests observe it through
// the files it writes. Without flags it installs its signal handlers and blocks
// until SIGTERM, on which it exits 0.
//
// Files are written atomically (temporary file + rename) unless they are
// appended to; every path should be absolute (the daemon may run in "/").
//
// Flags:
//
//	-ready-file F          when set-up is complete, write "PID\n" to F
//	-info-file F           before the ready file, write a JSON description of the process to F
//	-ignore-term           ignore SIGTERM (still logged to -term-file)
//	-term-delay D          on SIGTERM, exit 0 after D instead of at once
//	-term-file F           on each SIGTERM, append "TERM <unix-nanos>\n" to F
//	-hup-file F            on each SIGHUP, append "HUP\n" to F
//	-usr1-file F           on each SIGUSR1, append "USR1\n" to F
//	-signal-log F          log each HUP, INT, QUIT, USR1, USR2 and TERM as its name and a newline
//	                       to F (appended), and otherwise ignore it, TERM included
//	-signal-limit N        with -signal-log: exit 0 once N signals are logged
//	-exit-after D          exit with -exit-code after D from start
//	-exit-code N           exit code for -exit-after (default 0)
//	-crash-after D         after D from start, die killed by SIGSEGV
//	-stdout-line S         write S and a newline to stdout at start (repeatable)
//	-stderr-line S         write S and a newline to stderr at start (repeatable)
//	-children N            start N children (re-executions with -child) that inherit the descriptors
//	-child-ignore-term     the children ignore SIGTERM
//	-children-file F       before the ready file, write the children's PIDs to F, one a line
//	-kill-children-on-term kill (SIGKILL) and reap the children before exiting on SIGTERM
//	-close-fds             at start, close every inherited descriptor >= 3 (drops the pidfile lock)
//	-tamper-pid N          at start, as a compromised daemon would, try to make the pidfile it holds as
//	                       fd 3 name pid N (and rewrite daemonctl's record of it, user.daemonctl), through
//	                       fd 3 and through the file's path; then close fd 3
//	-tamper-report F       with -tamper-pid, write one line per attempt to F: "NAME ok", or "NAME ERRNO"
//	-notify-after D        sd_notify "READY=1" to $NOTIFY_SOCKET after D from start
//	-notify-status S       send "STATUS=S" (own datagram) just before READY=1
//	-notify-stamp-file F   write the unix-nanos time to F just before READY=1 (benchmarks)
//	-notify-from-child     a child (-notify-child) sends the notifications instead of this process
//	-notify-garbage        first send datagrams that must not count as ready
//	-sleep                 no-op: blocking until a signal or timer ends the process is the default
//	-daemonize             detach as a self-forking daemon (nginx, sshd): re-execute as a child
//	                       that calls setsid and puts stdio on /dev/null, and exit 0 once the
//	                       child is ready (1 if it failed first)
//	-pidfile F             before the ready file, write "PID\n" to F (truncating it, mode 0644),
//	                       as a daemon writes its own pidfile
//	-lock-pidfile          with -pidfile: first take flock(LOCK_EX|LOCK_NB) on F through a
//	                       descriptor kept open, as cron does, and exit 1 if it is held
//	-remove-pidfile        on exit by SIGTERM, remove -pidfile first (as nginx does)
//	-start-file F          on each start, when set-up is complete, append "PID\n" to F (counts respawns)
//	-flood-stdout N        at start, write N bytes of numbered 100-byte lines ("%012d x...x\n", from 1) to stdout
//	-usr1-stdout S         on each SIGUSR1, write S and a newline to stdout
//	-watchdog-every D      send WATCHDOG=1 to $NOTIFY_SOCKET every D
//	-watchdog-file F       append "PID\n" to F after each WATCHDOG=1 sent
//	-watchdog-from-child   a child (-watchdog-child, which appends to -start-file too) sends the
//	                       watchdog pings instead of this process
//	-child, -notify-child, -watchdog-child, -detached  internal: mark the re-executed processes
//
// A child started by -children runs this program with -child (and -ignore-term
// with -child-ignore-term) and no other flag: it blocks until SIGTERM. The
// parent neither waits for nor signals its children when it exits, unless
// -kill-children-on-term is given, so by default they linger and keep the
// inherited pidfile lock.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/internal/sdnotify"
)

// setupFailed is the exit code used when the daemon cannot do what its flags
// ask for (cannot write a file, start a child, ...).
const setupFailed = 111

type config struct {
	readyFile          string
	infoFile           string
	ignoreTerm         bool
	termDelay          time.Duration
	termFile           string
	hupFile            string
	usr1File           string
	signalLog          string
	signalLimit        int
	exitAfter          time.Duration
	exitCode           int
	crashAfter         time.Duration
	output             []outputLine
	children           int
	childIgnoreTerm    bool
	childrenFile       string
	killChildrenOnTerm bool
	child              bool
	closeFDs           bool
	tamperPID          int
	tamperReport       string
	notifyAfter        time.Duration
	notifyStatus       string
	notifyStampFile    string
	notifyFromChild    bool
	notifyChild        bool
	notifyGarbage      bool
	sleep              bool
	daemonize          bool
	detached           bool
	pidfile            string
	lockPidfile        bool
	removePidfile      bool
	startFile          string
	floodStdout        int64
	usr1Stdout         string
	watchdogEvery      time.Duration
	watchdogFile       string
	watchdogFromChild  bool
	watchdogChild      bool

	set map[string]bool // flags given on the command line
}

// outputLine is one -stdout-line or -stderr-line, kept in command-line order.
type outputLine struct {
	stderr bool
	text   string
}

// lineFlag is a repeatable flag appending to a shared, ordered list of lines.
type lineFlag struct {
	lines  *[]outputLine
	stderr bool
}

func (f lineFlag) String() string {
	if f.lines == nil {
		return ""
	}
	var s []string
	for _, l := range *f.lines {
		if l.stderr == f.stderr {
			s = append(s, l.text)
		}
	}
	return strings.Join(s, ",")
}

func (f lineFlag) Set(v string) error {
	*f.lines = append(*f.lines, outputLine{stderr: f.stderr, text: v})
	return nil
}

// child is a process started by -children or -notify-from-child.
type child struct {
	pid  int
	done chan struct{} // closed once the child is reaped
}

// info is what -info-file records.
type info struct {
	PID          int            `json:"pid"`
	PPID         int            `json:"ppid"`
	SID          int            `json:"sid"`
	PGID         int            `json:"pgid"`
	Cwd          string         `json:"cwd"`
	Umask        string         `json:"umask"`
	Nice         int            `json:"nice"`
	UID          int            `json:"uid"`
	GID          int            `json:"gid"`
	EUID         int            `json:"euid"`
	EGID         int            `json:"egid"`
	Groups       []int          `json:"groups"`
	FDs          []int          `json:"fds"`
	InheritedFDs []int          `json:"inherited_fds"`
	FDTargets    map[int]string `json:"fd_targets"`
	Env          []string       `json:"env"`
	HasTTY       bool           `json:"has_tty"`
	Args         []string       `json:"args"`
	SigIgn       string         `json:"sig_ign"`
}

func main() {
	start := time.Now()
	// Read before the handlers below change it: which signals were ignored
	// when the program was executed.
	sigIgn, _ := procStatusField("SigIgn")

	cfg := config{set: map[string]bool{}}
	flag.StringVar(&cfg.readyFile, "ready-file", "", "when set-up is complete, write \"PID\\n\" to `file` (atomically)")
	flag.StringVar(&cfg.infoFile, "info-file", "", "before the ready file, write a JSON description of the process to `file`")
	flag.BoolVar(&cfg.ignoreTerm, "ignore-term", false, "ignore SIGTERM (it is still logged to -term-file)")
	flag.DurationVar(&cfg.termDelay, "term-delay", 0, "on SIGTERM, exit 0 after `duration` instead of at once")
	flag.StringVar(&cfg.termFile, "term-file", "", "on each SIGTERM, append \"TERM <unix-nanos>\\n\" to `file`")
	flag.StringVar(&cfg.hupFile, "hup-file", "", "on each SIGHUP, append \"HUP\\n\" to `file`")
	flag.StringVar(&cfg.usr1File, "usr1-file", "", "on each SIGUSR1, append \"USR1\\n\" to `file`")
	flag.StringVar(&cfg.signalLog, "signal-log", "", "log each HUP, INT, QUIT, USR1, USR2 and TERM to `file` by name, one a line, and otherwise ignore it")
	flag.IntVar(&cfg.signalLimit, "signal-limit", 0, "with -signal-log: exit 0 once `N` signals are logged")
	flag.DurationVar(&cfg.exitAfter, "exit-after", 0, "exit with -exit-code after `duration` from start")
	flag.IntVar(&cfg.exitCode, "exit-code", 0, "exit `code` for -exit-after")
	flag.DurationVar(&cfg.crashAfter, "crash-after", 0, "after `duration` from start, die killed by SIGSEGV")
	flag.Var(lineFlag{lines: &cfg.output}, "stdout-line", "write `line` to stdout at start (repeatable)")
	flag.Var(lineFlag{lines: &cfg.output, stderr: true}, "stderr-line", "write `line` to stderr at start (repeatable)")
	flag.IntVar(&cfg.children, "children", 0, "start `N` children that inherit the descriptors")
	flag.BoolVar(&cfg.childIgnoreTerm, "child-ignore-term", false, "the children ignore SIGTERM")
	flag.StringVar(&cfg.childrenFile, "children-file", "", "before the ready file, write the children's PIDs to `file`, one a line")
	flag.BoolVar(&cfg.killChildrenOnTerm, "kill-children-on-term", false, "on SIGTERM, SIGKILL and reap the children before exiting")
	flag.BoolVar(&cfg.child, "child", false, "internal: this is a child started by -children")
	flag.BoolVar(&cfg.closeFDs, "close-fds", false, "at start, close every inherited descriptor >= 3")
	flag.IntVar(&cfg.tamperPID, "tamper-pid", 0, "at start, try to make the pidfile held as fd 3 name `pid`, then close fd 3")
	flag.StringVar(&cfg.tamperReport, "tamper-report", "", "with -tamper-pid, write one line per attempt to `file`")
	flag.DurationVar(&cfg.notifyAfter, "notify-after", 0, "send READY=1 to $NOTIFY_SOCKET after `duration` from start (default: never)")
	flag.StringVar(&cfg.notifyStatus, "notify-status", "", "send STATUS=`text` just before READY=1")
	flag.StringVar(&cfg.notifyStampFile, "notify-stamp-file", "", "write the unix-nanos time to `file` just before sending READY=1 (for benchmarks)")
	flag.BoolVar(&cfg.notifyFromChild, "notify-from-child", false, "a child sends the notifications instead of this process")
	flag.BoolVar(&cfg.notifyChild, "notify-child", false, "internal: this is the child of -notify-from-child")
	flag.BoolVar(&cfg.notifyGarbage, "notify-garbage", false, "first send datagrams that must not count as ready")
	flag.BoolVar(&cfg.sleep, "sleep", false, "no-op: blocking forever is the default")
	flag.BoolVar(&cfg.daemonize, "daemonize", false, "detach as a self-forking daemon: the parent exits once the child is ready")
	flag.BoolVar(&cfg.detached, "detached", false, "internal: this is the child of -daemonize")
	flag.StringVar(&cfg.pidfile, "pidfile", "", "before the ready file, write \"PID\\n\" to `file`, as a daemon writes its own")
	flag.BoolVar(&cfg.lockPidfile, "lock-pidfile", false, "with -pidfile: first flock it (LOCK_EX|LOCK_NB), as cron does; exit 1 if held")
	flag.BoolVar(&cfg.removePidfile, "remove-pidfile", false, "on exit by SIGTERM, remove -pidfile first")
	flag.StringVar(&cfg.startFile, "start-file", "", "on each start, append \"PID\\n\" to `file` when set-up is complete")
	flag.Int64Var(&cfg.floodStdout, "flood-stdout", 0, "at start, write `N` bytes of numbered 100-byte lines to stdout")
	flag.StringVar(&cfg.usr1Stdout, "usr1-stdout", "", "on each SIGUSR1, write `line` to stdout")
	flag.DurationVar(&cfg.watchdogEvery, "watchdog-every", 0, "send WATCHDOG=1 every `duration`")
	flag.StringVar(&cfg.watchdogFile, "watchdog-file", "", "append \"PID\\n\" to `file` after each WATCHDOG=1")
	flag.BoolVar(&cfg.watchdogFromChild, "watchdog-from-child", false, "a child sends the watchdog pings")
	flag.BoolVar(&cfg.watchdogChild, "watchdog-child", false, "internal: this is the child of -watchdog-from-child")
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { cfg.set[f.Name] = true })
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "testdaemon: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}

	if cfg.daemonize && !cfg.detached {
		os.Exit(daemonize())
	}
	if cfg.detached {
		if err := detachChild(); err != nil {
			fail(err)
		}
	}
	if cfg.lockPidfile {
		if err := lockPidfile(cfg.pidfile); err != nil {
			fmt.Fprintf(os.Stderr, "testdaemon: %v\n", err)
			os.Exit(1)
		}
	}
	if cfg.notifyGarbage {
		sendNotifyGarbage()
	}
	if cfg.closeFDs {
		if err := closeInheritedFDs(); err != nil {
			fail(err)
		}
	}
	if cfg.tamperPID != 0 {
		if err := tamperPidfile(cfg.tamperPID, cfg.tamperReport); err != nil {
			fail(err)
		}
	}

	// Signal handlers. SIGTERM is always caught (so it can be logged);
	// -ignore-term only makes the daemon not act on it.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1)
	if cfg.signalLog != "" {
		signal.Notify(sigs, unix.SIGINT, unix.SIGQUIT, unix.SIGUSR2)
	}
	logged := 0

	for _, l := range cfg.output {
		w := os.Stdout
		if l.stderr {
			w = os.Stderr
		}
		_, _ = w.WriteString(l.text + "\n")
	}
	if cfg.floodStdout > 0 {
		flood(cfg.floodStdout)
	}

	if cfg.infoFile != "" {
		in, err := describe(sigIgn)
		if err != nil {
			fail(err)
		}
		data, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			fail(err)
		}
		if err := writeFileAtomic(cfg.infoFile, append(data, '\n')); err != nil {
			fail(err)
		}
	}

	// Children.
	var children []*child
	for i := 0; i < cfg.children; i++ {
		args := []string{"-child"}
		if cfg.childIgnoreTerm {
			args = append(args, "-ignore-term")
		}
		c, err := startChild(args)
		if err != nil {
			fail(err)
		}
		children = append(children, c)
	}
	notifyHere := cfg.set["notify-after"] || cfg.notifyChild
	if cfg.notifyFromChild {
		notifyHere = false
		args := []string{"-notify-child"}
		if d := time.Until(start.Add(cfg.notifyAfter)); cfg.set["notify-after"] && d > 0 {
			args = append(args, "-notify-after", d.String())
		}
		if cfg.notifyStatus != "" {
			args = append(args, "-notify-status", cfg.notifyStatus)
		}
		c, err := startChild(args)
		if err != nil {
			fail(err)
		}
		children = append(children, c)
	}
	if cfg.watchdogFromChild {
		args := []string{"-watchdog-child", "-watchdog-every", cfg.watchdogEvery.String()}
		if cfg.watchdogFile != "" {
			args = append(args, "-watchdog-file", cfg.watchdogFile)
		}
		if cfg.startFile != "" {
			args = append(args, "-start-file", cfg.startFile)
		}
		c, err := startChild(args)
		if err != nil {
			fail(err)
		}
		children = append(children, c)
	}
	if cfg.childrenFile != "" {
		var b strings.Builder
		for _, c := range children {
			fmt.Fprintf(&b, "%d\n", c.pid)
		}
		if err := writeFileAtomic(cfg.childrenFile, []byte(b.String())); err != nil {
			fail(err)
		}
	}

	// Timers, measured from the start of the program.
	var exitC, crashC, notifyC <-chan time.Time
	if cfg.set["exit-after"] {
		exitC = time.After(time.Until(start.Add(cfg.exitAfter)))
	}
	if cfg.set["crash-after"] {
		crashC = time.After(time.Until(start.Add(cfg.crashAfter)))
	}
	if notifyHere {
		notifyC = time.After(time.Until(start.Add(cfg.notifyAfter)))
	}
	var watchdogC <-chan time.Time
	if cfg.watchdogEvery > 0 && (!cfg.watchdogFromChild || cfg.watchdogChild) {
		tick := time.NewTicker(cfg.watchdogEvery)
		defer tick.Stop()
		watchdogC = tick.C
	}

	if cfg.pidfile != "" {
		if err := writePidfile(cfg.pidfile); err != nil {
			fail(err)
		}
	}
	if cfg.startFile != "" {
		appendLine(cfg.startFile, fmt.Sprintf("%d\n", os.Getpid()))
	}
	if cfg.readyFile != "" {
		if err := writeFileAtomic(cfg.readyFile, fmt.Appendf(nil, "%d\n", os.Getpid())); err != nil {
			fail(err)
		}
	}
	if cfg.detached {
		reportDetached()
	}

	exit := func(code int) {
		if cfg.killChildrenOnTerm {
			killChildren(children)
		}
		os.Exit(code)
	}

	var termC <-chan time.Time
	for {
		select {
		case sig := <-sigs:
			if cfg.signalLog != "" {
				appendLine(cfg.signalLog, strings.TrimPrefix(unix.SignalName(sig.(syscall.Signal)), "SIG")+"\n")
				if logged++; logged == cfg.signalLimit {
					exit(0)
				}
				continue
			}
			switch sig {
			case unix.SIGTERM:
				received := time.Now().UnixNano()
				if cfg.termFile != "" {
					appendLine(cfg.termFile, fmt.Sprintf("TERM %d\n", received))
				}
				switch {
				case cfg.ignoreTerm:
				case cfg.termDelay > 0:
					if termC == nil {
						termC = time.After(cfg.termDelay)
					}
				default:
					if cfg.removePidfile {
						_ = os.Remove(cfg.pidfile)
					}
					exit(0)
				}
			case unix.SIGHUP:
				if cfg.hupFile != "" {
					appendLine(cfg.hupFile, "HUP\n")
				}
			case unix.SIGUSR1:
				if cfg.usr1Stdout != "" {
					_, _ = os.Stdout.WriteString(cfg.usr1Stdout + "\n")
				}
				if cfg.usr1File != "" {
					appendLine(cfg.usr1File, "USR1\n")
				}
			}
		case <-termC:
			exit(0)
		case <-watchdogC:
			notify("WATCHDOG=1")
			if cfg.watchdogFile != "" {
				appendLine(cfg.watchdogFile, fmt.Sprintf("%d\n", os.Getpid()))
			}
		case <-exitC:
			os.Exit(cfg.exitCode)
		case <-crashC:
			crash()
		case <-notifyC:
			notifyC = nil
			if cfg.notifyStatus != "" {
				notify("STATUS=" + cfg.notifyStatus)
			}
			if cfg.notifyStampFile != "" {
				_ = os.WriteFile(cfg.notifyStampFile, []byte(strconv.FormatInt(time.Now().UnixNano(), 10)+"\n"), 0o644)
			}
			notify(sdnotify.Ready)
		}
	}
}

// flood writes n bytes of numbered 100-byte lines to stdout, in large
// writes, as a chatty daemon would.
func flood(n int64) {
	const width = 100
	buf := make([]byte, 0, 1<<16)
	pad := strings.Repeat("x", width-14)
	for i, written := int64(1), int64(0); written < n; i++ {
		buf = fmt.Appendf(buf, "%012d %s\n", i, pad)
		written += width
		if len(buf) > cap(buf)-width || written >= n {
			if _, err := os.Stdout.Write(buf); err != nil {
				fail(err)
			}
			buf = buf[:0]
		}
	}
}

// detachEnv names the descriptor on which a -daemonize child reports that
// it is ready (one byte, then close).
const detachEnv = "TESTDAEMON_DETACH_FD"

// daemonize is -daemonize's parent: it re-executes this program with
// -detached (every inherited descriptor kept, plus a pipe) and returns the
// exit code once the child has reported or died.
func daemonize() int {
	r, w, err := os.Pipe()
	if err != nil {
		fail(err)
	}
	fds, err := inheritedFDs()
	if err != nil {
		fail(err)
	}
	n := int(w.Fd())
	for _, fd := range fds {
		n = max(n, fd+1)
	}
	files := make([]uintptr, n+1)
	for i := range files {
		files[i] = ^uintptr(0)
	}
	files[0], files[1], files[2] = 0, 1, 2
	for _, fd := range fds {
		files[fd] = uintptr(fd)
	}
	files[n] = w.Fd()
	args := append(append([]string{}, os.Args...), "-detached")
	env := append(os.Environ(), fmt.Sprintf("%s=%d", detachEnv, n))
	if _, err := syscall.ForkExec(self(), args, &syscall.ProcAttr{Env: env, Files: files}); err != nil {
		fail(fmt.Errorf("fork: %w", err))
	}
	w.Close()
	buf := make([]byte, 1)
	if k, _ := r.Read(buf); k == 1 {
		return 0
	}
	return 1
}

// detachChild is -daemonize's child: a new session, stdio on /dev/null.
func detachChild() error {
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup2(int(null.Fd()), fd); err != nil {
			return err
		}
	}
	return null.Close()
}

// reportDetached tells -daemonize's parent that the child is ready.
func reportDetached() {
	fd, err := strconv.Atoi(os.Getenv(detachEnv))
	if err != nil {
		return
	}
	_, _ = unix.Write(fd, []byte{1})
	_ = unix.Close(fd)
	_ = os.Unsetenv(detachEnv)
}

// lockPidfile takes an exclusive flock on path through a descriptor kept
// open for the life of the process, as cron does with its pidfile.
func lockPidfile(path string) error {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("can't lock %s, otherpid may be running: %w", path, err)
	}
	return nil // fd stays open: the lock lives as long as the process
}

// writePidfile writes this process's PID to path, as a daemon does.
func writePidfile(path string) error {
	return os.WriteFile(path, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "testdaemon: %v\n", err)
	os.Exit(setupFailed)
}

// writeFileAtomic writes data to a temporary file next to path and renames it
// over path, so that a reader sees either nothing or the whole content.
func writeFileAtomic(path string, data []byte) error {
	tmp := fmt.Sprintf("%s.tmp.%d", path, os.Getpid())
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// appendLine appends line to path (open with O_APPEND, write, close).
func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testdaemon: %v\n", err)
		return
	}
	if _, err := f.WriteString(line); err != nil {
		fmt.Fprintf(os.Stderr, "testdaemon: %v\n", err)
	}
	_ = f.Close()
}

// openFDs lists the open descriptors of this process, without the one used
// to read /proc/self/fd, with their readlink targets.
func openFDs() ([]int, map[int]string, error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	self := int(d.Fd())
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, nil, err
	}
	fds := []int{}
	targets := map[int]string{}
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd == self {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + name)
		if err != nil {
			continue // closed meanwhile
		}
		fds = append(fds, fd)
		targets[fd] = target
	}
	sort.Ints(fds)
	return fds, targets, nil
}

// inherited reports whether fd is not close-on-exec. Go opens every
// descriptor of its own (the runtime's epoll, eventfd and cgroup files
// included) close-on-exec, so these are exactly the descriptors this
// process received across exec.
func inherited(fd int) bool {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC == 0
}

// inheritedFDs lists the inherited descriptors >= 3.
func inheritedFDs() ([]int, error) {
	fds, _, err := openFDs()
	if err != nil {
		return nil, err
	}
	var out []int
	for _, fd := range fds {
		if fd >= 3 && inherited(fd) {
			out = append(out, fd)
		}
	}
	return out, nil
}

// closeInheritedFDs closes every inherited descriptor >= 3, as sshd's
// closefrom does. close_range(3, ~0) would also close the Go runtime's own
// descriptors (its epoll instance) and break the program.
func closeInheritedFDs() error {
	fds, err := inheritedFDs()
	if err != nil {
		return err
	}
	for _, fd := range fds {
		if err := unix.Close(fd); err != nil {
			return fmt.Errorf("close fd %d: %w", fd, err)
		}
	}
	return nil
}

// startChild re-executes this program with args. The child gets this
// process's stdio and every inherited descriptor >= 3 under the same number
// (so it holds the pidfile lock too), in the same session and process group.
// A goroutine reaps it when it exits.
func startChild(args []string) (*child, error) {
	fds, err := inheritedFDs()
	if err != nil {
		return nil, err
	}
	n := 3
	if len(fds) > 0 {
		n = fds[len(fds)-1] + 1
	}
	files := make([]uintptr, n)
	for i := range files {
		files[i] = ^uintptr(0) // -1: closed in the child
	}
	files[0], files[1], files[2] = 0, 1, 2
	for _, fd := range fds {
		files[fd] = uintptr(fd)
	}
	pid, err := syscall.ForkExec(self(), append([]string{os.Args[0]}, args...), &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: files,
	})
	if err != nil {
		return nil, fmt.Errorf("start child: %w", err)
	}
	c := &child{pid: pid, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if !errors.Is(err, unix.EINTR) {
				return
			}
		}
	}()
	return c, nil
}

// self is the path to execute this program again: its own path, so that
// the re-executed processes bear its name (comm), as a daemon's forked
// children do, which start-stop-daemon's --name matches; /proc/self/exe
// (which would name them "exe") if the path cannot be read.
func self() string {
	if path, err := os.Executable(); err == nil {
		return path
	}
	return "/proc/self/exe"
}

// killChildren SIGKILLs the children and waits (a few seconds at most) until
// they are reaped.
func killChildren(children []*child) {
	for _, c := range children {
		_ = unix.Kill(c.pid, unix.SIGKILL)
	}
	timeout := time.After(5 * time.Second)
	for _, c := range children {
		select {
		case <-c.done:
		case <-timeout:
			return
		}
	}
}

// crash makes the process die killed by SIGSEGV. signal.Reset is not enough:
// the Go runtime keeps its own SIGSEGV handler, which turns a SIGSEGV sent by
// kill into a traceback and exit status 2. So the disposition is set back to
// SIG_DFL with rt_sigaction directly: an all-zero struct sigaction is
// SIG_DFL with no flags and an empty mask on every Linux architecture.
func crash() {
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
	signal.Reset(unix.SIGSEGV)
	var act [4]uint64
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGSEGV),
		uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	if errno != 0 {
		fmt.Fprintf(os.Stderr, "testdaemon: rt_sigaction: %v\n", errno)
	}
	_ = unix.Kill(os.Getpid(), unix.SIGSEGV)
	time.Sleep(5 * time.Second)
	fmt.Fprintln(os.Stderr, "testdaemon: still alive after SIGSEGV")
	os.Exit(setupFailed)
}

// notify sends one sd_notify datagram to $NOTIFY_SOCKET, if set.
func notify(state string) {
	if _, err := sdnotify.Send(false, state); err != nil {
		fmt.Fprintf(os.Stderr, "testdaemon: sd_notify %q: %v\n", state, err)
	}
}

// sendNotifyGarbage sends datagrams to $NOTIFY_SOCKET that a correct reader
// must not take for readiness. Errors are ignored (EMSGSIZE for the big one).
func sendNotifyGarbage() {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return
	}
	// Go maps a leading '@' to an abstract socket name.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "testdaemon: notify garbage: %v\n", err)
		return
	}
	defer conn.Close()
	// The big one starts with a valid READY=1 line: a reader must discard
	// an oversized (truncated) datagram whole, as systemd does.
	big := make([]byte, 200*1024)
	for i := range big {
		big[i] = 'x'
	}
	copy(big, "READY=1\n")
	for _, msg := range [][]byte{
		[]byte("\x00\xff binary"),
		[]byte("READY=0"),
		[]byte("READY=10"),
		[]byte("NOTREADY"),
		big,
	} {
		// A full receive queue would block the write forever.
		_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = conn.Write(msg)
	}
}

// describe collects what -info-file records.
func describe(sigIgn string) (*info, error) {
	in := &info{
		PID:    os.Getpid(),
		PPID:   os.Getppid(),
		UID:    os.Getuid(),
		GID:    os.Getgid(),
		EUID:   os.Geteuid(),
		EGID:   os.Getegid(),
		Env:    os.Environ(),
		Args:   os.Args,
		SigIgn: sigIgn,
	}
	var err error
	if in.SID, err = unix.Getsid(0); err != nil {
		return nil, fmt.Errorf("getsid: %w", err)
	}
	in.PGID = unix.Getpgrp()
	if in.Cwd, err = os.Getwd(); err != nil {
		return nil, fmt.Errorf("getwd: %w", err)
	}
	if in.Umask, err = procStatusField("Umask"); err != nil {
		return nil, err
	}
	if in.Nice, err = niceValue(); err != nil {
		return nil, err
	}
	if in.Groups, err = os.Getgroups(); err != nil {
		return nil, fmt.Errorf("getgroups: %w", err)
	}
	if in.Groups == nil {
		in.Groups = []int{}
	}
	if in.FDs, in.FDTargets, err = openFDs(); err != nil {
		return nil, err
	}
	in.InheritedFDs = []int{}
	for _, fd := range in.FDs {
		if inherited(fd) {
			in.InheritedFDs = append(in.InheritedFDs, fd)
		}
	}
	if fd, err := unix.Open("/dev/tty", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0); err == nil {
		in.HasTTY = true
		_ = unix.Close(fd)
	}
	return in, nil
}

// procStatusField returns the value of a "Name:\tvalue" line of
// /proc/self/status.
func procStatusField(name string) (string, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("no %s line in /proc/self/status", name)
}

// niceValue reads the nice value, field 19 of /proc/self/stat. (The raw
// getpriority syscall returns 20-nice on Linux.)
func niceValue() (int, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may contain spaces.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("cannot parse /proc/self/stat")
	}
	fields := strings.Fields(s[i+1:]) // fields[0] is field 3
	if len(fields) < 17 {
		return 0, errors.New("cannot parse /proc/self/stat")
	}
	return strconv.Atoi(fields[16])
}

// lockFD is where daemonctl passes the pidfile's locked descriptor.
const lockFD = 3

// recordAttr is the extended attribute in which daemonctl's launcher stage
// records the daemon it started.
const recordAttr = "user.daemonctl"

// tamperPidfile tries what a compromised daemon would to point root's next
// stop at victim: rewrite the pidfile it holds as fd 3 to name victim, and
// daemonctl's record to vouch for victim, through the descriptor and
// through the path (the file's directory too); then it closes fd 3, so
// that only the file's contents and record are left to go by. Each
// attempt is one line of report: "NAME ok" when the kernel let it
// through, else "NAME ERRNO".
func tamperPidfile(victim int, report string) error {
	path, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", lockFD))
	if err != nil {
		return fmt.Errorf("-tamper-pid: no descriptor %d: %w", lockFD, err)
	}
	content := []byte(strconv.Itoa(victim) + "\n")
	forged := forgeRecord(victim)
	writeTo := func(fd int) error {
		defer unix.Close(fd)
		if err := unix.Ftruncate(fd, 0); err != nil {
			return err
		}
		_, err := unix.Pwrite(fd, content, 0)
		return err
	}
	attempts := []struct {
		name string
		try  func() error
	}{
		{"ftruncate", func() error { return unix.Ftruncate(lockFD, 0) }},
		{"write", func() error { _, err := unix.Write(lockFD, content); return err }},
		{"pwrite", func() error { _, err := unix.Pwrite(lockFD, content, 0); return err }},
		{"fsetxattr", func() error { return unix.Fsetxattr(lockFD, recordAttr, forged, 0) }},
		{"fremovexattr", func() error { return unix.Fremovexattr(lockFD, recordAttr) }},
		{"fchmod", func() error { return unix.Fchmod(lockFD, 0o666) }},
		{"fchown", func() error { return unix.Fchown(lockFD, os.Getuid(), os.Getgid()) }},
		{"reopen-proc-fd", func() error {
			fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", lockFD), unix.O_RDWR|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			return writeTo(fd)
		}},
		{"open-path", func() error {
			fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			return writeTo(fd)
		}},
		{"truncate", func() error { return unix.Truncate(path, 0) }},
		{"setxattr", func() error { return unix.Lsetxattr(path, recordAttr, forged, 0) }},
		{"removexattr", func() error { return unix.Lremovexattr(path, recordAttr) }},
		{"create-beside", func() error {
			fd, err := unix.Open(path+".tamper", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
			if err != nil {
				return err
			}
			unix.Close(fd)
			return unix.Rename(path+".tamper", path)
		}},
		{"unlink", func() error { return unix.Unlink(path) }},
	}
	var b strings.Builder
	for _, a := range attempts {
		if err := a.try(); err != nil {
			var errno unix.Errno
			if errors.As(err, &errno) {
				fmt.Fprintf(&b, "%s %s\n", a.name, unix.ErrnoName(errno))
			} else {
				fmt.Fprintf(&b, "%s %v\n", a.name, err)
			}
			continue
		}
		fmt.Fprintf(&b, "%s ok\n", a.name)
	}
	if err := unix.Close(lockFD); err != nil {
		return fmt.Errorf("-tamper-pid: close fd %d: %w", lockFD, err)
	}
	if report == "" {
		return nil
	}
	return writeFileAtomic(report, []byte(b.String()))
}

// forgeRecord is the record the stage wrote, as fd 3 reads it, rewritten
// to vouch for victim: its PID, start time and pidfd inode. (Without a
// record to start from, a bare one naming victim.)
func forgeRecord(victim int) []byte {
	fields := map[string]string{"pid": strconv.Itoa(victim)}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", victim)); err == nil {
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 19 {
				fields["start"] = f[19] // field 22, starttime
			}
		}
	}
	if fd, err := unix.PidfdOpen(victim, 0); err == nil {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			fields["procid"] = strconv.FormatUint(st.Ino, 10)
		}
		unix.Close(fd)
	}
	buf := make([]byte, 1024)
	n, err := unix.Fgetxattr(lockFD, recordAttr, buf)
	if err != nil {
		return []byte("daemonctl/1 pid=" + fields["pid"])
	}
	words := strings.Fields(string(buf[:n]))
	for i, w := range words {
		if key, _, ok := strings.Cut(w, "="); ok && fields[key] != "" {
			words[i] = key + "=" + fields[key]
		}
	}
	return []byte(strings.Join(words, " "))
}
