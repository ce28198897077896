package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/internal/term"
	"github.com/daemonctl/daemonctl/service"
)

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop the daemon holding the pidfile's lock, and remove the pidfile",
		ArgsUsage: "NAME | --all | -p FILE",
		Description: `Signals only processes that hold the pidfile's lock, through pidfds, and walks the
stop schedule (default TERM/10/KILL/5) until the lock is free. A daemon that is not
running, or a stale pidfile, is a successful stop (exit 0); one still running at the end
of the schedule is exit 1.

The schedule (--retry) is start-stop-daemon's: signals, seconds to wait and "forever"
(go back to the item after it at the end), separated by slashes in any order.

NAME stops a defined service (its file's pidfile and stop-schedule, unless --signal or
--retry say otherwise). --all stops every defined service, all at once.

EXAMPLE:
   daemonctl stop web
   daemonctl stop --all
   daemonctl stop -p /run/web.pid
   daemonctl stop -p /run/web.pid --retry QUIT/30/TERM/10/KILL/5
   daemonctl stop -p /run/redis/redis-server.pid --retry forever/TERM/1
   daemonctl stop -p /run/sshd.pid --exec /usr/sbin/sshd                # only if it runs sshd`,
		Flags:  append(append(commonFlags(), allFlag(), execFlag()), stopFlags()...),
		Action: stopAction,
	}
}

// stopParallel bounds how many services stop --all stops at once: a
// daemon slow to exit must not hold up the others.
const stopParallel = 32

func stopAction(c *cli.Context) error {
	if !byPIDFile(c) {
		if c.Bool("all") {
			return forAll(c, parallelStops(), func(def *service.Definition, out io.Writer) error {
				return stopWith(c, def.StopSpec(), out, false)
			})
		}
		def, err := namedService(c, 0)
		if err != nil {
			return err
		}
		return stopWith(c, def.StopSpec(), c.App.Writer, true)
	}
	if c.Bool("all") {
		return usagef(c, "--all stops the defined services; it does not go with -p")
	}
	if c.Args().Present() {
		return usagef(c, "unexpected argument %q", c.Args().First())
	}
	return stopWith(c, controller.StopSpec{PIDFile: c.String("pidfile"), Name: c.String("name")}, c.App.Writer, true)
}

// stopWith stops spec, its schedule overridden by --signal and --retry,
// with a live line on a terminal when live is set.
func stopWith(c *cli.Context, spec controller.StopSpec, out io.Writer, live bool) error {
	sched, err := scheduleOver(c, spec.Schedule)
	if err != nil {
		return err
	}
	if spec.Exec, err = execOption(c); err != nil {
		return err
	}
	spec.Schedule = sched
	var line *term.Line
	if live {
		line, spec.Observe = stopProgress(c.App.ErrWriter, c.Bool("quiet"))
	}
	stopped, err := controller.Stop(spec)
	line.End()
	if err != nil {
		return err
	}
	reportStopped(c, out, stopped)
	return nil
}

func reportStopped(c *cli.Context, out io.Writer, stopped controller.Stopped) {
	if stopped.Warning != "" {
		fmt.Fprintln(c.App.ErrWriter, stopped.Warning)
	}
	if c.Bool("quiet") {
		return
	}
	switch {
	case stopped.WasRunning && stopped.Program != 0:
		fmt.Fprintf(out, "%s: stopped (pid %d, supervisor %d) in %v\n", stopped.Name, stopped.Program, stopped.PID, controller.RoundElapsed(stopped.Elapsed))
	case stopped.WasRunning && stopped.PID != 0:
		fmt.Fprintf(out, "%s: stopped (pid %d) in %v\n", stopped.Name, stopped.PID, controller.RoundElapsed(stopped.Elapsed))
	case stopped.WasRunning:
		fmt.Fprintf(out, "%s: stopped the processes still holding the lock in %v\n", stopped.Name, controller.RoundElapsed(stopped.Elapsed))
	case stopped.StaleRemoved:
		fmt.Fprintf(out, "%s: not running (removed stale pidfile)\n", stopped.Name)
	default:
		fmt.Fprintf(out, "%s: not running\n", stopped.Name)
	}
}
