package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/internal/term"
	"github.com/daemonctl/daemonctl/logview"
	"github.com/daemonctl/daemonctl/pidfile"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print the last lines of the service's stdout and stderr log files, and follow them",
		ArgsUsage: "NAME | -p FILE",
		Description: `The files are the definition's stdout and stderr for NAME; for -p FILE, those
its supervisor published (start --supervise: they outlive a supervisor that gave
up), or, for a running daemon started without --supervise, the files its stdout
and stderr have open (root or the daemon's user may look). Two different files
are printed one after the other, each under a "==> FILE <==" line.

-f follows the files as they grow and across rotations (FILE renamed FILE.1 and
a new FILE created, as the supervisor and logrotate do): every line once, in
order, also those of a file rotated away before it was read, unless more than
--log-keep rotations passed meanwhile. It waits for a file not yet written and
runs until interrupted; it ends with exit 1 when a file's directory is removed.

Lines reach a terminal with their control characters escaped. Log files are
created 0640 for the program's user: reading root's service's logs takes root
or the file's group. Exit codes: 0 printed, 1 a file missing or unreadable, 2 bad
usage, 4 no permission, 6 no log files (output to /dev/null, or nothing records
where it went).

EXAMPLE:
   daemonctl logs web
   daemonctl logs -n 200 web
   daemonctl logs -f web
   daemonctl logs -p /run/web.pid -n 0 -f`,
		Flags: []cli.Flag{
			commonFlags()[0],
			&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 50, Usage: "print the last `N` lines of each file (0: none)"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "then print lines as they are written, across rotations, until interrupted"},
		},
		Action: logsAction,
	}
}

func logsAction(c *cli.Context) error {
	n := c.Int("lines")
	if n < 0 {
		return usagef(c, "-n %d: give a number of lines, 0 or more", n)
	}
	logs, err := serviceLogs(c)
	if err != nil {
		return err
	}
	out := io.Writer(c.App.Writer)
	if _, tty := term.Width(c.App.Writer); tty {
		lw := &linesWriter{w: c.App.Writer}
		defer lw.flush()
		out = lw
	}
	if !c.Bool("follow") {
		return logview.Tail(out, logs.Paths(), n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = logview.Follow(ctx, out, logs.Paths(), n)
	if errors.Is(err, context.Canceled) {
		return nil // interrupted: what follow is for
	}
	return err
}

// serviceLogs names the log files of the service the command line names.
func serviceLogs(c *cli.Context) (logview.Logs, error) {
	if !byPIDFile(c) {
		def, err := namedService(c, 0)
		if err != nil {
			return logview.Logs{}, err
		}
		logs := logview.Logs{Stdout: def.Stdout, Stderr: def.Stderr}
		if len(logs.Paths()) == 0 {
			return logs, fmt.Errorf("%s: %w: %s sets no stdout or stderr (add stdout = \"/var/log/%s.log\")", def.Name, logview.ErrNoLogs, def.File, def.Name)
		}
		return logs, nil
	}
	if c.Args().Present() {
		return logview.Logs{}, usagef(c, "unexpected argument %q", c.Args().First())
	}
	abs, err := controller.AbsPIDFile(c.String("pidfile"))
	if err != nil {
		return logview.Logs{}, err
	}
	st, err := pidfile.Inspect(abs)
	if err != nil {
		return logview.Logs{}, fmt.Errorf("pidfile %s: %w", abs, err)
	}
	return logview.Find(st)
}

// linesWriter writes a program's log lines to a terminal with their
// control characters escaped (a log is the program's text), holding back
// an unfinished last line so that a character split between writes is
// not taken for garbage.
type linesWriter struct {
	w    io.Writer
	held []byte
}

func (l *linesWriter) Write(b []byte) (int, error) {
	l.held = append(l.held, b...)
	end := len(l.held)
	for end > 0 && l.held[end-1] != '\n' {
		end--
	}
	if end == 0 {
		return len(b), nil
	}
	if _, err := io.WriteString(l.w, printableText(string(l.held[:end]))); err != nil {
		return 0, err
	}
	l.held = append(l.held[:0], l.held[end:]...)
	return len(b), nil
}

// flush writes the unfinished last line.
func (l *linesWriter) flush() {
	if len(l.held) > 0 {
		_, _ = io.WriteString(l.w, printableText(string(l.held)))
		l.held = nil
	}
}
