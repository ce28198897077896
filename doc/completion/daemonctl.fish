# fish completion for daemonctl. Generated from the command-line definition
# by `go generate` (internal/gendocs); do not edit.

# The defined services, read with the command line's --config-dir.
function __daemonctl_services
    set -l tokens (commandline -opc)
    set -l cfg
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --config-dir
                set cfg --config-dir $tokens[(math $i + 1)]
            case '--config-dir=*'
                set cfg $tokens[$i]
        end
    end
    daemonctl $cfg __complete services 2>/dev/null
end

# True when the command line has no -p (a service name is wanted) and
# no argument after the command yet.
function __daemonctl_wants_service
    set -l tokens (commandline -opc)
    set -l seen 0
    for t in $tokens[2..-1]
        switch $t
            case -p --pidfile '--pidfile=*' '-p?*' --
                return 1
        end
    end
    set -l args (string match -v -- '-*' $tokens[3..-1])
    test (count $args) -eq 0
end

complete -c daemonctl -f
complete -c daemonctl -n '__fish_use_subcommand' -a start -d 'start a defined service, or PROGRAM, as a daemon recorded in a locked pidfile'
complete -c daemonctl -n '__fish_use_subcommand' -a stop -d 'stop the daemon holding the pidfile\'s lock, and remove the pidfile'
complete -c daemonctl -n '__fish_use_subcommand' -a status -d 'tell whether the daemon runs: the lock, not kill -0, decides'
complete -c daemonctl -n '__fish_use_subcommand' -a reload -d 'send HUP (or --signal) to the daemon holding the pidfile\'s lock'
complete -c daemonctl -n '__fish_use_subcommand' -a restart -d 'stop the daemon if it runs, then start it again'
complete -c daemonctl -n '__fish_use_subcommand' -a signal -d 'send any signal to the daemon holding the pidfile\'s lock'
complete -c daemonctl -n '__fish_use_subcommand' -a logs -d 'print the last lines of the service\'s stdout and stderr log files, and follow them'
complete -c daemonctl -n '__fish_use_subcommand' -a check -d 'validate service definitions without starting anything'
complete -c daemonctl -n '__fish_use_subcommand' -a init-script -d 'print an LSB init script for a defined service'
complete -c daemonctl -n '__fish_use_subcommand' -a help -d 'show the help of a command'
complete -c daemonctl -n '__fish_seen_subcommand_from help' -a 'start stop status reload restart signal logs check init-script'
complete -c daemonctl -n '__fish_use_subcommand' -l config-dir -r -F -d 'read service definitions (NAME.toml) from DIR (default /etc/daemonctl.d as root, $XDG_CONFIG_HOME/daemonctl otherwise)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l pidfile -s p -r -F -d 'the PID FILE (locked by the daemon while it runs); without it, name a service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l name -r -d 'with -p: service NAME for messages (default: the pidfile\'s base name without .pid)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l quiet -s q -d 'print nothing on success'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l all -s a -d 'act on every service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l chdir -s d -r -F -d 'working DIR of the daemon (default /)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l umask -r -d 'octal MASK for the daemon (default 022)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l user -s u -r -a '(__fish_complete_users)' -d 'run as USER (name or uid), with its groups; root only'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l group -s g -r -a '(__fish_complete_groups)' -d 'run with primary GROUP (name or gid); root only'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l env -s e -r -d 'add KEY=VALUE to the environment (repeatable)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l clear-env -d 'start from an empty environment (then only --env)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l stdout -s o -r -F -d 'append the daemon\'s stdout to FILE (created 0640; default /dev/null)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l stderr -r -F -d 'append the daemon\'s stderr to FILE (created 0640; default /dev/null)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l nice -s N -r -d 'run at nice LEVEL (-20..19)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l wait -s w -r -d 'fail unless the daemon is still alive after DURATION (e.g. 500ms)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l notify -d 'wait for READY=1 on NOTIFY_SOCKET (systemd\'s sd_notify protocol)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l timeout -r -d 'with --notify: give up after DURATION and stop the daemon (with --supervise --forking: bounds the start-up\'s hand-over too)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l keep-on-timeout -d 'with --notify: leave the daemon running on timeout (start still fails)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l notify-socket -r -F -d 'with --notify: bind the socket at file-system PATH instead of an abstract name'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l supervise -d 'keep the program running: daemonctl\'s supervisor holds the lock, respawns the program, and rotates its --stdout and --stderr'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l respawn -r -d 'with --supervise: respawn WHEN the program exits: on-failure (a non-zero status or a signal; the default) or always'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l respawn-delay -r -d 'with --supervise: wait DURATION before the first respawn, doubling each time (default 100ms)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l respawn-delay-max -r -d 'with --supervise: let the doubled delay grow to at most DURATION (default 30s)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l respawn-limit -r -d 'with --supervise: give up after more than N respawns within PERIOD, as N/PERIOD (default 5/10s), or unlimited'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l watchdog -r -d 'with --supervise: the program must send WATCHDOG=1 every DURATION (sd_notify), or it is aborted and respawned'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l log-max-size -r -d 'with --supervise: rotate --stdout and --stderr at SIZE bytes (K, M, G suffixes; default 10M)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l log-keep -r -d 'with --supervise: keep N rotated files of each log (default 5)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l forking -d 'with --supervise: the program forks itself away; its exit 0 ends the start-up and the process it leaves is supervised'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l program-pidfile -r -d 'with --forking: the forking program writes its main process\'s PID to FILE'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l signal -s s -r -a 'HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM' -d 'first SIGNAL of the stop schedule (with --retry: only of a bare number)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l retry -s R -r -d 'stop SCHEDULE, start-stop-daemon\'s: signals, seconds to wait and forever (repeat what follows) separated by /, in any order, like TERM/30/KILL/5 or forever/TERM/1; a bare number N means SIGNAL/N/KILL/N (default TERM/10/KILL/5)'
complete -c daemonctl -n '__fish_seen_subcommand_from start' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from start; and __daemonctl_wants_service' -a '(__daemonctl_services)'
complete -c daemonctl -n '__fish_seen_subcommand_from stop' -l pidfile -s p -r -F -d 'the PID FILE (locked by the daemon while it runs); without it, name a service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from stop' -l name -r -d 'with -p: service NAME for messages (default: the pidfile\'s base name without .pid)'
complete -c daemonctl -n '__fish_seen_subcommand_from stop' -l quiet -s q -d 'print nothing on success'
complete -c daemonctl -n '__fish_seen_subcommand_from stop' -l all -s a -d 'act on every service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from stop' -l exec -r -d 'accept as the daemon only a process running the executable PATH (as start-stop-daemon\'s --exec); anything else in the pidfile is left alone'
complete -c daemonctl -n '__fish_seen_subcommand_from stop' -l signal -s s -r -a 'HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM' -d 'first SIGNAL of the stop schedule (with --retry: only of a bare number)'
complete -c daemonctl -n '__fish_seen_subcommand_from stop' -l retry -s R -r -d 'stop SCHEDULE, start-stop-daemon\'s: signals, seconds to wait and forever (repeat what follows) separated by /, in any order, like TERM/30/KILL/5 or forever/TERM/1; a bare number N means SIGNAL/N/KILL/N (default TERM/10/KILL/5)'
complete -c daemonctl -n '__fish_seen_subcommand_from stop' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from stop; and __daemonctl_wants_service' -a '(__daemonctl_services)'
complete -c daemonctl -n '__fish_seen_subcommand_from status' -l pidfile -s p -r -F -d 'the PID FILE (locked by the daemon while it runs); without it, name a service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from status' -l name -r -d 'with -p: service NAME for messages (default: the pidfile\'s base name without .pid)'
complete -c daemonctl -n '__fish_seen_subcommand_from status' -l quiet -s q -d 'print nothing on success'
complete -c daemonctl -n '__fish_seen_subcommand_from status' -l all -s a -d 'act on every service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from status' -l exec -r -d 'accept as the daemon only a process running the executable PATH (as start-stop-daemon\'s --exec); anything else in the pidfile is left alone'
complete -c daemonctl -n '__fish_seen_subcommand_from status' -l json -d 'print JSON: one object, or an array for the table'
complete -c daemonctl -n '__fish_seen_subcommand_from status' -l format -r -d 'FORMAT of the output: text, json (as --json) or prometheus (the text exposition format)'
complete -c daemonctl -n '__fish_seen_subcommand_from status' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from status; and __daemonctl_wants_service' -a '(__daemonctl_services)'
complete -c daemonctl -n '__fish_seen_subcommand_from reload' -l pidfile -s p -r -F -d 'the PID FILE (locked by the daemon while it runs); without it, name a service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from reload' -l name -r -d 'with -p: service NAME for messages (default: the pidfile\'s base name without .pid)'
complete -c daemonctl -n '__fish_seen_subcommand_from reload' -l quiet -s q -d 'print nothing on success'
complete -c daemonctl -n '__fish_seen_subcommand_from reload' -l exec -r -d 'accept as the daemon only a process running the executable PATH (as start-stop-daemon\'s --exec); anything else in the pidfile is left alone'
complete -c daemonctl -n '__fish_seen_subcommand_from reload' -l signal -s s -r -a 'HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM' -d 'SIGNAL to send'
complete -c daemonctl -n '__fish_seen_subcommand_from reload' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from reload; and __daemonctl_wants_service' -a '(__daemonctl_services)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l pidfile -s p -r -F -d 'the PID FILE (locked by the daemon while it runs); without it, name a service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l name -r -d 'with -p: service NAME for messages (default: the pidfile\'s base name without .pid)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l quiet -s q -d 'print nothing on success'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l chdir -s d -r -F -d 'working DIR of the daemon (default /)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l umask -r -d 'octal MASK for the daemon (default 022)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l user -s u -r -a '(__fish_complete_users)' -d 'run as USER (name or uid), with its groups; root only'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l group -s g -r -a '(__fish_complete_groups)' -d 'run with primary GROUP (name or gid); root only'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l env -s e -r -d 'add KEY=VALUE to the environment (repeatable)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l clear-env -d 'start from an empty environment (then only --env)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l stdout -s o -r -F -d 'append the daemon\'s stdout to FILE (created 0640; default /dev/null)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l stderr -r -F -d 'append the daemon\'s stderr to FILE (created 0640; default /dev/null)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l nice -s N -r -d 'run at nice LEVEL (-20..19)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l wait -s w -r -d 'fail unless the daemon is still alive after DURATION (e.g. 500ms)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l notify -d 'wait for READY=1 on NOTIFY_SOCKET (systemd\'s sd_notify protocol)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l timeout -r -d 'with --notify: give up after DURATION and stop the daemon (with --supervise --forking: bounds the start-up\'s hand-over too)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l keep-on-timeout -d 'with --notify: leave the daemon running on timeout (start still fails)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l notify-socket -r -F -d 'with --notify: bind the socket at file-system PATH instead of an abstract name'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l supervise -d 'keep the program running: daemonctl\'s supervisor holds the lock, respawns the program, and rotates its --stdout and --stderr'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l respawn -r -d 'with --supervise: respawn WHEN the program exits: on-failure (a non-zero status or a signal; the default) or always'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l respawn-delay -r -d 'with --supervise: wait DURATION before the first respawn, doubling each time (default 100ms)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l respawn-delay-max -r -d 'with --supervise: let the doubled delay grow to at most DURATION (default 30s)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l respawn-limit -r -d 'with --supervise: give up after more than N respawns within PERIOD, as N/PERIOD (default 5/10s), or unlimited'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l watchdog -r -d 'with --supervise: the program must send WATCHDOG=1 every DURATION (sd_notify), or it is aborted and respawned'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l log-max-size -r -d 'with --supervise: rotate --stdout and --stderr at SIZE bytes (K, M, G suffixes; default 10M)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l log-keep -r -d 'with --supervise: keep N rotated files of each log (default 5)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l forking -d 'with --supervise: the program forks itself away; its exit 0 ends the start-up and the process it leaves is supervised'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l program-pidfile -r -d 'with --forking: the forking program writes its main process\'s PID to FILE'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l signal -s s -r -a 'HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM' -d 'first SIGNAL of the stop schedule (with --retry: only of a bare number)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l retry -s R -r -d 'stop SCHEDULE, start-stop-daemon\'s: signals, seconds to wait and forever (repeat what follows) separated by /, in any order, like TERM/30/KILL/5 or forever/TERM/1; a bare number N means SIGNAL/N/KILL/N (default TERM/10/KILL/5)'
complete -c daemonctl -n '__fish_seen_subcommand_from restart' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from restart; and __daemonctl_wants_service' -a '(__daemonctl_services)'
complete -c daemonctl -n '__fish_seen_subcommand_from signal' -l pidfile -s p -r -F -d 'the PID FILE (locked by the daemon while it runs); without it, name a service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from signal' -l name -r -d 'with -p: service NAME for messages (default: the pidfile\'s base name without .pid)'
complete -c daemonctl -n '__fish_seen_subcommand_from signal' -l quiet -s q -d 'print nothing on success'
complete -c daemonctl -n '__fish_seen_subcommand_from signal' -l exec -r -d 'accept as the daemon only a process running the executable PATH (as start-stop-daemon\'s --exec); anything else in the pidfile is left alone'
complete -c daemonctl -n '__fish_seen_subcommand_from signal' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from signal; and __daemonctl_wants_service' -a '(__daemonctl_services)'
complete -c daemonctl -n '__fish_seen_subcommand_from signal; and not __daemonctl_wants_service' -a 'HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM'
complete -c daemonctl -n '__fish_seen_subcommand_from logs' -l pidfile -s p -r -F -d 'the PID FILE (locked by the daemon while it runs); without it, name a service defined in the --config-dir'
complete -c daemonctl -n '__fish_seen_subcommand_from logs' -l lines -s n -r -d 'print the last N lines of each file (0: none)'
complete -c daemonctl -n '__fish_seen_subcommand_from logs' -l follow -s f -d 'then print lines as they are written, across rotations, until interrupted'
complete -c daemonctl -n '__fish_seen_subcommand_from logs' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from logs; and __daemonctl_wants_service' -a '(__daemonctl_services)'
complete -c daemonctl -n '__fish_seen_subcommand_from check' -l quiet -s q -d 'print only the problems'
complete -c daemonctl -n '__fish_seen_subcommand_from check' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from check; and __daemonctl_wants_service' -a '(__daemonctl_services)'
complete -c daemonctl -n '__fish_seen_subcommand_from init-script' -l daemonctl -r -d 'the daemonctl PATH the script runs (default: this program\'s own absolute path)'
complete -c daemonctl -n '__fish_seen_subcommand_from init-script' -l help -s h -d 'show help'
complete -c daemonctl -n '__fish_seen_subcommand_from init-script; and __daemonctl_wants_service' -a '(__daemonctl_services)'
