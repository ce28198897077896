package pidfile

import (
	"errors"

	"golang.org/x/sys/unix"
)

// readRecord reads the record of the file open as fd. It returns ErrNoRecord
// when the file has none (or its file system keeps no user attributes).
func readRecord(fd int) (Record, error) {
	buf := make([]byte, maxRecord)
	n, err := unix.Fgetxattr(fd, recordAttr, buf)
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.ERANGE):
		return Record{}, ErrNoRecord
	case err != nil:
		return Record{}, err
	}
	return parseRecord(buf[:n])
}

// writeRecord replaces the record of the file open for writing as fd. A
// file system without user attributes is not an error: the file then has
// no record, and readers fall back to what the lock alone proves.
func writeRecord(fd int, r Record) error {
	err := unix.Fsetxattr(fd, recordAttr, r.encode(), 0)
	if errors.Is(err, unix.ENOTSUP) {
		return nil
	}
	return err
}
