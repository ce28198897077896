package supervise

import (
	"errors"
	"io/fs"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// spawn starts the program and arms what its start needs.
func (s *Supervisor) spawn() error {
	pid, err := s.forkExec()
	if err != nil {
		return err
	}
	// Our child, not reaped yet (only this goroutine reaps): its PID
	// cannot have been reused.
	proc, err := signals.Open(pid)
	if err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return err
	}
	ticks, _ := process.StartTicks(pid)
	c := &child{pid: pid, proc: proc, started: time.Now(), ticks: ticks, startup: s.cfg.Forking}
	s.main = c
	s.mainPID.Store(int64(pid))
	s.snap.PID, s.snap.StartTicks, s.snap.Started = pid, ticks, c.started
	if s.cfg.Ready.Notify || s.cfg.Forking {
		s.snap.State = Starting
		s.readyT = time.NewTimer(s.readyTimeout())
		if s.watch != nil {
			s.watch.add(s.cfg.ProgramPIDFile)
		}
		s.publishNow()
		return nil
	}
	s.ready()
	return nil
}

// shell runs the watchdog shim.
const shell = "/bin/sh"

// shimScript sets WATCHDOG_PID to the program's PID, which is known only
// in the child: exec keeps the PID, and the Go runtime cannot run code
// between fork and exec. sh -c SCRIPT PATH ARGS... gives $0 = PATH.
const shimScript = `WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$0" "$@"`

// forkExec starts the program: a child in this session (not its leader)
// with /dev/null, its output pipes and the lock as descriptors 0 to 3.
// Errors wrap ErrProgramNotFound or ErrNoPrivilege when those are the
// reason, and say "cannot run PATH: why".
func (s *Supervisor) forkExec() (int, error) {
	p := s.cfg.Program
	path, argv := p.Path, p.Argv
	if s.shim {
		path = shell
		argv = append([]string{"sh", "-c", shimScript, p.Path}, p.Argv[1:]...)
	}
	dir := p.Dir
	if dir == "" {
		dir = "/"
	}
	null := s.devnull.Fd()
	files := []uintptr{null, null, null, s.pf.LockFile().Fd()}
	if s.out != nil {
		files[1] = uintptr(s.out.fd())
	}
	if s.err != nil {
		files[2] = uintptr(s.err.fd())
	}
	attr := &syscall.ProcAttr{Dir: dir, Env: s.env, Files: files, Sys: &syscall.SysProcAttr{}}
	if c := p.Cred; c != nil {
		attr.Sys.Credential = &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: c.Groups}
	}
	if p.Nice == nil {
		pid, err := syscall.ForkExec(path, argv, attr)
		return pid, spawnError(p.Path, err)
	}
	// Linux keeps the nice value per thread and a child inherits the
	// forking thread's: fork from a thread of its own, which ends with its
	// goroutine (never unlocked), so the supervisor keeps its own value.
	type result struct {
		pid int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setpriority(unix.PRIO_PROCESS, 0, *p.Nice); err != nil {
			kind := ErrUsage
			if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
				kind = ErrNoPrivilege
			}
			done <- result{err: withKind(kind, "nice %d: %v (a negative nice value needs root)", *p.Nice, err)}
			return
		}
		pid, err := syscall.ForkExec(path, argv, attr)
		done <- result{pid, spawnError(p.Path, err)}
	}()
	r := <-done
	return r.pid, r.err
}

// spawnError classifies a failed fork and exec.
func spawnError(path string, err error) error {
	if err == nil {
		return nil
	}
	kind := error(nil)
	switch {
	case errors.Is(err, unix.EPERM):
		kind = ErrNoPrivilege
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, unix.ENOEXEC), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EISDIR):
		kind = ErrProgramNotFound
	}
	if kind == nil {
		return withKind(errors.New("cannot run"), "cannot run %s: %v", path, err)
	}
	return withKind(kind, "cannot run %s: %v", path, err)
}
