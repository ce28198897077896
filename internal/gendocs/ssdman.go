package gendocs

import (
	"fmt"
	"strings"

	"github.com/daemonctl/daemonctl/ssd"
)

// SSDMan renders daemonctl-ssd(8), daemonctl speaking as start-stop-daemon,
// from the personality's option table.
func SSDMan(flags []ssd.Flag) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	para := func(paragraphs ...string) {
		for _, p := range paragraphs {
			w(".PP")
			w("%s", roff(p))
		}
	}
	w(`.TH DAEMONCTL\-SSD 8 "" "daemonctl" "daemonctl manual"`)
	w(".SH NAME")
	w(`daemonctl\-ssd \- daemonctl standing in for start\-stop\-daemon`)
	w(".SH SYNOPSIS")
	w(`.B start\-stop\-daemon`)
	w(`[\fIoption\fR...] \fIcommand\fR`)
	w(".SH DESCRIPTION")
	para(
		"Run under the name start-stop-daemon (argv[0]'s base name: a symbolic link to daemonctl, as the daemonctl-ssd package installs at /sbin/start-stop-daemon), daemonctl speaks the command line of dpkg's start-stop-daemon 1.21 with its meaning, its messages and its exit codes, so that init scripts run unchanged. The options are read as its getopt_long reads them: bundled (-Sqx PATH), abbreviated (--pidf), with --opt=value or --opt value, arguments moved after the options unless POSIXLY_CORRECT is set, -- ending them. Every option of 1.21 is taken with its meaning, or, in the combinations listed below, refused with one line naming it; none is ignored.",
		"What differs, each on purpose:",
	)
	for _, item := range []string{
		"Every signal goes through a pidfd opened after the process was matched and matched again once opened, so a PID reused in between is never signalled; every wait of --retry is woken by the processes' pidfds, so a stop returns the moment they are gone (start-stop-daemon polls every 20 ms or more). A zombie counts as gone.",
		"A pidfile is believed only under daemonctl's trust rules. One that someone other than root, the caller, or one service user could have written (writable by a group or by everybody, with other names, in a directory others may write, a symbolic link) is refused, exit 2 (4 for --status). One the service's own user could have written (its owner, or its directory's: redis-server's init script arranges that) names only that user's processes, which that user could signal itself: a compromised service cannot point root at another process. With --pidfile alone, as start-stop-daemon 1.19.3 and later, the file must be root's or the caller's. The file must hold just a PID.",
		"--start --background --make-pidfile is daemonctl's own start (see daemonctl(1)): the daemon holds the pidfile's lock, read-only, as descriptor 3, and the start is recorded on the file. Racing starts launch one daemon; --status and --stop judge it by its lock and the record, so a reused PID reads as dead. A program that cannot be executed is reported (exit 2) where start-stop-daemon --background exits 0.",
		"Without --background the program is executed in place after the checks, as start-stop-daemon does, and a pidfile it writes itself is never created, locked or kept open: cron, which locks its own pidfile, runs. Such a daemon is found as start-stop-daemon finds it (--pidfile, --exec, --name, --user, --pid, --ppid); once the main process the pidfile names is dead, the processes left in the session it led that still match are found too (nginx's workers after its master was SIGKILLed): --status says dead (1), --stop stops them, --start refuses to start a second instance beside them.",
		"--exec matches a process whose binary was replaced since it started (a package upgrade) only when its own copy is deleted, and compares inodes, not paths.",
	} {
		w(".IP \\(bu 2")
		w("%s", roff(item))
	}
	w(".SH COMMANDS AND OPTIONS")
	for _, f := range flags {
		names := []string{"--" + f.Long}
		if f.Short != 0 {
			names = []string{"-" + string(f.Short), "--" + f.Long}
		}
		head := `\fB` + roff(strings.Join(names, ", ")) + `\fR`
		if f.Arg != "" {
			head += ` \fI` + roff(f.Arg) + `\fR`
		}
		w(".TP")
		w("%s", head)
		w("%s.", roff(upperFirst(f.Usage)))
		if f.Extension {
			w(".br")
			w("%s", roff("A daemonctl extension, not start-stop-daemon's."))
		}
		if f.Differs != "" {
			w(".br")
			w("%s", roff("daemonctl: "+f.Differs+"."))
		}
		if f.Refused != "" {
			w(".br")
			w("%s", roff("Refused "+f.Refused+"."))
		}
	}
	w(".SH EXIT STATUS")
	for _, row := range [][2]string{
		{"0", "done; or, with --oknodo, nothing to do"},
		{"1", "nothing done (a --start found a matching process, a --stop found none)"},
		{"2", "--retry ran out with processes left; or trouble while running (a missing --exec file or user, a pidfile that must not be believed, a program that cannot be executed), as start-stop-daemon 1.21 exits, though its manual says 3"},
		{"3", "a bad command line"},
	} {
		w(".TP")
		w(`.B %s`, row[0])
		w("%s", roff(row[1]))
	}
	w(".PP")
	w("%s", roff("With --status: 0 running, 1 not running and the pidfile exists, 3 not running, 4 unknown (and any error)."))
	w(".SH INIT-FUNCTIONS")
	para("/lib/lsb/init-functions answers an init script's status with pidofproc, which sends kill -0 to the PID in the pidfile: a dead daemon whose PID was reused reads as running. daemonctl-ssd installs a hook, /lib/lsb/init-functions.d/60-daemonctl, which, when /sbin/start-stop-daemon is daemonctl (and only then), makes pidofproc ask start-stop-daemon --status with the pidfile and the daemon's program (--daemonctl-program); status_of_proc and killproc go through pidofproc and start-stop-daemon. /etc/init.d/NAME status then exits 0 only for a live daemon, 1 for a dead one whose pidfile is left, 3 for a stopped one, whatever happened to the PID meanwhile. A script that calls start-stop-daemon --status --pidfile alone (memcached's) gets start-stop-daemon's answer: any live process with that PID.")
	w(".SH INSTALLING AND REVERTING")
	para(
		"The daemonctl package never replaces start-stop-daemon. The daemonctl-ssd package does, and only it: its preinst diverts dpkg's /sbin/start-stop-daemon to /sbin/start-stop-daemon.real (dpkg-divert --package daemonctl-ssd --rename), it installs /sbin/start-stop-daemon as a symbolic link to /usr/bin/daemonctl and the init-functions hook, and its postrm removes the diversion, putting dpkg's program back. Install it with dpkg -i (or apt install daemonctl-ssd); revert with dpkg -r daemonctl-ssd. Upgrades of dpkg meanwhile update the diverted start-stop-daemon.real. Note that dpkg's own maintainer scripts, and every init script, then run daemonctl.",
		"To try it without installing anything, in a private mount namespace: unshare -m sh -c 'mount --bind /usr/bin/daemonctl /sbin/start-stop-daemon && /etc/init.d/nginx restart'.",
	)
	w(".SH FILES")
	for _, row := range [][2]string{
		{"/sbin/start-stop-daemon", "with daemonctl-ssd, a symbolic link to /usr/bin/daemonctl"},
		{"/sbin/start-stop-daemon.real", "dpkg's start-stop-daemon, diverted"},
		{"/lib/lsb/init-functions.d/60-daemonctl", "the init-functions hook"},
	} {
		w(".TP")
		w(`.I %s`, roff(row[0]))
		w("%s", roff(row[1]))
	}
	w(".SH SEE ALSO")
	w(`\fBdaemonctl\fR(1), \fBstart\-stop\-daemon\fR(8), \fBdpkg\-divert\fR(1), \fBpidfd_open\fR(2)`)
	return b.String()
}
