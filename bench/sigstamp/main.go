//go:build linux

// Command sigstamp STAMP is the daemon bench/startup stops. It creates
// STAMP.ready once it catches SIGTERM; on SIGTERM it writes
// "RECEIVED_NS EXIT_NS" (CLOCK_MONOTONIC, comparable across processes) to
// STAMP and exits 0 at once.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sigstamp STAMP")
		os.Exit(2)
	}
	stamp := os.Args[1]
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	if err := os.WriteFile(stamp+".ready", nil, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "sigstamp:", err)
		os.Exit(1)
	}
	<-term
	received := monotonic()
	exit := monotonic()
	if err := os.WriteFile(stamp, fmt.Appendf(nil, "%d %d\n", received, exit), 0o644); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
