// Package pidfile implements the locked PID file: a file holding a daemon's
// PID, flock'ed by the daemon itself through a descriptor it inherited. The
// kernel drops the lock the moment the last holder dies, however it dies, so
// "is the lock held, and by the PID in the file?" is the truth about
// liveness, where kill(pid, 0) lies after PID reuse.
//
// Every function opens paths with O_NOFOLLOW, never truncates before it
// holds the lock, and removes a file only while holding its lock and only
// when the path still names the locked inode.
package pidfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
)

// Mode is the permission of a new pidfile, before the umask.
const Mode = 0o644

// maxSize bounds how much of a file is read: "4194304\n" is 8 bytes, so a
// longer file is garbage and is not read to its end.
const maxSize = 32

// File is a pidfile whose lock this process holds.
type File struct {
	// lock is a read-only descriptor that holds the flock: the one a
	// daemon inherits, through which it can neither change the PID nor the
	// record (Trust rule 1).
	lock *os.File
	// write is a read-write descriptor of the same file, kept by the stage
	// until Commit; nil in a daemon that adopted its lock.
	write *os.File
	start *startLock
	path  string
	id    process.FileID
	rec   Record
}

// Acquire takes the pidfile at path for a start, as daemonctl's launcher
// stage does: it takes the start lock beside the file (see startLock),
// opens or creates the file with Mode, takes an exclusive flock on a
// read-only descriptor, checks that the path still names the locked
// inode, empties the file and records this process as the lock's taker.
// Write the PID with Commit, which also lets other starts proceed.
//
// A file whose lock is held by someone other than the service (a reader
// who locked the world-readable file, a status probe lasting too long) is
// replaced by a new file, under the start lock, so nobody can keep a
// service from starting that way.
//
// On failure nothing is written, truncated or removed, and the error says
// why: a *BusyError (matching ErrRunning, ErrStarting, ErrOrphaned or
// ErrUnverified) when the service is there or a live process in the file
// cannot be vouched for; ErrLocked when the file is locked and cannot be
// replaced; ErrSymlink, ErrNotRegular, ErrHardLink, ErrUnsafe,
// ErrNoDirectory, ErrNameTooLong and ErrStartLock for a path that must not
// be used; fs.ErrPermission when it may not be opened.
func Acquire(path string) (*File, error) {
	start, err := takeStartLock(path)
	if err != nil {
		return nil, err
	}
	f, err := acquire(path, start != nil)
	if err != nil {
		start.release()
		return nil, err
	}
	f.start = start
	return f, nil
}

// foreignRetries is how many times Acquire tries again to lock a file
// whose lock is not the service's before it replaces the file: a status
// or stop probe holds its lock for microseconds.
const foreignRetries = 20

// acquire is Acquire under the start lock (when replace is set; without
// one, a file locked by others cannot be replaced).
func acquire(path string, replace bool) (*File, error) {
	pause := 200 * time.Microsecond
	for attempt := 0; ; attempt++ {
		f, err := lock(path, true)
		if err == nil {
			st, err := examineLocked(f)
			if err != nil {
				f.Close()
				return nil, err
			}
			if st.Status == Running || st.Status == Unverified {
				// A daemon that closed its lock descriptor, or a live
				// process nobody can vouch for: never a second instance.
				f.Close()
				return nil, &BusyError{State: st}
			}
			if err := f.prepare(); err != nil {
				f.Close()
				return nil, err
			}
			return f, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		st, ierr := look(path, true)
		if ierr != nil && !errors.Is(ierr, ErrInvalid) {
			return nil, ierr
		}
		switch st.Status {
		case Running, Starting, Orphaned, Unverified:
			if ierr == nil {
				return nil, &BusyError{State: st}
			}
		case NotRunning:
			continue // removed meanwhile: create it
		}
		// Locked, but not by the service (or garbage under a lock).
		if attempt < foreignRetries {
			time.Sleep(pause)
			pause = min(2*pause, 5*time.Millisecond)
			continue
		}
		if !replace {
			return nil, err
		}
		return replaceFile(path)
	}
}

// lock opens path and takes the exclusive lock on a read-only descriptor,
// retrying when the path was replaced or removed between open and flock.
// With forWrite (Acquire) it creates the file if missing and also keeps a
// read-write descriptor for Commit; without it (RemoveStale) it locks a
// read-only descriptor only, after the checks for writing.
func lock(path string, forWrite bool) (*File, error) {
	create := 0
	if forWrite {
		create = os.O_CREATE
	}
	for attempt := 0; ; attempt++ {
		file, err := openChecked(path, os.O_RDWR|create)
		if err != nil {
			return nil, err
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(file.Fd()), &st); err != nil {
			file.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		ro, err := reopenReadOnly(file, path, &st)
		if err != nil {
			file.Close()
			if errors.Is(err, errReplaced) && attempt < 10 {
				continue
			}
			return nil, err
		}
		if !forWrite {
			file.Close()
			file = nil
		}
		if err := unix.Flock(int(ro.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			pid, _ := readPID(ro)
			ro.Close()
			if file != nil {
				file.Close()
			}
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, &PIDError{Path: path, PID: pid, Err: ErrLocked}
			}
			return nil, fmt.Errorf("%s: lock: %w", path, err)
		}
		id := process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}
		if sameInode(path, id) {
			return &File{lock: ro, write: file, path: path, id: id}, nil
		}
		// The file we locked was removed or replaced by its previous owner
		// after we opened it; its lock is meaningless. Try the new one.
		ro.Close()
		if file != nil {
			file.Close()
		}
		if attempt == 10 {
			return nil, fmt.Errorf("%s: replaced repeatedly while locking", path)
		}
	}
}

// errReplaced means the path named another file when it was opened again.
var errReplaced = errors.New("replaced while opening")

// reopenReadOnly opens file (at path, with status st) a second time,
// read-only, as a new open file description (openAgain), and checks that
// it is still the file st describes.
func reopenReadOnly(file *os.File, path string, st *unix.Stat_t) (*os.File, error) {
	ro, err := openAgain(file, path)
	if err != nil {
		return nil, fmt.Errorf("%s: reopen read-only: %w", path, err)
	}
	var now unix.Stat_t
	if err := unix.Fstat(int(ro.Fd()), &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		ro.Close()
		return nil, fmt.Errorf("%s: %w", path, errReplaced)
	}
	_ = unix.SetNonblock(int(ro.Fd()), false)
	return ro, nil
}

// replaceFile puts a new, locked pidfile in place of path, whose lock is
// not the service's: a fresh file in the same directory, locked before it
// is renamed over path. The old file keeps its lock and its locker, but
// no longer names the service. Only called under the start lock, so no
// other start can be acting on path meanwhile.
func replaceFile(path string) (*File, error) {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.%d.tmp", filepath.Base(path), os.Getpid()))
	_ = os.Remove(tmp) // left by a start killed here with this PID: the start lock is ours
	file, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, Mode)
	if err != nil {
		return nil, fmt.Errorf("%s: locked by another process, and replacing it failed: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(file.Fd()), &st); err != nil {
		file.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("%s: %w", tmp, err)
	}
	ro, err := reopenReadOnly(file, tmp, &st)
	if err == nil {
		err = unix.Flock(int(ro.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != nil {
			ro.Close()
		}
	}
	if err == nil {
		err = os.Rename(tmp, path)
		if err != nil {
			ro.Close()
		}
	}
	if err != nil {
		file.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("%s: locked by another process, and replacing it failed: %w", path, err)
	}
	f := &File{lock: ro, write: file, path: path, id: process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}}
	if err := f.prepare(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// prepare empties the locked file and records this process as the lock's
// taker, with the file's place: from here on readers see a start in
// progress.
func (f *File) prepare() error {
	rec, err := newRecord(f.path)
	if err != nil {
		return err
	}
	if err := f.write.Truncate(0); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.write.Fd()), &st) == nil && st.Uid == uint32(os.Geteuid()) && st.Mode&0o7777&^Mode != 0 {
		// A file left group- or world-writable by someone's umask: narrow
		// it, or nobody could trust it.
		_ = f.write.Chmod(Mode)
	}
	if err := writeRecord(int(f.write.Fd()), rec); err != nil {
		return fmt.Errorf("%s: recording the start: %w", f.path, err)
	}
	f.rec = rec
	return nil
}

// newRecord is the record of a start by this process of the pidfile at
// path, before the daemon exists.
func newRecord(path string) (Record, error) {
	me, err := process.Get(os.Getpid())
	if err != nil && !errors.Is(err, process.ErrUnsupported) {
		return Record{}, err
	}
	boot, _ := process.BootID()
	var d unix.Stat_t
	if err := unix.Stat(filepath.Dir(path), &d); err != nil {
		return Record{}, fmt.Errorf("%s: %w", filepath.Dir(path), err)
	}
	return Record{
		Stage:      os.Getpid(),
		StageStart: me.StartTicks,
		Boot:       boot,
		Dir:        process.FileID{Dev: uint64(d.Dev), Ino: d.Ino},
		Name:       filepath.Base(path),
	}, nil
}

// openChecked opens path without following a final symlink, refusing
// anything but a regular file with one name, and a file another user could
// have planted in a world-writable directory.
func openChecked(path string, flag int) (*os.File, error) {
	// O_NONBLOCK: opening a FIFO must not hang; it is refused below.
	// unix.Open, not os.OpenFile: a descriptor opened non-blocking through
	// os is set up with Go's poller (an epoll instance, an eventfd, four
	// more system calls and their page faults) though a regular file never
	// polls.
	fd, err := unix.Open(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, Mode)
	if err != nil {
		return nil, classifyOpen(path, &fs.PathError{Op: "open", Path: path, Err: err})
	}
	// Blocking again before it becomes an *os.File, so os leaves it alone.
	_ = unix.SetNonblock(fd, false)
	file := os.NewFile(uintptr(fd), path)
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case !st.Mode().IsRegular():
		err = ErrNotRegular
	case flag&(os.O_RDWR|os.O_WRONLY) != 0 && nlink(st) > 1:
		err = ErrHardLink
	case flag&(os.O_RDWR|os.O_WRONLY) != 0 && !ownedByMe(st) && worldWritableDir(path):
		err = ErrUnsafe
	}
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return file, nil
}

func classifyOpen(path string, err error) error {
	switch {
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("%s: %w", path, ErrSymlink)
	case errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENXIO):
		return fmt.Errorf("%s: %w", path, ErrNotRegular)
	case errors.Is(err, unix.ENAMETOOLONG):
		return fmt.Errorf("%w (%d bytes)", ErrNameTooLong, len(path))
	case errors.Is(err, fs.ErrNotExist):
		if _, derr := os.Stat(filepath.Dir(path)); derr != nil {
			return fmt.Errorf("%s: %w", filepath.Dir(path), ErrNoDirectory)
		}
		return err
	}
	return err
}

func nlink(st fs.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Nlink)
	}
	return 1
}

func ownedByMe(st fs.FileInfo) bool {
	s, ok := st.Sys().(*syscall.Stat_t)
	return !ok || int(s.Uid) == os.Geteuid()
}

func worldWritableDir(path string) bool {
	st, err := os.Stat(filepath.Dir(path))
	return err == nil && st.Mode().Perm()&0o002 != 0
}

func sameInode(path string, id process.FileID) bool {
	var st unix.Stat_t
	return unix.Lstat(path, &st) == nil && uint64(st.Dev) == id.Dev && st.Ino == id.Ino
}

// readPID reads and parses the whole file from offset 0.
func readPID(f *os.File) (int, error) {
	// One pread: a regular file returns all it has up to the length asked
	// for, and more than maxSize bytes is garbage anyway.
	var buf [maxSize + 1]byte
	n, err := unix.Pread(int(f.Fd()), buf[:], 0)
	for errors.Is(err, unix.EINTR) {
		n, err = unix.Pread(int(f.Fd()), buf[:], 0)
	}
	if err != nil {
		return 0, err
	}
	return ParsePID(buf[:n])
}

// ParsePID parses pidfile contents: one decimal PID in 2..pid_max, with an
// optional trailing newline and nothing else. PID 1 (init), 0 and negative
// numbers would make kill(2) signal init, the caller's group or everyone,
// so they are rejected with ErrInvalid like any other garbage.
func ParsePID(b []byte) (int, error) {
	s := string(b)
	if len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	if s == "" || len(s) > 10 || s[0] == '0' {
		return 0, invalid(b)
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, invalid(b)
		}
	}
	pid, err := strconv.Atoi(s)
	// Only a PID above the lowest default pid_max needs pid_max read: the
	// read costs as much as the rest of a status (6 µs), and the status
	// table parses a pidfile per service.
	if err != nil || pid < 2 || pid > defaultPIDMax && pid > process.PIDMax() {
		return 0, invalid(b)
	}
	return pid, nil
}

// defaultPIDMax is the lowest pid_max the kernel sets by itself (it sets
// max(32768, 1024 per CPU)); a number up to it is a PID, alive or not.
const defaultPIDMax = 32768

func invalid(b []byte) error {
	if len(b) > maxSize {
		return fmt.Errorf("%w (more than %d bytes)", ErrInvalid, maxSize)
	}
	return fmt.Errorf("%w (contents %q)", ErrInvalid, b)
}

// Path is the file's path as given to Acquire.
func (f *File) Path() string { return f.path }

// LockFile is the read-only descriptor that holds the lock, for passing to
// a child that is to inherit it (exec.Cmd.ExtraFiles).
func (f *File) LockFile() *os.File { return f.lock }

// Commit records pid as the process the file names, with its exact
// identity (start time and pidfd inode), writes "PID\n", closes the
// read-write descriptor and lets other starts of the file proceed. pid is
// a child of this process not yet waited for, or this process itself, so
// it cannot have been reused; a child that has exited already is
// recorded by its pidfd inode alone. The write is not synced: after a crash
// nobody holds the lock, so the contents no longer matter.
func (f *File) Commit(pid int) error {
	defer f.start.release()
	if f.write == nil {
		return fmt.Errorf("%s: not open for writing", f.path)
	}
	rec := f.rec
	rec.PID = pid
	info, err := process.Get(pid)
	switch {
	case errors.Is(err, process.ErrGone):
		// The child has exited already: a program that fails at once. It
		// stays a zombie, its PID not reused, until this process waits
		// for it, and its pidfd inode still names it: recorded so, it
		// reads as dead, as if it had died a moment later.
	case err != nil && !errors.Is(err, process.ErrUnsupported):
		return fmt.Errorf("%s: pid %d: %w", f.path, pid, err)
	}
	rec.Start = info.StartTicks
	rec.ProcID = procID(pid)
	if err := writeRecord(int(f.write.Fd()), rec); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	f.rec = rec
	if err := f.write.Truncate(0); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	if _, err := f.write.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	err = f.write.Close()
	f.write = nil
	return err
}

// Release removes the file, if the path still names the locked inode, and
// closes the descriptors. The lock itself is dropped only when every
// descriptor sharing it (in children, say) is closed too.
func (f *File) Release() error {
	var err error
	if sameInode(f.path, f.id) {
		if rerr := os.Remove(f.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the descriptors without removing the file, and lets other
// starts proceed if Commit has not.
func (f *File) Close() error {
	f.start.release()
	if f.write != nil {
		f.write.Close()
		f.write = nil
	}
	return f.lock.Close()
}

// RemoveStale removes path if nobody holds its lock and no live process
// recorded in it is, or may be, the daemon. It reports whether it removed
// the file. A missing file is (false, nil); a locked file is (false,
// ErrLocked); a live daemon without its lock, or a live process nobody can
// vouch for, is (false, *BusyError).
func RemoveStale(path string) (bool, error) {
	f, err := lock(path, false)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNoDirectory) {
			return false, nil
		}
		return false, err
	}
	st, err := examineLocked(f)
	if err == nil && (st.Status == Running || st.Status == Unverified) {
		f.Close()
		return false, &BusyError{State: st}
	}
	return true, f.Release()
}

// Adopt takes over descriptor fd, inherited from the launcher, as the locked
// pidfile at path. It confirms that fd is that file and holds its lock (a
// flock on a descriptor whose open file description already holds it
// succeeds at once), and marks fd close-on-exec. The file is written by
// the launcher, never through this descriptor, which is read-only.
func Adopt(fd uintptr, path string) (*File, error) {
	// Fstat before wrapping: an *os.File on a descriptor that is not open
	// would, when collected, close whatever file later gets that number.
	var st unix.Stat_t
	if err := unix.Fstat(int(fd), &st); err != nil {
		return nil, fmt.Errorf("%s: descriptor %d: %w", path, fd, err)
	}
	file := os.NewFile(fd, path)
	id := process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}
	if !sameInode(path, id) {
		file.Close()
		return nil, fmt.Errorf("%s: descriptor %d is another file", path, fd)
	}
	if err := unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		file.Close()
		return nil, &PIDError{Path: path, Err: ErrLocked}
	}
	unix.CloseOnExec(int(fd))
	return &File{lock: file, path: path, id: id}, nil
}
