// Package controller manages a daemon's lifecycle over a locked pidfile:
// Start (detach a program through the launcher stage, optionally waiting
// for readiness), Stop (walk a signal schedule over the lock's holders),
// Signal, Restart and Status. Daemonize offers the same detaching to a Go
// program that daemonizes itself: integration_test/testdata/example is a
// complete one, which the integration tests build and run.
//
// Every function returns errors that match the package's sentinels with
// errors.Is (ErrUsage, ErrNoPrivilege, ErrProgramNotFound, ErrNotRunning,
// ...), so a command line can map them to LSB exit codes in one place.
//
// One file per operation. A start reads forward through start.go (Start:
// look, launch, wait), spec.go (StartSpec and its validation: the program,
// the identity, the environment), launch.go (the caller's side of the
// launch), stage.go (the launcher stage, the re-executed process that
// takes the lock and forks the daemon; wire.go encodes what crosses its
// pipes) and ready.go (the readiness wait; notify_linux.go is its
// socket). Then stop.go, signal.go, restart.go, status.go, daemonize.go;
// messages.go holds the wording they share, pidpath.go how they name the
// service and its pidfile, errors.go the sentinels.
package controller
