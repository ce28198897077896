package supervise

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// A forking program (Config.Forking) detaches itself: its start-up
// process forks the daemon and exits 0. Its children are reparented to
// this supervisor, a child subreaper, so the daemon becomes the
// supervisor's own child, whose PID cannot be reused before the
// supervisor reaps it: the supervisor watches it by wait4 like the
// program it started. Which child is the daemon: the PID in
// Config.ProgramPIDFile, believed only if the file is one nobody but root
// or the supervisor's user could have written (pidfile.ReadTrusted) and
// only if it names one of the supervisor's own children (a PID naming
// any other process is refused, and nothing is signalled); or, without a
// program pidfile, the single process left.

// beginHandoff handles a clean exit of a forking program's start-up (or,
// without a program pidfile, of a main process it handed over to): the
// main process is now what it left behind. It reports false when the
// exit is the service's own (a main process that exited 0 and left no
// single successor).
func (s *Supervisor) beginHandoff(c *child) bool {
	if s.cfg.ProgramPIDFile != "" {
		s.handoff, s.handWhy = true, ""
		s.snap.PID, s.snap.StartTicks, s.snap.Started = 0, 0, time.Time{}
		s.readyT = time.NewTimer(s.readyTimeout())
		s.tryHandoff()
		return true
	}
	kids := s.children()
	switch {
	case len(kids) == 1:
		s.adopt(kids[0], fmt.Sprintf("pid %d exited with status 0, leaving pid %d: watching it", c.pid, kids[0]))
	case !c.startup:
		return false
	case len(kids) == 0:
		s.exited(c, Exit{At: time.Now(), Cause: CauseNotReady, Err: "it left no process running"})
	default:
		s.exited(c, Exit{At: time.Now(), Cause: CauseNotReady, Err: fmt.Sprintf("it left %d processes (%s): give the program's pidfile to tell the main one", len(kids), pidList(kids))})
	}
	return true
}

// tryHandoff looks for the main process in the program's pidfile, once
// the start-up has exited: on each change in the file's directory and
// each reaped child, until the readiness timeout.
func (s *Supervisor) tryHandoff() {
	if !s.handoff || s.main != nil {
		return
	}
	path := s.cfg.ProgramPIDFile
	pid, err := pidfile.ReadTrusted(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.handWhy = fmt.Sprintf("%s did not appear within %s", path, formatDuration(s.readyTimeout()))
		return
	case errors.Is(err, pidfile.ErrInvalid):
		s.handWhy = err.Error()
		return // being written
	case err != nil:
		// A file that must not be believed fails the start at once.
		s.handoff = false
		s.watch.clear()
		stopTimer(&s.readyT)
		s.exited(nil, Exit{At: time.Now(), Cause: CauseNotReady, Err: err.Error()})
		return
	}
	if info, err := process.Get(pid); err == nil && info.PPID == s.self {
		s.adopt(pid, fmt.Sprintf("%s names pid %d: watching it", path, pid))
		return
	}
	if s.descends(pid) {
		s.handWhy = fmt.Sprintf("%s names pid %d, whose parent did not exit", path, pid)
		return
	}
	s.handWhy = fmt.Sprintf("%s names pid %d, which is not a process of this service (refused; nothing was signalled)", path, pid)
}

// descends reports whether pid is a descendant of the supervisor.
func (s *Supervisor) descends(pid int) bool {
	for p, hops := pid, 0; p > 1 && hops < 64; hops++ {
		info, err := process.Get(p)
		if err != nil {
			return false
		}
		if info.PPID == s.self {
			return true
		}
		p = info.PPID
	}
	return false
}

// adopt makes pid, a child of the supervisor, the main process.
func (s *Supervisor) adopt(pid int, why string) {
	s.handoff, s.handWhy = false, ""
	s.watch.clear()
	proc, err := signals.Open(pid)
	if err != nil {
		s.exited(nil, Exit{At: time.Now(), Cause: CauseNotReady, Err: fmt.Sprintf("pid %d: %v", pid, err)})
		return
	}
	c := &child{pid: pid, proc: proc, started: time.Now()}
	if info, err := process.Get(pid); err == nil {
		c.started, c.ticks = info.Started, info.StartTicks
	}
	s.main = c
	s.mainPID.Store(int64(pid))
	s.snap.PID, s.snap.StartTicks, s.snap.Started = pid, c.ticks, c.started
	s.logf("%s", why)
	s.ready()
}

// dirWatch watches the directory of the program's pidfile with inotify,
// only while a handoff may be pending: a watch on a busy directory (/run)
// would otherwise wake an idle supervisor.
type dirWatch struct {
	file *os.File
	fd   int
	wd   int
	ch   chan struct{}
}

func newDirWatch() (*dirWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &dirWatch{file: os.NewFile(uintptr(fd), "inotify"), fd: fd, wd: -1, ch: make(chan struct{}, 1)}
	go w.run()
	return w, nil
}

func (w *dirWatch) run() {
	buf := make([]byte, 4096)
	for {
		if _, err := w.file.Read(buf); err != nil {
			return
		}
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}

// add watches the directory of path (nothing if already watching).
func (w *dirWatch) add(path string) {
	if w == nil || w.wd >= 0 {
		return
	}
	wd, err := unix.InotifyAddWatch(w.fd, filepath.Dir(path), unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_CREATE)
	if err == nil {
		w.wd = wd
	}
}

// clear stops watching.
func (w *dirWatch) clear() {
	if w == nil || w.wd < 0 {
		return
	}
	_, _ = unix.InotifyRmWatch(w.fd, uint32(w.wd))
	w.wd = -1
}

// events is ready after a change in the watched directory (nil channel
// without a watch).
func (w *dirWatch) events() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.ch
}

func (w *dirWatch) close() {
	if w != nil {
		w.file.Close()
	}
}
