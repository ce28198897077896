package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/signals"
)

func reloadCommand() *cli.Command {
	return &cli.Command{
		Name:      "reload",
		Usage:     "send HUP (or --signal) to the daemon holding the pidfile's lock",
		ArgsUsage: "NAME | -p FILE",
		Description: `Exit 7 when the daemon is not running. NAME reloads a defined service with its
file's reload-signal (default HUP) unless --signal is given.

EXAMPLE:
   daemonctl reload web
   daemonctl reload -p /run/web.pid
   daemonctl reload -p /run/web.pid --signal USR2`,
		Flags: append(commonFlags(), execFlag(),
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "HUP", Usage: "`SIGNAL` to send"}),
		Action: func(c *cli.Context) error {
			if !byPIDFile(c) {
				def, err := namedService(c, 0)
				if err != nil {
					return err
				}
				sig := signals.Name(def.ReloadSignal)
				if c.IsSet("signal") {
					sig = c.String("signal")
				}
				return sendSignal(c, controller.SignalSpec{PIDFile: def.PIDFile, Name: def.Name, Program: def.Program}, sig)
			}
			if c.Args().Present() {
				return usagef(c, "unexpected argument %q", c.Args().First())
			}
			return sendSignal(c, controller.SignalSpec{PIDFile: c.String("pidfile"), Name: c.String("name")}, c.String("signal"))
		},
	}
}

// sendSignal is reload's and signal's shared action: it sends the signal
// named sig to the daemon spec names.
func sendSignal(c *cli.Context, spec controller.SignalSpec, sig string) error {
	var err error
	if spec.Signal, err = signals.Parse(sig); err != nil {
		return usagef(c, "%v", err)
	}
	if spec.Exec, err = execOption(c); err != nil {
		return err
	}
	pid, err := controller.Signal(spec)
	if err != nil {
		return err
	}
	if !c.Bool("quiet") {
		name := controller.ServiceName(spec.Name, spec.PIDFile)
		fmt.Fprintf(c.App.Writer, "%s: sent %s to pid %d\n", name, signals.Name(spec.Signal), pid)
	}
	return nil
}
