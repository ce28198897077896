package pidfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
)

// Status is what a pidfile says about its daemon.
type Status int

const (
	// NotRunning: there is no pidfile (or not even its directory).
	NotRunning Status = iota
	// Running: the PID in the file holds the file's lock.
	Running
	// Starting: the lock is held but the PID is not written yet, and the
	// process that took the lock lives.
	Starting
	// Stale: the lock is free and the PID in the file is dead, or alive but
	// a later process that reused the number (State.Reused), or the file is
	// empty (PID 0: a start died before writing it).
	Stale
	// RunningUnlocked: the lock is free, yet the PID in the file is alive and
	// started before the file was written: the daemon closed its inherited
	// lock descriptor (as sshd -D, dnsmasq and postfix do). Nobody can vouch
	// for it, but it must not be started twice.
	RunningUnlocked
	// Orphaned: processes hold the lock but the PID in the file is not one of
	// them: the main process died and children that inherited the lock live
	// on (State.Holders); or the file is empty (PID 0) and the start that
	// took the lock died after forking the daemon, before writing its PID.
	Orphaned
)

func (s Status) String() string {
	switch s {
	case NotRunning:
		return "not running"
	case Running:
		return "running"
	case Starting:
		return "starting"
	case Stale:
		return "dead"
	case RunningUnlocked:
		return "running unlocked"
	case Orphaned:
		return "orphaned"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// State is the outcome of Inspect.
type State struct {
	Status Status
	Path   string
	// PID is the PID in the file, 0 when there is none.
	PID int
	// Reused is set for Stale when PID is alive but is another process.
	Reused bool
	// Holders lists the processes holding the lock, for Orphaned.
	Holders []int
	// Process describes PID for Running and RunningUnlocked, as far as the
	// platform can tell (its Started is zero when unknown).
	Process process.Info
	// Written is when the file was last written.
	Written time.Time
	// ID is the file's inode, for Running, Starting and Orphaned.
	ID process.FileID
}

// settle bounds how long Inspect waits for a start in progress (lock held,
// PID not yet written) to finish writing before it reports what it sees.
const settle = 100 * time.Millisecond

// Inspect reports the state of the daemon behind path without changing
// anything: it never creates, writes or removes the file, and takes at
// most a momentary shared lock.
//
// A missing file, or a missing directory, is NotRunning with a nil error.
// The error is non-nil, and the state is unknown, for a path that is a
// symlink (ErrSymlink) or not a regular file (ErrNotRegular), for contents
// that are not a valid PID (ErrInvalid), and when the file cannot be read
// (fs.ErrPermission and others).
func Inspect(path string) (State, error) {
	deadline := time.Now().Add(settle)
	pause := 100 * time.Microsecond
	for {
		state, err, final := inspectOnce(path, time.Now().After(deadline))
		if final {
			return state, err
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// inspectOnce looks once. It reports final=false when a start may be in
// progress and a second look could tell more; last asks for a final answer.
func inspectOnce(path string, last bool) (State, error, bool) {
	state := State{Status: NotRunning, Path: path}
	file, err := openChecked(path, os.O_RDONLY)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNoDirectory) {
			return state, nil, true
		}
		return state, err, true
	}
	defer file.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(file.Fd()), &st); err != nil {
		return state, fmt.Errorf("%s: %w", path, err), true
	}
	state.ID = process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}
	state.Written = time.Unix(st.Mtim.Unix())
	pid, perr := readPID(file)
	if perr == nil {
		state.PID = pid
		if holdsLock(pid, state.ID) {
			state.Status = Running
			state.Process, _ = process.Get(pid)
			return state, nil, true
		}
	}
	locked, err := probe(path, state.ID)
	if err != nil {
		return state, err, true
	}
	if !locked {
		if perr != nil {
			if st.Size == 0 {
				// Created by a start that died before writing: nobody runs.
				state.Status = Stale
				return state, nil, true
			}
			return state, fmt.Errorf("%s: %w", path, perr), true
		}
		info, err := process.Get(pid)
		switch {
		case errors.Is(err, process.ErrGone):
			state.Status = Stale
		case ownerAlive(file, pid):
			state.Status = RunningUnlocked
			state.Process = info
		default:
			state.Status = Stale
			state.Reused = true
		}
		return state, nil, true
	}
	// Locked, but not (yet) by the PID in the file.
	if !last {
		return state, nil, false
	}
	if perr != nil {
		if st.Size == 0 {
			if takerAlive(state.ID) {
				state.Status = Starting
				return state, nil, true
			}
			// The start that took the lock died after forking the daemon
			// and before writing its PID (unless it wrote and exited just
			// now: then look again). Its daemon runs unrecorded.
			if _, err := readPID(file); err == nil {
				return state, nil, false
			}
			state.Status = Orphaned
			state.Holders = lockHolders(state.ID)
			return state, nil, !released(path, state)
		}
		return state, fmt.Errorf("%s: %w", path, perr), true
	}
	state.Holders = lockHolders(state.ID)
	if slices.Contains(state.Holders, pid) {
		state.Status = Running
		state.Process, _ = process.Get(pid)
		return state, nil, true
	}
	if takerHolds(state.ID) {
		// A start over a stale file that has not written its PID yet.
		state.Status = Starting
		return state, nil, true
	}
	if now, err := readPID(file); err != nil || now != pid {
		// Rewritten since it was read (a start wrote its PID and exited):
		// look again.
		return state, nil, false
	}
	state.Status = Orphaned
	return state, nil, !released(path, state)
}

// released reports whether the lock an Orphaned state found no holders of
// has been released (or the file replaced) since it was probed, so
// another look will tell more.
func released(path string, state State) bool {
	if len(state.Holders) > 0 {
		return false
	}
	locked, err := Locked(path, state.ID)
	return err == nil && !locked
}

// holdsLock reports whether pid holds the lock on id. It reads pid's
// fdinfo; when that is not permitted (another user's daemon) it falls back
// to /proc/locks, which names the process that took the lock: the daemon
// itself, or the launcher stage that leads its session. Without /proc it
// cannot tell.
func holdsLock(pid int, id process.FileID) bool {
	held, err := process.HoldsFlock(pid, id)
	if err == nil {
		return held
	}
	if errors.Is(err, fs.ErrPermission) {
		takers, err := process.FlockTakers(id)
		if err != nil {
			return false
		}
		if slices.Contains(takers, pid) {
			return true
		}
		// daemonctl's launcher stage takes the lock and forks the daemon,
		// so the taker is the stage: the leader of the daemon's session.
		info, err := process.Get(pid)
		return err == nil && slices.Contains(takers, info.Session)
	}
	return false
}

// takerAlive reports whether a process that took the lock on id (by
// /proc/locks) is still alive: a start holding the lock before writing
// the PID is in progress only while it lives. Without /proc it cannot
// tell, and says yes.
func takerAlive(id process.FileID) bool {
	takers, err := process.FlockTakers(id)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(takers, process.Alive)
}

// takerHolds reports whether a process that took the lock on id still
// holds it: then the lock is not a dead main process's, left to its
// children, but that of a start in progress.
func takerHolds(id process.FileID) bool {
	takers, err := process.FlockTakers(id)
	return err == nil && slices.ContainsFunc(takers, func(pid int) bool { return holdsLock(pid, id) })
}

// lockHolders lists the processes holding the lock on id, falling back to
// the takers /proc/locks names when the holders' descriptors are hidden.
func lockHolders(id process.FileID) []int {
	holders, err := process.FlockHolders(id)
	if err == nil && len(holders) > 0 {
		return holders
	}
	takers, _ := process.FlockTakers(id)
	return takers
}

// probe reports whether someone holds the lock on path, by trying a shared
// lock for a moment on a read-only descriptor (never created). A file that
// changed inode since it was inspected counts as locked, so the caller
// looks again.
func probe(path string, id process.FileID) (bool, error) {
	fl := flock.New(path, flock.SetFlag(os.O_RDONLY|syscall.O_NOFOLLOW))
	defer fl.Close()
	ok, err := fl.TryRLock()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		return false, fmt.Errorf("%s: probe lock: %w", path, err)
	}
	if st, err := fl.Stat(); err == nil {
		if s, isUnix := st.Sys().(*syscall.Stat_t); isUnix && (uint64(s.Dev) != id.Dev || s.Ino != id.Ino) {
			return true, nil
		}
	}
	return !ok, nil
}

// HeldBy reports whether pid holds the lock on the inode s describes. Use
// it after opening a pidfd on a PID that Inspect found, to close the window
// in which the PID could have been reused.
func (s State) HeldBy(pid int) bool { return holdsLock(pid, s.ID) }

// Locked reports whether anyone holds the lock on path's inode id. A path
// that is gone or names another inode counts as unlocked: the file the
// daemon held is no longer there.
func Locked(path string, id process.FileID) (bool, error) {
	if !sameInode(path, id) {
		return false, nil
	}
	return probe(path, id)
}
