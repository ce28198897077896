// Package controller manages a daemon's lifecycle over a locked pidfile:
// Start (detach a program through the launcher stage, optionally waiting
// for readiness), Stop (walk a signal schedule over the lock's holders),
// Signal, Restart and Status. Daemonize offers the same detaching to a Go
// program that daemonizes itself.
//
// Every function returns errors that match the package's sentinels with
// errors.Is (ErrUsage, ErrNoPrivilege, ErrProgramNotFound, ErrNotRunning,
// ...), so a command line can map them to LSB exit codes in one place.
package controller
