package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/pidfile"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "tell whether the daemon runs: the lock, not kill -0, decides",
		ArgsUsage: "[NAME | --all | -p FILE]",
		Description: `Exit codes follow LSB: 0 running, 1 dead with its pidfile left (or running
without its lock), 3 not running, 4 unknown (unreadable or garbage pidfile, or a
broken definition).

With no NAME and no -p (or with --all) it prints a table of every defined service:
NAME, STATE, PID, UPTIME, RSS and COMMAND, coloured on a terminal unless NO_COLOR is
set; --json prints an array of the objects a single status prints, each with "rss"
(bytes). The table's exit code is 4 if any service is unknown, else 1 if any is
dead, else 3 if any is stopped, else 0. A table with a supervised service gains a
RESPAWNS column.

--format prometheus prints the Prometheus text format for node_exporter's textfile
collector (every defined service, or NAME, or -p FILE): daemonctl_up,
daemonctl_state (one line per state, 1 for the service's), daemonctl_start_time_seconds,
daemonctl_respawns_total, daemonctl_last_exit_time_seconds (code, signal and cause
labels), daemonctl_rss_bytes, and for supervised services
daemonctl_log_write_failures_total and daemonctl_watchdog_misses_total, labelled
service and pidfile. The states are in the metrics, so it exits 0 once they are
written (4 on bad usage or an unreadable definition directory).

EXAMPLE:
   daemonctl status
   daemonctl status web
   daemonctl status --json
   daemonctl status -p /run/web.pid
   daemonctl status -p /run/web.pid --json
   daemonctl status -p /run/sshd.pid --exec /usr/sbin/sshd
   daemonctl status --format prometheus > /var/lib/node_exporter/daemonctl.prom.$$ &&
       mv /var/lib/node_exporter/daemonctl.prom.$$ /var/lib/node_exporter/daemonctl.prom`,
		Flags: append(append(commonFlags(), allFlag(), execFlag()), &cli.BoolFlag{Name: "json", Usage: "print JSON: one object, or an array for the table"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "`FORMAT` of the output: text, json (as --json) or prometheus (the text exposition format)"}),
		Action: statusAction,
	}
}

func statusAction(c *cli.Context) error {
	switch c.String("format") {
	case "text":
	case "json":
		if err := c.Set("json", "true"); err != nil {
			return err
		}
	case "prometheus":
		return statusPrometheus(c)
	default:
		return usagef(c, "--format %q: give text, json or prometheus", c.String("format"))
	}
	if !byPIDFile(c) {
		if c.Bool("all") || !c.Args().Present() && !c.IsSet("name") {
			return statusTable(c)
		}
		def, err := namedService(c, 0)
		if err != nil {
			if c.Bool("json") && !errors.Is(err, controller.ErrUsage) {
				// A service that cannot be used still has a status.
				_ = writeJSON(c.App.Writer, controller.Report{Name: c.Args().First(), State: controller.StateInvalid, Message: oneLine(err)}, false)
			}
			return err
		}
		return printStatus(c, def.PIDFile, def.Name, def.Program)
	}
	if c.Bool("all") {
		return usagef(c, "--all shows the defined services; it does not go with -p")
	}
	if c.Args().Present() {
		return usagef(c, "unexpected argument %q", c.Args().First())
	}
	return printStatus(c, c.String("pidfile"), c.String("name"), "")
}

// printStatus prints one service's status, as a line or a JSON object.
// program, when known, is the service's (pidfile.WithProgram).
func printStatus(c *cli.Context, path, name, program string) error {
	var opts []pidfile.Option
	if program != "" {
		opts = append(opts, pidfile.WithProgram(program))
	}
	exe, err := execOption(c)
	if err != nil {
		return err
	}
	if exe != "" {
		opts = append(opts, pidfile.WithExec(exe))
	}
	report, err := controller.Status(path, name, opts...)
	if errors.Is(err, controller.ErrUsage) && !c.Bool("json") {
		return commandUsage(c.Command.Name, err) // printed by run, as usage errors are
	}
	switch {
	case c.Bool("json"):
		if jerr := writeJSON(c.App.Writer, report, false); jerr != nil {
			return jerr
		}
	case err == nil && c.Bool("quiet"):
	case exitCode("status", err) == statusUnknown:
		fmt.Fprintln(c.App.ErrWriter, printable(report.Message))
	default:
		fmt.Fprintln(c.App.Writer, printable(report.Message))
	}
	if err != nil {
		return reported{err}
	}
	return nil
}
