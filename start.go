package main

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start PROGRAM as a daemon recorded in a locked pidfile",
		ArgsUsage: "-- PROGRAM [ARG...]",
		Description: `Detaches PROGRAM the classic way (new session, not its leader, cwd /, umask 022,
stdio on /dev/null) and records its PID in the pidfile, whose lock the daemon itself
holds. A service already running is left alone (exit 0).

EXAMPLE:
   daemonctl start -p /run/web.pid --user www-data --stderr /var/log/web.err -- /usr/bin/web --port 8080
   daemonctl start -p /run/web.pid --notify --timeout 20s -- /usr/bin/web   # until it sends READY=1
   daemonctl start -p /run/web.pid --wait 1s -- /usr/bin/web                # fail if it dies within 1 s`,
		Flags:  append(append(commonFlags(), startFlags()...), stopFlags()...),
		Action: startAction,
	}
}

func startAction(c *cli.Context) error {
	spec, err := startSpec(c)
	if err != nil {
		return err
	}
	started, err := controller.Start(spec, c.App.ErrWriter)
	if err != nil {
		return err
	}
	reportStarted(c, started)
	return nil
}

// startSpec reads the start flags and the program after them.
func startSpec(c *cli.Context) (controller.StartSpec, error) {
	spec := controller.StartSpec{
		PIDFile:       c.String("pidfile"),
		Name:          c.String("name"),
		Dir:           c.String("chdir"),
		User:          c.String("user"),
		Group:         c.String("group"),
		Env:           c.StringSlice("env"),
		ClearEnv:      c.Bool("clear-env"),
		Stdout:        c.String("stdout"),
		Stderr:        c.String("stderr"),
		Wait:          c.Duration("wait"),
		Notify:        c.Bool("notify"),
		NotifyTimeout: c.Duration("timeout"),
		KeepOnTimeout: c.Bool("keep-on-timeout"),
		NotifySocket:  c.String("notify-socket"),
	}
	if c.Args().Len() == 0 {
		return spec, usagef(c, "no program given: daemonctl %s -p FILE -- PROGRAM [ARG...]", c.Command.Name)
	}
	spec.Program, spec.Args = c.Args().First(), c.Args().Tail()
	if c.IsSet("umask") {
		mask, err := strconv.ParseUint(c.String("umask"), 8, 32)
		if err != nil || mask > 0o777 {
			return spec, usagef(c, "--umask %q: expected an octal mask like 022 or 027", c.String("umask"))
		}
		m := uint32(mask)
		spec.Umask = &m
	}
	if c.IsSet("nice") {
		n := c.Int("nice")
		spec.Nice = &n
	}
	if c.IsSet("wait") && spec.Wait <= 0 {
		return spec, usagef(c, "--wait %v: give a positive duration, like 500ms or 2s", spec.Wait)
	}
	if spec.Notify && spec.NotifyTimeout <= 0 {
		return spec, usagef(c, "--timeout %v: give a positive duration, like 30s", spec.NotifyTimeout)
	}
	for _, f := range []string{"timeout", "keep-on-timeout", "notify-socket"} {
		if c.IsSet(f) && !spec.Notify {
			return spec, usagef(c, "--%s only applies with --notify", f)
		}
	}
	sched, err := schedule(c)
	if err != nil {
		return spec, err
	}
	spec.StopSchedule = sched
	return spec, nil
}

func reportStarted(c *cli.Context, started controller.Started) {
	if started.Warning != "" {
		fmt.Fprintln(c.App.ErrWriter, started.Warning)
	}
	if c.Bool("quiet") {
		return
	}
	if started.AlreadyRunning {
		fmt.Fprintf(c.App.Writer, "%s: already running (pid %d)\n", started.Name, started.PID)
		return
	}
	fmt.Fprintf(c.App.Writer, "%s: started (pid %d)\n", started.Name, started.PID)
}
