package sdnotify

import "errors"

// ErrBadAddress is Send's error for a NOTIFY_SOCKET that names neither an
// absolute path nor an abstract socket ("@name"; Linux only). systemd's
// other form, "vsock:CID:PORT", is not supported.
var ErrBadAddress = errors.New("unsupported NOTIFY_SOCKET address")
