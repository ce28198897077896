package controller

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/daemonctl/daemonctl/internal/sdnotify"
	"github.com/daemonctl/daemonctl/pidfile"
)

// The wording that Start, Stop, Signal, Status and the launcher stage
// share: one place, so that each situation reads the same whichever
// command meets it.

// unverifiedText says which process cannot be vouched for, and why.
func unverifiedText(name, path string, st pidfile.State) string {
	what := ""
	if len(st.Process.Command) > 0 {
		what = " (" + sdnotify.Printable(strings.Join(st.Process.Command, " ")) + ")"
	}
	return fmt.Sprintf("%s: cannot vouch for pid %d%s named by %s: %s", name, st.PID, what, path, st.Why)
}

// unverifiedRemedy is what the operator can do about an unverifiable
// process.
func unverifiedRemedy(st pidfile.State, path string) string {
	return fmt.Sprintf("check what it is (ps -p %d); if it is the daemon, stop it yourself, then remove %s", st.PID, path)
}

// describeFileError turns a pidfile error into a one-line message naming
// the file and what to do.
func describeFileError(path string, err error) error {
	switch {
	case errors.Is(err, pidfile.ErrSymlink):
		return fmt.Errorf("pidfile %s is a symbolic link, which daemonctl never follows: remove it or point -p at the real file", path)
	case errors.Is(err, pidfile.ErrNotRegular):
		return fmt.Errorf("pidfile %s is not a regular file: remove it or choose another -p", path)
	case errors.Is(err, pidfile.ErrInvalid):
		return fmt.Errorf("pidfile %s %s; check which process runs and remove the file", path, strings.TrimPrefix(err.Error(), path+": "))
	case errors.Is(err, pidfile.ErrHardLink), errors.Is(err, pidfile.ErrUnsafe):
		return fmt.Errorf("pidfile %s %s: refusing to use it; remove it or choose a directory only you can write", path, strings.TrimPrefix(err.Error(), path+": "))
	case errors.Is(err, os.ErrPermission):
		return withKind(ErrNoPrivilege, "pidfile %s: permission denied: run as its owner or root", path)
	}
	return err
}

// pidList renders PIDs for messages: "pid 7" or "pids 7, 8".
func pidList(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = fmt.Sprint(p)
	}
	if len(pids) == 1 {
		return "pid " + s[0]
	}
	return "pids " + strings.Join(s, ", ")
}

// unrecorded describes the holders of a lock whose pidfile is empty
// because the start that took it died between the fork and the write.
func unrecorded(st pidfile.State) string {
	if len(st.Holders) == 0 {
		return "processes this user cannot see hold the lock but the pidfile names no pid (a start was interrupted before writing it)"
	}
	return fmt.Sprintf("%s %s the lock but the pidfile names no pid (a start was interrupted before writing it)", pidList(st.Holders), plural(len(st.Holders), "holds", "hold"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shortPath keeps a path in a message to one readable line.
func shortPath(path string) string {
	if len(path) <= 80 {
		return path
	}
	return path[:60] + "..." + path[len(path)-17:]
}

// RoundElapsed shortens a duration for messages: 850µs, 2.3ms, 1.3s, 2m5s.
func RoundElapsed(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
