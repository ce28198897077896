package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// logFile is a log the supervisor appends the program's output to and
// rotates by size, renaming FILE to FILE.1 (FILE.1 to FILE.2, ... up to
// FILE.keep, the oldest overwritten) and starting a new FILE: no restart
// of the program, no copytruncate, and the disk use bounded by
// (keep+1) × maxSize.
//
// The supervisor runs as root and may write into a directory the
// service's user owns, who can put anything in place of FILE at any
// moment, or of the directory itself when it owns its parent. So (Trust
// rule 5) the directory is opened once (openLogDir: a symbolic link on the
// way is followed only if root owns it) and every operation is relative
// to that descriptor, never follows a symbolic link (O_NOFOLLOW, and
// renameat and unlinkat act on the link itself), opens only a regular
// file with one name (a hard link to /etc/shadow has two), never opens a
// FIFO blocking, and changes owners on the descriptor (fchown), never by
// path. Only when the directory is gone is its path looked up again, by
// the same rules. gopkg.in/natefinch/lumberjack.v2, suggested for this, does all
// of these by path: it stats and opens FILE following links, opens with
// O_TRUNC a file someone created "in the meantime", and chowns by path.
//
// Nothing is lost silently: a write that fails (disk full, directory
// removed) is counted with the bytes it lost, and the next write tries a
// fresh file.
type logFile struct {
	mu   sync.Mutex
	path string
	dir  string
	base string
	// dirfd is the directory, held for the supervisor's life.
	dirfd int
	// maxSize is the rotation size (0: never), keep the old files kept.
	maxSize int64
	keep    int
	owner   *Cred
	// changed is called, under mu, when the failure count changes.
	changed func()

	file      *os.File
	closed    bool
	partial   []byte // the unfinished last line, held back
	size      int64
	lineStart bool
	failures  int
	lost      int64
	lastErr   string
}

// openLogFile opens (or creates) the log at path for appending. Its
// error says, in one line naming the file, why the file must not be used
// (a link, a FIFO, a file with other names) or cannot be opened.
func openLogFile(path string, maxSize int64, keep int, owner *Cred, changed func()) (*logFile, error) {
	l := &logFile{path: path, dir: filepath.Dir(path), base: filepath.Base(path), maxSize: maxSize, keep: keep, owner: owner, changed: changed, lineStart: true}
	var err error
	if l.dirfd, err = openLogDir(l.dir); err != nil {
		return nil, err
	}
	if l.file, l.size, err = openIn(l.dirfd, l.base, l.path, l.owner); err != nil {
		unix.Close(l.dirfd)
		return nil, err
	}
	return l, nil
}

// open opens the current file (a missing one is created); when its
// directory is gone, in the directory now at its path, if there is one.
func (l *logFile) open() error {
	var err error
	l.file, l.size, err = openIn(l.dirfd, l.base, l.path, l.owner)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dfd, derr := openLogDir(l.dir)
	if derr != nil {
		return err
	}
	unix.Close(l.dirfd)
	l.dirfd = dfd
	l.file, l.size, err = openIn(l.dirfd, l.base, l.path, l.owner)
	return err
}

// openIn opens name in the directory dfd for appending, creating it 0640
// (given to owner) when missing, and refuses anything but a regular file
// with one name.
func openIn(dfd int, name, path string, owner *Cred) (*os.File, int64, error) {
	f, st, created, err := OpenLogAt(dfd, name, path)
	if err != nil {
		return nil, 0, err
	}
	if created && owner != nil {
		_ = unix.Fchown(int(f.Fd()), int(owner.UID), int(owner.GID))
	}
	return f, st.Size, nil
}

// OpenLogAt opens name, relative to the directory dfd (unix.AT_FDCWD for
// the working directory), for appending, creating it 0640 when missing;
// path is what errors call it. It returns the file (blocking, close on
// exec), its status, and whether it was created. It never follows a
// symbolic link, never blocks in the open of a FIFO, and refuses, closing
// it again, anything but a regular file with one name (a FIFO, a device,
// a directory, a hard link to, say, /etc/shadow), with a one-line error
// naming path and the fix. Whose the file is stays the caller's decision.
func OpenLogAt(dfd int, name, path string) (*os.File, unix.Stat_t, bool, error) {
	const flags = unix.O_WRONLY | unix.O_APPEND | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	var st unix.Stat_t
	created := true
	fd, err := unix.Openat(dfd, name, flags|unix.O_CREAT|unix.O_EXCL, 0o640)
	if errors.Is(err, unix.EEXIST) {
		created = false
		fd, err = unix.Openat(dfd, name, flags, 0)
	}
	switch {
	case errors.Is(err, unix.ELOOP):
		return nil, st, false, fmt.Errorf("log file %s is a symbolic link, which daemonctl never follows: give the real path", path)
	case errors.Is(err, unix.ENXIO):
		return nil, st, false, fmt.Errorf("log file %s is a FIFO or socket: give a regular file", path)
	case err != nil:
		return nil, st, false, fmt.Errorf("log file %s: %w", path, err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, st, false, fmt.Errorf("log file %s: %w", path, err)
	}
	if why := logProblem(&st); why != "" {
		unix.Close(fd)
		return nil, st, false, fmt.Errorf("log file %s %s: give a regular file with one name", path, why)
	}
	// Blocking from here on; O_NONBLOCK only kept the open of a FIFO from
	// hanging.
	_ = unix.SetNonblock(fd, false)
	return os.NewFile(uintptr(fd), path), st, created, nil
}

// logProblem says why the file st is no log file ("" when it is one).
func logProblem(st *unix.Stat_t) string {
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFIFO:
		return "is a FIFO"
	case st.Mode&unix.S_IFMT == unix.S_IFCHR, st.Mode&unix.S_IFMT == unix.S_IFBLK:
		return "is a device"
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return "is not a regular file"
	case st.Nlink != 1:
		return fmt.Sprintf("has %d hard links", st.Nlink)
	}
	return ""
}

// Write appends the complete lines of p and keeps its last, unfinished
// line until its end arrives (or Sync, or maxPartial bytes of it), so a
// file always ends with a whole line; writes rotate first when a line
// would take the file past its size, so no line is split between files
// (unless one line is longer than the maximum, or was forced out
// unfinished). It always reports success: failures are counted, not
// returned, since the program's output must keep flowing.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if len(l.partial) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.partial = append(l.partial, p...)
			if len(l.partial) >= maxPartial {
				l.sync()
			}
			return n, nil
		}
		l.partial = append(l.partial, p[:i+1]...)
		l.write(l.partial)
		l.partial = l.partial[:0]
		p = p[i+1:]
	}
	end := bytes.LastIndexByte(p, '\n') + 1
	l.write(p[:end])
	if tail := p[end:]; len(tail) >= maxPartial {
		l.write(tail)
	} else {
		l.partial = append(l.partial, tail...)
	}
	return n, nil
}

// maxPartial bounds the unfinished line held back: a longer one is
// written as it comes.
const maxPartial = 64 << 10

// Sync writes the unfinished line held back, as it is: the program died,
// or the supervisor is about to write a line of its own.
func (l *logFile) Sync() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sync()
}

func (l *logFile) sync() {
	l.write(l.partial)
	l.partial = l.partial[:0]
}

// line writes the supervisor's own line, after what the program wrote,
// starting it on a line of its own.
func (l *logFile) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sync()
	if !l.lineStart {
		s = "\n" + s
	}
	l.write([]byte(s + "\n"))
}

func (l *logFile) write(p []byte) {
	for len(p) > 0 && !l.closed {
		if l.file != nil && !l.present() {
			// Removed under us (its directory too, perhaps): writing on
			// would fill a file nobody can see, without a bound.
			l.file.Close()
			l.file = nil
		}
		if l.file == nil {
			if err := l.open(); err != nil {
				l.fail(len(p), err)
				return
			}
		}
		chunk := p
		if l.maxSize > 0 && l.size+int64(len(p)) > l.maxSize {
			room := max(l.maxSize-l.size, 0)
			cut := bytes.LastIndexByte(p[:room], '\n') + 1
			switch {
			case cut > 0:
				chunk = p[:cut]
			case l.size > 0:
				l.rotate()
				continue
			default:
				chunk = p[:room] // one line longer than a whole file
			}
		}
		n, err := l.file.Write(chunk)
		l.size += int64(n)
		if n > 0 {
			l.lineStart = chunk[n-1] == '\n'
		}
		if err != nil {
			// Disk full, I/O error: drop the rest of this write, and try a
			// fresh descriptor next time.
			cause := err
			var pe *fs.PathError
			if errors.As(err, &pe) {
				cause = pe.Err
			}
			l.fail(len(p)-n, fmt.Errorf("log file %s: %w", l.path, cause))
			l.file.Close()
			l.file = nil
			return
		}
		p = p[n:]
		if l.maxSize > 0 && l.size >= l.maxSize {
			l.rotate()
		}
	}
}

// present reports whether the open file still has a name.
func (l *logFile) present() bool {
	var st unix.Stat_t
	return unix.Fstat(int(l.file.Fd()), &st) == nil && st.Nlink > 0
}

// rotate shifts FILE.N-1 to FILE.N ... FILE to FILE.1 and opens a new
// FILE. If FILE cannot be renamed it is removed, so the size bound holds
// whatever is in the way.
func (l *logFile) rotate() {
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
	l.size = 0
	dfd := l.dirfd
	old := func(i int) string { return l.base + "." + strconv.Itoa(i) }
	for i := l.keep; i > 1; i-- {
		_ = unix.Renameat(dfd, old(i-1), dfd, old(i))
	}
	if l.keep == 0 || unix.Renameat(dfd, l.base, dfd, old(1)) != nil {
		_ = unix.Unlinkat(dfd, l.base, 0)
	}
	file, size, err := openIn(dfd, l.base, l.path, l.owner)
	if err == nil {
		l.file, l.size = file, size
	}
}

// fail counts a write that lost n bytes.
func (l *logFile) fail(n int, err error) {
	l.failures++
	l.lost += int64(n)
	l.lastErr = err.Error()
	if errors.Is(err, fs.ErrNotExist) {
		l.lastErr = fmt.Sprintf("log file %s: its directory is gone", l.path)
	}
	if l.changed != nil {
		l.changed()
	}
}

// stats returns the failure count, the bytes lost and the last failure.
func (l *logFile) stats() (int, int64, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures, l.lost, l.lastErr
}

// Close writes the unfinished line, closes the current file and the
// directory; later writes are dropped.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.sync()
		unix.Close(l.dirfd)
	}
	l.closed = true
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	return err
}
