package ssd

// Flag is one option of start-stop-daemon 1.21 (and one of daemonctl's
// own, marked Extension), as this personality reads it: the table the
// parser, --help and the manual page are made from.
type Flag struct {
	// Long is the long name without its dashes; Short the one-letter
	// name, 0 when there is none.
	Long  string
	Short byte
	// Arg names the value, "" for a switch.
	Arg string
	// Usage is the option's meaning, start-stop-daemon's.
	Usage string
	// Differs says what daemonctl does differently ("" when nothing).
	Differs string
	// Refused says when the option is refused, with one line naming it
	// ("" when never).
	Refused string
	// Extension marks an option start-stop-daemon does not have.
	Extension bool
}

// Flags lists every option, in the order of start-stop-daemon's
// getopt_long table (which orders its "ambiguous" messages). It is built on each call: the personality keeps no
// package state, so that daemonctl run under its own name pays nothing
// for it.
func Flags() []Flag {
	return []Flag{
		{Long: "help", Short: 'H', Usage: "print help information"},
		{Long: "stop", Short: 'K', Usage: "signal the matching processes (and with --retry, wait for them to exit)",
			Differs: "signals through pidfds re-checked after the match; waits are woken by the pidfds; processes left in a dead main process's session that still match are stopped too"},
		{Long: "start", Short: 'S', Usage: "start a program, unless a matching process runs; arguments after -- go to the program",
			Differs: "with --background --make-pidfile, daemonctl's own start: the daemon holds the pidfile's lock, so a racing start finds it running; a program that fails to execute is reported (exit 2), where start-stop-daemon --background cannot tell"},
		{Long: "status", Short: 'T', Usage: "exit 0 running, 1 dead with its pidfile left, 3 not running, 4 unknown",
			Differs: "a zombie counts as dead; a pidfile daemonctl started reads its lock and record, so a reused PID reads as dead"},
		{Long: "version", Short: 'V', Usage: "print the version"},
		{Long: "startas", Short: 'a', Arg: "pathname", Usage: "with --start, the program to run (default: --exec)"},
		{Long: "name", Short: 'n', Arg: "process-name", Usage: "match processes with this name (the kernel's 15-character comm)"},
		{Long: "oknodo", Short: 'o', Usage: "exit 0 instead of 1 when nothing was (or would be) done"},
		{Long: "pid", Arg: "pid", Usage: "match the process with this PID (a number greater than 0)"},
		{Long: "ppid", Arg: "ppid", Usage: "match processes whose parent has this PID"},
		{Long: "pidfile", Short: 'p', Arg: "pid-file", Usage: "match the process whose PID the file holds",
			Differs: "believed only from a file nobody but root or the caller could have written; a file the service's user could have written (its owner or its directory's) names only that user's processes, and needs another matching option; symbolic links are never followed; the file must hold just the PID"},
		{Long: "quiet", Short: 'q', Usage: "print only errors"},
		{Long: "signal", Short: 's', Arg: "signal", Usage: "with --stop, the signal to send (default TERM)"},
		{Long: "test", Short: 't', Usage: "print what would be done, and exit as if it had been"},
		{Long: "user", Short: 'u', Arg: "username|uid", Usage: "match processes owned by this user"},
		{Long: "group", Short: 'g', Arg: "group|gid", Usage: "with --start, run the program with this group",
			Differs: "without --chuid, the supplementary groups become just this group"},
		{Long: "chroot", Short: 'r', Arg: "directory", Usage: "with --start, chroot to the directory before running the program",
			Refused: "with --background --make-pidfile (daemonctl's own start keeps the pidfile outside any chroot)"},
		{Long: "verbose", Short: 'v', Usage: "print more"},
		{Long: "exec", Short: 'x', Arg: "executable", Usage: "match processes running this executable (/proc/PID/exe); with --start, the program to run",
			Differs: "a binary replaced since the process started (a package upgrade) matches only when the process's own copy is deleted"},
		{Long: "chuid", Short: 'c', Arg: "name|uid[:group|gid]", Usage: "with --start, run the program as this user (and group; default the user's), with the user's groups"},
		{Long: "nicelevel", Short: 'N', Arg: "incr", Usage: "with --start, add incr to the program's nice value"},
		{Long: "procsched", Short: 'P', Arg: "policy[:prio]", Usage: "with --start, the scheduling policy (other, fifo, rr) and priority"},
		{Long: "iosched", Short: 'I', Arg: "class[:prio]", Usage: "with --start, the I/O scheduling class (idle, best-effort, real-time) and priority"},
		{Long: "umask", Short: 'k', Arg: "mask", Usage: "with --start, the program's umask"},
		{Long: "background", Short: 'b', Usage: "with --start, detach the program: fork, new session, fork"},
		{Long: "notify-await", Usage: "with --background, wait for the program's READY=1 (sd_notify) before exiting",
			Differs: "on timeout the program is stopped (start-stop-daemon leaves it running); READY=1 and STATUS= are read, EXTEND_TIMEOUT_USEC and ERRNO are not",
			Refused: "with --background without --make-pidfile"},
		{Long: "notify-timeout", Arg: "seconds", Usage: "with --notify-await, how long to wait (default 60)"},
		{Long: "no-close", Short: 'C', Usage: "with --background, keep the descriptors and the standard streams",
			Refused: "with --make-pidfile (daemonctl's own start gives the daemon /dev/null or --output)"},
		{Long: "output", Short: 'O', Arg: "pathname", Usage: "with --background, append stdout and stderr to the file",
			Differs: "a symbolic link, FIFO, device or file with other names is refused; a new file is created 0640"},
		{Long: "make-pidfile", Short: 'm', Usage: "with --start, write the pidfile (with --background: the daemon's PID)",
			Differs: "with --background, daemonctl's own start: the file is locked by the daemon and carries daemonctl's record; without it, the PID is written as start-stop-daemon does, never through a symbolic link"},
		{Long: "remove-pidfile", Usage: "with --stop, remove the pidfile once the processes are gone",
			Differs: "a pidfile daemonctl started is removed only once its lock is free"},
		{Long: "retry", Short: 'R', Arg: "timeout|schedule", Usage: "with --stop, wait for the processes to exit, walking the schedule (signal/timeout/.../forever)",
			Differs: "waits end the moment the last process exits (pidfds); after a signal, processes already gone end the stop at once"},
		{Long: "chdir", Short: 'd', Arg: "directory", Usage: "with --start, the working directory (default /)",
			Differs: "with --background, entered after the user is changed, so it must be the user's to enter"},
		{Long: "daemonctl-program", Arg: "path", Extension: true,
			Usage: "match processes running this program: its executable, or, for a #! script, its interpreter running it (used by the init-functions hook for status)"},
	}
}

// lookupLong finds the flag a long option names: the exact name, or the
// only one it is a prefix of (getopt_long's abbreviations). ambiguous
// lists the candidates when there are several.
func lookupLong(flags []Flag, name string) (f *Flag, ambiguous []string) {
	var found []*Flag
	for i := range flags {
		switch {
		case flags[i].Long == name:
			return &flags[i], nil
		case len(name) < len(flags[i].Long) && flags[i].Long[:len(name)] == name:
			found = append(found, &flags[i])
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	for _, c := range found {
		ambiguous = append(ambiguous, c.Long)
	}
	return nil, ambiguous
}

// lookupShort finds the flag with the one-letter name c.
func lookupShort(flags []Flag, c byte) *Flag {
	for i := range flags {
		if flags[i].Short == c {
			return &flags[i]
		}
	}
	return nil
}
