package main

import (
	"errors"
	"io/fs"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/logview"
	"github.com/daemonctl/daemonctl/service"
	"github.com/daemonctl/daemonctl/signals"
)

// LSB's exit codes (README "Exit codes"). status has codes of its own.
const (
	exitError         = 1 // generic or unspecified error
	exitUsage         = 2 // invalid or excess arguments
	exitPrivilege     = 4 // user had insufficient privilege
	exitNotInstalled  = 5 // program is not installed
	exitNotConfigured = 6 // program is not configured
	exitNotRunning    = 7 // program is not running (reload, signal)

	statusDead    = 1 // program is dead and its pidfile exists
	statusStopped = 3 // program is not running
	statusUnknown = 4 // program or service status is unknown
)

// exitRule is one row of the exit-code table: an error of the command
// (any command when commands is nil) that matches one of errs (any error
// when errs is nil) exits with code.
type exitRule struct {
	commands []string
	errs     []error
	code     int
}

// exitRules is the one table from (command, error) to LSB exit code; the
// first row that applies decides. An error no row takes is exitError.
// The command is the one urfave/cli ran (commandOf), "" when the command
// line named none it knows.
func exitRules() []exitRule {
	usage := []error{controller.ErrUsage, signals.ErrBadSignal, signals.ErrBadSchedule}
	return []exitRule{
		// status's own codes: a usage error, like anything status cannot
		// tell, is "unknown" (LSB reserves status 2).
		{[]string{"status"}, usage, statusUnknown},
		{[]string{"status"}, []error{controller.ErrUnknown}, statusUnknown},
		{[]string{"status"}, []error{controller.ErrNotRunning}, statusStopped},
		{[]string{"status"}, []error{controller.ErrDead}, statusDead},
		{[]string{"status"}, nil, statusUnknown},

		{nil, usage, exitUsage},
		// Nobody can vouch for the process in the pidfile: a start fails;
		// stop, reload and signal send nothing, and say "unknown", as
		// status does.
		{[]string{"start", "restart"}, []error{controller.ErrUnverified}, exitError},
		{nil, []error{controller.ErrUnverified}, exitPrivilege},
		{nil, []error{controller.ErrNoPrivilege, fs.ErrPermission}, exitPrivilege},
		{[]string{"start", "restart", "check"}, []error{controller.ErrProgramNotFound}, exitNotInstalled},
		{nil, []error{service.ErrNotConfigured}, exitNotConfigured},
		{[]string{"reload", "signal"}, []error{controller.ErrNotRunning}, exitNotRunning},
		{[]string{"logs"}, []error{logview.ErrNoLogs}, exitNotConfigured},
	}
}

// exitCode is the LSB exit code of command's outcome err (0 for nil).
func exitCode(command string, err error) int {
	if err == nil {
		return 0
	}
	if i := exitRow(command, err); i >= 0 {
		return exitRules()[i].code
	}
	return exitError
}

// exitRow is the index of the row of exitRules that decides err's exit
// code, -1 when none does.
func exitRow(command string, err error) int {
	for i, r := range exitRules() {
		if r.commands != nil && !slices.Contains(r.commands, command) {
			continue
		}
		if r.errs == nil || slices.ContainsFunc(r.errs, func(target error) bool { return errors.Is(err, target) }) {
			return i
		}
	}
	return -1
}

// commandError is an error of the named command: run takes the command
// from it, as urfave/cli's context named it, to decide the exit code.
type commandError struct {
	command string
	err     error
}

func (e commandError) Error() string { return e.err.Error() }
func (e commandError) Unwrap() error { return e.err }

// inCommand tags the errors action returns with the name of the command
// that ran it.
func inCommand(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := action(c); err != nil {
			return commandError{command: c.Command.Name, err: err}
		}
		return nil
	}
}

// commandOf is the command whose outcome err is, "" when the command line
// named none.
func commandOf(err error) string {
	var ce commandError
	if errors.As(err, &ce) {
		return ce.command
	}
	return ""
}
