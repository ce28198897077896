//go:build unix && !linux

package sdnotify

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// abstractNames: only Linux has the abstract socket namespace.
const abstractNames = false

// datagramSocket opens an unbound unix datagram socket, close-on-exec.
// Without SOCK_CLOEXEC, holding ForkLock keeps a concurrent fork from
// inheriting it before it is marked.
func datagramSocket() (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	return fd, nil
}
