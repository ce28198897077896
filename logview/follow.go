package logview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// waiter blocks until something in the followed files' directories may
// have changed (wait returns nil), the context ends (its error), or a
// directory went away (ErrGone). inotify on Linux; elsewhere, or when
// inotify cannot be had, a timer.
type waiter interface {
	wait() error
	close()
}

// Follow writes the last n lines of each file in paths to w (n = 0: none),
// then what is appended to them until ctx ends, following each path
// across rotations (see the package comment) and truncations, and waiting
// for a file that does not exist yet. It writes whole lines only (an
// unfinished last line waits for its end, or for its file to be rotated
// away); with more than one file it writes "==> FILE <==" whenever the
// lines' file changes.
//
// It returns ctx's error when ctx ends, an error matching ErrGone when a
// file's directory is removed, the error of a file that cannot be read
// (fs.ErrPermission, ErrNotLog), and w's write error.
func Follow(ctx context.Context, w io.Writer, paths []string, n int) error {
	var dirs []string
	for _, p := range paths {
		dirs = append(dirs, filepath.Dir(p))
	}
	// Watch first: a rotation between the first read and the watch would
	// go unnoticed.
	wt, err := newWaiter(ctx, dirs)
	if err != nil {
		return err
	}
	defer wt.close()
	fw := &follower{w: w, headers: len(paths) > 1}
	var files []*followed
	defer func() {
		for _, fl := range files {
			fl.closeFile()
		}
	}()
	for _, p := range paths {
		fl := &followed{path: p}
		files = append(files, fl)
		f, st, err := open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		fl.set(f, st)
		if fl.pos, err = lastLines(f, st.Size, n); err != nil {
			return fmt.Errorf("log file %s: %w", p, err)
		}
	}
	for {
		for _, fl := range files {
			if err := fw.check(fl); err != nil {
				return err
			}
		}
		if err := wt.wait(); err != nil {
			return err
		}
	}
}

// followed is one followed path and the file it is reading (f), or
// read last (dev and ino: f is closed once rotated away, and the file is
// then known by them until the new one is opened).
type followed struct {
	path     string
	f        *os.File
	dev, ino uint64
	pos      int64
	partial  []byte
}

func (fl *followed) set(f *os.File, st unix.Stat_t) {
	fl.f, fl.dev, fl.ino, fl.pos = f, uint64(st.Dev), st.Ino, 0
}

// unlinked reports whether fl's file has no name left.
func (fl *followed) unlinked() bool {
	var st unix.Stat_t
	return unix.Fstat(int(fl.f.Fd()), &st) == nil && st.Nlink == 0
}

func (fl *followed) closeFile() {
	if fl.f != nil {
		fl.f.Close()
		fl.f = nil
	}
}

// follower writes the lines.
type follower struct {
	w       io.Writer
	headers bool
	last    string // the file whose lines were written last
	buf     []byte
}

// emit writes b's complete lines, as lines of path, keeping the rest in
// *partial; with flush, the rest too, ended by a newline.
func (fw *follower) emit(path string, partial *[]byte, b []byte, flush bool) error {
	data := append(*partial, b...)
	end := lineEnd(data)
	if flush && end < len(data) {
		data = append(data, '\n')
		end = len(data)
	}
	*partial = append((*partial)[:0], data[end:]...)
	if end == 0 {
		return nil
	}
	if fw.headers && fw.last != path {
		sep := "\n"
		if fw.last == "" {
			sep = ""
		}
		if _, err := fmt.Fprintf(fw.w, "%s==> %s <==\n", sep, path); err != nil {
			return err
		}
	}
	fw.last = path
	_, err := fw.w.Write(data[:end])
	return err
}

// drain writes what fl's file holds past fl.pos; a file shorter than
// fl.pos was truncated (copytruncate) and is read from its start.
func (fw *follower) drain(fl *followed, flush bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(fl.f.Fd()), &st); err == nil && st.Size < fl.pos {
		fl.pos = 0
		fl.partial = fl.partial[:0]
	}
	if fw.buf == nil {
		fw.buf = make([]byte, tailBlock)
	}
	for {
		n, err := fl.f.ReadAt(fw.buf, fl.pos)
		fl.pos += int64(n)
		if n > 0 {
			if werr := fw.emit(fl.path, &fl.partial, fw.buf[:n], false); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) || n == 0 {
			break
		}
		if err != nil {
			return fmt.Errorf("log file %s: %w", fl.path, err)
		}
	}
	if flush {
		return fw.emit(fl.path, &fl.partial, nil, true)
	}
	return nil
}

// check writes what is new in fl, and moves it to the file now at its
// path when that is another one: after the whole of the old file, and of
// any newer file rotated away meanwhile.
func (fw *follower) check(fl *followed) error {
	if fl.f != nil {
		if err := fw.drain(fl, false); err != nil {
			return err
		}
	}
	var st unix.Stat_t
	err := unix.Lstat(fl.path, &st)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		// Rotated and not yet created, or not yet written, or removed.
		// A removed file is done with: closing it also lets its
		// directory's removal be reported (the open file pinned it).
		if fl.f != nil && fl.unlinked() {
			err := fw.drain(fl, true)
			fl.closeFile()
			fl.dev, fl.ino = 0, 0 // no rotated successors to look for
			return err
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("log file %s: %w", fl.path, err)
	}
	if fl.f != nil && uint64(st.Dev) == fl.dev && st.Ino == fl.ino {
		return nil
	}
	var missed []*os.File
	var cur *os.File
	var curSt unix.Stat_t
	if fl.f != nil {
		// Rotated: the old file is complete (the supervisor closed it
		// before renaming it).
		if err := fw.drain(fl, true); err != nil {
			return err
		}
		fl.closeFile()
	}
	if fl.ino != 0 {
		// The files rotated after the one last read, which is known by
		// its inode even when, the new file not yet created when it was
		// closed, it is no longer open.
		var ok bool
		if missed, cur, curSt, ok = fw.rotatedSince(fl); !ok {
			return nil // a rotation under way: it wakes us again
		}
	}
	for i, f := range missed {
		old := &followed{path: fl.path, f: f}
		err := fw.drain(old, true)
		var st unix.Stat_t
		if unix.Fstat(int(f.Fd()), &st) == nil {
			// The newest file read: where to look from next time.
			fl.dev, fl.ino = uint64(st.Dev), st.Ino
		}
		f.Close()
		if err != nil {
			for _, m := range missed[i+1:] {
				m.Close()
			}
			if cur != nil {
				cur.Close()
			}
			return err
		}
	}
	if cur == nil {
		f, nst, err := open(fl.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // the rotated files were read; the identity stays
		}
		if err != nil {
			return err
		}
		cur, curSt = f, nst
	}
	fl.set(cur, curSt)
	return fw.drain(fl, false)
}

// maxRotated bounds the rotated files looked at (FILE.1 ... FILE.N).
const maxRotated = 1000

type fileID struct{ dev, ino uint64 }

// rotatedSince opens, oldest first, the files rotated after fl's (when
// fl's file is now FILE.J, those are FILE.J-1 ... FILE.1), and the file
// now at the path (nil when there is none). It takes the names' inodes,
// opens the files, and takes the inodes again, and uses only a view in
// which no name changed: otherwise (ok false) a rotation is under way,
// which wakes the follower again when it goes on. It returns no older
// files when fl's file is not among them (deleted, or rotated past the
// last one kept, or rotated under another name).
func (fw *follower) rotatedSince(fl *followed) (files []*os.File, cur *os.File, curSt unix.Stat_t, ok bool) {
	name := func(k int) string {
		if k == 0 {
			return fl.path
		}
		return fl.path + "." + strconv.Itoa(k)
	}
	before, settled := fw.rotatedView(fl, name)
	if !settled {
		return nil, nil, curSt, false
	}
	consistent := true
	if f, st, err := open(name(0)); err == nil {
		cur, curSt = f, st
		consistent = before[0] == fileID{uint64(st.Dev), st.Ino}
	}
	for k := len(before) - 2; k >= 1 && consistent; k-- {
		f, st, err := open(name(k))
		if err != nil {
			consistent = false
			break
		}
		files = append(files, f)
		consistent = before[k] == fileID{uint64(st.Dev), st.Ino}
	}
	after, settled := fw.rotatedView(fl, name)
	if consistent && settled && slices.Equal(before, after) {
		return files, cur, curSt, true
	}
	for _, f := range files {
		f.Close()
	}
	if cur != nil {
		cur.Close()
	}
	return nil, nil, curSt, false
}

// rotatedView returns the inodes of FILE (zero when missing), FILE.1 ...
// up to fl's file, or only FILE's when fl's file is not among them.
// settled is false when a name is missing below one that exists: a
// rotation is shifting the files.
func (fw *follower) rotatedView(fl *followed, name func(int) string) (ids []fileID, settled bool) {
	for k := 0; k <= maxRotated; k++ {
		var st unix.Stat_t
		if unix.Lstat(name(k), &st) != nil {
			if k == 0 {
				ids = append(ids, fileID{}) // not created yet
				continue
			}
			if unix.Lstat(name(k+1), &st) == nil {
				return nil, false
			}
			return ids[:1], true
		}
		ids = append(ids, fileID{uint64(st.Dev), st.Ino})
		if k > 0 && uint64(st.Dev) == fl.dev && st.Ino == fl.ino {
			return ids, true
		}
	}
	return ids[:1], true
}
