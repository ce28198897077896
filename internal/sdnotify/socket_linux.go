package sdnotify

import "golang.org/x/sys/unix"

// abstractNames: Linux has the abstract socket namespace ("@name").
const abstractNames = true

// datagramSocket opens an unbound unix datagram socket, close-on-exec from
// the start.
func datagramSocket() (int, error) {
	return unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
}
