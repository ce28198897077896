package controller

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/internal/sdnotify"
	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// notifySocket is the datagram socket a --notify start listens on, as
// systemd's NOTIFY_SOCKET (sdnotify.Socket, which the supervisor uses too).
type notifySocket struct {
	*sdnotify.Socket
}

// listenNotify binds the notify socket: at path when given (a file-system
// socket, which daemons in another network namespace can reach, given to
// the daemon's user c without following a link), else an abstract socket.
func listenNotify(path string, c *cred) (*notifySocket, error) {
	var owner *sdnotify.Owner
	if c != nil {
		// The daemon runs as another user and must be able to send.
		owner = &sdnotify.Owner{UID: c.UID, GID: c.GID}
	}
	s, err := sdnotify.Listen(path, owner)
	switch {
	case errors.Is(err, sdnotify.ErrPathTooLong):
		return nil, withKind(ErrUsage, "--notify-socket %s: %d bytes, more than the %d a socket address holds; choose a shorter path", path, len(path), maxSocketPath)
	case errors.Is(err, sdnotify.ErrReplaced):
		return nil, fmt.Errorf("%w: someone is tampering with its directory", err)
	case err != nil:
		return nil, err
	}
	return &notifySocket{s}, nil
}

// maxSocketPath is sun_path's size less the terminating NUL.
const maxSocketPath = 107

// Close closes the socket and removes its file.
func (s *notifySocket) Close() { _ = s.Socket.Close() }

// wait blocks until a datagram arrives, proc exits, or deadline passes.
// Death wins over a pending datagram only when no datagram is pending.
func (s *notifySocket) wait(proc *signals.Process, deadline time.Time) (notifyEvent, error) {
	fds := []unix.PollFd{{Fd: int32(s.Fd()), Events: unix.POLLIN}, {Fd: int32(proc.Fd()), Events: unix.POLLIN}}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return eventTimeout, nil
		}
		ms := max(int(left.Milliseconds()), 1)
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("poll notify socket: %w", err)
		}
		switch {
		case n == 0:
			continue
		case fds[0].Revents != 0:
			return eventMessage, nil
		case fds[1].Revents != 0:
			return eventExited, nil
		}
	}
}

// receive drains the socket and returns the messages from the daemon's
// own processes: pid itself, its descendants, or a holder of the
// pidfile's lock. Others, and datagrams too large or without credentials,
// are dropped.
func (s *notifySocket) receive(pid int, pidPath string) []sdnotify.Message {
	return s.Receive(func(sender int) bool { return inService(sender, pid, pidPath) })
}

// inService reports whether sender belongs to the daemon: it is the daemon,
// descends from it, or holds the pidfile's lock.
func inService(sender, pid int, pidPath string) bool {
	for p, hops := sender, 0; p > 1 && hops < 64; hops++ {
		if p == pid {
			return true
		}
		info, err := process.Get(p)
		if err != nil {
			break
		}
		p = info.PPID
	}
	st, err := pidfile.Inspect(pidPath)
	if err != nil || st.ID == (process.FileID{}) {
		return false
	}
	return st.Owns(sender, -1)
}
