package controller

import (
	"fmt"
	"strings"
	"time"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

// What status, stop and signal make of a supervised service: its pidfile
// names the supervisor, which holds the lock and publishes the program's
// PID and history (supervise.Read); only a state its supervisor vouches
// for while it holds the lock is believed, or its last word (failed,
// exited) once it is gone.

// supervisedStatus fills r for a service whose supervisor published a
// state that st vouches for, and reports ok. ok is false when the service
// is not supervised (or its state cannot be believed): Status then goes on
// as for any service, from the pidfile alone.
func supervisedStatus(r Report, st pidfile.State) (Report, bool, error) {
	if st.Status != pidfile.Running && st.Status != pidfile.Stale {
		return r, false, nil
	}
	snap, err := supervise.Read(st)
	if err != nil {
		return r, false, nil
	}
	name := r.Name
	r.Supervisor = snap.Supervisor
	respawns := snap.Respawns
	r.Respawns = &respawns
	r.LogFailures, r.WatchdogMisses = snap.LogFailures, snap.WatchdogMisses
	if !snap.Last.At.IsZero() {
		r.LastExit = exitInfo(snap.Last)
	}
	r.PID = 0
	if snap.PID != 0 {
		// The program as the kernel sees it now; a program that exited
		// since the snapshot (its PID reused, even) is not described.
		if info, err := process.Get(snap.PID); err == nil && (snap.StartTicks == 0 || info.StartTicks == snap.StartTicks) {
			r.PID = snap.PID
			started := info.Started.Round(10 * time.Millisecond)
			r.Started, r.Uptime, r.Command, r.RSS = &started, int64(time.Since(started).Seconds()), info.Command, info.RSS
		}
	}
	history := func() string {
		var parts []string
		if r.Started != nil {
			parts = append(parts, "up "+FormatUptime(time.Since(*r.Started)))
		}
		if snap.Respawns > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", snap.Respawns, plural(snap.Respawns, "respawn", "respawns")))
		}
		if !snap.Last.At.IsZero() {
			parts = append(parts, fmt.Sprintf("last: %s %s ago", snap.Last, FormatUptime(time.Since(snap.Last.At))))
		}
		if snap.LogFailures > 0 {
			parts = append(parts, fmt.Sprintf("%d failed log %s: %s", snap.LogFailures, plural(snap.LogFailures, "write", "writes"), snap.LogError))
		}
		if len(parts) == 0 {
			return ""
		}
		return ", " + strings.Join(parts, ", ")
	}
	who := func() string {
		switch {
		case r.PID != 0:
			return fmt.Sprintf("pid %d, supervisor %d", r.PID, snap.Supervisor)
		case snap.PID != 0:
			// Between the program's exit and the supervisor's next word.
			return fmt.Sprintf("supervisor %d; its program, pid %d, has just exited", snap.Supervisor, snap.PID)
		}
		return fmt.Sprintf("supervisor %d", snap.Supervisor)
	}
	switch snap.State {
	case supervise.Running:
		r.State = StateRunning
		r.Message = fmt.Sprintf("%s: running (%s%s)", name, who(), history())
	case supervise.Starting:
		r.State = StateStarting
		r.Message = fmt.Sprintf("%s: starting (%s, not ready yet%s)", name, who(), history())
	case supervise.Stopping:
		r.State = StateStopping
		r.Message = fmt.Sprintf("%s: stopping (%s%s)", name, who(), history())
	case supervise.Backoff:
		r.State = StateBackoff
		next := ""
		if !snap.Next.IsZero() {
			at := snap.Next
			r.NextRespawn = &at
			next = fmt.Sprintf(", respawn in %v", RoundElapsed(max(time.Until(at), 0)))
		}
		r.Message = fmt.Sprintf("%s: backoff (%s%s%s)", name, who(), next, history())
	case supervise.Failed:
		r.State, r.Supervisor = StateFailed, 0
		r.Message = fmt.Sprintf("%s: failed: %s", name, snap.Why())
		return r, true, withKind(ErrDead, "%s", r.Message)
	case supervise.Exited:
		r.State, r.Supervisor = StateStopped, 0
		r.Message = fmt.Sprintf("%s: not running (the program %s %s ago, which ends a service respawned on failure only)", name, snap.Why(), FormatUptime(time.Since(snap.Last.At)))
		return r, true, withKind(ErrNotRunning, "%s", r.Message)
	default:
		return r, false, nil
	}
	if !snap.Live {
		return r, false, nil
	}
	return r, true, nil
}

// exitInfo renders a program's end for JSON.
func exitInfo(e supervise.Exit) *ExitInfo {
	x := &ExitInfo{Code: e.Code, Core: e.Core, At: e.At, Text: e.String()}
	if e.Signal != 0 {
		x.Code, x.Signal = 0, signals.Name(e.Signal)
	}
	switch e.Cause {
	case supervise.CauseWatchdog:
		x.Cause = "watchdog"
	case supervise.CauseNotReady:
		x.Cause = "notready"
	case supervise.CauseSpawn:
		x.Cause = "spawn"
	}
	return x
}

// supervisedProgram returns the program a live supervisor of the service
// st describes runs (its PID and start time), or ok false when the
// service is not supervised, its supervisor is not live, or no program
// runs (backoff).
func supervisedProgram(st pidfile.State) (pid int, ticks uint64, ok bool) {
	if st.Status != pidfile.Running {
		return 0, 0, false
	}
	snap, err := supervise.Read(st)
	if err != nil || !snap.Live || snap.PID == 0 {
		return 0, 0, false
	}
	return snap.PID, snap.StartTicks, true
}

// supervisedRecord reports whether the pidfile's record says the file
// names a supervisor (the process that took the lock is the one named):
// then, with the supervisor gone and the lock still held, its program is
// orphaned.
func supervisedRecord(st pidfile.State) bool {
	return st.Record != nil && st.Record.PID != 0 && st.Record.PID == st.Record.Stage && st.Record.PID == st.PID
}

// inspect is pidfile.Inspect with --exec (pidfile.WithExec) applied to a
// supervised service's program rather than to its supervisor, which is
// daemonctl itself: the program the supervisor published, still the
// process it started, must run the executable. In backoff no program runs
// and the file stays Unverified: nothing is vouched for by --exec then.
func inspect(path string, opts ...pidfile.Option) (pidfile.State, error) {
	st, err := pidfile.Inspect(path, opts...)
	if err != nil || st.Status != pidfile.Unverified || st.Exec() == "" || !supervisedRecord(st) {
		return st, err
	}
	exec := st.Exec()
	plain, err := pidfile.Inspect(path, append(opts[:len(opts):len(opts)], pidfile.WithExec(""))...)
	if err != nil || !supervisedRecord(plain) {
		return st, nil
	}
	pid, ticks, ok := supervisedProgram(plain)
	if !ok {
		return st, nil
	}
	if why := pidfile.ExeMismatch(pid, exec); why != "" {
		st.Why = why
		return st, nil
	}
	if info, err := process.Get(pid); err != nil || ticks != 0 && info.StartTicks != ticks {
		return st, nil
	}
	return plain, nil
}

// runningPIDs is what "already running" names for the service st
// describes: its PID, or, for a supervised service, its program's and
// its supervisor's (the program 0 in backoff).
func runningPIDs(st pidfile.State) (pid, supervisor int) {
	if !supervisedRecord(st) {
		return st.PID, 0
	}
	snap, err := supervise.Read(st)
	if err != nil || !snap.Live {
		return st.PID, 0
	}
	return snap.PID, snap.Supervisor
}
