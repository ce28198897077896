package pidfile

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
)

// reopenReadOnly opens the file file (at path, with status st) a second
// time, read-only, as a new open file description: through
// /proc/self/fd, which names the inode itself, so a path replaced
// meanwhile cannot slip another file in.
func reopenReadOnly(file *os.File, path string, st *unix.Stat_t) (*os.File, error) {
	ro, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(file.Fd())), os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: reopen read-only: %w", path, err)
	}
	var now unix.Stat_t
	if err := unix.Fstat(int(ro.Fd()), &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		ro.Close()
		return nil, fmt.Errorf("%s: %w", path, errReplaced)
	}
	_ = unix.SetNonblock(int(ro.Fd()), false)
	return ro, nil
}

// procID is pid's pidfd inode, 0 when the kernel has no pidfs.
func procID(pid int) uint64 {
	id, err := process.ProcID(pid)
	if err != nil {
		return 0
	}
	return id
}
