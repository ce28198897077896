package pidfile

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// readSupervision reads the published state of the file open as fd; it
// returns ErrNoRecord when there is none (or the file system keeps no user
// attributes).
func readSupervision(fd int) ([]byte, error) {
	buf := make([]byte, maxSupervision)
	n, err := unix.Fgetxattr(fd, supervisionAttr, buf)
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP):
		return nil, fmt.Errorf("%w of a supervisor", ErrNoRecord)
	case errors.Is(err, unix.ERANGE):
		return nil, fmt.Errorf("%w: the supervisor's state is too large", ErrRecord)
	case err != nil:
		return nil, err
	}
	return buf[:n], nil
}

// writeSupervision replaces the published state of the file open for
// writing as fd. A file system without user attributes is not an error:
// nothing is published, and readers find no state.
func writeSupervision(fd int, data []byte) error {
	err := unix.Fsetxattr(fd, supervisionAttr, data, 0)
	if errors.Is(err, unix.ENOTSUP) {
		return nil
	}
	return err
}
