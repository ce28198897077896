// Command daemonctl starts, stops and inspects Unix daemons through locked
// PID files. See README.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/service"
	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/ssd"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	// First, before anything opens a pollable descriptor (see fdlimit.go).
	launcher := controller.IsLauncher()
	if err := checkDescriptors(commandOf(os.Args), launcher); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitCode(commandOf(os.Args), err))
	}
	if launcher {
		os.Exit(controller.RunLauncher())
	}
	if code, ok := standIn(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run builds the app, runs it and maps its error to an exit code; it is
// the only place exit codes are decided.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.Run(args)
	if err == nil {
		return 0
	}
	if exit, ok := errors.AsType[cli.ExitCoder](err); ok {
		// urfave/cli's only exit error is help's "No help topic for 'X'",
		// for `daemonctl X` or `daemonctl help X`: an unknown command.
		topic := strings.TrimPrefix(exit.Error(), "No help topic for ")
		err = usageErr{fmt.Sprintf("daemonctl: unknown command %s (see 'daemonctl --help')", topic)}
	}
	command := commandOf(args)
	var done reported
	if !errors.As(err, &done) {
		fmt.Fprintln(stderr, printableText(oneLine(commandUsage(command, err))))
	}
	return exitCode(command, err)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "daemonctl",
		Usage:     "start, stop and inspect Unix daemons through locked PID files",
		Version:   version,
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed and mapped to exit codes by run, never by the
		// library calling os.Exit.
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError:              usageError,
		DisableSliceFlagSeparator: true,
		HideHelpCommand:           false,
		Flags:                     []cli.Flag{configDirFlag()},
		Commands: []*cli.Command{
			startCommand(),
			stopCommand(),
			statusCommand(),
			reloadCommand(),
			restartCommand(),
			signalCommand(),
			checkCommand(),
			initScriptCommand(),
			completeCommand(),
		},
	}
	app.Flags = cachedNames(app.Flags)
	for _, c := range app.Commands {
		// A bad flag value is a usage error (exit 2), reported in one line.
		c.OnUsageError = usageError
		c.Flags = cachedNames(c.Flags)
	}
	return app
}

// errUsage marks command-line mistakes (LSB exit 2).
var errUsage = errors.New("usage")

// errFewDescriptors means RLIMIT_NOFILE leaves too few descriptors for
// the command (exit 1; status: 4, unknown).
var errFewDescriptors = errors.New("too few file descriptors")

// usageErr is a command-line mistake, with its message.
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }
func (e usageErr) Is(target error) bool {
	return target == errUsage || target == controller.ErrUsage
}

func usageError(c *cli.Context, err error, isSubcommand bool) error {
	name := "daemonctl"
	if c != nil && c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		name += " " + c.Command.Name
	}
	return usageErr{fmt.Sprintf("%s: %v (see '%s --help')", name, err, name)}
}

func usagef(c *cli.Context, format string, args ...any) error {
	return usageError(c, fmt.Errorf(format, args...), true)
}

// commandUsage gives a usage error that a library returned (the
// controller's "--nice 40: must be between -20 and 19") the form of the
// command line's own: "daemonctl COMMAND: ... (see 'daemonctl COMMAND
// --help')". Other errors, and usage errors already in that form, are
// returned as they are.
func commandUsage(command string, err error) error {
	var own usageErr
	if !errors.Is(err, controller.ErrUsage) || errors.As(err, &own) {
		return err
	}
	name := "daemonctl"
	if command != "" {
		name += " " + command
	}
	return usageErr{fmt.Sprintf("%s: %v (see '%s --help')", name, err, name)}
}

// reported wraps an error whose message the command already printed; only
// its exit code remains to be decided.
type reported struct{ err error }

func (r reported) Error() string { return r.err.Error() }
func (r reported) Unwrap() error { return r.err }

// exitCode maps an error to the LSB exit code of the command that failed
// (see the table in README.md).
func exitCode(command string, err error) int {
	switch {
	case err == nil:
		return 0
	case command == ssd.Name:
		// Before the personality runs (too few descriptors): trouble, in
		// start-stop-daemon's codes.
		return ssd.TroubleCode(os.Args)
	case errors.Is(err, controller.ErrUsage), errors.Is(err, signals.ErrBadSignal), errors.Is(err, signals.ErrBadSchedule):
		if command == "status" {
			return 4
		}
		return 2
	case command == "status":
		return controller.ExitCode(err)
	case errors.Is(err, controller.ErrUnverified):
		// Nothing was done because nobody can vouch for the process in the
		// pidfile: status's "unknown" for stop, reload and signal; a
		// failed start for start.
		if command == "start" || command == "restart" {
			return 1
		}
		return 4
	case errors.Is(err, controller.ErrNoPrivilege), errors.Is(err, fs.ErrPermission):
		return 4
	case errors.Is(err, controller.ErrProgramNotFound) && (command == "start" || command == "restart" || command == "check"):
		return 5
	case errors.Is(err, service.ErrNotConfigured):
		return 6
	case errors.Is(err, controller.ErrNotRunning) && (command == "reload" || command == "signal"):
		return 7
	}
	return 1
}

// commandOf finds the subcommand's name in args (after global flags).
func commandOf(args []string) string {
	if len(args) > 0 && ssd.Is(args[0]) {
		return ssd.Name // daemonctl speaking as start-stop-daemon
	}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--config-dir" || a == "-config-dir":
			i++ // its value
		case !strings.HasPrefix(a, "-"):
			return a
		}
	}
	return ""
}

// oneLine keeps error output to one line per error, except for a failure
// report that quotes the daemon's log, which keeps its lines (printed
// through printableText: a log is the daemon's text).
func oneLine(err error) string {
	return strings.TrimRight(err.Error(), "\n")
}
