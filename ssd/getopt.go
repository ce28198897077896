package ssd

import (
	"fmt"
	"strings"
)

// option is one option as getopt_long read it, with its value.
type option struct {
	flag  *Flag
	value string
}

// getopt reads args (argv without argv[0]) as glibc's getopt_long does for
// start-stop-daemon: short options may be bundled ("-Sqx PATH",
// "-xPATH"), long ones abbreviated to any unambiguous prefix and given
// their value as "--opt=val" or "--opt val"; a value is taken from the
// next argument whatever it looks like. Arguments that are not options
// are moved after the options (GNU permutation), unless posix (the
// POSIXLY_CORRECT environment) stops the options at the first of them;
// "--" ends the options. It returns the options in order and the operands
// (the program's arguments). The error is getopt's message, without the
// program name, wrapping ErrUsage; the options before the bad one come
// with it, as start-stop-daemon acts on them (--help, say) before getopt
// reaches it.
func getopt(flags []Flag, args []string, posix bool) ([]option, []string, error) {
	var opts []option
	var operands []string
	bad := func(format string, a ...any) ([]option, []string, error) {
		return opts, nil, fmt.Errorf("%w: "+format, append([]any{ErrUsage}, a...)...)
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return opts, append(operands, args[i+1:]...), nil
		case arg == "-" || !strings.HasPrefix(arg, "-"):
			if posix {
				return opts, append(operands, args[i:]...), nil
			}
			operands = append(operands, arg)
		case strings.HasPrefix(arg, "--"):
			name, value, hasValue := strings.Cut(arg[2:], "=")
			f, ambiguous := lookupLong(flags, name)
			if f == nil {
				if len(ambiguous) > 0 {
					return bad("option '--%s' is ambiguous; possibilities: '--%s'", name, strings.Join(ambiguous, "' '--"))
				}
				return bad("unrecognized option '%s'", arg)
			}
			switch {
			case f.Arg == "" && hasValue:
				return bad("option '--%s' doesn't allow an argument", f.Long)
			case f.Arg != "" && !hasValue:
				if i+1 == len(args) {
					return bad("option '--%s' requires an argument", f.Long)
				}
				i++
				value = args[i]
			}
			opts = append(opts, option{flag: f, value: value})
		default:
			for j := 1; j < len(arg); j++ {
				f := lookupShort(flags, arg[j])
				if f == nil {
					return bad("invalid option -- '%c'", arg[j])
				}
				if f.Arg == "" {
					opts = append(opts, option{flag: f})
					continue
				}
				value := arg[j+1:]
				if value == "" {
					if i+1 == len(args) {
						return bad("option requires an argument -- '%c'", arg[j])
					}
					i++
					value = args[i]
				}
				opts = append(opts, option{flag: f, value: value})
				break
			}
		}
	}
	return opts, operands, nil
}
