package pidfile

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// distrust says why the pidfile st, at path, could have been written or
// put in place by someone other than root or the caller (Trust rule 3a):
// it has other names, another owner, is writable by group or others, or
// sits in a directory someone else may write (unless the directory is
// sticky and the file the caller's). It returns "" for a file only root
// or the caller controls. Only such a file's PID is believed without the
// lock.
func distrust(path string, st *unix.Stat_t) string {
	if why := distrustFile(st); why != "" {
		return why
	}
	dir := filepath.Dir(path)
	var d unix.Stat_t
	if err := unix.Stat(dir, &d); err != nil {
		return fmt.Sprintf("its directory %s cannot be examined (%v)", dir, err)
	}
	euid := uint32(os.Geteuid())
	switch {
	case d.Uid != 0 && d.Uid != euid:
		return fmt.Sprintf("its directory %s belongs to uid %d, who can replace the file", dir, d.Uid)
	case d.Mode&0o022 != 0 && d.Mode&unix.S_ISVTX == 0:
		return fmt.Sprintf("its directory %s is writable by group or others (mode %04o)", dir, d.Mode&0o7777)
	case d.Mode&0o022 != 0 && st.Uid != euid:
		return fmt.Sprintf("it is not yours and its directory %s is shared (mode %04o)", dir, d.Mode&0o7777)
	}
	return ""
}

// distrustFile is distrust's check of the file alone: who, besides root
// and the caller, could write its contents or its record.
func distrustFile(st *unix.Stat_t) string {
	euid := uint32(os.Geteuid())
	switch {
	case st.Nlink != 1:
		return fmt.Sprintf("it has %d hard links", st.Nlink)
	case st.Uid != 0 && st.Uid != euid:
		return fmt.Sprintf("it belongs to uid %d, neither root nor you", st.Uid)
	case st.Mode&0o022 != 0:
		return fmt.Sprintf("it is writable by group or others (mode %04o)", st.Mode&0o7777)
	}
	return ""
}

// ReadTrusted reads the PID in a pidfile that a program wrote itself (no
// lock, no record of daemonctl's stage, as start-stop-daemon's --pidfile
// reads it), provided that only root or the caller could have put it there
// (Trust rule 3a: see distrust). A missing file is an error wrapping
// fs.ErrNotExist; one that must not be believed wraps ErrUntrusted and
// says why; ErrSymlink, ErrNotRegular and ErrInvalid as for Inspect.
func ReadTrusted(path string) (int, error) {
	file, err := openChecked(path, os.O_RDONLY)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(file.Fd()), &st); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	pid, err := readPID(file)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if why := distrust(path, &st); why != "" {
		return pid, fmt.Errorf("%s: %w: %s", path, ErrUntrusted, why)
	}
	return pid, nil
}
