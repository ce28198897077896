package service

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Root runs what definition files say, so whoever can change one can make
// root run any program. A file is trusted only when nobody but root and
// the caller can change it, nor replace it: the file, the definition
// directory and every directory above it belong to root or the caller and
// are writable by nobody else (by group or others: a group-writable mode
// also shows an ACL granting another user write access, as the group bits
// are then the ACL's mask). A directory writable by others is accepted
// only when it is sticky (/tmp): then only an entry's owner may rename it,
// and the entry is checked in turn. This is OpenSSH's StrictModes rule
// for authorized_keys, applied to symbolic links too: each link followed
// must belong to root or the caller, and the path it names is checked
// from its start.

// maxLinks bounds the symbolic links one path may follow, as the kernel's
// ELOOP does.
const maxLinks = 40

// untrusted says why a file or directory with status st cannot be trusted
// (it is writable by its group or others, or owned by another user), and
// the command that fixes it ("" when only root could); why is "" when it
// can be trusted. A symbolic link's own mode means nothing; a sticky
// directory may be writable by others when sticky is set (it is not the
// last component of a path).
func untrusted(path string, st *unix.Stat_t, sticky bool) (why, fix string) {
	mode := uint32(st.Mode)
	if uid := st.Uid; uid != 0 && int(uid) != os.Geteuid() {
		if os.Geteuid() == 0 {
			fix = "chown root " + path
		}
		return fmt.Sprintf("is owned by uid %d, neither root nor you", uid), fix
	}
	if mode&unix.S_IFMT == unix.S_IFLNK || sticky && mode&unix.S_ISVTX != 0 {
		return "", ""
	}
	fix = "chmod go-w " + path
	switch {
	case mode&0o002 != 0:
		return fmt.Sprintf("is world-writable (mode %04o)", mode&0o7777), fix
	case mode&0o020 != 0:
		return fmt.Sprintf("is group-writable (mode %04o)", mode&0o7777), fix
	}
	return "", ""
}

// distrust names a component of a path that others can change, and why.
type distrust struct{ path, why, fix string }

// resolveTrusted resolves path (absolute) one component at a time, as the
// kernel does, checking each directory and symbolic link met on the way
// with untrusted: a directory above the last may be sticky and writable
// by others, the last (the definition directory, or a definition file)
// may not. It returns the resolved path and the last component's status,
// or the first component others can change (bad), or err when the path
// does not resolve (wrapping the lstat error: fs.ErrNotExist when a
// component is missing).
func resolveTrusted(path string) (resolved string, st unix.Stat_t, bad *distrust, err error) {
	if err := unix.Lstat("/", &st); err != nil {
		return "", st, nil, fmt.Errorf("/: %w", err)
	}
	cur := "/"
	rest := strings.Split(path, "/")
	if why, fix := untrusted(cur, &st, more(rest)); why != "" {
		return "", st, &distrust{cur, why, fix}, nil
	}
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur) // cur holds no links: its parent is real
			continue
		}
		next := filepath.Join(cur, name)
		if err := unix.Lstat(next, &st); err != nil {
			return "", st, nil, fmt.Errorf("%s: %w", next, err)
		}
		if why, fix := untrusted(next, &st, more(rest)); why != "" {
			return "", st, &distrust{next, why, fix}, nil
		}
		switch uint32(st.Mode) & unix.S_IFMT {
		case unix.S_IFLNK:
			if links++; links > maxLinks {
				return "", st, nil, fmt.Errorf("%s: %w", path, unix.ELOOP)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", st, nil, err
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = append(strings.Split(target, "/"), rest...)
			continue
		case unix.S_IFDIR:
		default:
			if more(rest) {
				return "", st, nil, fmt.Errorf("%s: %w", next, unix.ENOTDIR)
			}
		}
		cur = next
	}
	// Once more, strictly, in case the path ended in "..".
	if err := unix.Lstat(cur, &st); err != nil {
		return "", st, nil, fmt.Errorf("%s: %w", cur, err)
	}
	if why, fix := untrusted(cur, &st, false); why != "" {
		return "", st, &distrust{cur, why, fix}, nil
	}
	return cur, st, nil, nil
}

// more reports whether components other than "" and "." remain.
func more(rest []string) bool {
	for _, name := range rest {
		if name != "" && name != "." {
			return true
		}
	}
	return false
}

// whoRuns names who would run the programs: root, or the caller.
func whoRuns() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	return "you"
}
