package main

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/ssd"
)

// errFewDescriptors means RLIMIT_NOFILE leaves too few descriptors for
// the command (exit 1; status: 4, unknown).
var errFewDescriptors = errors.New("too few file descriptors")

// Every descriptor counts under a tight RLIMIT_NOFILE (ulimit -n 8), and
// the Go runtime does not fail gracefully without them: the first
// pollable descriptor (a pipe, a socket, a nonblocking file) makes it
// create its epoll and eventfd descriptors, and when it cannot, it dies
// with "fatal error: runtime: eventfd failed" and a goroutine dump (exit
// 2, "bad usage" to an init script). So main counts the spare descriptors
// before anything opens one, and refuses in one line what it cannot do
// fully. (Go raises the soft limit to the hard one, less one, at
// start-up, and gives every child, the launcher stage and so the daemon,
// the operator's original soft limit back: nothing here sets a limit,
// which would stop Go from doing so.)

// Spare descriptors each path needs at its peak, beyond those open when
// main starts (0, 1, 2 and the runtime's cgroup files), measured with
// ulimit -n on Linux 6.1 and Go 1.26; TestFDLimits checks each against
// the real binary. Where a path forks the launcher stage, the stage's own
// needs are within the caller's: both run under the same hard limit.
const (
	// fdsInspect: status, stop, reload, signal of one service: the
	// pidfile, a /proc file or a pidfd, and the runtime's epoll and
	// eventfd (measured: 4). Every other command (check, init-script, the
	// definitions' loading) needs fewer, and is held to this too.
	fdsInspect = 4
	// fdsStart: start and restart, --notify and its socket included: the
	// pidfile probe, the spec and status pipes, /dev/null thrice for the
	// stage, the fork's pidfd and error pipe, the notify socket (measured:
	// 12 without --notify, 13 with).
	fdsStart = 13
	// fdsLauncher: the launcher stage, beyond the spec and status pipes
	// it is given: the pidfile, epoll and eventfd, the daemon's stdio, the
	// fork's pidfd and pipe (measured: 7).
	fdsLauncher = 7
	// fdsPerWorker: each further service the status table inspects, or
	// stop --all stops, at the same time (measured: 2 per table worker).
	fdsPerWorker = 2
	// plentyFDs: from this many spare descriptors on, nothing is counted
	// or bounded (the default soft limit is 1024).
	plentyFDs = 256
	// fdsRuntime: descriptors the Go runtime keeps open from start-up
	// when the limit lets it (the cgroup v1 CPU quota and period files; v2
	// has one): the count main makes includes them, unless they could not
	// be opened.
	fdsRuntime = 2
)

// fdsNeeded is how many spare descriptors command needs (the launcher
// stage, when launcher is set).
func fdsNeeded(command string, launcher bool) int {
	switch {
	case launcher:
		return fdsLauncher
	case command == "start" || command == "restart" || command == ssd.Name:
		// As start-stop-daemon, a --start is daemonctl's start, or less.
		return fdsStart
	}
	return fdsInspect
}

// spareUnder is how many descriptors are free under limit, given the
// open ones.
func spareUnder(limit int, open []int) int {
	spare := limit
	for _, fd := range open {
		if fd < limit {
			spare--
		}
	}
	return spare
}

// spareDescriptors is how many more descriptors this process may open
// now; plentyFDs or more when the limit is high.
func spareDescriptors() int {
	limit, open := descriptorLimit()
	if open == nil {
		return max(limit, plentyFDs)
	}
	return spareUnder(limit, open)
}

// checkDescriptors returns an error (matching errFewDescriptors) when
// fewer descriptors are spare than command needs, naming the limit it
// needs. With few spare, it lowers GOMAXPROCS so that the goroutines that
// load definitions and inspect services in parallel (one per P) stay
// within them.
func checkDescriptors(command string, launcher bool) error {
	limit, open := descriptorLimit()
	if open == nil {
		return nil
	}
	spare := spareUnder(limit, open)
	need := fdsNeeded(command, launcher)
	if spare < need {
		name := "daemonctl"
		if command != "" && !launcher {
			name += " " + command
		}
		// With so few, the runtime may have failed to keep all of its
		// descriptors: under a higher limit it will.
		if spare < fdsRuntime {
			need += max(0, fdsRuntime-runtimeHeld(open))
		}
		least := limit + 1
		for spareUnder(least, open) < need {
			least++
		}
		return fmt.Errorf("%s: %w: the limit is %d (ulimit -n) and %s needs at least %d here; raise it",
			name, errFewDescriptors, limit, name, least)
	}
	if workers := 1 + (spare-need)/fdsPerWorker; workers < runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(workers)
	}
	return nil
}

// checkCommandDescriptors is the app's Before: checkDescriptors for the
// command urfave/cli is about to run, before anything else runs. Nothing
// before it opens a descriptor: parsing the command line opens none.
func checkCommandDescriptors(c *cli.Context) error {
	command := c.Args().First()
	if err := checkDescriptors(command, false); err != nil {
		return commandError{command: command, err: err}
	}
	return nil
}

// parallelStops bounds how many services stop --all stops at once by the
// descriptors spare now.
func parallelStops() int {
	return max(1, min(stopParallel, 1+(spareDescriptors()-fdsInspect)/fdsPerWorker))
}
