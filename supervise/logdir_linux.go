package supervise

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// openLogDir opens the log directory dir for the supervisor's life: the
// path as resolveLogDir resolves it, then opened without following any
// link (RESOLVE_NO_SYMLINKS), so a component swapped for a link between
// the two is refused.
func openLogDir(dir string) (int, error) {
	resolved, err := resolveLogDir(dir)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Openat2(unix.AT_FDCWD, resolved, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS})
	if errors.Is(err, unix.ENOSYS) {
		// Before Linux 5.6: the last component at least.
		fd, err = unix.Open(resolved, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	switch {
	case errors.Is(err, unix.ENOTDIR):
		return -1, fmt.Errorf("log directory %s: %w", dir, errLogDir)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return -1, fmt.Errorf("log directory %s: a symbolic link appeared on its path while it was opened: not followed", dir)
	case err != nil:
		return -1, fmt.Errorf("log directory %s: %w", dir, err)
	}
	return fd, nil
}
