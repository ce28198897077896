//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// runner starts commands and times them to their exit. It is the child
// subreaper of everything it starts, so the daemons the tools detach become
// its children, and it reaps every exit at once, as systemd or a real init
// does (this machine's PID 1 reaps orphans only seconds later, which a
// tool that polls with kill(pid, 0), like start-stop-daemon, would wait
// for).
type runner struct {
	env    []string
	stdin  *os.File
	stdout *os.File
	stderr *os.File // errors.log: what a failing command said

	// mu covers a start and the registration of its PID, so the reaper,
	// which takes mu before it looks, never sees a child of run's that is
	// not registered: anything else it reaps is an orphan nobody waits
	// for, and is dropped (keeping it would hand its status to a later
	// child that gets the same PID).
	mu      sync.Mutex
	waiting map[int]chan exited
	kick    chan struct{}
}

// exited is one reaped process: its status and when wait4 returned.
type exited struct {
	status syscall.WaitStatus
	at     int64 // CLOCK_MONOTONIC, ns
}

func newRunner(errLog string) (*runner, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become a child subreaper: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	log, err := os.OpenFile(errLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	r := &runner{
		env:     os.Environ(),
		stdin:   null,
		stdout:  null,
		stderr:  log,
		waiting: map[int]chan exited{},
		kick:    make(chan struct{}, 1),
	}
	go r.reap()
	return r, nil
}

// reap waits for every child and hands each exit to whoever waits for it.
// It takes the time right after wait4 returns, on its own thread, so a
// timed command ends when the kernel says it ended.
func (r *runner) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		at := monotonic()
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.ECHILD):
			// No children yet: wait for the next start (or look again soon:
			// an orphan can only arrive through a child, but be safe).
			select {
			case <-r.kick:
			case <-time.After(10 * time.Millisecond):
			}
			continue
		case err != nil:
			panic(fmt.Sprintf("wait4: %v", err))
		}
		r.mu.Lock()
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- exited{ws, at}
		}
		r.mu.Unlock()
	}
}

// span is when a command was started (just before the fork) and when it
// was reaped, CLOCK_MONOTONIC ns.
type span struct{ start, end int64 }

func (s span) duration() time.Duration { return time.Duration(s.end - s.start) }

// run starts argv (argv[0] an absolute path) with stdout to /dev/null and
// stderr to the error log, and waits for it.
func (r *runner) run(argv ...string) (span, syscall.WaitStatus, error) {
	attr := &syscall.ProcAttr{
		Env:   r.env,
		Files: []uintptr{r.stdin.Fd(), r.stdout.Fd(), r.stderr.Fd()},
	}
	ch := make(chan exited, 1)
	r.mu.Lock()
	t0 := monotonic()
	pid, err := syscall.ForkExec(argv[0], argv, attr)
	if err != nil {
		r.mu.Unlock()
		return span{}, 0, fmt.Errorf("%s: %w", argv[0], err)
	}
	r.waiting[pid] = ch
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
	e := <-ch
	return span{t0, e.at}, e.status, nil
}

// mustRun is run for a command that must exit 0.
func (r *runner) mustRun(argv ...string) (span, error) {
	s, ws, err := r.run(argv...)
	if err != nil {
		return span{}, err
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return span{}, fmt.Errorf("%q: %s (its stderr is in the error log)", argv, describe(ws))
	}
	return s, nil
}

func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}

// monotonic is CLOCK_MONOTONIC in nanoseconds, the clock sigstamp stamps
// with.
func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// readPID reads the PID a pidfile names; 0 if there is none yet.
func readPID(pidfile string) int {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid < 2 {
		return 0
	}
	return pid
}

// procStat is what /proc/PID/stat says of a process: its command name,
// state and parent; ok is false once it is gone.
func procStat(pid int) (comm string, state byte, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, 0, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open || len(b) < end+4 {
		return "", 0, 0, false
	}
	rest := bytes.Fields(b[end+2:])
	if len(rest) < 2 {
		return "", 0, 0, false
	}
	ppid, _ = strconv.Atoi(string(rest[1]))
	return string(b[open+1 : end]), rest[0][0], ppid, true
}

// runs reports whether pidfile names a live (not zombie) process whose
// command name is comm: the daemon's program runs.
func runs(pidfile, comm string) (int, bool) {
	pid := readPID(pidfile)
	if pid == 0 {
		return 0, false
	}
	c, state, _, ok := procStat(pid)
	return pid, ok && state != 'Z' && c == comm
}

// gone reports whether pid has exited (a zombie has).
func gone(pid int) bool {
	_, state, _, ok := procStat(pid)
	return !ok || state == 'Z'
}

// poll calls cond every 50 µs until it is true or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
	return true
}

// killOurs ends every process named by a pidfile matching pattern that
// is still our child (a daemon a tool detached, reparented to us): TERM,
// then KILL. It signals through a pidfd and checks the parent first, so it
// can never hit a process this benchmark did not start.
func killOurs(pattern string) {
	files, _ := filepath.Glob(pattern)
	var pidfds []int
	for _, f := range files {
		pid := readPID(f)
		if pid == 0 {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		if _, _, ppid, ok := procStat(pid); !ok || ppid != os.Getpid() {
			_ = unix.Close(fd)
			continue
		}
		_ = unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0)
		pidfds = append(pidfds, fd)
	}
	for _, fd := range pidfds {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 2000); n == 0 {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		}
		_ = unix.Close(fd)
	}
}
