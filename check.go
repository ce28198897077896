package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/service"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "validate service definitions without starting anything",
		ArgsUsage: "[NAME]",
		Description: `Reads every definition in the --config-dir (or only NAME's, and the others only to
find shared pidfiles) and checks what a start would need: the file's syntax, keys and
values, then that the program is installed, the user and group exist, and the
directories exist. Each problem is one line, FILE:LINE: KEY: what to fix.

Exit 0 when all is well, 5 when the only problems are programs not installed, 4
when a start would need root (a user or group to switch to), 6 (not configured)
otherwise.

EXAMPLE:
   daemonctl check
   daemonctl check web
   daemonctl --config-dir ./services check`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the problems"},
		},
		Action: checkAction,
	}
}

func checkAction(c *cli.Context) error {
	if c.Args().Len() > 1 {
		return usagef(c, "expected at most one service NAME")
	}
	set, err := loadServices(c)
	if err != nil {
		return err
	}
	name := c.Args().First()
	if name != "" && !service.ValidName(name) {
		return usagef(c, "%q is not a service name", name)
	}
	var problems []*service.Problem
	checked := 0
	for _, n := range set.Names() {
		if name != "" && n != name {
			continue
		}
		checked++
		problems = append(problems, set.ProblemsOf(n)...)
		if def, err := set.Lookup(n); err == nil {
			problems = append(problems, def.Check()...)
		}
	}
	if name != "" && checked == 0 {
		_, err := set.Lookup(name)
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(c.App.ErrWriter, printable(p.Error()))
	}
	if len(problems) > 0 {
		return reported{checkError(problems)}
	}
	if !c.Bool("quiet") {
		switch {
		case name != "":
			fmt.Fprintf(c.App.Writer, "%s: ok (%s%s)\n", name, filepath.Join(set.Dir, name+service.Ext), supervisedNote(set, name))
		case checked == 0:
			fmt.Fprintf(c.App.Writer, "%s: no services defined\n", set.Dir)
		case checked == 1:
			fmt.Fprintf(c.App.Writer, "%s: 1 service, all ok\n", set.Dir)
		default:
			fmt.Fprintf(c.App.Writer, "%s: %d services, all ok\n", set.Dir, checked)
		}
	}
	return nil
}

// checkError is what decides check's exit code (see exitCode): 5 when
// every problem is a program not installed, else that of the first other
// problem (4 for one that needs root, 6 for the rest).
func checkError(problems []*service.Problem) error {
	for _, p := range problems {
		if !errors.Is(p, controller.ErrProgramNotFound) {
			return p
		}
	}
	return problems[0]
}

// supervisedNote says how a supervised service is kept running, for
// check's line: "; supervised: respawn on-failure, limit 5/10s".
func supervisedNote(set *service.Set, name string) string {
	def, err := set.Lookup(name)
	if err != nil || def.Supervise == nil {
		return ""
	}
	sv := def.Supervise
	note := fmt.Sprintf("; supervised: respawn %s, limit %s", sv.Respawn.When, sv.Respawn.Limit)
	if sv.Watchdog > 0 {
		note += fmt.Sprintf(", watchdog %v", sv.Watchdog)
	}
	if sv.Forking {
		note += ", forking"
	}
	return note
}
