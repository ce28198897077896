//go:build !linux

package supervise

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// openLogDir opens the log directory dir for the supervisor's life, as
// resolveLogDir resolves it, without following its last component.
func openLogDir(dir string) (int, error) {
	resolved, err := resolveLogDir(dir)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Open(resolved, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOTDIR) {
		return -1, fmt.Errorf("log directory %s: %w", dir, errLogDir)
	}
	if err != nil {
		return -1, fmt.Errorf("log directory %s: %w", dir, err)
	}
	return fd, nil
}
