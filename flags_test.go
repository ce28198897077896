package main

import (
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// givenFlags must answer exactly what c.IsSet answers, for every name of
// every flag, whichever names (long, alias, --name=value) were used.
func TestGivenFlagsMatchesIsSet(t *testing.T) {
	for _, args := range [][]string{
		{"start", "-p", "/run/x.pid", "--", "/bin/true"},
		{"start", "-p", "/run/x.pid", "-u", "nobody", "--group=nogroup", "-e", "A=1", "-e", "B=2", "--notify", "--timeout", "3s", "-N", "5", "-w", "1s", "--", "/bin/true"},
		{"start", "--chdir", "/", "-o", "/dev/null", "--stderr", "/dev/null", "--umask", "027", "--clear-env", "--keep-on-timeout", "-s", "INT", "-R", "5", "web"},
		{"restart", "-q", "--notify-socket", "/run/n.sock", "web"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			app := newApp(io.Discard, io.Discard)
			checked := 0
			for _, cmd := range app.Commands {
				cmd.Action = func(c *cli.Context) error {
					given := givenFlags(c)
					for _, f := range c.Command.Flags {
						for _, name := range f.Names() {
							checked++
							if given[name] != c.IsSet(name) {
								t.Errorf("%s: givenFlags says %v, IsSet says %v", name, given[name], c.IsSet(name))
							}
						}
					}
					return nil
				}
			}
			if err := app.Run(append([]string{"daemonctl"}, args...)); err != nil {
				t.Fatal(err)
			}
			if checked < 20 {
				t.Fatalf("checked %d flag names; the command's action did not run with its flags", checked)
			}
		})
	}
}
