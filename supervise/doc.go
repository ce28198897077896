// Package supervise keeps a daemon running: it is what daemonctl's
// launcher stage becomes with "start --supervise". The stage does not
// exit after starting the program; it stays the leader of the session,
// makes itself a child subreaper, holds the pidfile's lock and writes its
// own PID into the pidfile, so the pidfile names the lock holder and
// "kill $(cat FILE)" stops the service cleanly. The program is its child
// (in the session, not its leader) and inherits the read-only lock
// descriptor as descriptor 3, so if the supervisor is SIGKILLed the
// service still reads as held (orphaned) and is never started twice.
//
// # What the stage calls
//
// The caller starts the stage as today (a new session, the spec and
// status pipes), with GOMAXPROCS=1 added to the stage's own environment
// (not the program's, which the spec carries): a supervisor set to one P
// at run time keeps about 450 KiB more (see tuneRuntime). Then the stage:
//
//	pf, err := pidfile.Acquire(path)      // as today, under umask 022
//	syscall.Umask(programUmask)           // the program's and the logs'
//	sup, err := supervise.Start(supervise.Config{PIDFile: pf, ...})
//	// report sup.PID() (the program) and os.Getpid() (the supervisor), or
//	// err, on the status pipe; close it
//	end := sup.Wait()                     // blocks for the service's life
//	os.Exit(0 or 1)                       // 1 for GaveUp
//
// Start returns once the first start counts as done (Config.Ready: at
// once, after the program stayed up Ready.Wait, after READY=1, or after a
// forking program handed over), or fails leaving nothing behind. Wait
// returns when the service has ended (Ending).
//
// # What it does meanwhile
//
// The supervisor is one goroutine woken only by events: SIGCHLD (wait4
// gives the exit status, and as a subreaper it also reaps what the
// program leaves behind; only the main process's exit drives a respawn),
// the signals it forwards or obeys, notify datagrams, a log write failure,
// and a timer that exists only while a respawn, a readiness deadline, a
// watchdog deadline or a stop step is pending. Its log pumps are
// goroutines parked in Go's poller. The periodic garbage collection is
// off. So an idle supervisor never wakes up: measured over 60 s, 0 CPU
// ticks and 2 context switches, both the Go runtime's monitor thread,
// which sleeps at most a minute.
//
//   - Respawn: after a failure (OnFailure: a non-zero exit or a death by a
//     signal) or any exit (Always), after a delay that starts at
//     Respawn.Delay and doubles up to Respawn.DelayMax, back to the start
//     once a program stayed up for Limit.Period (or sent READY=1 under
//     Notify). More than Limit.Count respawns within Limit.Period: the
//     supervisor gives up, publishes why, and exits. A program that exits
//     0 under OnFailure ends the service. Each respawn and its cause is a
//     line in the stderr log.
//   - Signals: TERM, INT and QUIT stop: forwarded to the program, never a
//     respawn after them, and the supervisor exits once the program is
//     gone (the pidfile removed). HUP, USR1, USR2, WINCH and every other
//     catchable signal are forwarded, so "daemonctl reload" and
//     "kill -HUP $(cat FILE)" reach the program.
//   - Logs: with Logs.Stdout or Logs.Stderr the program's output goes
//     through pipes to the supervisor, which appends it to the files and
//     rotates them by size (FILE.1 ... FILE.Keep), at line boundaries. It
//     opens the directory once, following only symbolic links root owns,
//     and never follows a link in it; files it creates go to the
//     program's user. After the program dies the pipes are drained
//     before the supervisor writes about its death. Failed writes (disk
//     full, directory removed) are counted and published.
//   - Watchdog: with Config.Watchdog the program gets WATCHDOG_USEC,
//     WATCHDOG_PID and NOTIFY_SOCKET, which the supervisor listens on for
//     its whole life (systemd's protocol); pings count from the program's
//     descendants and the lock's holders only. No WATCHDOG=1 within the
//     period: SIGABRT, the rest of Config.StopSchedule, a respawn.
//   - Forking programs (Config.Forking): the start-up's exit 0 hands over
//     to the main process, the PID in Config.ProgramPIDFile or the single
//     process left; the supervisor adopted it as a subreaper and watches
//     it; stop, reload and respawn apply to it.
//
// # What readers see
//
// The supervisor publishes a Snapshot (state, program PID and start,
// respawns, last exit, log files and failures, watchdog misses) in the
// pidfile's extended attribute user.daemonctl.state, replaced atomically
// and at most once a second for counters alone. Read returns it to any
// user who may read the pidfile, without signalling anyone; a Snapshot
// counts only while the supervisor, the file's PID, holds the service's
// lock, except the last words Failed and Exited, which outlive it.
package supervise
