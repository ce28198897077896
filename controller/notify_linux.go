package controller

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// notifySocket is the datagram socket a --notify start listens on, as
// systemd's NOTIFY_SOCKET.
type notifySocket struct {
	fd   int
	name string // the NOTIFY_SOCKET value
	path string // file-system path to remove, if any
}

// maxSocketPath is sun_path's size less the terminating NUL.
const maxSocketPath = 107

// listenNotify binds the notify socket: at path when given (a file-system
// socket, which daemons in another network namespace can reach), else an
// abstract socket. SO_PASSCRED makes the kernel attach each sender's
// credentials, which receive checks.
func listenNotify(path string, c *cred) (*notifySocket, error) {
	if len(path) > maxSocketPath {
		return nil, withKind(ErrUsage, "--notify-socket %s: %d bytes, more than the %d a socket address holds; choose a shorter path", path, len(path), maxSocketPath)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	s := &notifySocket{fd: fd}
	if path == "" {
		// Unguessable, so no other local process binds it first; getrandom
		// keeps crypto/rand's initialisation out of every daemonctl run.
		var r [8]byte
		_, _ = unix.Getrandom(r[:], 0)
		s.name = fmt.Sprintf("@daemonctl/notify/%d/%s", os.Getpid(), hex.EncodeToString(r[:]))
	} else {
		s.name, s.path = path, path
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: s.name}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("notify socket %s: %w", s.name, err)
	}
	if s.path != "" && c != nil {
		// The daemon runs as another user and must be able to send.
		if err := chownSocket(s.path, c); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		s.Close()
		return nil, fmt.Errorf("notify socket: SO_PASSCRED: %w", err)
	}
	return s, nil
}

// chownSocket gives the socket just bound at path to the daemon's user,
// without following a symbolic link: whoever can write the socket's
// directory (often that user) could swap one in between bind and chown and
// have any root file given away. It opens the path itself with O_PATH and
// O_NOFOLLOW, checks that it is a socket with one name, and changes the
// owner of exactly that inode.
func chownSocket(path string, c *cred) error {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("notify socket %s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("notify socket %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || st.Nlink != 1 {
		return fmt.Errorf("notify socket %s was replaced after it was bound (now mode %o, %d links): someone is tampering with its directory", path, st.Mode, st.Nlink)
	}
	if err := unix.Fchownat(fd, "", int(c.UID), int(c.GID), unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("notify socket %s: chown: %w", path, err)
	}
	return nil
}

// Close closes the socket and removes its file.
func (s *notifySocket) Close() {
	unix.Close(s.fd)
	if s.path != "" {
		_ = os.Remove(s.path)
	}
}

// wait blocks until a datagram arrives, proc exits, or deadline passes.
// Death wins over a pending datagram only when no datagram is pending.
func (s *notifySocket) wait(proc *signals.Process, deadline time.Time) (notifyEvent, error) {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}, {Fd: int32(proc.Fd()), Events: unix.POLLIN}}
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
func (s *notifySocket) receive(pid int, pidPath string) []notifyMsg {
	var msgs []notifyMsg
	buf := make([]byte, maxDatagram)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for {
		n, oobn, flags, _, err := unix.Recvmsg(s.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			return msgs // EAGAIN: drained
		}
		if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			continue
		}
		sender, ok := senderPID(oob[:oobn])
		if !ok || !inService(sender, pid, pidPath) {
			continue
		}
		msgs = append(msgs, parseNotify(buf[:n]))
	}
}

func senderPID(oob []byte) (int, bool) {
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, c := range cmsgs {
		if cred, err := unix.ParseUnixCredentials(&c); err == nil {
			return int(cred.Pid), true
		}
	}
	return 0, false
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
