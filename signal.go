package main

import (
	"github.com/urfave/cli/v2"
)

func signalCommand() *cli.Command {
	return &cli.Command{
		Name:      "signal",
		Usage:     "send any signal to the daemon holding the pidfile's lock",
		ArgsUsage: "SIGNAL",
		Description: `SIGNAL is a name (TERM, SIGTERM, usr1) or a number (15). Exit 7 when the daemon
is not running.

EXAMPLE:
   daemonctl signal -p /run/web.pid USR1`,
		Flags: commonFlags(),
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return usagef(c, "expected exactly one SIGNAL, like USR1 or 10")
			}
			return sendSignal(c, c.Args().First())
		},
	}
}
