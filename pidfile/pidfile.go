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
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

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
	file *os.File
	path string
	id   process.FileID
}

// Acquire opens path (creating it with Mode if missing), takes an exclusive
// flock without waiting, and checks that the path still names the locked
// inode. On success the caller holds the lock, the file is unchanged (use
// WritePID), and no live process recorded in it runs without its lock.
//
// On failure nothing is written, truncated or removed. Errors: ErrLocked (a
// *PIDError naming the PID in the file, 0 when unreadable) when another
// process holds the lock; ErrRunningUnlocked (a *PIDError) when the lock is
// free but the recorded daemon is alive; ErrSymlink, ErrNotRegular,
// ErrHardLink, ErrUnsafe and ErrNoDirectory for a path that must not be
// used; fs.ErrPermission when it may not be opened.
func Acquire(path string) (*File, error) {
	f, err := lock(path, os.O_CREATE)
	if err != nil {
		return nil, err
	}
	pid, err := readPID(f.file)
	if err == nil && pid != os.Getpid() {
		if ownerAlive(f.file, pid) {
			f.file.Close()
			return nil, &PIDError{Path: path, PID: pid, Err: ErrRunningUnlocked}
		}
	}
	if st, err := f.file.Stat(); err == nil && st.Mode().Perm()&^Mode != 0 && ownedByMe(st) {
		// A file left world-writable by someone else's umask: narrow it.
		_ = f.file.Chmod(st.Mode().Perm() & Mode)
	}
	return f, nil
}

// lock opens path and takes the exclusive lock, retrying when the path was
// replaced or removed between open and flock. With create (os.O_CREATE,
// from Acquire) it locks the read-write descriptor a daemon will hold.
// Without it (RemoveStale) it locks a read-only descriptor, after the
// checks for writing: a lock on a read-only descriptor is never taken for
// the service's (process.HoldsFlock), so a stop holding it for a moment
// is never signalled by a concurrent stop.
func lock(path string, create int) (*File, error) {
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
		if create == 0 {
			checked := file
			file, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
			checked.Close()
			if err != nil {
				return nil, classifyOpen(path, err)
			}
			var ro unix.Stat_t
			if err := unix.Fstat(int(file.Fd()), &ro); err != nil || ro.Dev != st.Dev || ro.Ino != st.Ino {
				file.Close()
				if attempt == 10 {
					return nil, fmt.Errorf("%s: replaced repeatedly while locking", path)
				}
				continue // replaced between the two opens
			}
		}
		if err := unix.Flock(int(file.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			pid, _ := readPID(file)
			file.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, &PIDError{Path: path, PID: pid, Err: ErrLocked}
			}
			return nil, fmt.Errorf("%s: lock: %w", path, err)
		}
		id := process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}
		if sameInode(path, id) {
			return &File{file: file, path: path, id: id}, nil
		}
		// The file we locked was removed or replaced by its previous owner
		// after we opened it; its lock is meaningless. Try the new one.
		file.Close()
		if attempt == 10 {
			return nil, fmt.Errorf("%s: replaced repeatedly while locking", path)
		}
	}
}

// openChecked opens path without following a final symlink, refusing
// anything but a regular file with one name, and a file another user could
// have planted in a world-writable directory.
func openChecked(path string, flag int) (*os.File, error) {
	// O_NONBLOCK: opening a FIFO must not hang; it is refused below.
	file, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, Mode)
	if err != nil {
		return nil, classifyOpen(path, err)
	}
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
	// The descriptor is used with blocking reads and writes from here on.
	_ = unix.SetNonblock(int(file.Fd()), false)
	return file, nil
}

func classifyOpen(path string, err error) error {
	switch {
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("%s: %w", path, ErrSymlink)
	case errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENXIO):
		return fmt.Errorf("%s: %w", path, ErrNotRegular)
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

// ownerAlive reports whether pid, read from the unlocked file f, is a live
// process that started before f was last written: the daemon that wrote it,
// now running without its lock. A reused PID always started later.
func ownerAlive(f *os.File, pid int) bool {
	info, err := process.Get(pid)
	if err != nil {
		return errors.Is(err, process.ErrUnsupported) // without /proc, alive is all we know
	}
	st, err := f.Stat()
	if err != nil {
		return true // cannot tell: the safe answer
	}
	return !info.Started.After(st.ModTime().Add(process.TickMargin))
}

// readPID reads and parses the whole file from offset 0.
func readPID(f *os.File) (int, error) {
	buf := make([]byte, maxSize+1)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
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

// OSFile is the locked descriptor, for passing to a child that is to
// inherit the lock (exec.Cmd.ExtraFiles).
func (f *File) OSFile() *os.File { return f.file }

// WritePID replaces the contents with "PID\n". The write is not synced:
// after a crash nobody holds the lock, so the contents no longer matter.
func (f *File) WritePID(pid int) error {
	if err := f.file.Truncate(0); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	if _, err := f.file.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	return nil
}

// Release removes the file, if the path still names the locked inode, and
// closes the descriptor. The lock itself is dropped only when every
// descriptor sharing it (in children, say) is closed too.
func (f *File) Release() error {
	var err error
	if sameInode(f.path, f.id) {
		if rerr := os.Remove(f.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the descriptor without removing the file.
func (f *File) Close() error { return f.file.Close() }

// RemoveStale removes path if nobody holds its lock and the process it
// names is not alive and ours. It reports whether it removed the file. A
// missing file is (false, nil); a locked file is (false, ErrLocked).
func RemoveStale(path string) (bool, error) {
	f, err := lock(path, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNoDirectory) {
			return false, nil
		}
		return false, err
	}
	if pid, err := readPID(f.file); err == nil && ownerAlive(f.file, pid) {
		f.file.Close()
		return false, &PIDError{Path: path, PID: pid, Err: ErrRunningUnlocked}
	}
	return true, f.Release()
}

// Adopt takes over descriptor fd, inherited from the launcher, as the locked
// pidfile at path. It confirms that fd is that file and holds its lock (a
// flock on a descriptor whose open file description already holds it
// succeeds at once), and marks fd close-on-exec.
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
	return &File{file: file, path: path, id: id}, nil
}
