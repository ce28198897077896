// Package ssd is daemonctl's start-stop-daemon personality: when the
// daemonctl binary runs under the name start-stop-daemon, Main speaks
// start-stop-daemon 1.21's command line (Parse), with its meaning and its
// exit codes, so that Debian's stock init scripts run unchanged.
//
// What it does differently, each on purpose (see Flags for the options):
//
//   - Every signal goes through a pidfd opened after the match and checked
//     again, and every wait is woken by the pidfds (no 20 ms poll): a PID
//     reused meanwhile is never signalled, and a stop returns the moment
//     the processes are gone.
//   - A pidfile is believed only under daemonctl's trust rules: one that
//     someone other than root, the caller or one service user could have
//     written is refused; one the service's own user could have written
//     names only processes of that user (it could signal them itself).
//   - --start --background --make-pidfile is daemonctl's own start (the
//     pidfile locked by the daemon, the start recorded), so racing starts
//     cannot launch two instances and --status and --stop read the lock.
//   - Without --background the program is executed in place, as
//     start-stop-daemon does, and a pidfile it writes itself is never
//     created or locked; such a daemon is found as start-stop-daemon finds
//     it (--pidfile, --exec, --name, --user, --pid, --ppid), and, once its
//     main process is dead, the processes left in its session that still
//     match are found too (nginx's workers after a SIGKILL of the master).
//
// Everything else is start-stop-daemon's: the options and their
// combinations, the messages, and the exit codes (0 done; 1 nothing done
// without --oknodo; 2 --retry ran out with processes left, or trouble found
// while running, as 1.21 exits; 3 a bad command line; and for --status 0
// running, 1 dead with its pidfile left, 3 not running, 4 unknown).
package ssd
