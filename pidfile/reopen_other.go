//go:build !linux

package pidfile

import (
	"os"
	"syscall"
)

// openAgain opens path again, read-only (reopenReadOnly checks that it is
// still file).
func openAgain(file *os.File, path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// procID: no pidfs here.
func procID(pid int) uint64 { return 0 }
