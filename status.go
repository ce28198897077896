package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "tell whether the daemon runs: the lock, not kill -0, decides",
		Description: `Exit codes follow LSB: 0 running, 1 dead with its pidfile left (or running
without its lock), 3 not running, 4 unknown (unreadable or garbage pidfile).

EXAMPLE:
   daemonctl status -p /run/web.pid
   daemonctl status -p /run/web.pid --json`,
		Flags:  append(commonFlags(), &cli.BoolFlag{Name: "json", Usage: "print one JSON object"}),
		Action: statusAction,
	}
}

func statusAction(c *cli.Context) error {
	if c.Args().Present() {
		return usagef(c, "unexpected argument %q", c.Args().First())
	}
	report, err := controller.Status(c.String("pidfile"), c.String("name"))
	switch {
	case c.Bool("json"):
		enc := json.NewEncoder(c.App.Writer)
		if jerr := enc.Encode(report); jerr != nil {
			return jerr
		}
	case err == nil && c.Bool("quiet"):
	case controller.ExitCode(err) == 4:
		fmt.Fprintln(c.App.ErrWriter, report.Message)
	default:
		fmt.Fprintln(c.App.Writer, report.Message)
	}
	if err != nil {
		return reported{err}
	}
	return nil
}
