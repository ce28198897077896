package main

import (
	"fmt"
	"os"

	"github.com/daemonctl/daemonctl/ssd"
)

// standIn runs daemonctl as start-stop-daemon when it was executed under
// that name (a symbolic link, or a bind mount over /sbin/start-stop-daemon;
// see README "Replacing start-stop-daemon"), and reports whether it did.
// Run under any other name, daemonctl only compares a string here.
func standIn(args []string) (int, bool) {
	if len(args) == 0 || !ssd.Is(args[0]) {
		return 0, false
	}
	// First, before anything opens a pollable descriptor (fdlimit.go).
	if err := checkDescriptors(ssd.Name, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return ssd.TroubleCode(args), true
	}
	return ssd.Main(args, version, os.Stdout, os.Stderr), true
}
