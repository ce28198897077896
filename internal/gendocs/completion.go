package gendocs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// The completion scripts complete commands, each command's options, the
// values of options that name files, directories, signals, users and
// groups, and the defined services, which they get from the program
// itself: `daemonctl [--config-dir DIR] __complete services`.

// valueKind says how an option's value is completed.
func valueKind(long string) string {
	switch long {
	case "pidfile", "stdout", "stderr", "notify-socket":
		return "file"
	case "chdir", "config-dir":
		return "dir"
	case "signal":
		return "signal"
	case "user":
		return "user"
	case "group":
		return "group"
	}
	return "none"
}

// command is a command as the completions need it.
type command struct {
	name     string
	usage    string
	flags    []Flag
	services bool // its first argument may be a service name
	signal   bool // a SIGNAL follows the name
}

func commands(app *cli.App) []command {
	var out []command
	for _, c := range VisibleCommands(app) {
		out = append(out, command{
			name:     c.Name,
			usage:    c.Usage,
			flags:    append(Flags(c.Flags), Flag{Names: []string{"help", "h"}, Usage: "show help"}),
			services: strings.Contains(c.ArgsUsage, "NAME"),
			signal:   strings.HasPrefix(c.ArgsUsage, "NAME SIGNAL"),
		})
	}
	return out
}

// signalNames are offered where a signal goes.
const signalNames = "HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM"

// valueOptions lists the options of cmds that take a value, by kind.
func valueOptions(cmds []command, global []Flag) map[string][]string {
	kinds := map[string][]string{}
	seen := map[string]bool{}
	all := slices.Clone(global)
	for _, c := range cmds {
		all = append(all, c.flags...)
	}
	for _, f := range all {
		if f.Placeholder == "" {
			continue
		}
		for _, o := range f.Options() {
			if !seen[o] {
				seen[o] = true
				kinds[valueKind(f.Names[0])] = append(kinds[valueKind(f.Names[0])], o)
			}
		}
	}
	return kinds
}

func optionWords(flags []Flag) string {
	var words []string
	for _, f := range flags {
		words = append(words, f.Options()...)
	}
	return strings.Join(words, " ")
}

// Bash renders the bash completion script.
func Bash(app *cli.App) string {
	cmds := commands(app)
	global := Flags(app.Flags)
	kinds := valueOptions(cmds, global)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# bash completion for daemonctl. Generated from the command-line definition")
	w("# by `go generate` (internal/gendocs); do not edit.")
	w("")
	w("_daemonctl() {")
	w(`	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}`)
	w(`	local i word cmd="" cfg=() pidfile="" dashdash="" npos=0`)
	w(`	for ((i = 1; i < COMP_CWORD; i++)); do`)
	w(`		word=${COMP_WORDS[i]}`)
	w(`		if [[ -n $dashdash ]]; then ((npos++)); continue; fi`)
	w(`		case $word in`)
	w(`		--config-dir) cfg=(--config-dir "${COMP_WORDS[i+1]}"); ((i++)); continue ;;`)
	w(`		--config-dir=*) cfg=("$word"); continue ;;`)
	w(`		--) dashdash=1; continue ;;`)
	w(`		-p | --pidfile | --pidfile=* | -p?*) pidfile=1 ;;`)
	w(`		esac`)
	w(`		case $word in`)
	w(`		%s) ((i++)) ;;`, strings.Join(allValueOptions(kinds), " | "))
	w(`		-*) ;;`)
	w(`		*) if [[ -z $cmd ]]; then cmd=$word; else ((npos++)); fi ;;`)
	w(`		esac`)
	w(`	done`)
	w(`	case $prev in`)
	w(`	%s) COMPREPLY=($(compgen -f -- "$cur")); return ;;`, strings.Join(kinds["file"], " | "))
	w(`	%s) COMPREPLY=($(compgen -d -- "$cur")); return ;;`, strings.Join(kinds["dir"], " | "))
	w(`	%s) COMPREPLY=($(compgen -W "%s" -- "$cur")); return ;;`, strings.Join(kinds["signal"], " | "), signalNames)
	w(`	%s) COMPREPLY=($(compgen -u -- "$cur")); return ;;`, strings.Join(kinds["user"], " | "))
	w(`	%s) COMPREPLY=($(compgen -g -- "$cur")); return ;;`, strings.Join(kinds["group"], " | "))
	w(`	%s) return ;;`, strings.Join(kinds["none"], " | "))
	w(`	esac`)
	w(`	if [[ -z $cmd ]]; then`)
	w(`		if [[ $cur == -* ]]; then`)
	w(`			COMPREPLY=($(compgen -W "%s --help -h --version -v" -- "$cur"))`, optionWords(global))
	w(`		else`)
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	w(`			COMPREPLY=($(compgen -W "%s help" -- "$cur"))`, strings.Join(names, " "))
	w(`		fi`)
	w(`		return`)
	w(`	fi`)
	w(`	if [[ -n $dashdash ]]; then`)
	w(`		# after --: the PROGRAM, then its arguments`)
	w(`		if ((npos == 0)); then COMPREPLY=($(compgen -c -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi`)
	w(`		return`)
	w(`	fi`)
	w(`	if [[ $cur == -* ]]; then`)
	w(`		case $cmd in`)
	for _, c := range cmds {
		w(`		%s) COMPREPLY=($(compgen -W "%s" -- "$cur")) ;;`, c.name, optionWords(c.flags))
	}
	w(`		esac`)
	w(`		return`)
	w(`	fi`)
	w(`	case $cmd in`)
	var svc, sig []string
	for _, c := range cmds {
		if c.services {
			svc = append(svc, c.name)
		}
		if c.signal {
			sig = append(sig, c.name)
		}
	}
	w(`	%s)`, strings.Join(sig, " | "))
	w(`		if [[ -n $pidfile ]] || ((npos == 1)); then COMPREPLY=($(compgen -W "%s" -- "$cur")); return; fi ;;`, signalNames)
	w(`	esac`)
	w(`	case $cmd in`)
	w(`	%s)`, strings.Join(svc, " | "))
	w(`		if [[ -z $pidfile ]] && ((npos == 0)); then`)
	w(`			COMPREPLY=($(compgen -W "$(daemonctl "${cfg[@]}" __complete services 2>/dev/null)" -- "$cur"))`)
	w(`		fi ;;`)
	w(`	help) COMPREPLY=($(compgen -W "%s" -- "$cur")) ;;`, strings.Join(names, " "))
	w(`	esac`)
	w("}")
	w("complete -F _daemonctl daemonctl")
	return b.String()
}

// allValueOptions lists every option that takes a value.
func allValueOptions(kinds map[string][]string) []string {
	var out []string
	for _, k := range []string{"file", "dir", "signal", "user", "group", "none"} {
		out = append(out, kinds[k]...)
	}
	return out
}

// Zsh renders the zsh completion function (_daemonctl).
func Zsh(app *cli.App) string {
	cmds := commands(app)
	global := Flags(app.Flags)
	kinds := valueOptions(cmds, global)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("#compdef daemonctl")
	w("# zsh completion for daemonctl. Generated from the command-line definition")
	w("# by `go generate` (internal/gendocs); do not edit.")
	w("")
	w("_daemonctl() {")
	w(`	local i word cmd= pidfile= dashdash= npos=0`)
	w(`	local -a cfg`)
	w(`	local cur=${words[CURRENT]} prev=${words[CURRENT-1]}`)
	w(`	for ((i = 2; i < CURRENT; i++)); do`)
	w(`		word=${words[i]}`)
	w(`		if [[ -n $dashdash ]]; then ((npos++)); continue; fi`)
	w(`		case $word in`)
	w(`		--config-dir) cfg=(--config-dir "${words[i+1]}"); ((i++)); continue ;;`)
	w(`		--config-dir=*) cfg=("$word"); continue ;;`)
	w(`		--) dashdash=1; continue ;;`)
	w(`		-p|--pidfile|--pidfile=*|-p?*) pidfile=1 ;;`)
	w(`		esac`)
	w(`		case $word in`)
	w(`		%s) ((i++)) ;;`, strings.Join(allValueOptions(kinds), "|"))
	w(`		-*) ;;`)
	w(`		*) if [[ -z $cmd ]]; then cmd=$word; else ((npos++)); fi ;;`)
	w(`		esac`)
	w(`	done`)
	w(`	case $prev in`)
	w(`	%s) _files; return ;;`, strings.Join(kinds["file"], "|"))
	w(`	%s) _files -/; return ;;`, strings.Join(kinds["dir"], "|"))
	w(`	%s) compadd -- %s; return ;;`, strings.Join(kinds["signal"], "|"), signalNames)
	w(`	%s) _users; return ;;`, strings.Join(kinds["user"], "|"))
	w(`	%s) _groups; return ;;`, strings.Join(kinds["group"], "|"))
	w(`	%s) return ;;`, strings.Join(kinds["none"], "|"))
	w(`	esac`)
	w(`	if [[ -z $cmd ]]; then`)
	w(`		if [[ $cur == -* ]]; then`)
	w(`			compadd -- %s --help -h --version -v`, optionWords(global))
	w(`		else`)
	w(`			local -a described=(`)
	for _, c := range cmds {
		w(`				%s`, zshQuote(c.name+":"+c.usage))
	}
	w(`				'help:show the help of a command'`)
	w(`			)`)
	w(`			_describe -t commands 'daemonctl command' described`)
	w(`		fi`)
	w(`		return`)
	w(`	fi`)
	w(`	if [[ -n $dashdash ]]; then`)
	w(`		if ((npos == 0)); then _command_names -e; else _files; fi`)
	w(`		return`)
	w(`	fi`)
	w(`	if [[ $cur == -* ]]; then`)
	w(`		case $cmd in`)
	for _, c := range cmds {
		w(`		%s) compadd -- %s ;;`, c.name, optionWords(c.flags))
	}
	w(`		esac`)
	w(`		return`)
	w(`	fi`)
	var svc, sig, names []string
	for _, c := range cmds {
		names = append(names, c.name)
		if c.services {
			svc = append(svc, c.name)
		}
		if c.signal {
			sig = append(sig, c.name)
		}
	}
	w(`	case $cmd in`)
	w(`	%s)`, strings.Join(sig, "|"))
	w(`		if [[ -n $pidfile ]] || ((npos == 1)); then compadd -- %s; return; fi ;;`, signalNames)
	w(`	esac`)
	w(`	case $cmd in`)
	w(`	%s)`, strings.Join(svc, "|"))
	w(`		if [[ -z $pidfile ]] && ((npos == 0)); then`)
	w(`			compadd -- ${(f)"$(daemonctl "${cfg[@]}" __complete services 2>/dev/null)"}`)
	w(`		fi ;;`)
	w(`	help) compadd -- %s ;;`, strings.Join(names, " "))
	w(`	esac`)
	w("}")
	w("")
	w(`if [[ $zsh_eval_context[-1] == loadautofunc ]]; then`)
	w(`	_daemonctl "$@"`)
	w(`else`)
	w(`	compdef _daemonctl daemonctl`)
	w(`fi`)
	return b.String()
}

func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Fish renders the fish completions.
func Fish(app *cli.App) string {
	cmds := commands(app)
	global := Flags(app.Flags)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# fish completion for daemonctl. Generated from the command-line definition")
	w("# by `go generate` (internal/gendocs); do not edit.")
	w("")
	w("# The defined services, read with the command line's --config-dir.")
	w("function __daemonctl_services")
	w("    set -l tokens (commandline -opc)")
	w("    set -l cfg")
	w("    for i in (seq (count $tokens))")
	w("        switch $tokens[$i]")
	w("            case --config-dir")
	w("                set cfg --config-dir $tokens[(math $i + 1)]")
	w("            case '--config-dir=*'")
	w("                set cfg $tokens[$i]")
	w("        end")
	w("    end")
	w("    daemonctl $cfg __complete services 2>/dev/null")
	w("end")
	w("")
	w("# True when the command line has no -p (a service name is wanted) and")
	w("# no argument after the command yet.")
	w("function __daemonctl_wants_service")
	w("    set -l tokens (commandline -opc)")
	w("    set -l seen 0")
	w("    for t in $tokens[2..-1]")
	w("        switch $t")
	w("            case -p --pidfile '--pidfile=*' '-p?*' --")
	w("                return 1")
	w("        end")
	w("    end")
	w("    set -l args (string match -v -- '-*' $tokens[3..-1])")
	w("    test (count $args) -eq 0")
	w("end")
	w("")
	w("complete -c daemonctl -f")
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	for _, c := range cmds {
		w("complete -c daemonctl -n '__fish_use_subcommand' -a %s -d %s", c.name, fishQuote(c.usage))
	}
	w("complete -c daemonctl -n '__fish_use_subcommand' -a help -d 'show the help of a command'")
	w("complete -c daemonctl -n '__fish_seen_subcommand_from help' -a %s", fishQuote(strings.Join(names, " ")))
	for _, f := range global {
		w("complete -c daemonctl -n '__fish_use_subcommand' %s", fishFlag(f))
	}
	for _, c := range cmds {
		cond := "__fish_seen_subcommand_from " + c.name
		for _, f := range c.flags {
			w("complete -c daemonctl -n %s %s", fishQuote(cond), fishFlag(f))
		}
		if c.services {
			w("complete -c daemonctl -n %s -a '(__daemonctl_services)'", fishQuote(cond+"; and __daemonctl_wants_service"))
		}
		if c.signal {
			w("complete -c daemonctl -n %s -a %s", fishQuote(cond+"; and not __daemonctl_wants_service"), fishQuote(signalNames))
		}
	}
	return b.String()
}

func fishFlag(f Flag) string {
	var parts []string
	for _, n := range f.Names {
		if len(n) == 1 {
			parts = append(parts, "-s "+n)
		} else {
			parts = append(parts, "-l "+n)
		}
	}
	if f.Placeholder != "" {
		parts = append(parts, "-r")
		switch valueKind(f.Names[0]) {
		case "file", "dir":
			parts = append(parts, "-F")
		case "signal":
			parts = append(parts, "-a "+fishQuote(signalNames))
		case "user":
			parts = append(parts, "-a '(__fish_complete_users)'")
		case "group":
			parts = append(parts, "-a '(__fish_complete_groups)'")
		}
	}
	parts = append(parts, "-d "+fishQuote(f.Usage))
	return strings.Join(parts, " ")
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
