package supervise

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks bounds the symbolic links followed in one path, as the kernel
// does (MAXSYMLINKS).
const maxLinks = 40

// resolveLogDir returns dir with every symbolic link on the way replaced
// by its target, following only links root owns (/var/run -> /run, a
// distribution's /var/log -> /data/log): a link someone else owns sits in
// a directory they may change, and could point the supervisor's next
// start at /etc/cron.d. dir is absolute. The error names the link and
// says what to do.
func resolveLogDir(dir string) (string, error) {
	rest := strings.Split(strings.TrimPrefix(filepath.Clean(dir), "/"), "/")
	cur := "/"
	for links := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, name)
		st, err := os.Lstat(next)
		if err != nil {
			return "", fmt.Errorf("log directory %s: %w", dir, err)
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if uid, ok := ownerOf(st); !ok || uid != 0 {
			return "", fmt.Errorf("log directory %s: %s is a symbolic link that uid %d owns, which daemonctl does not follow: give the real path", dir, next, uid)
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("log directory %s: too many symbolic links", dir)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("log directory %s: %w", dir, err)
		}
		if filepath.IsAbs(target) {
			cur = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return cur, nil
}

// errLogDir marks a log directory that is not a directory.
var errLogDir = errors.New("not a directory")

// ownerOf is the owner of a file Lstat described.
func ownerOf(st fs.FileInfo) (uint32, bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return s.Uid, true
}
