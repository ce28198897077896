package controller

import "golang.org/x/sys/unix"

// becomeSubreaper makes this process the reaper of orphaned descendants, so
// a daemon whose launcher stage exits is reparented here and its exit
// status can be collected with wait4.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// selfExecutable is the binary to re-execute as the launcher stage:
// /proc/self/exe, the very file this process runs, even after a package
// upgrade replaced the path (os.Executable would strip " (deleted)" and
// start the newer binary, which may speak another protocol).
func selfExecutable() (string, error) { return "/proc/self/exe", nil }
