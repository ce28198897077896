package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// completeCommand answers the shell completion scripts (doc/completion):
// "daemonctl __complete services" lists the defined services' names, one
// a line. It is hidden, and prints nothing on error: a completion must
// never spill messages onto the operator's command line.
func completeCommand() *cli.Command {
	return &cli.Command{
		Name:      "__complete",
		Hidden:    true,
		Usage:     "list words for shell completion",
		ArgsUsage: "services | signals",
		Description: `Prints the defined services' names (or signal names), one a line, for the
completion scripts; nothing when the definition directory cannot be read.

EXAMPLE:
   daemonctl __complete services
   daemonctl --config-dir ./services __complete services`,
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "services":
				set, err := loadServices(c)
				if err != nil {
					return nil
				}
				for _, name := range set.Names() {
					fmt.Fprintln(c.App.Writer, name)
				}
			case "signals":
				for _, sig := range completionSignals() {
					fmt.Fprintln(c.App.Writer, sig)
				}
			default:
				return usagef(c, "expected services or signals")
			}
			return nil
		},
	}
}

// completionSignals are the signals worth offering to complete; any other
// name or number is still accepted.
func completionSignals() []string {
	return []string{"HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "CONT", "STOP", "WINCH", "ALRM"}
}
