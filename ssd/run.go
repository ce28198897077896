package ssd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Name is the program name under which daemonctl speaks as
// start-stop-daemon.
const Name = "start-stop-daemon"

// stageEnv marks the re-executed stage that detaches a --background
// program daemonctl does not start itself (see stage_linux.go).
const stageEnv = "DAEMONCTL_SSD_STAGE"

// Is reports whether argv0, a process's argv[0], names start-stop-daemon:
// the binary is to speak as it.
func Is(argv0 string) bool { return filepath.Base(argv0) == Name }

// Main runs the personality on args (argv[0] included), as the process
// start-stop-daemon would, and returns the exit code: 0 done; 1 nothing
// done (0 with --oknodo); 2 --retry ran out with processes left, or
// trouble while running (a missing file or user, a pidfile that must not
// be believed, a program that cannot run); 3 a bad command line; and for
// --status 0 running, 1 dead with its pidfile left, 3 not running, 4
// unknown or trouble. Messages go to stdout (information) and stderr
// (warnings and errors), as start-stop-daemon's. version is daemonctl's,
// for --version. Without --background, a successful start does not
// return: the program replaces this process, as with start-stop-daemon.
func Main(args []string, version string, stdout, stderr io.Writer) int {
	o, err := Parse(args, os.Getenv("POSIXLY_CORRECT") != "")
	if o.Prog == "" {
		o.Prog = Name
	}
	if err != nil {
		return fail(o, stderr, err)
	}
	switch o.Action {
	case ActionHelp:
		printUsage(stdout)
		return 0
	case ActionVersion:
		fmt.Fprintf(stdout, "%s 1.21 (daemonctl %s) for Debian\n\nA stand-in for dpkg's start-stop-daemon, by daemonctl; see daemonctl-ssd(8).\n", Name, version)
		return 0
	}
	if os.Getenv(stageEnv) != "" && o.Action == ActionStart && o.Background {
		// The caller printed the warnings.
		return runStage(o, stderr)
	}
	for _, w := range o.Warnings {
		fmt.Fprintf(stderr, "%s: warning: %s\n", o.Prog, w)
	}
	code, err := run(o, stdout, stderr)
	if err != nil {
		return fail(o, stderr, err)
	}
	return code
}

// TroubleCode is the exit code for trouble met before the personality
// could run on args (argv[0] included): 4 when they ask for --status, 2
// otherwise, as start-stop-daemon's fatal errors.
func TroubleCode(args []string) int {
	if o, _ := Parse(args, false); o.Action == ActionStatus {
		return statusUnknown
	}
	return 2
}

// fail prints err as start-stop-daemon prints its errors and returns its
// exit code: 3 for a bad command line (with a pointer to --help), 2 for
// other trouble, 4 for either under --status.
func fail(o Options, stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s: %s\n", o.Prog, message(err))
	code := 2
	if errors.Is(err, ErrUsage) {
		fmt.Fprintf(stderr, "Try '%s --help' for more information.\n", o.Prog)
		code = 3
	}
	if o.Action == ActionStatus {
		code = 4
	}
	return code
}

// LSB status codes, --status's exit codes.
const (
	statusRunning = 0
	statusDead    = 1 // not running, its pidfile left
	statusStopped = 3
	statusUnknown = 4
)

// nothingDone is the exit code when nothing was (or would be) done.
func (o Options) nothingDone() int {
	if o.OKNoDo {
		return 0
	}
	return 1
}

// info prints an informational message unless --quiet.
func (o Options) info(w io.Writer, format string, a ...any) {
	if o.Quiet <= 0 {
		fmt.Fprintf(w, format, a...)
	}
}

// debug prints a message only with --verbose.
func (o Options) debug(w io.Writer, format string, a ...any) {
	if o.Quiet < 0 {
		fmt.Fprintf(w, format, a...)
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: start-stop-daemon [<option>...] <command>

This is daemonctl speaking as start-stop-daemon 1.21 (see daemonctl-ssd(8)).

Commands:
  -S, --start -- <argument>...  start a program and pass <arguments> to it
  -K, --stop                    stop a program
  -T, --status                  get the program status
  -H, --help                    print help information
  -V, --version                 print version

Matching options (at least one is required):
      --pid <pid>               pid to check
      --ppid <ppid>             parent pid to check
  -p, --pidfile <pid-file>      pid file to check
  -x, --exec <executable>       program to start/check if it is running
  -n, --name <process-name>     process name to check
  -u, --user <username|uid>     process owner to check

Options:
  -g, --group <group|gid>       run process as this group
  -c, --chuid <name|uid[:group|gid]>
                                change to this user/group before starting
                                  process
  -s, --signal <signal>         signal to send (default TERM)
  -a, --startas <pathname>      program to start (default is <executable>)
  -r, --chroot <directory>      chroot to <directory> before starting
  -d, --chdir <directory>       change to <directory> (default is /)
  -N, --nicelevel <incr>        add incr to the process' nice level
  -P, --procsched <policy[:prio]>
                                use <policy> with <prio> for the kernel
                                  process scheduler (default prio is 0)
  -I, --iosched <class[:prio]>  use <class> with <prio> to set the IO
                                  scheduler (default prio is 4)
  -k, --umask <mask>            change the umask to <mask> before starting
  -b, --background              force the process to detach
      --notify-await            wait for a readiness notification
      --notify-timeout <int>    timeout after <int> seconds of notify wait
  -C, --no-close                do not close any file descriptor
  -O, --output <filename>       send stdout and stderr to <filename>
  -m, --make-pidfile            create the pidfile before starting
      --remove-pidfile          delete the pidfile after stopping
  -R, --retry <schedule>        check whether processes die, and retry
  -t, --test                    test mode, don't do anything
  -o, --oknodo                  exit status 0 (not 1) if nothing done
  -q, --quiet                   be more quiet
  -v, --verbose                 be more verbose

Retry <schedule> is <item>|/<item>/... where <item> is one of
 -<signal-num>|[-]<signal-name>  send that signal
 <timeout>                       wait that many seconds
 forever                         repeat remainder forever
or <schedule> may be just <timeout>, meaning <signal>/<timeout>/KILL/<timeout>

The process scheduler <policy> can be one of:
  other, fifo or rr

The IO scheduler <class> can be one of:
  real-time, best-effort or idle

Exit status:
  0 = done
  1 = nothing done (=> 0 if --oknodo)
  2 = with --retry, processes would not die (or trouble while running)
  3 = trouble
Exit status with --status:
  0 = program is running
  1 = program is not running and the pid file exists
  3 = program is not running
  4 = unable to determine status
`)
}
