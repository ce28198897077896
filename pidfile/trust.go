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

// ReadConfined reads the PID in a pidfile a program wrote itself, as
// ReadTrusted does, and also from a file that one user besides root and
// the caller could have written or replaced: the file's owner, or its
// directory's (the service's own user, as redis-server's init script
// arranges). uid is that user, or -1 when only root or the caller could
// have written the file. A PID from a file another user could have
// written is to be believed only for a process of that user: a
// compromised service can then point its reader only at processes it
// could signal itself.
//
// A missing file is an error wrapping fs.ErrNotExist; contents that are
// not a PID wrap ErrInvalid; a file that must not be believed at all
// wraps ErrUntrusted and says why (other names, writable by a group or by
// everybody, in a directory a group or everybody may write without the
// sticky bit, or two users who could have written it); ErrSymlink and
// ErrNotRegular as for Inspect. pid is 0 with any error.
func ReadConfined(path string) (pid, uid int, err error) {
	file, err := openChecked(path, os.O_RDONLY)
	if err != nil {
		return 0, -1, err
	}
	defer file.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(file.Fd()), &st); err != nil {
		return 0, -1, fmt.Errorf("%s: %w", path, err)
	}
	uid, why := writer(path, &st)
	if why != "" {
		return 0, -1, fmt.Errorf("%s: %w: %s", path, ErrUntrusted, why)
	}
	if pid, err = readPID(file); err != nil {
		return 0, uid, fmt.Errorf("%s: %w", path, err)
	}
	return pid, uid, nil
}

// writer names the one user besides root and the caller who could have
// written the pidfile st, at path, or replaced it: its owner or its
// directory's (-1 when there is none). why says why no single user can be
// named ("" when one can).
func writer(path string, st *unix.Stat_t) (uid int, why string) {
	euid := uint32(os.Geteuid())
	uid = -1
	add := func(u uint32) string {
		switch {
		case u == 0 || u == euid || uid == int(u):
		case uid >= 0:
			return fmt.Sprintf("two users could have written it (uid %d and uid %d)", uid, u)
		default:
			uid = int(u)
		}
		return ""
	}
	switch {
	case st.Nlink != 1:
		return -1, fmt.Sprintf("it has %d hard links", st.Nlink)
	case st.Mode&0o022 != 0:
		return -1, fmt.Sprintf("it is writable by group or others (mode %04o)", st.Mode&0o7777)
	}
	_ = add(st.Uid)
	dir := filepath.Dir(path)
	var d unix.Stat_t
	if err := unix.Stat(dir, &d); err != nil {
		return -1, fmt.Sprintf("its directory %s cannot be examined (%v)", dir, err)
	}
	if d.Mode&0o022 != 0 && d.Mode&unix.S_ISVTX == 0 {
		// Anyone in the group, or everyone, could have replaced it.
		return -1, fmt.Sprintf("its directory %s is writable by group or others (mode %04o)", dir, d.Mode&0o7777)
	}
	// In a sticky directory others may add files but not replace this
	// one, which only its owner (counted above) and the directory's may.
	if why := add(d.Uid); why != "" {
		return -1, why
	}
	return uid, ""
}

// Recorded reports whether the pidfile at path carries a record of
// daemonctl's stage that Inspect trusts: the file comes from one of
// daemonctl's own starts, and Inspect decides it. It takes no lock, not
// even for a moment (a program that locks its own pidfile, as cron does,
// must never find it locked by a reader), and is false for a missing or
// unreadable file.
func Recorded(path string) bool {
	file, err := openChecked(path, os.O_RDONLY)
	if err != nil {
		return false
	}
	defer file.Close()
	state := State{Path: path}
	_, err = newView(&state, file)
	return err == nil && state.Record != nil
}
