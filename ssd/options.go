package ssd

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/signals"
)

// Action is the command a command line asks for.
type Action int

const (
	// ActionNone: no command yet (only seen with a usage error).
	ActionNone Action = iota
	// ActionStart is -S/--start.
	ActionStart
	// ActionStop is -K/--stop.
	ActionStop
	// ActionStatus is -T/--status.
	ActionStatus
	// ActionHelp is -H/--help: print the usage and exit 0.
	ActionHelp
	// ActionVersion is -V/--version: print the version and exit 0.
	ActionVersion
)

// Sched is a --procsched or --iosched request: the policy or class, by
// its kernel number and by the name given, and the priority.
type Sched struct {
	Name     string
	Policy   int
	Priority int
}

// Options is a parsed start-stop-daemon command line. Zero values mean
// the option was not given, except where noted.
type Options struct {
	// Prog is argv[0], the name messages begin with.
	Prog   string
	Action Action
	// Test (--test), OKNoDo (--oknodo).
	Test, OKNoDo bool
	// Quiet is 1 with --quiet, -1 with --verbose (the last one wins).
	Quiet int
	// Matching options. Exec is absolute (relative to Chdir, as
	// start-stop-daemon makes it); Program is daemonctl's extension.
	PID, PPID int
	PIDFile   string
	Exec      string
	Name      string
	User      string
	Program   string
	// Start options. StartAs defaults to Exec; Chdir to "/"; Umask is -1
	// when not given; Nice is an increment.
	StartAs     string
	Args        []string
	ChUser      string
	ChGroup     string
	Chroot      string
	Chdir       string
	Nice        int
	ProcSched   *Sched
	IOSched     *Sched
	Umask       int
	Background  bool
	NoClose     bool
	Output      string
	MakePIDFile bool
	NotifyAwait bool
	// NotifyTimeout defaults to 60 s.
	NotifyTimeout time.Duration
	// Stop options. Signal defaults to TERM; Schedule is nil without
	// --retry.
	Signal        unix.Signal
	Schedule      *signals.Schedule
	RemovePIDFile bool
	// Warnings are printed before acting (a --name longer than the
	// kernel keeps).
	Warnings []string
	// raw is the command line, for the stage that detaches a program.
	raw []string
}

// commName is how many bytes of a process name the kernel keeps
// (TASK_COMM_LEN less its NUL).
const commName = 15

// Parse reads a start-stop-daemon command line (argv[0] included) as
// start-stop-daemon 1.21 does, with posix set when POSIXLY_CORRECT is in
// the environment. It checks what start-stop-daemon checks before
// looking anything up; Run resolves users, groups and --exec.
//
// On success Options.Action is set (ActionHelp and ActionVersion end the
// parse where they appear, as there). The error wraps ErrUsage for a
// command line start-stop-daemon rejects with its usage message, or
// ErrTrouble for a --chuid with an empty group; Options.Action is then
// what had been read before the mistake, which decides the exit code.
func Parse(args []string, posix bool) (Options, error) {
	o := Options{Signal: unix.SIGTERM, Chdir: "/", Umask: -1, NotifyTimeout: 60 * time.Second}
	o.raw = args
	if len(args) > 0 {
		o.Prog = args[0]
		args = args[1:]
	}
	opts, operands, gerr := getopt(Flags(), args, posix)
	var pidStr, ppidStr, signalStr, retryStr, procStr, ioStr, umaskStr, timeoutStr *string
	for _, opt := range opts {
		v := opt.value
		switch opt.flag.Long {
		case "help":
			o.Action = ActionHelp
			return o, nil
		case "version":
			o.Action = ActionVersion
			return o, nil
		case "start", "stop", "status":
			a := ActionStart
			switch opt.flag.Long {
			case "stop":
				a = ActionStop
			case "status":
				a = ActionStatus
			}
			if o.Action != ActionNone && o.Action != a {
				return o, usage("only one command can be specified")
			}
			o.Action = a
		case "startas":
			o.StartAs = v
		case "name":
			o.Name = v
		case "oknodo":
			o.OKNoDo = true
		case "pid":
			pidStr = &v
		case "ppid":
			ppidStr = &v
		case "pidfile":
			o.PIDFile = v
		case "quiet":
			o.Quiet = 1
		case "signal":
			signalStr = &v
		case "test":
			o.Test = true
		case "user":
			o.User = v
		case "verbose":
			o.Quiet = -1
		case "exec":
			o.Exec = v
		case "daemonctl-program":
			o.Program = v
		case "chuid":
			user, group, hasGroup := strings.Cut(v, ":")
			o.ChUser = user
			if hasGroup {
				if group == "" {
					return o, fmt.Errorf("%w: missing group name", ErrTrouble)
				}
				o.ChGroup = group
			}
		case "group":
			o.ChGroup = v
		case "chroot":
			o.Chroot = v
		case "nicelevel":
			o.Nice = atoi(v)
		case "procsched":
			procStr = &v
		case "iosched":
			ioStr = &v
		case "umask":
			umaskStr = &v
		case "background":
			o.Background = true
		case "notify-await":
			o.NotifyAwait = true
		case "notify-timeout":
			timeoutStr = &v
		case "no-close":
			o.NoClose = true
		case "output":
			o.Output = v
		case "make-pidfile":
			o.MakePIDFile = true
		case "remove-pidfile":
			o.RemovePIDFile = true
		case "retry":
			retryStr = &v
		case "chdir":
			o.Chdir = v
		}
	}
	if gerr != nil {
		return o, gerr
	}
	o.Args = operands
	if err := o.parseValues(pidStr, ppidStr, signalStr, retryStr, procStr, ioStr, umaskStr, timeoutStr); err != nil {
		return o, err
	}
	return o, o.check()
}

// parseValues reads the option values start-stop-daemon parses after
// getopt, in its order.
func (o *Options) parseValues(pidStr, ppidStr, signalStr, retryStr, procStr, ioStr, umaskStr, timeoutStr *string) error {
	if pidStr != nil {
		pid, ok := parseUnsigned(*pidStr, 10)
		if !ok || pid == 0 {
			return usage("pid value must be a number greater than 0")
		}
		o.PID = pid
	}
	if ppidStr != nil {
		ppid, ok := parseUnsigned(*ppidStr, 10)
		if !ok || ppid == 0 {
			return usage("ppid value must be a number greater than 0")
		}
		o.PPID = ppid
	}
	if signalStr != nil {
		sig, ok := parseSignal(*signalStr)
		if !ok {
			return usage("signal value must be numeric or name of signal (KILL, INT, ...)")
		}
		o.Signal = sig
	}
	if retryStr != nil {
		sched, err := signals.ParseSchedule(*retryStr, o.Signal)
		if err != nil {
			return usage("%v", err)
		}
		o.Schedule = &sched
	}
	if procStr != nil {
		s, err := parseProcSched(*procStr)
		if err != nil {
			return err
		}
		o.ProcSched = s
	}
	if ioStr != nil {
		s, err := parseIOSched(*ioStr)
		if err != nil {
			return err
		}
		o.IOSched = s
	}
	if umaskStr != nil {
		mask, ok := parseUnsigned(*umaskStr, 0)
		if !ok {
			return usage("umask value must be a positive number")
		}
		o.Umask = mask
	}
	if timeoutStr != nil {
		secs, ok := parseUnsigned(*timeoutStr, 10)
		if !ok {
			return usage("invalid notify timeout value")
		}
		o.NotifyTimeout = time.Duration(secs) * time.Second
	}
	return nil
}

// check makes start-stop-daemon's checks of the options' combination, in
// its order.
func (o *Options) check() error {
	if o.Action == ActionNone {
		return usage("need one of --start or --stop or --status")
	}
	if o.Exec == "" && o.Name == "" && o.User == "" && o.PID == 0 && o.PPID == 0 && o.PIDFile == "" && o.Program == "" {
		return usage("need at least one of --exec, --pid, --ppid, --pidfile, --user or --name")
	}
	if len(o.Name) > commName {
		o.Warnings = append(o.Warnings, fmt.Sprintf("this system is not able to track process names\nlonger than %d characters, please use --exec instead of --name.", commName))
	}
	if o.StartAs == "" {
		o.StartAs = o.Exec
	}
	switch {
	case o.Action == ActionStart && o.StartAs == "":
		return usage("--start needs --exec or --startas")
	case o.MakePIDFile && o.PIDFile == "":
		return usage("--make-pidfile requires --pidfile")
	case o.RemovePIDFile && o.PIDFile == "":
		return usage("--remove-pidfile requires --pidfile")
	case o.PID != 0 && o.PIDFile != "":
		return usage("need either --pid or --pidfile, not both")
	case o.Background && o.Action != ActionStart:
		return usage("--background is only relevant with --start")
	case o.NoClose && !o.Background:
		return usage("--no-close is only relevant with --background")
	case o.Output != "" && !o.Background:
		return usage("--output is only relevant with --background")
	}
	if o.Exec != "" && !filepath.IsAbs(o.Exec) {
		// start-stop-daemon makes it relative to --chdir, as "DIR/NAME".
		o.Exec = o.Chdir + "/" + o.Exec
	}
	return nil
}

// usage is a command-line mistake with start-stop-daemon's message.
func usage(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}

// message is an error's text without its sentinel's prefix.
func message(err error) string {
	for _, s := range []error{ErrUsage, ErrTrouble} {
		if errors.Is(err, s) {
			return strings.TrimPrefix(err.Error(), s.Error()+": ")
		}
	}
	return err.Error()
}

// parseUnsigned reads a number as start-stop-daemon's parse_unsigned
// does (strtol with base 0 or 10: leading blanks, a sign, "0x" and "0"
// prefixes for base 0, nothing after the digits), in 0..INT_MAX.
func parseUnsigned(s string, base int) (int, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if base == 0 {
		switch {
		case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
			base, s = 16, s[2:]
		case len(s) > 1 && s[0] == '0':
			base, s = 8, s[1:]
		default:
			base = 10
		}
	}
	if s == "" {
		return 0, false
	}
	var n int64
	for _, c := range []byte(s) {
		var d int64
		switch {
		case c >= '0' && c <= '9':
			d = int64(c - '0')
		case c >= 'a' && c <= 'f':
			d = int64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= int64(base) {
			return 0, false
		}
		if n = n*int64(base) + d; n > math.MaxInt32 {
			return 0, false
		}
	}
	if neg && n != 0 {
		return 0, false
	}
	return int(n), true
}

// atoi reads --nicelevel as C's atoi: leading blanks, a sign, the digits
// up to the first other character; 0 when there are none.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' || n > math.MaxInt32/10 {
			break
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// parseSignal reads --signal: a number, or a signal name (start-stop-
// daemon's 19 upper-case names without SIG; daemonctl takes any name
// signals.Parse takes).
func parseSignal(s string) (unix.Signal, bool) {
	if n, ok := parseUnsigned(s, 10); ok {
		return unix.Signal(n), true
	}
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return 0, false
	}
	sig, err := signals.Parse(s)
	return sig, err == nil
}

// parseProcSched reads --procsched policy[:prio].
func parseProcSched(s string) (*Sched, error) {
	name, prioStr, hasPrio := strings.Cut(s, ":")
	prio := 0
	if hasPrio {
		p, ok := parseUnsigned(prioStr, 10)
		if !ok {
			return nil, fmt.Errorf("%w: invalid process scheduler priority", ErrTrouble)
		}
		prio = p
	}
	sched := &Sched{Name: name, Priority: prio}
	lo, hi := 1, 99 // Linux's range for fifo and rr
	switch name {
	case "other":
		sched.Policy, sched.Priority, lo, hi = schedOther, 0, 0, 0
	case "fifo":
		sched.Policy = schedFIFO
	case "rr":
		sched.Policy = schedRR
	default:
		return nil, usage("invalid process scheduler policy")
	}
	if sched.Priority < lo {
		return nil, usage("process scheduler priority less than min")
	}
	if sched.Priority > hi {
		return nil, usage("process scheduler priority greater than max")
	}
	return sched, nil
}

// Linux's scheduling policies (linux/sched.h) and I/O scheduling classes
// (linux/ioprio.h).
const (
	schedOther = 0
	schedFIFO  = 1
	schedRR    = 2

	ioprioClassRT   = 1
	ioprioClassBE   = 2
	ioprioClassIdle = 3
)

// parseIOSched reads --iosched class[:prio].
func parseIOSched(s string) (*Sched, error) {
	name, prioStr, hasPrio := strings.Cut(s, ":")
	prio := 4
	if hasPrio {
		p, ok := parseUnsigned(prioStr, 10)
		if !ok {
			return nil, fmt.Errorf("%w: invalid IO scheduler priority", ErrTrouble)
		}
		prio = p
	}
	sched := &Sched{Name: name, Priority: prio}
	switch name {
	case "real-time":
		sched.Policy = ioprioClassRT
	case "best-effort":
		sched.Policy = ioprioClassBE
	case "idle":
		sched.Policy, sched.Priority = ioprioClassIdle, 7
	default:
		return nil, usage("invalid IO scheduler policy")
	}
	if sched.Priority > 7 {
		return nil, usage("IO scheduler priority greater than max")
	}
	return sched, nil
}
