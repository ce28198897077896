// Package gendocs renders daemonctl's manual pages and shell completions
// from the command-line definition itself (the urfave/cli App) and from
// the definition-file keys (service.Keys), so they cannot drift from the
// program. It is used by `go generate` (see generate.go in the module
// root) and is not linked into the daemonctl binary.
package gendocs

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/service"
)

// Flag is a command-line option as the manual and completions need it.
type Flag struct {
	Names       []string // long first, as declared
	Placeholder string   // the value's name, "" for a switch
	Usage       string
	Default     string
	Env         []string
}

// Long is the flag's --name.
func (f Flag) Long() string { return "--" + f.Names[0] }

// Options lists every spelling: --name, -n.
func (f Flag) Options() []string {
	out := make([]string, len(f.Names))
	for i, n := range f.Names {
		if len(n) == 1 {
			out[i] = "-" + n
		} else {
			out[i] = "--" + n
		}
	}
	return out
}

// Flags describes a command's (or the app's) visible flags.
func Flags(flags []cli.Flag) []Flag {
	var out []Flag
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		doc, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		placeholder, usage := unquoteUsage(doc.GetUsage())
		if doc.TakesValue() && placeholder == "" {
			placeholder = "VALUE"
		}
		fl := Flag{Names: f.Names(), Placeholder: placeholder, Usage: usage, Env: doc.GetEnvVars()}
		if doc.TakesValue() {
			fl.Default = doc.GetDefaultText()
		}
		out = append(out, fl)
	}
	return out
}

// unquoteUsage splits urfave/cli's "the `FILE` to read" into its
// placeholder (FILE) and text (the FILE to read).
func unquoteUsage(usage string) (string, string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}

// VisibleCommands are the app's documented commands (not help, not the
// hidden completion helper).
func VisibleCommands(app *cli.App) []*cli.Command {
	var out []*cli.Command
	for _, c := range app.Commands {
		if !c.Hidden && c.Name != "help" {
			out = append(out, c)
		}
	}
	return out
}

// roff escapes text for a man page line: backslashes, hyphens (as the
// minus an option needs), and a leading dot or quote.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// Man renders daemonctl(1) from the app.
func Man(app *cli.App) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w(`.TH DAEMONCTL 1 "" "daemonctl" "daemonctl manual"`)
	w(".SH NAME")
	w(`daemonctl \- %s`, roff(app.Usage))
	w(".SH SYNOPSIS")
	for _, c := range VisibleCommands(app) {
		w(".B daemonctl")
		w(`[\fB\-\-config\-dir\fR \fIDIR\fR] \fB%s\fR [\fIOPTIONS\fR] %s`, roff(c.Name), synopsisArgs(c.ArgsUsage))
		w(".br")
	}
	w(".SH DESCRIPTION")
	for _, p := range []string{
		"daemonctl turns any program into a daemon (the classic double fork: new session, not its leader, no controlling terminal, working directory /, umask 022, standard streams on /dev/null or log files) and manages it through a PID file whose lock the daemon itself holds. The kernel drops the lock the instant the daemon dies, however it dies, so \"is it running?\" is answered by \"is the lock held, and by the PID in the file?\", never by kill(pid, 0), which lies after PID reuse. stop and reload signal only processes that hold the lock, through pidfds.",
		"A service is named either by its pidfile (-p FILE, the form init scripts have always used, with the program after --) or by a definition file: NAME.toml in the definition directory (see daemonctl.d(5)) describes the service NAME, so that daemonctl start NAME needs nothing else. Options given on the command line override the file's values.",
	} {
		w(".PP")
		w("%s", roff(p))
	}
	w(".SH COMMANDS")
	for _, c := range VisibleCommands(app) {
		w(`.SS "%s"`, strings.ReplaceAll(roff("daemonctl "+c.Name+" "+c.ArgsUsage), `"`, `\(dq`))
		w("%s.", roff(upperFirst(c.Usage)))
		description(&b, c.Description)
		if flags := Flags(c.Flags); len(flags) > 0 {
			w(".PP")
			w("Options:")
			for _, f := range flags {
				flag(&b, f)
			}
		}
	}
	w(".SH GLOBAL OPTIONS")
	for _, f := range Flags(app.Flags) {
		flag(&b, f)
	}
	flag(&b, Flag{Names: []string{"help", "h"}, Usage: "show help (also: daemonctl help COMMAND, daemonctl COMMAND --help)"})
	flag(&b, Flag{Names: []string{"version", "v"}, Usage: "print the version"})
	w(".SH EXIT STATUS")
	w("The codes of the LSB init script actions:")
	for _, row := range [][2]string{
		{"0", "success: started (or already running), stopped (or was not running), signal sent; status: running"},
		{"1", "error; status: dead with its pidfile left, or alive without its lock"},
		{"2", "bad usage (status: 4)"},
		{"3", "status: not running"},
		{"4", "no privilege; status: unknown (unreadable or garbage pidfile, broken definition)"},
		{"5", "the program is not installed (start, restart, check)"},
		{"6", "the service is not configured: no definition, or a broken one"},
		{"7", "reload, signal: not running"},
	} {
		w(".TP")
		w(`.B %s`, row[0])
		w("%s", roff(row[1]))
	}
	w(".PP")
	w("%s", roff("The status table exits 4 if any service is unknown, else 1 if any is dead, else 3 if any is stopped, else 0. --all exits with the code of the most specific failure."))
	w(".SH ENVIRONMENT")
	for _, row := range [][2]string{
		{"DAEMONCTL_CONFIG_DIR", "the definition directory, unless --config-dir is given"},
		{"XDG_CONFIG_HOME", "for a user other than root, the definition directory is $XDG_CONFIG_HOME/daemonctl (default ~/.config/daemonctl)"},
		{"XDG_RUNTIME_DIR", "for a user other than root, the default pidfile directory is $XDG_RUNTIME_DIR/daemonctl"},
		{"NO_COLOR", "when set and not empty, the status table is not coloured (it never is unless standard output is a terminal)"},
		{"NOTIFY_SOCKET", "set for the daemon by start --notify (and notify = true); the caller's own is not passed on"},
	} {
		w(".TP")
		w(`.B %s`, row[0])
		w("%s", roff(row[1]))
	}
	w(".SH FILES")
	for _, row := range [][2]string{
		{"/etc/daemonctl.d/NAME.toml", "the definition of the service NAME (for root); see daemonctl.d(5)"},
		{"/run/daemonctl/NAME.pid", "the default pidfile of a defined service (for root)"},
	} {
		w(".TP")
		w(`.I %s`, roff(row[0]))
		w("%s", roff(row[1]))
	}
	w(".SH SEE ALSO")
	w(`\fBdaemonctl.d\fR(5), \fBdaemonctl\-ssd\fR(8), \fBstart\-stop\-daemon\fR(8), \fBflock\fR(2), \fBpidfd_open\fR(2), \fBsd_notify\fR(3)`)
	return b.String()
}

// synopsisArgs renders ArgsUsage with the words in italics.
func synopsisArgs(args string) string {
	fields := strings.Fields(args)
	for i, f := range fields {
		switch {
		case strings.HasPrefix(f, "-"), f == "|", strings.Trim(f, "[]|.") == "":
			fields[i] = roff(f)
		default:
			fields[i] = `\fI` + roff(f) + `\fR`
		}
	}
	return strings.Join(fields, " ")
}

// description renders a command's Description: paragraphs, and the
// indented lines after "EXAMPLE:" as an example block.
func description(b *strings.Builder, text string) {
	var para []string
	flush := func() {
		if len(para) > 0 {
			fmt.Fprintf(b, ".PP\n%s\n", roff(strings.Join(para, " ")))
			para = nil
		}
	}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.TrimSpace(line) == "EXAMPLE:":
			flush()
			b.WriteString(".PP\nExamples:\n.PP\n.RS 4\n.nf\n")
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
				i++
				fmt.Fprintf(b, "%s\n", roff(strings.TrimSpace(lines[i])))
			}
			b.WriteString(".fi\n.RE\n")
		default:
			para = append(para, strings.TrimSpace(line))
		}
	}
	flush()
}

// flag renders one option as a tagged paragraph.
func flag(b *strings.Builder, f Flag) {
	var names []string
	for _, o := range f.Options() {
		names = append(names, `\fB`+roff(o)+`\fR`)
	}
	tag := strings.Join(names, ", ")
	if f.Placeholder != "" {
		tag += ` \fI` + roff(f.Placeholder) + `\fR`
	}
	text := f.Usage
	if f.Default != "" {
		text += " (default: " + f.Default + ")"
	}
	if len(f.Env) > 0 {
		text += " [$" + strings.Join(f.Env, ", $") + "]"
	}
	fmt.Fprintf(b, ".TP\n%s\n%s\n", tag, roff(text))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ConfigMan renders daemonctl.d(5), the definition file format, from the
// keys the loader accepts and a complete example file.
func ConfigMan(keys []service.Key, example string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w(`.TH DAEMONCTL.D 5 "" "daemonctl" "daemonctl manual"`)
	w(".SH NAME")
	w(`daemonctl.d \- service definitions for daemonctl`)
	w(".SH SYNOPSIS")
	w(`.I /etc/daemonctl.d/NAME.toml`)
	w(".br")
	w(`.I $XDG_CONFIG_HOME/daemonctl/NAME.toml`)
	w(".SH DESCRIPTION")
	for _, p := range []string{
		"Each file NAME.toml of the definition directory defines the service NAME for daemonctl(1): daemonctl start NAME, stop NAME, status NAME and so on, and daemonctl start --all for all of them. The directory is /etc/daemonctl.d for root and $XDG_CONFIG_HOME/daemonctl (~/.config/daemonctl) for anyone else; --config-dir or DAEMONCTL_CONFIG_DIR choose another. Files whose names do not end in .toml, or start with a dot, are ignored. NAME is letters, digits, dots, underscores, at signs and hyphens, starting with a letter or digit.",
		"The files are TOML (https://toml.io). Keys are those below and no others: an unknown key, a value of the wrong type, or a bad value makes the service unusable, and daemonctl names the file, the line and the key (FILE:LINE: KEY: what to fix), exits 6 (LSB \"not configured\") and starts nothing. The other services are not affected: start --all and stop --all handle them and report the broken ones. daemonctl check validates every file, and also what a start needs (the program, the user and group, the directories), without starting anything.",
		"Root runs the programs these files name. Every file, the directory and every directory above it must therefore be writable by their owner only (not by group or others: chmod go-w), and that owner must be root or the user running daemonctl. A definition directory that is group- or world-writable, or owned by another user, or below a directory that is (a sticky one such as /tmp excepted), is refused as a whole; such a file is refused alone, as is a symbolic link whose way to its file is. No two services may use the same pidfile.",
		"Options given on the daemonctl command line override the file's values: daemonctl start --wait 5s web.",
	} {
		w(".PP")
		w("%s", roff(p))
	}
	w(".SH KEYS")
	initShown := false
	for _, k := range keys {
		if strings.HasPrefix(k.Name, "init.") && !initShown {
			initShown = true
			w(".PP")
			w("%s", roff("The [init] table fills the LSB header of the script daemonctl init-script NAME prints:"))
		}
		w(".TP")
		w(`.B %s`, roff(k.Name))
		text := k.Doc + " Type: " + k.Type + ". Default: " + k.Default + "."
		if k.Flag != "" {
			text += " Overridden by " + k.Flag + "."
		}
		w("%s", roff(text))
	}
	w(".SH EXAMPLE")
	w(".nf")
	for _, line := range strings.Split(strings.TrimRight(example, "\n"), "\n") {
		w("%s", roff(line))
	}
	w(".fi")
	w(".SH EXIT STATUS")
	w("%s", roff("A service whose definition is missing or broken: 6 (not configured); its status: 4 (unknown). A program that is not installed: 5 (start, restart, check)."))
	w(".SH SEE ALSO")
	w(`\fBdaemonctl\fR(1)`)
	return b.String()
}
