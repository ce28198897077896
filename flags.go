package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/signals"
)

// commonFlags are every service command's: which pidfile, what to call
// the service, and whether to be quiet. Flags are built afresh per app, as
// urfave/cli records parse state in them.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "pidfile", Aliases: []string{"p"}, Usage: "the PID `FILE` (locked by the daemon while it runs); without it, name a service defined in the --config-dir"},
		&cli.StringFlag{Name: "name", Usage: "with -p: service `NAME` for messages (default: the pidfile's base name without .pid)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing on success"},
	}
}

func stopFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "TERM", Usage: "first `SIGNAL` of the stop schedule (with --retry: only of a bare number)"},
		&cli.StringFlag{Name: "retry", Aliases: []string{"R"}, Usage: "stop `SCHEDULE`, start-stop-daemon's: signals, seconds to wait and forever (repeat what follows) separated by /, in any order, like TERM/30/KILL/5 or forever/TERM/1; a bare number N means SIGNAL/N/KILL/N (default TERM/10/KILL/5)"},
	}
}

func startFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "chdir", Aliases: []string{"d"}, Usage: "working `DIR` of the daemon (default /)"},
		&cli.StringFlag{Name: "umask", Usage: "octal `MASK` for the daemon (default 022)"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as `USER` (name or uid), with its groups; root only"},
		&cli.StringFlag{Name: "group", Aliases: []string{"g"}, Usage: "run with primary `GROUP` (name or gid); root only"},
		&cli.GenericFlag{Name: "env", Aliases: []string{"e"}, Value: &envList{}, Usage: "add `KEY=VALUE` to the environment (repeatable)"},
		&cli.BoolFlag{Name: "clear-env", Usage: "start from an empty environment (then only --env)"},
		&cli.StringFlag{Name: "stdout", Aliases: []string{"o"}, Usage: "append the daemon's stdout to `FILE` (created 0640; default /dev/null)"},
		&cli.StringFlag{Name: "stderr", Usage: "append the daemon's stderr to `FILE` (created 0640; default /dev/null)"},
		&cli.IntFlag{Name: "nice", Aliases: []string{"N"}, Usage: "run at nice `LEVEL` (-20..19)"},
		&cli.DurationFlag{Name: "wait", Aliases: []string{"w"}, Usage: "fail unless the daemon is still alive after `DURATION` (e.g. 500ms)"},
		&cli.BoolFlag{Name: "notify", Usage: "wait for READY=1 on NOTIFY_SOCKET (systemd's sd_notify protocol)"},
		&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "with --notify: give up after `DURATION` and stop the daemon (with --supervise --forking: bounds the start-up's hand-over too)"},
		&cli.BoolFlag{Name: "keep-on-timeout", Usage: "with --notify: leave the daemon running on timeout (start still fails)"},
		&cli.StringFlag{Name: "notify-socket", Usage: "with --notify: bind the socket at file-system `PATH` instead of an abstract name"},
		&cli.BoolFlag{Name: "supervise", Usage: "keep the program running: daemonctl's supervisor holds the lock, respawns the program, and rotates its --stdout and --stderr"},
		&cli.StringFlag{Name: "respawn", Usage: "with --supervise: respawn `WHEN` the program exits: on-failure (a non-zero status or a signal; the default) or always"},
		&cli.DurationFlag{Name: "respawn-delay", Usage: "with --supervise: wait `DURATION` before the first respawn, doubling each time (default 100ms)"},
		&cli.DurationFlag{Name: "respawn-delay-max", Usage: "with --supervise: let the doubled delay grow to at most `DURATION` (default 30s)"},
		&cli.StringFlag{Name: "respawn-limit", Usage: "with --supervise: give up after more than N respawns within PERIOD, as `N/PERIOD` (default 5/10s), or unlimited"},
		&cli.DurationFlag{Name: "watchdog", Usage: "with --supervise: the program must send WATCHDOG=1 every `DURATION` (sd_notify), or it is aborted and respawned"},
		&cli.StringFlag{Name: "log-max-size", Usage: "with --supervise: rotate --stdout and --stderr at `SIZE` bytes (K, M, G suffixes; default 10M)"},
		&cli.IntFlag{Name: "log-keep", Usage: "with --supervise: keep `N` rotated files of each log (default 5)"},
		&cli.BoolFlag{Name: "forking", Usage: "with --supervise: the program forks itself away; its exit 0 ends the start-up and the process it leaves is supervised"},
		&cli.StringFlag{Name: "program-pidfile", Usage: "with --forking: the forking program writes its main process's PID to `FILE`"},
	}
}

// superviseOnly lists the start flags that mean something only with
// --supervise.
func superviseOnly() []string {
	return []string{"respawn", "respawn-delay", "respawn-delay-max", "respawn-limit", "watchdog", "log-max-size", "log-keep", "forking", "program-pidfile"}
}

// execFlag narrows what counts as the daemon (stop, status, reload,
// signal).
func execFlag() cli.Flag {
	return &cli.StringFlag{Name: "exec", Usage: "accept as the daemon only a process running the executable `PATH` (as start-stop-daemon's --exec); anything else in the pidfile is left alone"}
}

// execOption reads --exec: the executable must exist.
func execOption(c *cli.Context) (string, error) {
	path := c.String("exec")
	if !c.IsSet("exec") {
		return "", nil
	}
	if path == "" {
		return "", usagef(c, "--exec: give the path of the daemon's executable")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", usagef(c, "--exec %s: %v", path, err)
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() {
		return "", usagef(c, "--exec %s: no such executable file", path)
	}
	return abs, nil
}

// allFlag selects every defined service (start, stop, status).
func allFlag() cli.Flag {
	return &cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "act on every service defined in the --config-dir"}
}

// configDirFlag is the global --config-dir.
func configDirFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "config-dir",
		EnvVars: []string{"DAEMONCTL_CONFIG_DIR"},
		Usage:   "read service definitions (NAME.toml) from `DIR` (default /etc/daemonctl.d as root, $XDG_CONFIG_HOME/daemonctl otherwise)",
	}
}

// scheduleOver reads --signal and --retry as overrides of base (a
// service's own schedule, or the zero value: the default): --retry
// replaces it, --signal alone replaces its first signal.
func scheduleOver(c *cli.Context, base signals.Schedule) (signals.Schedule, error) {
	first, err := signals.Parse(c.String("signal"))
	if err != nil {
		return signals.Schedule{}, usagef(c, "--signal: %v", err)
	}
	if c.String("retry") == "" {
		if !c.IsSet("signal") {
			return base, nil
		}
		return base.OrDefault().WithFirst(first), nil
	}
	sched, err := signals.ParseSchedule(c.String("retry"), first)
	if err != nil {
		return signals.Schedule{}, usagef(c, "--retry: %v", err)
	}
	return sched, nil
}

// envList is --env's value: the KEY=VALUE entries exactly as given.
// cli.StringSliceFlag would trim their spaces and, copying the value to
// the -e alias through JSON, turn bytes that are not UTF-8 into U+FFFD.
type envList struct{ entries []string }

// envListCopy starts Serialize's form, which no argument can (it holds a
// NUL).
const envListCopy = "\x00env\x00"

// Set appends an entry, or takes over a copy made by Serialize.
func (l *envList) Set(v string) error {
	copied, ok := strings.CutPrefix(v, envListCopy)
	if !ok {
		l.entries = append(l.entries, v)
		return nil
	}
	l.entries = nil
	for q := range strings.SplitSeq(copied, "\x00") {
		if q == "" {
			continue
		}
		e, err := strconv.Unquote(q)
		if err != nil {
			return err
		}
		l.entries = append(l.entries, e)
	}
	return nil
}

// Serialize renders the entries losslessly (cli.Serializer), for the copy
// to the flag's other name.
func (l *envList) Serialize() string {
	var b strings.Builder
	b.WriteString(envListCopy)
	for _, e := range l.entries {
		b.WriteString(strconv.Quote(e) + "\x00")
	}
	return b.String()
}

func (l *envList) String() string { return strings.Join(l.entries, " ") }

// givenFlags is the set of the command's flags given on the command line
// or through their environment variables, under every name: c.IsSet for
// all of them at once. urfave/cli v2's IsSet of an absent flag runs every
// flag's names through a regular expression, so asking for each of start's
// options in turn cost more than the rest of start's parsing.
func givenFlags(c *cli.Context) map[string]bool {
	given := map[string]bool{}
	for _, name := range c.LocalFlagNames() {
		given[name] = true
	}
	return given
}

// cachedNames wraps each flag so that Names() is computed once, on first
// use. urfave/cli v2 builds a flag's names through a regular expression
// (FlagNames) on every call, and calls Names() on every flag of the
// command for each flag it looks up: in IsSet, and for every flag after
// each parse (runFlagActions). That made each command run hundreds of
// regexp matches, quadratic in its flags (start has 23). The wrappers
// embed the library's own flag types, so every other method and optional
// interface (help, completion, the generated docs) is the library's.
// urfave/cli also type-asserts *cli.BoolFlag in two places, for
// DisableDefaultText and Hidden, which no flag here sets.
func cachedNames(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		switch f := f.(type) {
		case *cli.StringFlag:
			out[i] = &stringFlag{StringFlag: f}
		case *cli.BoolFlag:
			out[i] = &boolFlag{BoolFlag: f}
		case *cli.IntFlag:
			out[i] = &intFlag{IntFlag: f}
		case *cli.DurationFlag:
			out[i] = &durationFlag{DurationFlag: f}
		case *cli.StringSliceFlag:
			out[i] = &stringSliceFlag{StringSliceFlag: f}
		case *cli.GenericFlag:
			out[i] = &genericFlag{GenericFlag: f}
		default:
			out[i] = f
		}
	}
	return out
}

// names holds a flag's names once computed. Only the command that runs
// computes its flags' (urfave/cli parses in one goroutine).
type names struct{ list []string }

func (n *names) get(compute func() []string) []string {
	if n.list == nil {
		n.list = compute()
	}
	return n.list
}

// Pointers, so that urfave/cli can compare flags (the slices make the
// structs incomparable).
type (
	stringFlag struct {
		*cli.StringFlag
		names
	}
	boolFlag struct {
		*cli.BoolFlag
		names
	}
	intFlag struct {
		*cli.IntFlag
		names
	}
	durationFlag struct {
		*cli.DurationFlag
		names
	}
	stringSliceFlag struct {
		*cli.StringSliceFlag
		names
	}
	genericFlag struct {
		*cli.GenericFlag
		names
	}
)

func (f *stringFlag) Names() []string      { return f.get(f.StringFlag.Names) }
func (f *boolFlag) Names() []string        { return f.get(f.BoolFlag.Names) }
func (f *intFlag) Names() []string         { return f.get(f.IntFlag.Names) }
func (f *durationFlag) Names() []string    { return f.get(f.DurationFlag.Names) }
func (f *stringSliceFlag) Names() []string { return f.get(f.StringSliceFlag.Names) }
func (f *genericFlag) Names() []string     { return f.get(f.GenericFlag.Names) }
