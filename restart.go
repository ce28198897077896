package main

import (
	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
)

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "stop the daemon if it runs, then start PROGRAM",
		ArgsUsage: "-- PROGRAM [ARG...]",
		Description: `Takes the flags of stop (--signal, --retry) and of start. When the daemon is not
running it just starts it.

EXAMPLE:
   daemonctl restart -p /run/web.pid --retry TERM/30/KILL/5 -- /usr/bin/web --port 8080`,
		Flags: append(append(commonFlags(), startFlags()...), stopFlags()...),
		Action: func(c *cli.Context) error {
			spec, err := startSpec(c)
			if err != nil {
				return err
			}
			started, err := controller.Restart(controller.StopSpec{Schedule: spec.StopSchedule}, spec, nil, c.App.ErrWriter)
			if err != nil {
				return err
			}
			reportStarted(c, started)
			return nil
		},
	}
}
