// Package process reads what the kernel knows about a process: whether it is
// alive, when it started, its command line, which executable it runs, and
// which processes hold a flock on a given file and who took it. On Linux
// the answers come from /proc; elsewhere the functions return
// ErrUnsupported so callers can fall back to the lock alone.
package process

import "time"

// Info describes one live process.
type Info struct {
	PID     int
	PPID    int
	Session int
	// StartTicks is the process's start time in clock ticks since boot,
	// exactly as the kernel records it (stat(5) field 22): with the PID it
	// names one process of this boot, up to the 10 ms a tick lasts.
	StartTicks uint64
	// Started is StartTicks in wall-clock time, for people. It moves when
	// the wall clock is set, so identity checks use StartTicks.
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

// Holder is a process that has a descriptor whose open file description
// holds a flock, and the PID the kernel recorded as the lock's taker: the
// process that called flock, which every sharer of the description shows,
// even after the taker has exited.
type Holder struct {
	PID   int
	Taker int
}
