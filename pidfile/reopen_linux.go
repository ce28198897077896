package pidfile

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
)

// openAgain opens file a second time, read-only, as a new open file
// description: through /proc/self/fd, which names the inode itself, so a
// path replaced meanwhile cannot slip another file in.
func openAgain(file *os.File, path string) (*os.File, error) {
	return os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(file.Fd())), os.O_RDONLY|unix.O_NONBLOCK, 0)
}

// procID is pid's pidfd inode, 0 when the kernel has no pidfs.
func procID(pid int) uint64 {
	id, err := process.ProcID(pid)
	if err != nil {
		return 0
	}
	return id
}
