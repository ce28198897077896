package main

import (
	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
)

func signalCommand() *cli.Command {
	return &cli.Command{
		Name:      "signal",
		Usage:     "send any signal to the daemon holding the pidfile's lock",
		ArgsUsage: "NAME SIGNAL | -p FILE SIGNAL",
		Description: `SIGNAL is a name (TERM, SIGTERM, usr1) or a number (15). Exit 7 when the daemon
is not running.

EXAMPLE:
   daemonctl signal web USR1
   daemonctl signal -p /run/web.pid USR1`,
		Flags: append(commonFlags(), execFlag()),
		Action: func(c *cli.Context) error {
			if !byPIDFile(c) {
				if c.Args().Len() == 1 {
					return usagef(c, "expected a service NAME and a SIGNAL, like: daemonctl signal web USR1")
				}
				def, err := namedService(c, 1)
				if err != nil {
					return err
				}
				return sendSignal(c, controller.SignalSpec{PIDFile: def.PIDFile, Name: def.Name, Program: def.Program}, c.Args().Get(1))
			}
			if c.Args().Len() != 1 {
				return usagef(c, "expected exactly one SIGNAL, like USR1 or 10")
			}
			return sendSignal(c, controller.SignalSpec{PIDFile: c.String("pidfile"), Name: c.String("name")}, c.Args().First())
		},
	}
}
