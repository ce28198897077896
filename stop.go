package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
)

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:  "stop",
		Usage: "stop the daemon holding the pidfile's lock, and remove the pidfile",
		Description: `Signals only processes that hold the pidfile's lock, through pidfds, and walks the
stop schedule (default TERM/10/KILL/5) until the lock is free. A daemon that is not
running, or a stale pidfile, is a successful stop (exit 0).

EXAMPLE:
   daemonctl stop -p /run/web.pid
   daemonctl stop -p /run/web.pid --retry QUIT/30/TERM/10/KILL/5`,
		Flags:  append(commonFlags(), stopFlags()...),
		Action: stopAction,
	}
}

func stopAction(c *cli.Context) error {
	if c.Args().Present() {
		return usagef(c, "unexpected argument %q", c.Args().First())
	}
	sched, err := schedule(c)
	if err != nil {
		return err
	}
	stopped, err := controller.Stop(controller.StopSpec{PIDFile: c.String("pidfile"), Name: c.String("name"), Schedule: sched}, nil)
	if err != nil {
		return err
	}
	reportStopped(c, stopped)
	return nil
}

func reportStopped(c *cli.Context, stopped controller.Stopped) {
	if c.Bool("quiet") {
		return
	}
	switch {
	case stopped.WasRunning && stopped.PID != 0:
		fmt.Fprintf(c.App.Writer, "%s: stopped (pid %d) in %v\n", stopped.Name, stopped.PID, roundElapsed(stopped.Elapsed))
	case stopped.WasRunning:
		fmt.Fprintf(c.App.Writer, "%s: stopped the processes still holding the lock in %v\n", stopped.Name, roundElapsed(stopped.Elapsed))
	case stopped.StaleRemoved:
		fmt.Fprintf(c.App.Writer, "%s: not running (removed stale pidfile)\n", stopped.Name)
	default:
		fmt.Fprintf(c.App.Writer, "%s: not running\n", stopped.Name)
	}
}
