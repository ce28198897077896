package logview

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// inotifyWaiter watches the directories of the followed files: a write,
// a creation, a rename or a removal of any file in them wakes it, and
// nothing else does (no timer).
type inotifyWaiter struct {
	fd   int
	wake int // an eventfd written when the context ends
	dirs map[int]string
	stop func() bool
	mu   sync.Mutex // guards wake against the context's late write
	done bool
	ctx  context.Context
}

const dirEvents = unix.IN_MODIFY | unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

func newWaiter(ctx context.Context, dirs []string) (waiter, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		// Out of inotify instances (fs.inotify.max_user_instances):
		// look every so often instead.
		return newTicker(ctx), nil
	}
	w := &inotifyWaiter{fd: fd, dirs: map[int]string{}, ctx: ctx}
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, dirEvents)
		if err != nil {
			unix.Close(fd)
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				return nil, fmt.Errorf("log directory %s: %w", d, err)
			}
			if errors.Is(err, unix.ENOSPC) { // out of watches
				return newTicker(ctx), nil
			}
			return nil, fmt.Errorf("log directory %s: %w", d, err)
		}
		w.dirs[wd] = d
	}
	if w.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil, err
	}
	w.stop = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.done {
			_, _ = unix.Write(w.wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		}
	})
	return w, nil
}

func (w *inotifyWaiter) wait() error {
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}, {Fd: int32(w.wake), Events: unix.POLLIN}}
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if fds[1].Revents != 0 {
			return w.ctx.Err()
		}
		return w.read()
	}
}

// read consumes the pending events; it reports a watched directory that
// was removed or moved away.
func (w *inotifyWaiter) read() error {
	var buf [16 << 10]byte
	for {
		n, err := unix.Read(w.fd, buf[:])
		if errors.Is(err, unix.EAGAIN) || n <= 0 {
			return nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			wd := int32(uint32(buf[off]) | uint32(buf[off+1])<<8 | uint32(buf[off+2])<<16 | uint32(buf[off+3])<<24)
			mask := uint32(buf[off+4]) | uint32(buf[off+5])<<8 | uint32(buf[off+6])<<16 | uint32(buf[off+7])<<24
			nameLen := int(uint32(buf[off+12]) | uint32(buf[off+13])<<8 | uint32(buf[off+14])<<16 | uint32(buf[off+15])<<24)
			if mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0 {
				return fmt.Errorf("log directory %s: %w", w.dirs[int(wd)], ErrGone)
			}
			off += unix.SizeofInotifyEvent + nameLen
		}
	}
}

func (w *inotifyWaiter) close() {
	w.stop()
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	unix.Close(w.wake)
	unix.Close(w.fd)
}
