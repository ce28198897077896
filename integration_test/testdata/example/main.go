// Command example is a complete small Go daemon that daemonizes itself with
// daemonctl's library, the way a C program calls daemonize(pidfile):
//
//	example -pidfile /run/example.pid -log /var/log/example.log
//
// It returns to the shell once the daemon is up. daemonctl then manages it
// like any daemon: status -p, reload -p (its HUP handler logs "reload"),
// stop -p (it removes its own pidfile on SIGTERM).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/signals"
)

func main() {
	pidPath := flag.String("pidfile", "/run/example.pid", "pidfile `PATH`")
	logPath := flag.String("log", "", "append log lines to `FILE` (default: none)")
	notify := flag.Bool("notify", false, "report readiness explicitly, after set-up")
	twice := flag.Bool("daemonize-twice", false, "call Daemonize again in the daemon (a bug: must fail)")
	returnInParent := flag.Bool("return", false, "return in the parent and print the daemon's PID")
	flag.Parse()

	// Handlers go in before Daemonize: the parent returns as soon as the
	// daemon's Daemonize has returned (unless -notify), and a HUP or TERM
	// arriving before signal.Notify would kill a Go program outright.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, stop := signals.StopContext(context.Background())
	defer stop()

	d, err := controller.Daemonize(controller.Options{
		PIDFile: *pidPath,
		Stdout:  *logPath,
		Stderr:  *logPath,
		Notify:  *notify,

		ReturnInParent: *returnInParent,
	})
	var running *controller.AlreadyRunningError
	switch {
	case errors.As(err, &running):
		fmt.Fprintf(os.Stderr, "example: already running as pid %d\n", running.PID)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
	if d.Parent {
		fmt.Printf("parent: daemon is pid %d\n", d.PID)
		return
	}
	// From here on this is the daemon.
	defer d.Release()
	if *twice {
		if _, err := controller.Daemonize(controller.Options{PIDFile: *pidPath}); err != nil {
			log.Printf("second Daemonize: %v", err)
			d.Release()
			os.Exit(3)
		}
	}

	log.Printf("up as pid %d", d.PID)
	if *notify {
		if err := controller.Ready(); err != nil {
			log.Printf("ready: %v", err)
		}
	}
	for {
		select {
		case <-hup:
			log.Printf("reload")
		case <-ctx.Done():
			log.Printf("stopping")
			return
		}
	}
}
