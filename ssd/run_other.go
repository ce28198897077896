//go:build !linux

package ssd

import (
	"fmt"
	"io"
)

// run needs Linux: /proc to find processes, pidfds to signal them.
func run(o Options, stdout, stderr io.Writer) (int, error) {
	return 0, fmt.Errorf("%w: this start-stop-daemon (daemonctl's) works on Linux only", ErrTrouble)
}

// runStage is never reached where run cannot start one.
func runStage(o Options, stderr io.Writer) int {
	fmt.Fprintf(stderr, "%s: this start-stop-daemon (daemonctl's) works on Linux only\n", o.Prog)
	return 2
}
