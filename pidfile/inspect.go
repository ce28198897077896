package pidfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
)

// Status is what a pidfile says about its daemon.
type Status int

const (
	// NotRunning: there is no pidfile (or not even its directory).
	NotRunning Status = iota
	// Running: the PID in the file is the service's: it holds the service's
	// lock, or (State.Unlocked) it closed its lock descriptor and the
	// stage's record proves it is exactly the daemon that was started.
	Running
	// Starting: a start holds the lock and has not written the PID yet.
	Starting
	// Stale: the daemon is dead: the PID in the file is gone, or alive but
	// provably another process (State.Reused), or the file is empty; the
	// service's lock is free.
	Stale
	// Orphaned: processes hold the service's lock but the PID in the file
	// is not one of them: the main process died and children that
	// inherited the lock live on (State.Holders); or the file is empty and
	// the start that took the lock died before writing the PID.
	Orphaned
	// Unverified: the PID in the file is alive without the service's lock,
	// and nothing proves it is the daemon (State.Why): no record of the
	// stage, a record of another PID or place, or a file someone else could
	// have written. It is neither signalled nor started again.
	Unverified
)

func (s Status) String() string {
	switch s {
	case NotRunning:
		return "stopped"
	case Running:
		return "running"
	case Starting:
		return "starting"
	case Stale:
		return "dead"
	case Orphaned:
		return "orphaned"
	case Unverified:
		return "unverified"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// State is the outcome of Inspect.
type State struct {
	Status Status
	Path   string
	// PID is the PID in the file, 0 when there is none.
	PID int
	// Unlocked is set for Running when the PID does not hold the lock
	// (the program closed its inherited descriptors, as sshd -D and
	// dnsmasq do) and the record vouches for it.
	Unlocked bool
	// Reused is set for Stale when PID is alive but is another process.
	Reused bool
	// Holders lists the processes holding the service's lock, for
	// Orphaned and Starting (those visible to the caller).
	Holders []int
	// Foreign lists the takers of locks on the file that are not the
	// service's: someone who opened the file and locked it.
	Foreign []int
	// Why says, for Unverified, what keeps the process from being vouched
	// for.
	Why string
	// Process describes PID for Running, Unverified and Reused, as far as
	// the platform can tell (its Started is zero when unknown).
	Process process.Info
	// Written is when the file was last written.
	Written time.Time
	// ID is the file's inode.
	ID process.FileID
	// Record is the stage's record when the file's owner and mode make it
	// trustworthy (nil otherwise).
	Record *Record
	// exec and program, from the options.
	exec, program string
	// moved says why the file's record was made for another file ("" when
	// it was not): a pidfile moved or linked here from another name is
	// another service's, and so is its lock.
	moved string
}

// Option narrows what Inspect accepts as the daemon.
type Option func(*State)

// WithExec makes Inspect accept as the daemon only a process running the
// executable at path (as start-stop-daemon's --exec): anything else in
// the file is Unverified.
func WithExec(path string) Option { return func(s *State) { s.exec = path } }

// Exec is the path WithExec gave ("" without it).
func (s State) Exec() string { return s.exec }

// WithProgram names the program the service runs (a path, or a bare name
// looked up on PATH when it is needed), checked (as WithExec) only for a
// process that does not hold the lock, which the record alone would
// otherwise vouch for. A script's interpreter matches too.
func WithProgram(path string) Option { return func(s *State) { s.program = path } }

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
func Inspect(path string, opts ...Option) (State, error) {
	deadline := time.Now().Add(settle)
	pause := 100 * time.Microsecond
	for extra := 0; ; {
		last := time.Now().After(deadline)
		state, err := look(path, last, opts...)
		if !errors.Is(err, errLookAgain) {
			return state, err
		}
		if last {
			// Only a process caught exiting asks for more looks once the
			// deadline has passed; it is gone in microseconds.
			if extra++; extra > 20 {
				return state, nil
			}
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// errLookAgain means a start may be in progress, the file changed while
// it was read, or a process of the service was caught exiting (its lock
// not yet released): another look will tell more. With last, look returns
// it only for an exiting process.
var errLookAgain = errors.New("look again")

// view is what one look at a pidfile read.
type view struct {
	state *State
	file  *os.File
	st    unix.Stat_t
	// perr is why the contents are not a PID (nil when they are).
	perr error
	// why is why there is no trustworthy record ("" when there is one).
	why string
}

// look looks once. It returns errLookAgain when a start may be in
// progress and a second look could tell more (never when last is set).
func look(path string, last bool, opts ...Option) (State, error) {
	state := State{Status: NotRunning, Path: path}
	for _, o := range opts {
		o(&state)
	}
	file, err := openChecked(path, os.O_RDONLY)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNoDirectory) {
			return state, nil
		}
		return state, err
	}
	defer file.Close()
	v, err := newView(&state, file)
	if err != nil {
		return state, err
	}
	// The common case, in one read of /proc/PID/fdinfo/3: the PID in the
	// file holds the service's lock.
	if v.perr == nil {
		if done, err := v.main(); done || err != nil {
			return state, err
		}
	}
	locked, err := v.probe()
	if err != nil {
		return state, err
	}
	if locked {
		if v.starting() {
			state.Status = Starting
			if !last {
				return state, errLookAgain
			}
			return state, nil
		}
		holders, foreign, err := state.lockers()
		if err != nil {
			return state, err
		}
		state.Foreign = foreign
		if len(holders) > 0 {
			state.Holders = holders
			return v.held(last)
		}
	}
	if v.perr != nil {
		if v.st.Size == 0 {
			state.Status = Stale // created by a start that died before writing
			return state, nil
		}
		return state, fmt.Errorf("%s: %w", path, v.perr)
	}
	state, err = v.unlocked()
	if err == nil && state.Status == Stale && state.Foreign == nil {
		state.Foreign = v.sharedLockers()
	}
	return state, err
}

// sharedLockers lists the takers of shared locks on the file of a dead
// service, which probe's shared lock does not notice: no start of the
// service takes one, so whoever holds one is someone else (a reader),
// who keeps stop from removing the file.
func (v *view) sharedLockers() []int {
	if err := unix.Flock(int(v.file.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
		_ = unix.Flock(int(v.file.Fd()), unix.LOCK_UN)
		return nil
	}
	_, foreign, _ := v.state.lockers()
	return foreign
}

// newView reads the file's status, PID and record.
func newView(state *State, file *os.File) (*view, error) {
	v := &view{state: state, file: file}
	if err := unix.Fstat(int(file.Fd()), &v.st); err != nil {
		return nil, fmt.Errorf("%s: %w", state.Path, err)
	}
	state.ID = process.FileID{Dev: uint64(v.st.Dev), Ino: v.st.Ino}
	state.Written = time.Unix(v.st.Mtim.Unix())
	state.PID, v.perr = readPID(file)
	rec, err := readRecord(int(file.Fd()))
	switch {
	case errors.Is(err, ErrNoRecord):
		v.why = "the file has no record of daemonctl's start"
	case err != nil:
		v.why = fmt.Sprintf("its record cannot be read (%v)", err)
	default:
		v.why = distrustFile(&v.st)
		if v.why == "" {
			v.why = misplaced(state.Path, rec)
			state.moved = v.why
		}
		if v.why == "" {
			state.Record = &rec
		}
	}
	return v, nil
}

// misplaced says why a record made for another place does not apply at
// path ("" when it does): a file moved or linked from elsewhere carries
// the record of another service.
func misplaced(path string, rec Record) string {
	var d unix.Stat_t
	if err := unix.Stat(filepath.Dir(path), &d); err != nil {
		return fmt.Sprintf("its directory cannot be examined (%v)", err)
	}
	if (process.FileID{Dev: uint64(d.Dev), Ino: d.Ino}) != rec.Dir || filepath.Base(path) != rec.Name {
		return fmt.Sprintf("its record was made for another file (%q in another place): it was moved here", rec.Name)
	}
	return ""
}

// main decides the common case: the PID in the file holds the service's
// lock, or, when its descriptors cannot be read (another user's daemon),
// is exactly the process the record names. done is false when the lock
// alone cannot answer.
func (v *view) main() (done bool, err error) {
	s := v.state
	info, err := process.Get(s.PID)
	if err != nil {
		return false, nil // gone, or no /proc: the lock will tell
	}
	taker, lerr := process.LockTaker(s.PID, s.ID)
	switch {
	case taker != 0:
		if !v.serviceLock(s.PID, taker) || !v.isMain(info) {
			return false, nil
		}
	case errors.Is(lerr, fs.ErrPermission):
		// Another user's daemon: its descriptors are hidden, but the
		// record names it exactly, and /proc/locks lists the takers.
		if s.Record != nil {
			// Exactly the daemon: running. Whether it still holds the
			// lock decides only what else must be checked (unlocked).
			if v.identity(info, -1) != identical {
				return false, nil
			}
			if locked, err := v.probe(); err != nil || !locked {
				return false, err
			}
		} else if takers, err := process.FlockTakers(s.ID); err != nil || !slices.Contains(takers, info.Session) {
			return false, nil
		}
	default:
		return false, nil
	}
	s.Process = info
	s.Status = Running
	if s.exec != "" {
		if why := exeMismatch(s.PID, s.exec); why != "" {
			s.Status, s.Why = Unverified, why
		}
	}
	return true, nil
}

// isMain reports whether info, holding the service's lock, is the process
// the record names (not a child that got the dead main process's PID).
func (v *view) isMain(info process.Info) bool {
	r := v.state.Record
	return r == nil || r.PID == info.PID && (r.Start == 0 || r.Start == info.StartTicks)
}

// serviceLock reports whether the lock holder holds, taken by taker, is
// the service's: taken by the stage the record names (still that process,
// if it lives), or, without a record, by the leader of holder's session,
// which daemonctl's stage is. A file whose record was made for another
// file holds no lock of this service's.
func (v *view) serviceLock(holder, taker int) bool {
	if v.state.moved != "" {
		return false
	}
	if r := v.state.Record; r != nil {
		if taker != r.Stage {
			return false
		}
		start, err := process.StartTicks(taker)
		return err != nil || r.StageStart == 0 || start == r.StageStart
	}
	info, err := process.Get(holder)
	return err == nil && info.Session == taker
}

// probe reports whether anyone holds a lock on the file, by trying a
// shared lock on the view's read-only descriptor for a moment.
func (v *view) probe() (bool, error) {
	err := unix.Flock(int(v.file.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if err == nil {
		_ = unix.Flock(int(v.file.Fd()), unix.LOCK_UN)
		return false, nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		return false, fmt.Errorf("%s: probe lock: %w", v.state.Path, err)
	}
	return true, nil
}

// starting reports, for a locked file, whether the record shows a start
// in progress: the stage recorded itself, has not written the PID yet, and
// still runs.
func (v *view) starting() bool {
	r := v.state.Record
	return r != nil && r.PID == 0 && v.perr != nil && v.stageAlive()
}

// lockers lists the holders of the service's lock and the takers of other
// locks on the file, by a scan of /proc (the holders this caller may
// inspect) and /proc/locks (every lock's taker). A service lock whose
// holders are all hidden (another user's) shows as the holder 0.
func (s State) lockers() (holders, foreign []int, err error) {
	v := &view{state: &s}
	all, err := process.FlockHolders(s.ID)
	if errors.Is(err, process.ErrUnsupported) {
		// No /proc: the lock alone is all there is to go by.
		return []int{0}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	takers, err := process.FlockTakers(s.ID)
	if err != nil {
		return nil, nil, err
	}
	seen := map[int]bool{}
	for _, h := range all {
		seen[h.Taker] = true
		if v.serviceLock(h.PID, h.Taker) {
			holders = append(holders, h.PID)
		} else if !slices.Contains(foreign, h.Taker) {
			foreign = append(foreign, h.Taker)
		}
	}
	hidden := false
	for _, t := range takers {
		switch {
		case seen[t]:
		case s.moved != "", s.Record != nil && t != s.Record.Stage:
			foreign = append(foreign, t)
		default:
			hidden = true
		}
	}
	if hidden && len(holders) == 0 {
		holders = []int{0}
	}
	return holders, foreign, nil
}

// held decides a file whose service lock is held, but not by the PID in
// the file.
func (v *view) held(last bool) (State, error) {
	s := v.state
	if slices.Equal(s.Holders, []int{0}) {
		s.Holders = nil
	}
	empty := v.perr != nil && v.st.Size == 0 || s.Record != nil && s.Record.PID == 0
	if v.perr != nil && !empty {
		return *s, fmt.Errorf("%s: %w", s.Path, v.perr)
	}
	if empty {
		if v.stageAlive() {
			s.Status = Starting
			if !last {
				return *s, errLookAgain
			}
			return *s, nil
		}
		// The start that took the lock died after forking the daemon and
		// before writing its PID (unless it wrote just now: look again).
		if pid, err := readPID(v.file); err == nil && pid != 0 && !last {
			return *s, errLookAgain
		}
		s.Status = Orphaned
		return *s, nil
	}
	if now, err := readPID(v.file); err != nil || now != s.PID {
		if !last {
			return *s, errLookAgain // rewritten since it was read
		}
	}
	if slices.Contains(s.Holders, s.PID) {
		// The main process holds the lock but is exiting (process.Get
		// calls it gone): an instant from now the lock is free.
		return *s, errLookAgain
	}
	if len(s.Holders) == 0 {
		// Held, but by nobody this caller can see: another user's
		// processes, or one that has closed its descriptors and not yet
		// released the lock as it exits. If the lock is free now, it was
		// the latter.
		if locked, err := v.probe(); err == nil && !locked {
			return *s, errLookAgain
		}
	}
	s.Status = Orphaned
	return *s, nil
}

// stageAlive reports whether the start that took the lock still runs.
func (v *view) stageAlive() bool {
	r := v.state.Record
	if r == nil {
		takers, err := process.FlockTakers(v.state.ID)
		return err != nil || slices.ContainsFunc(takers, process.Alive)
	}
	start, err := process.StartTicks(r.Stage)
	return err == nil && (r.StageStart == 0 || start == r.StageStart)
}

// identity is what the record says of a live process.
type identity int

const (
	unknown   identity = iota // no trustworthy record of this PID
	identical                 // exactly the process the record names
	other                     // provably another process with the same PID
)

// identity compares the live process info (with its pidfd, or -1) with
// the record.
func (v *view) identity(info process.Info, pidfd int) identity {
	r := v.state.Record
	if r == nil || r.PID != info.PID || r.PID == 0 {
		return unknown
	}
	if boot, err := process.BootID(); err == nil && r.Boot != "" && boot != r.Boot {
		return other
	}
	if r.ProcID != 0 {
		var id uint64
		var err error
		if pidfd >= 0 {
			id, err = process.PidfdID(pidfd)
		} else {
			id, err = process.ProcID(info.PID)
		}
		if err == nil {
			if id != r.ProcID {
				return other
			}
			return identical
		}
	}
	if r.Start == 0 || info.StartTicks != r.Start {
		return other
	}
	return identical
}

// unlocked decides a file whose service lock nobody holds.
func (v *view) unlocked() (State, error) {
	s := v.state
	info, err := process.Get(s.PID)
	switch {
	case errors.Is(err, process.ErrGone):
		s.Status = Stale
		return *s, nil
	case errors.Is(err, process.ErrUnsupported):
		// Without /proc, an unlocked file's PID is never believed.
		s.Status, s.Why = Unverified, "this platform cannot identify processes"
		return *s, nil
	case err != nil:
		return *s, err
	}
	s.Process = info
	switch v.identity(info, -1) {
	case other:
		s.Status, s.Reused = Stale, true
		return *s, nil
	case unknown:
		s.Status = Unverified
		switch {
		case s.Record != nil && s.Record.PID != s.PID:
			s.Why = fmt.Sprintf("the file names pid %d, but daemonctl recorded pid %d: it was rewritten", s.PID, s.Record.PID)
		case v.why != "":
			s.Why = v.why
		default:
			s.Why = "the record is incomplete"
		}
		return *s, nil
	}
	// Exactly the daemon the stage started, without its lock: believed
	// only from a file nobody else could have put there (Trust rule 3a).
	if why := distrust(s.Path, &v.st); why != "" {
		s.Status, s.Why = Unverified, why
		return *s, nil
	}
	for _, exe := range []string{s.exec, programPath(s.program)} {
		if exe == "" {
			continue
		}
		if why := exeMismatch(s.PID, exe); why != "" {
			s.Status, s.Why = Unverified, why
			return *s, nil
		}
	}
	s.Status, s.Unlocked = Running, true
	return *s, nil
}

// programPath is WithProgram's program as a path: a bare name is looked
// up on PATH, here, only for the rare process that needs the check (the
// status table of a thousand services would otherwise look up every
// program); "" when it is not installed, and then nothing can be compared.
func programPath(program string) string {
	if program == "" || strings.Contains(program, "/") {
		return program
	}
	path, err := exec.LookPath(program)
	if err != nil {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	return abs
}

// ExeMismatch says why pid does not run the program at path ("" when it
// does): /proc/PID/exe must be that file, or, for a script, its
// interpreter. It is WithExec's test, for a process the caller found by
// other means (a supervised service's program).
func ExeMismatch(pid int, path string) string { return exeMismatch(pid, path) }

func exeMismatch(pid int, path string) string {
	exe, err := process.Exe(pid)
	if err != nil {
		return fmt.Sprintf("which program pid %d runs cannot be read (%v)", pid, err)
	}
	interp, _ := process.Interpreter(path)
	for _, p := range []string{path, interp} {
		var st unix.Stat_t
		if p != "" && unix.Stat(p, &st) == nil && (process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}) == exe {
			return ""
		}
	}
	return fmt.Sprintf("pid %d does not run %s", pid, path)
}

// examineLocked decides a file whose lock the caller holds exclusively
// (Acquire, RemoveStale): no service lock can be held, so only a daemon
// that closed its lock descriptor, or a process nobody can vouch for, can
// be in the way.
func examineLocked(f *File) (State, error) {
	state := State{Status: NotRunning, Path: f.path}
	v, err := newView(&state, f.lock)
	if err != nil {
		return state, err
	}
	if v.perr != nil {
		state.Status = Stale // empty or garbage under our lock: nobody runs
		return state, nil
	}
	return v.unlocked()
}

// Owns reports whether pid, found by Inspect, is still one of the
// service's processes: it holds the service's lock, or it is exactly the
// daemon the record names (for Unlocked). Call it after opening a pidfd on
// pid (pidfd, or -1), to close the window in which the PID could have
// been reused: from then on the pidfd cannot move to another process.
func (s State) Owns(pid, pidfd int) bool {
	v := &view{state: &s}
	if taker, err := process.LockTaker(pid, s.ID); taker != 0 {
		return v.serviceLock(pid, taker)
	} else if errors.Is(err, fs.ErrPermission) && s.Record != nil && pid == s.PID {
		info, err := process.Get(pid)
		return err == nil && v.identity(info, pidfd) == identical
	}
	if s.Status != Running || !s.Unlocked || pid != s.PID {
		return false
	}
	info, err := process.Get(pid)
	return err == nil && v.identity(info, pidfd) == identical
}

// LockHeld reports whether the service's lock is still held on the file
// Inspect found. A file that is gone, or replaced, counts as free: the
// file the daemon held is no longer there.
func (s State) LockHeld() (bool, error) {
	if !sameInode(s.Path, s.ID) {
		return false, nil
	}
	f, err := os.OpenFile(s.Path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("%s: %w", s.Path, err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || uint64(st.Dev) != s.ID.Dev || st.Ino != s.ID.Ino {
		return false, nil
	}
	v := &view{state: &s, file: f}
	if locked, err := v.probe(); err != nil || !locked {
		return false, err
	}
	holders, _, err := s.lockers()
	return len(holders) > 0, err
}

// ServiceHolders lists the processes holding the service's lock that the
// caller may see.
func (s State) ServiceHolders() ([]int, error) {
	holders, _, err := s.lockers()
	return slices.DeleteFunc(holders, func(pid int) bool { return pid == 0 }), err
}
