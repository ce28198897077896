package logview

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// open opens the log at path for reading: never through a symbolic link
// in its last component, never blocking on a FIFO, and only a regular
// file. The error names the file and says what to do.
func open(path string) (*os.File, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	switch {
	case errors.Is(err, unix.ELOOP):
		return nil, st, fmt.Errorf("log file %s is a symbolic link, which daemonctl never follows: %w (give the real path)", path, ErrNotLog)
	case errors.Is(err, unix.ENOENT):
		return nil, st, fmt.Errorf("log file %s: %w (nothing written yet? -f waits for it)", path, os.ErrNotExist)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return nil, st, fmt.Errorf("log file %s: %w (run as root, or as its owner or group)", path, os.ErrPermission)
	case err != nil:
		return nil, st, fmt.Errorf("log file %s: %w", path, err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, st, fmt.Errorf("log file %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, st, fmt.Errorf("log file %s: %w: it is no regular file", path, ErrNotLog)
	}
	_ = unix.SetNonblock(fd, false)
	return os.NewFile(uintptr(fd), path), st, nil
}

// tailBlock is how much of a file lastLines reads at a time, from its end.
const tailBlock = 64 << 10

// lastLines returns the offset in f (of size size) where its last n lines
// start; an unfinished last line counts as one.
func lastLines(f *os.File, size int64, n int) (int64, error) {
	if n <= 0 {
		return size, nil
	}
	buf := make([]byte, tailBlock)
	end := size
	// A final newline ends the last line; it does not start one.
	want := n
	for pos := size; pos > 0; {
		chunk := min(int64(len(buf)), pos)
		pos -= chunk
		b := buf[:chunk]
		if _, err := f.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != '\n' || pos+int64(i) == end-1 {
				continue
			}
			if want--; want == 0 {
				return pos + int64(i) + 1, nil
			}
		}
	}
	return 0, nil
}

// Tail writes the last n lines of each file in paths to w; with more than
// one file, each under a "==> FILE <==" line, as tail does. It stops at
// the first file that cannot be read, with an error naming it (missing:
// fs.ErrNotExist; forbidden: fs.ErrPermission; a link, FIFO or device:
// ErrNotLog).
func Tail(w io.Writer, paths []string, n int) error {
	for i, path := range paths {
		if len(paths) > 1 {
			sep := ""
			if i > 0 {
				sep = "\n"
			}
			if _, err := fmt.Fprintf(w, "%s==> %s <==\n", sep, path); err != nil {
				return err
			}
		}
		f, st, err := open(path)
		if err != nil {
			return err
		}
		err = copyLast(w, f, st.Size, n)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// copyLast writes the last n lines of f to w.
func copyLast(w io.Writer, f *os.File, size int64, n int) error {
	from, err := lastLines(f, size, n)
	if err != nil {
		return fmt.Errorf("log file %s: %w", f.Name(), err)
	}
	_, err = io.Copy(w, io.NewSectionReader(f, from, size-from))
	return err
}

// lineEnd is the length of b's complete lines.
func lineEnd(b []byte) int { return bytes.LastIndexByte(b, '\n') + 1 }
