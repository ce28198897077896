package sdnotify

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Socket is a bound notify socket.
type Socket struct {
	file *os.File // the socket, known to Go's poller, for Next
	fd   int
	name string // the NOTIFY_SOCKET value
	path string // file-system path to remove, if any
}

// Owner is the user and group a file-system socket is given to, so a
// daemon running as them can send.
type Owner struct {
	UID, GID uint32
}

// maxSocketPath is sun_path's size less the terminating NUL.
const maxSocketPath = 107

// Listen binds a notify socket: at path when given (a file-system socket,
// which daemons in another network namespace can reach, given to owner when
// owner is not nil), else an abstract socket with an unguessable name.
// Errors: ErrPathTooLong for a path that does not fit a socket address,
// ErrReplaced when the socket file was swapped before it could be given
// to owner, and the system's errors (a path in use: EADDRINUSE).
func Listen(path string, owner *Owner) (*Socket, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("%s: %w (%d bytes, at most %d)", path, ErrPathTooLong, len(path), maxSocketPath)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	s := &Socket{fd: fd}
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
	if s.path != "" && owner != nil {
		if err := chownSocket(s.path, owner); err != nil {
			s.closeFD()
			return nil, err
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		s.closeFD()
		return nil, fmt.Errorf("notify socket: SO_PASSCRED: %w", err)
	}
	// The descriptor is non-blocking, so the poller takes it.
	s.file = os.NewFile(uintptr(fd), s.name)
	return s, nil
}

// chownSocket gives the socket just bound at path to owner, without
// following a symbolic link: whoever can write the socket's directory
// (often that user) could swap one in between bind and chown and have any
// root file given away. It opens the path itself with O_PATH and
// O_NOFOLLOW, checks that it is a socket with one name, and changes the
// owner of exactly that inode.
func chownSocket(path string, owner *Owner) error {
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
		return fmt.Errorf("notify socket %s: %w (now mode %o, %d links)", path, ErrReplaced, st.Mode, st.Nlink)
	}
	if err := unix.Fchownat(fd, "", int(owner.UID), int(owner.GID), unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("notify socket %s: chown: %w", path, err)
	}
	return nil
}

// Name is the NOTIFY_SOCKET value a daemon is given: the path, or the
// abstract name with a leading '@'.
func (s *Socket) Name() string { return s.name }

// Fd is the socket, for callers that poll it together with other
// descriptors (then Receive without waiting).
func (s *Socket) Fd() int { return s.fd }

// closeFD closes a socket not yet handed to the poller.
func (s *Socket) closeFD() {
	unix.Close(s.fd)
	if s.path != "" {
		_ = os.Remove(s.path)
	}
}

// Close closes the socket and removes its file. A Next waiting in another
// goroutine returns an error.
func (s *Socket) Close() error {
	err := s.file.Close()
	if s.path != "" {
		_ = os.Remove(s.path)
	}
	return err
}

// Receive reads every datagram waiting, without waiting for more, and
// returns the messages of the senders accept takes (accept is called with
// the sender's PID, as the kernel vouches for it). Datagrams without
// credentials, from others, or too large (truncated) are dropped.
func (s *Socket) Receive(accept func(pid int) bool) []Message {
	var msgs []Message
	buf := make([]byte, MaxDatagram)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for {
		msg, ok, err := s.receiveOne(buf, oob, accept)
		if err != nil {
			return msgs // EAGAIN: drained
		}
		if ok {
			msgs = append(msgs, msg)
		}
	}
}

// Next waits, parked in Go's poller (no thread, no timer), until datagrams
// arrive, and returns the accepted messages among them: at least one,
// unless the error is non-nil (the socket was closed).
func (s *Socket) Next(accept func(pid int) bool) ([]Message, error) {
	rc, err := s.file.SyscallConn()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, MaxDatagram)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	var msgs []Message
	for len(msgs) == 0 {
		err = rc.Read(func(uintptr) bool {
			for {
				msg, ok, err := s.receiveOne(buf, oob, accept)
				if errors.Is(err, unix.EINTR) {
					continue
				}
				if err != nil {
					// EAGAIN: done if something came, else wait for more.
					return len(msgs) > 0 || !errors.Is(err, unix.EAGAIN)
				}
				if ok {
					msgs = append(msgs, msg)
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// receiveOne reads one datagram; ok reports whether it is accepted.
func (s *Socket) receiveOne(buf, oob []byte, accept func(int) bool) (Message, bool, error) {
	n, oobn, flags, _, err := unix.Recvmsg(s.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return Message{}, false, err
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return Message{}, false, nil
	}
	sender, ok := senderPID(oob[:oobn])
	if !ok || !accept(sender) {
		return Message{}, false, nil
	}
	return Parse(buf[:n]), true, nil
}

// senderPID is the PID in a datagram's SCM_CREDENTIALS.
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
