package controller_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/signals"
)

// A Go program daemonizes itself in one call, like the classic
// daemonize(pidfile). The original process exits 0 once the daemon is up
// (or returns the error); the daemon continues below with its pidfile
// written and locked, and "daemonctl status/reload/stop -p /run/app.pid"
// manage it like any other daemon.
func ExampleDaemonize() {
	// Install handlers first: without Options.Notify the parent returns as
	// soon as Daemonize returns in the daemon, and a signal arriving before
	// signal.Notify would kill the program outright.
	ctx, stop := signals.StopContext(context.Background()) // cancelled on SIGTERM
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)

	d, err := controller.Daemonize(controller.Options{
		PIDFile: "/run/app.pid",
		Stderr:  "/var/log/app.log",
	})
	if err != nil {
		log.Fatal(err) // e.g. errors.Is(err, controller.ErrAlreadyRunning)
	}
	defer d.Release() // removes the pidfile on a clean exit

	for {
		select {
		case <-hup:
			log.Print("reloading configuration")
		case <-ctx.Done():
			return
		}
	}
}
