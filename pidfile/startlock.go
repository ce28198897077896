package pidfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The start lock serialises the starts of one pidfile. The pidfile itself
// cannot: it is readable by everyone (status must work for all), so anyone
// may flock it, and a start must then replace the file rather than wait
// (see Acquire). Replacing is safe only when no other start can act on the
// pidfile meanwhile. The start lock is ".NAME.lock" beside the pidfile,
// mode 0600: no other user can even open it, so nobody else can hold it.
// It exists only while a start holds it.

// startLockWait bounds how long a start waits for another start of the
// same pidfile, which holds the start lock only from its lock to its
// Commit (a fork and a few writes).
const startLockWait = 10 * time.Second

// startLockPath is the start lock of pidfile path.
func startLockPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".lock")
}

// startLock is a held start lock.
type startLock struct {
	file *os.File
	path string
	id   unix.Stat_t
}

// takeStartLock takes the start lock of pidfile path, waiting for another
// start to finish. It returns (nil, nil) when the lock cannot be created
// because the directory is not writable (or read-only): starts then rely
// on the pidfile's own lock, and never replace the file. Errors:
// ErrStartLock for a lock file that is not a plain 0600 file of the
// caller's, and a timeout naming the lock.
func takeStartLock(path string) (*startLock, error) {
	lpath := startLockPath(path)
	deadline := time.Now().Add(startLockWait)
	pause := 100 * time.Microsecond
	for {
		file, err := os.OpenFile(lpath, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
		switch {
		case errors.Is(err, fs.ErrPermission), errors.Is(err, unix.EROFS):
			return nil, nil
		case errors.Is(err, fs.ErrNotExist):
			return nil, classifyOpen(path, err)
		case errors.Is(err, unix.ENAMETOOLONG):
			return nil, classifyOpen(path, err)
		case errors.Is(err, unix.ELOOP):
			return nil, fmt.Errorf("%s: %w: it is a symbolic link; remove it", lpath, ErrStartLock)
		case err != nil:
			return nil, fmt.Errorf("start lock %s: %w", lpath, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(file.Fd()), &st); err != nil {
			file.Close()
			return nil, fmt.Errorf("start lock %s: %w", lpath, err)
		}
		if st.Nlink == 0 {
			// Removed by the start before us as we opened it.
			file.Close()
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 || st.Uid != uint32(os.Geteuid()) || st.Mode&0o077 != 0 {
			file.Close()
			return nil, fmt.Errorf("%s: %w: only a plain file of yours, mode 0600, may be used; remove it", lpath, ErrStartLock)
		}
		err = unix.Flock(int(file.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			var now unix.Stat_t
			if unix.Lstat(lpath, &now) == nil && now.Dev == st.Dev && now.Ino == st.Ino {
				return &startLock{file: file, path: lpath, id: st}, nil
			}
			// The start before us removed it as we opened it: take the new one.
			file.Close()
			continue
		}
		file.Close()
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("start lock %s: %w", lpath, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("start lock %s: another start of %s has held it for %v: find it (fuser %s) or remove the file if nothing holds it", lpath, path, startLockWait, lpath)
		}
		time.Sleep(pause)
		pause = min(2*pause, 5*time.Millisecond)
	}
}

// release removes the start lock, if it still names the locked file, and
// lets it go. It may be called on nil and more than once.
func (l *startLock) release() {
	if l == nil || l.file == nil {
		return
	}
	var now unix.Stat_t
	if unix.Lstat(l.path, &now) == nil && now.Dev == l.id.Dev && now.Ino == l.id.Ino {
		_ = os.Remove(l.path)
	}
	l.file.Close()
	l.file = nil
}
