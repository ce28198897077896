//go:build unix

package main

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// probeFDs is how many descriptor numbers are probed for open ones when
// the limit is low: those above the limit count too, once it is raised.
const probeFDs = 1024

// descriptorLimit returns RLIMIT_NOFILE's soft limit and the descriptors
// open in this process, ascending, probed with fcntl (one call each) when
// the limit is below plentyFDs+64; above it, open is nil: nothing worth
// counting.
func descriptorLimit() (limit int, open []int) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || uint64(rl.Cur) >= plentyFDs+64 {
		return int(min(uint64(rl.Cur), 1<<30)), nil
	}
	for fd := range max(int(rl.Cur), probeFDs) {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			open = append(open, fd)
		}
	}
	return int(rl.Cur), open
}

// runtimeHeld counts the descriptors among open that the Go runtime keeps
// from start-up: the cgroup files it reads GOMAXPROCS from (Linux; none
// elsewhere).
func runtimeHeld(open []int) int {
	n := 0
	for _, fd := range open {
		if target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && strings.HasPrefix(target, "/sys/fs/cgroup/") {
			n++
		}
	}
	return n
}
