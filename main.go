// Command daemonctl starts, stops and inspects Unix daemons through locked
// PID files. See README.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	// First, before anything opens a pollable descriptor (see fdlimit.go).
	// The launcher stage and start-stop-daemon are known by the
	// environment and argv[0]; a command's needs are checked in the app's
	// Before, the first thing that runs once urfave/cli has parsed the
	// command line.
	if controller.IsLauncher() {
		if err := checkDescriptors("", true); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(exitError)
		}
		os.Exit(controller.RunLauncher())
	}
	if code, ok := standIn(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run builds the app, runs it, prints its error and maps it to an exit
// code (exitCode) for the command that ran.
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
	command := commandOf(err)
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
		Before:                    checkCommandDescriptors,
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
			logsCommand(),
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
		c.Action = inCommand(c.Action)
	}
	return app
}

// usageErr is a command-line mistake, with its message.
type usageErr struct{ msg string }

func (e usageErr) Error() string        { return e.msg }
func (e usageErr) Is(target error) bool { return target == controller.ErrUsage }

// usageError is every command's OnUsageError: a bad flag or flag value,
// reported in one line (exit 2), as the command's.
func usageError(c *cli.Context, err error, _ bool) error {
	command := ""
	if c != nil && c.Command != nil && c.Command.Name != c.App.Name {
		command = c.Command.Name
	}
	return commandError{command: command, err: usagef(c, "%v", err)}
}

// usagef is a command-line mistake: "daemonctl COMMAND: what (see
// 'daemonctl COMMAND --help')".
func usagef(c *cli.Context, format string, args ...any) error {
	name := "daemonctl"
	if c != nil && c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		name += " " + c.Command.Name
	}
	return usageErr{fmt.Sprintf("%s: %v (see '%s --help')", name, fmt.Sprintf(format, args...), name)}
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

// oneLine keeps error output to one line per error, except for a failure
// report that quotes the daemon's log, which keeps its lines (printed
// through printableText: a log is the daemon's text).
func oneLine(err error) string {
	return strings.TrimRight(err.Error(), "\n")
}
