package gendocs

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestRoff(t *testing.T) {
	for in, want := range map[string]string{
		"--retry TERM/10":  `\-\-retry TERM/10`,
		`a\b`:              `a\eb`,
		".hidden request":  `\&.hidden request`,
		"'quoted request":  `\&'quoted request`,
		"plain words here": "plain words here",
	} {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFlags(t *testing.T) {
	flags := Flags([]cli.Flag{
		&cli.StringFlag{Name: "pidfile", Aliases: []string{"p"}, Usage: "the PID `FILE`"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing"},
		&cli.StringFlag{Name: "secret", Hidden: true},
		&cli.StringFlag{Name: "signal", Value: "TERM", Usage: "first `SIGNAL`"},
	})
	if len(flags) != 3 {
		t.Fatalf("flags %+v (the hidden one must go)", flags)
	}
	if f := flags[0]; f.Placeholder != "FILE" || f.Usage != "the PID FILE" || strings.Join(f.Options(), " ") != "--pidfile -p" {
		t.Errorf("pidfile %+v", f)
	}
	if f := flags[1]; f.Placeholder != "" || f.Default != "" {
		t.Errorf("a switch takes no value: %+v", f)
	}
	if f := flags[2]; f.Default != `"TERM"` {
		t.Errorf("signal default %q", f.Default)
	}
}

// TestCompletionWords: every command, and every option of a command,
// reaches the bash script.
func TestCompletionWords(t *testing.T) {
	app := &cli.App{Name: "daemonctl", Commands: []*cli.Command{
		{Name: "start", ArgsUsage: "NAME | -p FILE", Flags: []cli.Flag{&cli.StringFlag{Name: "pidfile", Aliases: []string{"p"}, Usage: "`FILE`"}}},
		{Name: "signal", ArgsUsage: "NAME SIGNAL"},
		{Name: "__complete", Hidden: true},
	}}
	bash := Bash(app)
	for _, want := range []string{`"start signal help"`, `start) COMPREPLY=($(compgen -W "--pidfile -p --help -h"`, "__complete services", "\tsignal)\n"} {
		if !strings.Contains(bash, want) {
			t.Errorf("bash script lacks %q:\n%s", want, bash)
		}
	}
	if strings.Contains(bash, `"__complete`) {
		t.Errorf("the hidden command is offered")
	}
}
