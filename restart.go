package main

import (
	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
)

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "stop the daemon if it runs, then start it again",
		ArgsUsage: "NAME | -p FILE -- PROGRAM [ARG...]",
		Description: `Takes the flags of stop (--signal, --retry) and of start. When the daemon is not
running it just starts it. NAME restarts a defined service; options given here
override its file's.

EXAMPLE:
   daemonctl restart web
   daemonctl restart -p /run/web.pid --retry TERM/30/KILL/5 -- /usr/bin/web --port 8080`,
		Flags: append(append(commonFlags(), startFlags()...), stopFlags()...),
		Action: func(c *cli.Context) error {
			spec, err := startSpecOf(c)
			if err != nil {
				return err
			}
			stop := controller.StopSpec{Schedule: spec.StopSchedule}
			stopLine, observe := restartProgress(c.App.ErrWriter, c.Bool("quiet"), &spec)
			stop.Observe = observe
			started, err := controller.Restart(stop, spec, progressWriter(stopLine, c.App.ErrWriter))
			stopLine.End()
			if err != nil {
				return err
			}
			reportStarted(c, c.App.Writer, started)
			return nil
		},
	}
}
