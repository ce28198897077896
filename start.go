package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/service"
	"github.com/daemonctl/daemonctl/supervise"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start a defined service, or PROGRAM, as a daemon recorded in a locked pidfile",
		ArgsUsage: "NAME | --all | -p FILE -- PROGRAM [ARG...]",
		Description: `Detaches PROGRAM the classic way (new session, not its leader, cwd /, umask 022,
stdio on /dev/null) and records its PID in the pidfile, whose lock the daemon itself
holds. A service already running is left alone (exit 0).

NAME starts the service its definition file (NAME.toml in the --config-dir) describes;
options given here override the file's. --all starts every defined service, one after
another, and reports the broken definitions without stopping at them.

EXAMPLE:
   daemonctl start web
   daemonctl start --wait 2s web                                            # override the file
   daemonctl start --all
   daemonctl start -p /run/web.pid --user www-data --stderr /var/log/web.err -- /usr/bin/web --port 8080
   daemonctl start -p /run/web.pid --notify --timeout 20s -- /usr/bin/web   # until it sends READY=1
   daemonctl start -p /run/web.pid --wait 1s -- /usr/bin/web                # fail if it dies within 1 s`,
		Flags:  append(append(append(commonFlags(), allFlag()), startFlags()...), stopFlags()...),
		Action: startAction,
	}
}

func startAction(c *cli.Context) error {
	if !byPIDFile(c) && c.Bool("all") {
		return forAll(c, 1, func(def *service.Definition, out io.Writer) error {
			spec, err := serviceStartSpec(c, def)
			if err != nil {
				return err
			}
			return startWith(c, spec, out)
		})
	}
	spec, err := startSpecOf(c)
	if err != nil {
		return err
	}
	return startWith(c, spec, c.App.Writer)
}

// startSpecOf is the start the command line asks for (start's, restart's):
// -p FILE -- PROGRAM [ARG...], or a defined service's NAME.
func startSpecOf(c *cli.Context) (controller.StartSpec, error) {
	if byPIDFile(c) {
		return startSpec(c)
	}
	def, err := namedService(c, 0)
	if err != nil {
		return controller.StartSpec{}, err
	}
	return serviceStartSpec(c, def)
}

// serviceStartSpec is a defined service's start, checked as a start needs
// (the program is installed, the user exists, ...), with the command
// line's options over its file's.
func serviceStartSpec(c *cli.Context, def *service.Definition) (controller.StartSpec, error) {
	if err := checkStartable(def); err != nil {
		return controller.StartSpec{}, err
	}
	spec := def.StartSpec
	return spec, applyStartFlags(c, &spec)
}

// startWith starts spec, with a live line while it waits for readiness.
func startWith(c *cli.Context, spec controller.StartSpec, out io.Writer) error {
	live := startProgress(c.App.ErrWriter, c.Bool("quiet") || c.Bool("all"), spec)
	started, err := controller.Start(spec, progressWriter(live, c.App.ErrWriter))
	live.End()
	if err != nil {
		return err
	}
	reportStarted(c, out, started)
	return nil
}

// startSpec reads the start flags and the program after them (-p mode).
func startSpec(c *cli.Context) (controller.StartSpec, error) {
	spec := controller.StartSpec{PIDFile: c.String("pidfile"), Name: c.String("name")}
	if c.Bool("all") {
		return spec, usagef(c, "--all starts the defined services; it does not go with -p")
	}
	if c.Args().Len() == 0 {
		return spec, usagef(c, "no program given: daemonctl %s -p FILE -- PROGRAM [ARG...]", c.Command.Name)
	}
	spec.Program, spec.Args = c.Args().First(), c.Args().Tail()
	return spec, applyStartFlags(c, &spec)
}

// applyStartFlags sets in spec what the start options given on the command
// line say: over a definition's values, or over nothing (-p mode), where
// an option not given leaves the controller's default.
func applyStartFlags(c *cli.Context, spec *controller.StartSpec) error {
	given := givenFlags(c)
	// An empty value would silently mean the default (run as the caller,
	// in /, to /dev/null): say so instead.
	for _, f := range []struct{ flag, what string }{
		{"user", "a user name or uid"}, {"group", "a group name or gid"}, {"chdir", "a directory"},
		{"stdout", "a file"}, {"stderr", "a file"}, {"notify-socket", "a socket path"},
	} {
		if given[f.flag] && c.String(f.flag) == "" {
			return usagef(c, "--%s is empty: give %s, or leave the option out", f.flag, f.what)
		}
	}
	for flag, field := range map[string]*string{
		"chdir": &spec.Dir, "user": &spec.User, "group": &spec.Group,
		"stdout": &spec.Stdout, "stderr": &spec.Stderr, "notify-socket": &spec.NotifySocket,
	} {
		if given[flag] {
			*field = c.String(flag)
		}
	}
	if given["env"] {
		if env, ok := c.Generic("env").(*envList); ok {
			// Clipped: never appended into a definition's array.
			spec.Env = append(slices.Clip(spec.Env), env.entries...)
		}
	}
	for flag, field := range map[string]*bool{"clear-env": &spec.ClearEnv, "notify": &spec.Notify, "keep-on-timeout": &spec.KeepOnTimeout} {
		if given[flag] {
			*field = c.Bool(flag)
		}
	}
	if given["umask"] {
		mask, err := strconv.ParseUint(c.String("umask"), 8, 32)
		if err != nil || mask > 0o777 {
			return usagef(c, "--umask %q: expected an octal mask like 022 or 027", c.String("umask"))
		}
		m := uint32(mask)
		spec.Umask = &m
	}
	if given["nice"] {
		n := c.Int("nice")
		spec.Nice = &n
	}
	if given["wait"] {
		spec.Wait = c.Duration("wait")
		if spec.Wait <= 0 {
			return usagef(c, "--wait %v: give a positive duration, like 500ms or 2s", spec.Wait)
		}
	}
	if given["timeout"] {
		spec.NotifyTimeout = c.Duration("timeout")
		if spec.NotifyTimeout <= 0 {
			return usagef(c, "--timeout %v: give a positive duration, like 30s", spec.NotifyTimeout)
		}
	}
	sched, err := scheduleOver(c, spec.StopSchedule)
	if err != nil {
		return err
	}
	spec.StopSchedule = sched
	if err := applySuperviseFlags(c, given, spec); err != nil {
		return err
	}
	for _, f := range []string{"timeout", "keep-on-timeout", "notify-socket"} {
		// --timeout also bounds a supervised forking program's start-up.
		forking := f == "timeout" && spec.Supervise != nil && spec.Supervise.Forking
		if given[f] && !spec.Notify && !forking {
			return usagef(c, "--%s only applies with --notify", f)
		}
	}
	return nil
}

// applySuperviseFlags sets spec.Supervise from --supervise and the
// settings that go with it, over a definition's.
func applySuperviseFlags(c *cli.Context, given map[string]bool, spec *controller.StartSpec) error {
	if given["supervise"] {
		switch {
		case !c.Bool("supervise"):
			spec.Supervise = nil
		case spec.Supervise == nil:
			spec.Supervise = controller.DefaultSupervision()
		}
	}
	sv := spec.Supervise
	if sv == nil {
		for _, f := range superviseOnly() {
			if given[f] {
				return usagef(c, "--%s only applies with --supervise: add --supervise, or leave --%s out", f, f)
			}
		}
		return nil
	}
	// A copy: never written into a definition's.
	cp := *sv
	sv = &cp
	spec.Supervise = sv
	var err error
	if given["respawn"] {
		if sv.Respawn.When, err = supervise.ParseWhen(c.String("respawn")); err != nil {
			return usagef(c, "--respawn %q: give on-failure or always", c.String("respawn"))
		}
	}
	if given["respawn-limit"] {
		if sv.Respawn.Limit, err = supervise.ParseLimit(c.String("respawn-limit")); err != nil {
			return usagef(c, "--respawn-limit: %v", err)
		}
	}
	if given["log-max-size"] {
		if sv.LogMaxSize, err = supervise.ParseSize(c.String("log-max-size")); err != nil {
			return usagef(c, "--log-max-size: %v", err)
		}
	}
	for flag, field := range map[string]*time.Duration{"respawn-delay": &sv.Respawn.Delay, "respawn-delay-max": &sv.Respawn.DelayMax, "watchdog": &sv.Watchdog} {
		if !given[flag] {
			continue
		}
		*field = c.Duration(flag)
		if *field < 0 || flag == "watchdog" && *field < time.Millisecond {
			return usagef(c, "--%s %v: give a positive duration, like 30s", flag, *field)
		}
	}
	if given["respawn-delay"] && !given["respawn-delay-max"] && sv.Respawn.DelayMax < sv.Respawn.Delay {
		sv.Respawn.DelayMax = sv.Respawn.Delay
	}
	if given["log-keep"] {
		if sv.LogKeep = c.Int("log-keep"); sv.LogKeep < 0 || sv.LogKeep > 1000 {
			return usagef(c, "--log-keep %d: give a number of old files from 0 to 1000", sv.LogKeep)
		}
	}
	if given["forking"] {
		sv.Forking = c.Bool("forking")
	}
	if given["program-pidfile"] {
		if sv.ProgramPIDFile = c.String("program-pidfile"); sv.ProgramPIDFile == "" {
			return usagef(c, "--program-pidfile is empty: give the file the forking program writes its PID to")
		}
	}
	if sv.ProgramPIDFile != "" && !sv.Forking {
		return usagef(c, "--program-pidfile only applies with --forking: add --forking, or leave it out")
	}
	return nil
}

func reportStarted(c *cli.Context, out io.Writer, started controller.Started) {
	if started.Warning != "" {
		fmt.Fprintln(c.App.ErrWriter, started.Warning)
	}
	if c.Bool("quiet") {
		return
	}
	if started.AlreadyRunning {
		note := ""
		if started.Note != "" {
			note = "; " + started.Note
		}
		switch {
		case started.Supervisor != 0 && started.PID != 0:
			fmt.Fprintf(out, "%s: already running (pid %d, supervisor %d%s)\n", started.Name, started.PID, started.Supervisor, note)
		case started.Supervisor != 0:
			fmt.Fprintf(out, "%s: already running (supervisor %d, the program in backoff%s)\n", started.Name, started.Supervisor, note)
		default:
			fmt.Fprintf(out, "%s: already running (pid %d%s)\n", started.Name, started.PID, note)
		}
		return
	}
	if started.Supervisor != 0 {
		fmt.Fprintf(out, "%s: started (pid %d, supervisor %d)\n", started.Name, started.PID, started.Supervisor)
		return
	}
	fmt.Fprintf(out, "%s: started (pid %d)\n", started.Name, started.PID)
}
