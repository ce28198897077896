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
//	-notify-after D        sd_notify "READY=1" to $NOTIFY_SOCKET after D from start
//	-notify-status S       send "STATUS=S" (own datagram) just before READY=1
//	-notify-stamp-file F   write the unix-nanos time to F just before READY=1 (benchmarks)
//	-notify-from-child     a child (-notify-child) sends the notifications instead of this process
//	-notify-garbage        first send datagrams that must not count as ready
//	-sleep                 no-op: blocking until a signal or timer ends the process is the default
//	-child, -notify-child  internal: mark the re-executed children
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
	notifyAfter        time.Duration
	notifyStatus       string
	notifyStampFile    string
	notifyFromChild    bool
	notifyChild        bool
	notifyGarbage      bool
	sleep              bool

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
	flag.DurationVar(&cfg.notifyAfter, "notify-after", 0, "send READY=1 to $NOTIFY_SOCKET after `duration` from start (default: never)")
	flag.StringVar(&cfg.notifyStatus, "notify-status", "", "send STATUS=`text` just before READY=1")
	flag.StringVar(&cfg.notifyStampFile, "notify-stamp-file", "", "write the unix-nanos time to `file` just before sending READY=1 (for benchmarks)")
	flag.BoolVar(&cfg.notifyFromChild, "notify-from-child", false, "a child sends the notifications instead of this process")
	flag.BoolVar(&cfg.notifyChild, "notify-child", false, "internal: this is the child of -notify-from-child")
	flag.BoolVar(&cfg.notifyGarbage, "notify-garbage", false, "first send datagrams that must not count as ready")
	flag.BoolVar(&cfg.sleep, "sleep", false, "no-op: blocking forever is the default")
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { cfg.set[f.Name] = true })
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "testdaemon: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}

	if cfg.notifyGarbage {
		sendNotifyGarbage()
	}
	if cfg.closeFDs {
		if err := closeInheritedFDs(); err != nil {
			fail(err)
		}
	}

	// Signal handlers. SIGTERM is always caught (so it can be logged);
	// -ignore-term only makes the daemon not act on it.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1)

	for _, l := range cfg.output {
		w := os.Stdout
		if l.stderr {
			w = os.Stderr
		}
		_, _ = w.WriteString(l.text + "\n")
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

	if cfg.readyFile != "" {
		if err := writeFileAtomic(cfg.readyFile, fmt.Appendf(nil, "%d\n", os.Getpid())); err != nil {
			fail(err)
		}
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
					exit(0)
				}
			case unix.SIGHUP:
				if cfg.hupFile != "" {
					appendLine(cfg.hupFile, "HUP\n")
				}
			case unix.SIGUSR1:
				if cfg.usr1File != "" {
					appendLine(cfg.usr1File, "USR1\n")
				}
			}
		case <-termC:
			exit(0)
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
	// /proc/self/exe is this executable even if its path has been replaced.
	pid, err := syscall.ForkExec("/proc/self/exe", append([]string{os.Args[0]}, args...), &syscall.ProcAttr{
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
