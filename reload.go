package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/signals"
)

func reloadCommand() *cli.Command {
	return &cli.Command{
		Name:  "reload",
		Usage: "send HUP (or --signal) to the daemon holding the pidfile's lock",
		Description: `Exit 7 when the daemon is not running.

EXAMPLE:
   daemonctl reload -p /run/web.pid
   daemonctl reload -p /run/web.pid --signal USR2`,
		Flags: append(commonFlags(),
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "HUP", Usage: "`SIGNAL` to send"}),
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef(c, "unexpected argument %q", c.Args().First())
			}
			return sendSignal(c, c.String("signal"))
		},
	}
}

// sendSignal is reload's and signal's shared action.
func sendSignal(c *cli.Context, name string) error {
	sig, err := signals.Parse(name)
	if err != nil {
		return usagef(c, "%v", err)
	}
	spec := controller.SignalSpec{PIDFile: c.String("pidfile"), Name: c.String("name"), Signal: sig}
	pid, err := controller.Signal(spec)
	if err != nil {
		return err
	}
	if !c.Bool("quiet") {
		name := spec.Name
		if name == "" {
			name = controller.NameFor(spec.PIDFile)
		}
		fmt.Fprintf(c.App.Writer, "%s: sent %s to pid %d\n", name, signals.Name(sig), pid)
	}
	return nil
}
