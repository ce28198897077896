//go:build !linux

package pidfile

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// reopenReadOnly opens path again, read-only, and checks that it is still
// the file whose status is st.
func reopenReadOnly(file *os.File, path string, st *unix.Stat_t) (*os.File, error) {
	ro, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
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

// procID: no pidfs here.
func procID(pid int) uint64 { return 0 }
