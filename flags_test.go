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

// The wrappers cachedNames puts on every flag must look to urfave/cli
// (help, completion, docs, parsing) exactly like the flags they wrap.
func TestCachedNamesKeepFlags(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	unwrap := func(f cli.Flag) cli.Flag {
		switch f := f.(type) {
		case *stringFlag:
			return f.StringFlag
		case *boolFlag:
			return f.BoolFlag
		case *intFlag:
			return f.IntFlag
		case *durationFlag:
			return f.DurationFlag
		case *stringSliceFlag:
			return f.StringSliceFlag
		case *genericFlag:
			return f.GenericFlag
		}
		t.Errorf("%s (%T) is not wrapped", f.Names()[0], f)
		return f
	}
	flags := app.Flags
	for _, c := range app.Commands {
		flags = append(flags, c.Flags...)
	}
	for _, f := range flags {
		inner := unwrap(f)
		if got, want := strings.Join(f.Names(), ","), strings.Join(inner.Names(), ","); got != want {
			t.Errorf("names %s, want %s", got, want)
		}
		if got, want := cli.FlagStringer(f), cli.FlagStringer(inner); got != want {
			t.Errorf("help line %q, want %q", got, want)
		}
		for _, iface := range []struct {
			name string
			has  func(cli.Flag) bool
		}{
			{"DocGenerationFlag", func(f cli.Flag) bool { _, ok := f.(cli.DocGenerationFlag); return ok }},
			{"DocGenerationSliceFlag", func(f cli.Flag) bool { _, ok := f.(cli.DocGenerationSliceFlag); return ok }},
			{"VisibleFlag", func(f cli.Flag) bool { _, ok := f.(cli.VisibleFlag); return ok }},
			{"CategorizableFlag", func(f cli.Flag) bool { _, ok := f.(cli.CategorizableFlag); return ok }},
			{"RequiredFlag", func(f cli.Flag) bool { _, ok := f.(cli.RequiredFlag); return ok }},
			{"ActionableFlag", func(f cli.Flag) bool { _, ok := f.(cli.ActionableFlag); return ok }},
			{"Countable", func(f cli.Flag) bool { _, ok := f.(cli.Countable); return ok }},
		} {
			if iface.has(f) != iface.has(inner) {
				t.Errorf("%s: wrapper implements %s: %v, the flag: %v", f.Names()[0], iface.name, iface.has(f), iface.has(inner))
			}
		}
	}
	if len(flags) < 40 {
		t.Fatalf("only %d flags checked", len(flags))
	}
}
