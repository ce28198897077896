package sdnotify

import "errors"

var (
	// ErrBadAddress is Send's error for a NOTIFY_SOCKET that names neither
	// an absolute path nor an abstract socket ("@name"; Linux only).
	// systemd's other form, "vsock:CID:PORT", is not supported.
	ErrBadAddress = errors.New("unsupported NOTIFY_SOCKET address")
	// ErrPathTooLong means a socket path does not fit a socket address.
	ErrPathTooLong = errors.New("path too long for a socket address")
	// ErrReplaced means the socket file was replaced between bind and
	// chown: someone is tampering with its directory.
	ErrReplaced = errors.New("socket replaced after it was bound")
	// ErrUnsupported means the platform has no credential passing, so no
	// listener.
	ErrUnsupported = errors.New("notify sockets are supported on Linux only")
)
