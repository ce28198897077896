package ssd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
)

// found is what a finder found.
type found struct {
	// pids are the processes to act on.
	pids []int
	// status is --status's answer: statusRunning, statusDead,
	// statusStopped or statusUnknown.
	status int
	// orphans is set when pids outlive the main process the pidfile
	// names: processes of its session, or holders of its lock.
	orphans bool
	// main is the PID the pidfile names (0 when none).
	main int
}

// finder finds the processes a command line means, the way
// start-stop-daemon's do_findprocs does: by --pid, by --pidfile, or by a
// scan of every process.
type finder interface {
	// find looks now. The error wraps ErrTrouble: a pidfile that must not
	// be believed, or cannot be read.
	find() (found, error)
	// owns re-checks pid, found by the last find, after a pidfd (fd) was
	// opened on it: from then on the pidfd cannot move to another process.
	owns(pid, fd int) bool
	// chase reports whether processes found after the first signal are
	// the service's beyond doubt (they hold its lock), and get the signal
	// at once.
	chase() bool
	// remove removes the pidfile (--remove-pidfile) once nothing of the
	// service runs.
	remove() error
}

// newFinder chooses the finder for o, with t resolved from it.
func newFinder(o Options, t target) (finder, error) {
	switch {
	case o.PID != 0:
		return &byPID{pid: o.PID, t: t}, nil
	case o.PIDFile == "":
		return &byScan{t: t}, nil
	case o.PIDFile == os.DevNull:
		// start-stop-daemon's way to start a program whatever runs.
		return &devNull{}, nil
	}
	path, err := filepath.Abs(o.PIDFile)
	if err != nil {
		return nil, fmt.Errorf("%w: pidfile %s: %v", ErrTrouble, o.PIDFile, err)
	}
	if pidfile.Recorded(path) {
		return &ownFile{path: path, t: t}, nil
	}
	only := o.Exec == "" && o.Name == "" && o.User == "" && o.PPID == 0 && o.Program == ""
	return &writtenFile{path: path, t: t, alone: only}, nil
}

// byPID is --pid.
type byPID struct {
	pid int
	t   target
}

func (f *byPID) find() (found, error) {
	if f.t.matches(f.pid) {
		return found{pids: []int{f.pid}, status: statusRunning}, nil
	}
	return found{status: statusStopped}, nil
}

func (f *byPID) owns(pid, _ int) bool { return pid == f.pid && f.t.matches(pid) }
func (f *byPID) chase() bool          { return false }
func (f *byPID) remove() error        { return nil }

// byScan looks at every process (start-stop-daemon without --pid and
// --pidfile: "similar to killall").
type byScan struct{ t target }

func (f *byScan) find() (found, error) {
	pids, err := scan(&f.t)
	if err != nil {
		return found{}, err
	}
	if len(pids) > 0 {
		return found{pids: pids, status: statusRunning}, nil
	}
	return found{status: statusStopped}, nil
}

func (f *byScan) owns(pid, _ int) bool { return f.t.matches(pid) }
func (f *byScan) chase() bool          { return false }
func (f *byScan) remove() error        { return nil }

// devNull is --pidfile /dev/null: no process ever matches, and the
// status is unknown.
type devNull struct{}

func (devNull) find() (found, error) { return found{status: statusUnknown}, nil }
func (devNull) owns(int, int) bool   { return false }
func (devNull) chase() bool          { return false }
func (devNull) remove() error        { return nil }

// ownFile is a pidfile from daemonctl's own start (--background
// --make-pidfile): locked by the daemon, with the stage's record, decided
// by pidfile.Inspect. The PID it names must also meet the matching
// options, as start-stop-daemon's --pidfile requires.
type ownFile struct {
	path string
	t    target
	st   pidfile.State
}

func (f *ownFile) find() (found, error) {
	st, err := pidfile.Inspect(f.path)
	if err != nil {
		return found{status: statusUnknown}, fmt.Errorf("%w: pidfile %s: %v", ErrTrouble, f.path, unprefixed(err, f.path))
	}
	f.st = st
	res := found{main: st.PID}
	switch st.Status {
	case pidfile.NotRunning:
		res.status = statusStopped
	case pidfile.Running:
		res.status = statusDead
		if f.t.matches(st.PID) {
			res.pids, res.status = []int{st.PID}, statusRunning
		}
	case pidfile.Stale:
		res.status = statusDead
	case pidfile.Orphaned, pidfile.Starting:
		res.status, res.orphans = statusDead, true
		res.pids = st.Holders
		if len(res.pids) == 0 {
			res.pids, _ = st.ServiceHolders()
		}
	case pidfile.Unverified:
		return found{status: statusUnknown, main: st.PID}, fmt.Errorf("%w: cannot vouch for pid %d named by %s: %s; nothing was done: check what it is (ps -p %d)", ErrTrouble, st.PID, f.path, st.Why, st.PID)
	}
	return res, nil
}

func (f *ownFile) owns(pid, fd int) bool {
	if !f.st.Owns(pid, fd) {
		return false
	}
	return pid != f.st.PID || f.t.matches(pid)
}

func (f *ownFile) chase() bool { return true }

func (f *ownFile) remove() error {
	_, err := pidfile.RemoveStale(f.path)
	if err != nil && !errors.Is(err, pidfile.ErrLocked) {
		return fmt.Errorf("%w: cannot remove pidfile '%s' (%v)", ErrTrouble, f.path, unprefixed(err, f.path))
	}
	return nil
}

// writtenFile is a pidfile the program wrote itself: believed only when
// nobody but root, the caller and at most one service user could have
// written it (pidfile.ReadConfined), and then only for that user's
// processes. With --pidfile alone, as start-stop-daemon ≥ 1.19.3, it must
// be root's or the caller's.
type writtenFile struct {
	path  string
	t     target
	alone bool
	// read is set once the file was read, with what it gave.
	read     bool
	pid, uid int
	err      error
	// last is the target the last find matched with (confined to the
	// file's writer, kept to the dead main process's session).
	last target
}

func (f *writtenFile) find() (found, error) {
	if !f.read {
		// Read once, as start-stop-daemon does: a daemon that removes its
		// pidfile as it exits leaves its session's processes findable.
		f.read = true
		f.pid, f.uid, f.err = pidfile.ReadConfined(f.path)
	}
	pid, uid, err := f.pid, f.uid, f.err
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, pidfile.ErrNoDirectory):
		return found{status: statusStopped}, nil
	case errors.Is(err, pidfile.ErrInvalid):
		// As start-stop-daemon: no PID, nothing matches, status unknown.
		return found{status: statusUnknown}, nil
	case err != nil:
		return found{status: statusUnknown}, fmt.Errorf("%w: pidfile %s: %v; refusing to act on it", ErrTrouble, f.path, unprefixed(err, f.path))
	}
	if f.alone {
		if why := f.notOwn(uid); why != "" {
			return found{status: statusUnknown}, fmt.Errorf("%w: matching only on non-root pidfile %s is insecure (%s): add --exec or --name", ErrTrouble, f.path, why)
		}
	}
	f.last = f.t
	f.last.confine = uid
	res := found{main: pid, status: statusDead}
	if f.last.matches(pid) {
		res.pids, res.status = []int{pid}, statusRunning
		return res, nil
	}
	if _, err := process.Get(pid); err == nil {
		return res, nil // alive, but another process
	}
	// The main process is dead. What is left of the session it led (its
	// PID cannot be reused while the session has members) and still
	// matches is the rest of the service: nginx's workers after its
	// master was SIGKILLed.
	f.last.session = pid
	orphans, err := scan(&f.last)
	if err != nil {
		return res, err
	}
	res.pids, res.orphans = orphans, len(orphans) > 0
	return res, nil
}

// notOwn says why a file matched on alone is not root's or the caller's
// (its owner, group or directory), "" when it is.
func (f *writtenFile) notOwn(writer int) string {
	var st unix.Stat_t
	if err := unix.Lstat(f.path, &st); err != nil {
		return err.Error()
	}
	switch {
	case writer >= 0:
		return fmt.Sprintf("uid %d could have written it", writer)
	case st.Gid != 0 && st.Gid != uint32(os.Getgid()):
		return fmt.Sprintf("it belongs to group %d", st.Gid)
	}
	return ""
}

func (f *writtenFile) owns(pid, _ int) bool { return f.last.matches(pid) }
func (f *writtenFile) chase() bool          { return false }

func (f *writtenFile) remove() error {
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: cannot remove pidfile '%s' (%v)", ErrTrouble, f.path, errnoText(err))
	}
	return nil
}

// unprefixed drops a leading "PATH: " from a pidfile error.
func unprefixed(err error, path string) string {
	return strings.TrimPrefix(err.Error(), path+": ")
}
