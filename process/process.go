// Package process reads what the kernel knows about a process: whether it is
// alive, when it started, its command line, and which processes hold a flock
// on a given file. On Linux the answers come from /proc; elsewhere the
// functions return ErrUnsupported so callers can fall back to the lock alone.
package process

import "time"

// Info describes one live process.
type Info struct {
	PID     int
	PPID    int
	Session int
	// Started is the process's start time in wall-clock time. Its resolution
	// is one clock tick (10 ms on Linux).
	Started time.Time
	// Command is the argument vector, empty for kernel threads.
	Command []string
	// RSS is the resident set size in bytes, 0 when unknown.
	RSS int64
}

// FileID names an inode: the device and inode numbers of a file.
type FileID struct {
	Dev uint64
	Ino uint64
}

// TickMargin is how far apart two instants may be and still be taken as
// "the same moment" when one of them comes from a process start time, which
// the kernel rounds down to a clock tick.
const TickMargin = 20 * time.Millisecond
