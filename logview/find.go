// Package logview reads a service's log files for "daemonctl logs": it
// finds them (Find), prints their last lines (Tail), and follows them
// across the supervisor's rotations (Follow).
//
// Rotation, as the supervisor does it (and logrotate's "create" mode):
// FILE is closed, FILE.N-1 ... FILE.1 are shifted up, FILE is renamed
// FILE.1 and a new FILE is created. A follower that holds FILE open reads
// it to its end after the rename (nothing more is written to it), then
// reads whatever newer files it missed, then the new FILE from its start:
// no line is lost or printed twice.
package logview

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/supervise"
)

// Logs are a service's log files; "" means none.
type Logs struct {
	Stdout, Stderr string
}

// Paths returns the distinct files of l, stdout's first, leaving out ""
// and /dev/null.
func (l Logs) Paths() []string {
	var paths []string
	for _, p := range []string{l.Stdout, l.Stderr} {
		if p == "" || p == os.DevNull || (len(paths) > 0 && paths[0] == p) {
			continue
		}
		paths = append(paths, p)
	}
	return paths
}

// Find names the log files of the service whose pidfile st describes
// (pidfile.Inspect): those its supervisor published, which outlive it
// when it failed or ended; else, for a running daemon daemonctl did not
// supervise, the files its descriptors 1 and 2 have open (which needs
// the right to read /proc/PID/fd: root, or the daemon's user).
//
// The error matches ErrNoLogs when nothing names a file (the result is
// then empty), fs.ErrPermission when the caller may not look at the
// daemon's descriptors, and carries the supervisor state's own error when
// that state cannot be believed or read.
func Find(st pidfile.State) (Logs, error) {
	snap, err := supervise.Read(st)
	switch {
	case err == nil:
		l := Logs{Stdout: snap.Stdout, Stderr: snap.Stderr}
		if len(l.Paths()) == 0 {
			return Logs{}, fmt.Errorf("%s: %w: its supervisor writes its output nowhere (start it with --stdout FILE and --stderr FILE)", st.Path, ErrNoLogs)
		}
		return l, nil
	case errors.Is(err, supervise.ErrStale):
		return Logs{}, fmt.Errorf("%w: %w", ErrNoLogs, err)
	case !errors.Is(err, supervise.ErrNotSupervised):
		return Logs{}, err
	}
	if st.Status == pidfile.NotRunning {
		return Logs{}, fmt.Errorf("%s: %w: the service is not running, and nothing records where its output went (a defined service: daemonctl logs NAME; else tail its file)", st.Path, ErrNoLogs)
	}
	if st.Status != pidfile.Running || st.PID <= 0 {
		return Logs{}, fmt.Errorf("%s: %w: the daemon is not running and was not supervised, so nothing records where its output went (a defined service: daemonctl logs NAME; else tail its file)", st.Path, ErrNoLogs)
	}
	var l Logs
	for fd, dst := range map[int]*string{1: &l.Stdout, 2: &l.Stderr} {
		target, err := os.Readlink("/proc/" + strconv.Itoa(st.PID) + "/fd/" + strconv.Itoa(fd))
		if errors.Is(err, fs.ErrPermission) {
			return Logs{}, fmt.Errorf("%s: cannot see where pid %d writes its output: %w (run as root or as the daemon's user)", st.Path, st.PID, fs.ErrPermission)
		}
		// Only a file that still has its name: not a pipe, socket or
		// anonymous inode ("pipe:[123]"), nor a deleted file.
		if err == nil && strings.HasPrefix(target, "/") && !strings.HasSuffix(target, " (deleted)") && !strings.HasPrefix(target, "/dev/") {
			*dst = target
		}
	}
	if len(l.Paths()) == 0 {
		return Logs{}, fmt.Errorf("%s: %w: pid %d writes its output to no file (start it with --stdout FILE and --stderr FILE)", st.Path, ErrNoLogs, st.PID)
	}
	return l, nil
}
