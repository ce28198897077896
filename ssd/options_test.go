package ssd

import (
	"errors"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestParse reads command lines as start-stop-daemon's getopt_long does:
// bundles, attached values, abbreviations, "=" values, permutation and
// "--", POSIXLY_CORRECT.
func TestParse(t *testing.T) {
	for _, c := range []struct {
		args  []string
		posix bool
		check func(o Options) bool
	}{
		{[]string{"-Sqx", "/bin/d", "a"}, false, func(o Options) bool {
			return o.Action == ActionStart && o.Quiet == 1 && o.Exec == "/bin/d" && o.StartAs == "/bin/d" && slices.Equal(o.Args, []string{"a"})
		}},
		{[]string{"-S", "-x/bin/d", "-p/run/d.pid", "-N5"}, false, func(o Options) bool {
			return o.Exec == "/bin/d" && o.PIDFile == "/run/d.pid" && o.Nice == 5
		}},
		{[]string{"--start", "--exec=/bin/d", "--pidf", "/run/d.pid", "--sig", "HUP"}, false, func(o Options) bool {
			return o.Exec == "/bin/d" && o.PIDFile == "/run/d.pid" && o.Signal == unix.SIGHUP
		}},
		{[]string{"a1", "-S", "-x", "/bin/d", "a2", "--", "-a3", "--"}, false, func(o Options) bool {
			return slices.Equal(o.Args, []string{"a1", "a2", "-a3", "--"})
		}},
		{[]string{"-S", "-x", "/bin/d", "a", "-q"}, true, func(o Options) bool {
			return o.Quiet == 0 && slices.Equal(o.Args, []string{"a", "-q"})
		}},
		{[]string{"-S", "-x", "d", "-d", "/srv"}, false, func(o Options) bool {
			return o.Exec == "/srv/d" // relative to --chdir, as there
		}},
		{[]string{"-K", "-n", "d", "-R", "5", "-s", "QUIT"}, false, func(o Options) bool {
			return o.Schedule != nil && len(o.Schedule.Steps) == 2 && o.Schedule.Steps[0].Signal == unix.SIGQUIT && o.Schedule.Steps[0].Wait == 5*time.Second
		}},
		{[]string{"-K", "-n", "d", "-v", "-q"}, false, func(o Options) bool { return o.Quiet == 1 }},
		{[]string{"-S", "-x", "/bin/d", "-c", "www:adm", "-g", "staff"}, false, func(o Options) bool {
			return o.ChUser == "www" && o.ChGroup == "staff"
		}},
		{[]string{"-S", "-x", "/bin/d", "-k", "0x12", "--notify-timeout", "7"}, false, func(o Options) bool {
			return o.Umask == 0o22 && o.NotifyTimeout == 7*time.Second
		}},
		{[]string{"-S", "-x", "/bin/d", "-P", "rr:5", "-I", "idle:2"}, false, func(o Options) bool {
			return o.ProcSched.Policy == schedRR && o.ProcSched.Priority == 5 && o.IOSched.Policy == ioprioClassIdle && o.IOSched.Priority == 7
		}},
		{[]string{"-K", "-n", "0123456789abcdef"}, false, func(o Options) bool { return len(o.Warnings) == 1 }},
		{[]string{"-H", "--bogus"}, false, func(o Options) bool { return o.Action == ActionHelp }},
		{[]string{"-V"}, false, func(o Options) bool { return o.Action == ActionVersion }},
	} {
		o, err := Parse(append([]string{Name}, c.args...), c.posix)
		if err != nil || !c.check(o) {
			t.Errorf("Parse(%q) = %+v, %v", c.args, o, err)
		}
	}
}

// TestParseErrors: start-stop-daemon's usage errors, and the command read
// before them, which decides the exit code.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		args   []string
		want   error
		action Action
		msg    string
	}{
		{[]string{"--st"}, ErrUsage, ActionNone, "option '--st' is ambiguous; possibilities: '--stop' '--start' '--status' '--startas'"},
		{[]string{"--bogus=1"}, ErrUsage, ActionNone, "unrecognized option '--bogus=1'"},
		{[]string{"--start=1"}, ErrUsage, ActionNone, "option '--start' doesn't allow an argument"},
		{[]string{"-S", "--exec"}, ErrUsage, ActionStart, "option '--exec' requires an argument"},
		{[]string{"-Sx"}, ErrUsage, ActionStart, "option requires an argument -- 'x'"},
		{[]string{"-T", "-Z"}, ErrUsage, ActionStatus, "invalid option -- 'Z'"},
		{[]string{"-S", "-K"}, ErrUsage, ActionStart, "only one command can be specified"},
		{[]string{"-T"}, ErrUsage, ActionStatus, "need at least one of --exec, --pid, --ppid, --pidfile, --user or --name"},
		{[]string{"-n", "x"}, ErrUsage, ActionNone, "need one of --start or --stop or --status"},
		{[]string{"-K", "--pid", "0x5"}, ErrUsage, ActionStop, "pid value must be a number greater than 0"},
		{[]string{"-K", "-n", "x", "-k", "-1"}, ErrUsage, ActionStop, "umask value must be a positive number"},
		{[]string{"-K", "-n", "x", "-c", "u:"}, ErrTrouble, ActionStop, "missing group name"},
		{[]string{"-K", "-n", "x", "-P", "fifo:x"}, ErrTrouble, ActionStop, "invalid process scheduler priority"},
		{[]string{"-K", "-n", "x", "-P", "fifo"}, ErrUsage, ActionStop, "process scheduler priority less than min"},
		{[]string{"-K", "-n", "x", "-I", "best-effort:8"}, ErrUsage, ActionStop, "IO scheduler priority greater than max"},
		{[]string{"-S", "-b", "-a", "/bin/d"}, ErrUsage, ActionStart, "need at least one of --exec, --pid, --ppid, --pidfile, --user or --name"},
		{[]string{"-S", "-x", "/bin/d", "-O", "/tmp/o"}, ErrUsage, ActionStart, "--output is only relevant with --background"},
		{[]string{"-S", "-x", "/bin/d", "-C"}, ErrUsage, ActionStart, "--no-close is only relevant with --background"},
	} {
		o, err := Parse(append([]string{Name}, c.args...), false)
		if !errors.Is(err, c.want) || o.Action != c.action || message(err) != c.msg {
			t.Errorf("Parse(%q) = action %v, %v; want action %v, %v %q", c.args, o.Action, err, c.action, c.want, c.msg)
		}
	}
}

// TestParseUnsigned reads numbers as strtol does, in 0..INT_MAX.
func TestParseUnsigned(t *testing.T) {
	for _, c := range []struct {
		s    string
		base int
		want int
		ok   bool
	}{
		{"15", 10, 15, true}, {" +15", 10, 15, true}, {"-0", 10, 0, true}, {"-1", 10, 0, false},
		{"", 10, 0, false}, {"1x", 10, 0, false}, {"0x1ff", 0, 0o777, true}, {"022", 0, 0o22, true},
		{"08", 0, 0, false}, {"0", 0, 0, true}, {"2147483647", 10, 1<<31 - 1, true}, {"2147483648", 10, 0, false},
	} {
		if got, ok := parseUnsigned(c.s, c.base); got != c.want || ok != c.ok {
			t.Errorf("parseUnsigned(%q, %d) = %d, %v; want %d, %v", c.s, c.base, got, ok, c.want, c.ok)
		}
	}
	for s, want := range map[string]int{"5": 5, "-3x": -3, "abc": 0, " 7": 7} {
		if got := atoi(s); got != want {
			t.Errorf("atoi(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestFlags: every option of start-stop-daemon 1.21 is in the table, once
// by each name; only daemonctl's own options are extensions.
func TestFlags(t *testing.T) {
	longs := map[string]bool{}
	shorts := map[byte]bool{}
	for _, f := range Flags() {
		if longs[f.Long] || f.Short != 0 && shorts[f.Short] {
			t.Errorf("%s is in the table twice", f.Long)
		}
		longs[f.Long], shorts[f.Short] = true, true
		if f.Usage == "" {
			t.Errorf("--%s has no usage", f.Long)
		}
	}
	for _, name := range []string{"start", "stop", "status", "help", "version", "pid", "ppid", "pidfile", "exec", "name", "user",
		"group", "chuid", "signal", "startas", "chroot", "chdir", "nicelevel", "procsched", "iosched", "umask", "background",
		"notify-await", "notify-timeout", "no-close", "output", "make-pidfile", "remove-pidfile", "retry", "test", "oknodo",
		"quiet", "verbose"} {
		if !longs[name] {
			t.Errorf("--%s is missing", name)
		}
	}
	if string(slices.Sorted(func(yield func(byte) bool) {
		for c := range shorts {
			if c != 0 && !yield(c) {
				return
			}
		}
	})) != "CHIKNOPRSTVabcdgkmnopqrstuvx" {
		t.Errorf("the one-letter options are not start-stop-daemon's")
	}
}
