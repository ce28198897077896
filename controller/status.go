package controller

import (
	"fmt"
	"time"

	"github.com/daemonctl/daemonctl/internal/errkind"
	"github.com/daemonctl/daemonctl/pidfile"
)

// Report is a service's status, for people (Message) and for JSON.
type Report struct {
	Name    string `json:"name"`
	PIDFile string `json:"pidfile"`
	// State is one of the State constants.
	State State `json:"state"`
	// LockClosed is set for a running daemon that closed its lock
	// descriptor, vouched for by the start's record.
	LockClosed bool       `json:"lock_closed,omitempty"`
	PID        int        `json:"pid,omitempty"`
	Started    *time.Time `json:"started,omitempty"`
	// Uptime is in whole seconds.
	Uptime  int64    `json:"uptime,omitempty"`
	Command []string `json:"command,omitempty"`
	// RSS is the main process's resident set size in bytes, when it runs.
	RSS     int64 `json:"rss,omitempty"`
	Holders []int `json:"holders,omitempty"`
	// The rest is a supervised service's (start --supervise): PID is then
	// the program's, Supervisor the pidfile's; Respawns counts the
	// program's respawns, LastExit says how the previous program ended,
	// NextRespawn when the program is respawned (in backoff).
	Supervisor     int        `json:"supervisor,omitempty"`
	Respawns       *int       `json:"respawns,omitempty"`
	LastExit       *ExitInfo  `json:"last_exit,omitempty"`
	NextRespawn    *time.Time `json:"next_respawn,omitempty"`
	LogFailures    int        `json:"log_failures,omitempty"`
	WatchdogMisses int        `json:"watchdog_misses,omitempty"`
	Message        string     `json:"message"`
}

// ExitInfo is how a supervised program ended.
type ExitInfo struct {
	// Code is the exit status, when Signal is "".
	Code int `json:"code"`
	// Signal, like "SEGV", killed it; Core says it dumped core.
	Signal string    `json:"signal,omitempty"`
	Core   bool      `json:"core,omitempty"`
	At     time.Time `json:"at"`
	// Cause is why the supervisor ended it itself: "watchdog",
	// "notready", "spawn" (it could not be run).
	Cause string `json:"cause,omitempty"`
	// Text says it all for people: "killed by SIGABRT (no WATCHDOG=1
	// within 1s)".
	Text string `json:"text"`
}

// State is a service's state, as a Report and its JSON give it.
type State string

const (
	// StateRunning: the PID in the pidfile holds the service's lock, or
	// closed its lock descriptor and is exactly the process the start
	// recorded (pidfile.Running).
	StateRunning State = "running"
	// StateStopped: there is no pidfile (pidfile.NotRunning).
	StateStopped State = "stopped"
	// StateStarting: a start holds the lock and has not written the PID
	// yet (pidfile.Starting).
	StateStarting State = "starting"
	// StateDead: the pidfile is left but its daemon is gone
	// (pidfile.Stale).
	StateDead State = "dead"
	// StateOrphaned: the main process is gone, processes that inherited its
	// lock hold it (pidfile.Orphaned).
	StateOrphaned State = "orphaned"
	// StateUnverified: the pidfile names a live process nobody can vouch
	// for (pidfile.Unverified).
	StateUnverified State = "unverified"
	// StateUnknown: the pidfile cannot be read or does not hold a PID.
	StateUnknown State = "unknown"
	// StateInvalid: a defined service whose definition cannot be used.
	// Status never reports it; the status table does.
	StateInvalid State = "invalid"
	// StateBackoff: a supervised program exited and its supervisor
	// respawns it after a delay.
	StateBackoff State = "backoff"
	// StateStopping: a supervisor was told to stop and waits for its
	// program to exit.
	StateStopping State = "stopping"
	// StateFailed: a supervisor gave up respawning its program (more
	// respawns than --respawn-limit allows) and exited.
	StateFailed State = "failed"
)

// stateOf is the state each pidfile status reports.
func stateOf(s pidfile.Status) State {
	switch s {
	case pidfile.NotRunning:
		return StateStopped
	case pidfile.Running:
		return StateRunning
	case pidfile.Starting:
		return StateStarting
	case pidfile.Stale:
		return StateDead
	case pidfile.Orphaned:
		return StateOrphaned
	case pidfile.Unverified:
		return StateUnverified
	}
	return StateUnknown
}

// Status inspects the pidfile and describes the service. The error is nil
// only when it runs (its PID holds the service's lock, or closed its lock
// descriptor and is exactly the process the start recorded). Otherwise it
// matches ErrNotRunning (no pidfile), ErrDead (a pidfile whose daemon is
// dead, or left orphans holding its lock), or ErrUnknown (the pidfile is
// unreadable, not a regular file, holds garbage, or names a live process
// nobody can vouch for: then ErrUnverified too); the Report is filled in
// every case. opts narrow what counts as the daemon (pidfile.WithExec).
func Status(path, name string, opts ...pidfile.Option) (Report, error) {
	abs, err := AbsPIDFile(path)
	if err != nil {
		return Report{Name: name, PIDFile: path, State: StateUnknown, Message: err.Error()}, err
	}
	name = ServiceName(name, abs)
	st, err := inspect(abs, opts...)
	r := Report{Name: name, PIDFile: abs, PID: st.PID, State: stateOf(st.Status)}
	if err != nil {
		r.State = StateUnknown
		r.Message = fmt.Sprintf("%s: status unknown: %v", name, describeFileError(abs, err))
		return r, withKind(ErrUnknown, "%s", r.Message)
	}
	if r, ok, err := supervisedStatus(r, st); ok {
		return r, err
	}
	if !st.Process.Started.IsZero() {
		started := st.Process.Started.Round(10 * time.Millisecond)
		r.Started = &started
		r.Uptime = int64(time.Since(started).Seconds())
		r.Command = st.Process.Command
	}
	switch st.Status {
	case pidfile.NotRunning:
		r.Message = name + ": not running"
		return r, withKind(ErrNotRunning, "%s", r.Message)
	case pidfile.Running:
		r.RSS = st.Process.RSS
		r.Message = fmt.Sprintf("%s: running (pid %d", name, st.PID)
		if r.Started != nil {
			r.Message += ", up " + FormatUptime(time.Since(*r.Started))
		}
		if st.Unlocked {
			r.LockClosed = true
			r.Message += "; it closed its lock descriptor"
		}
		r.Message += ")"
		return r, nil
	case pidfile.Stale:
		r.Message = fmt.Sprintf("%s: dead (pid %d has exited; stale pidfile %s left)", name, st.PID, abs)
		if st.PID == 0 {
			r.Message = fmt.Sprintf("%s: dead (empty pidfile %s left by an interrupted start)", name, abs)
		}
		if st.Reused {
			r.Message = fmt.Sprintf("%s: dead (pidfile %s names pid %d, which is now another process that does not hold the lock)", name, abs, st.PID)
			r.Command, r.Started, r.Uptime = nil, nil, 0
		}
	case pidfile.Unverified:
		r.Message = unverifiedText(name, abs, st) + ": status unknown"
		return r, errkind.Errorf([]error{ErrUnknown, ErrUnverified}, "%s", r.Message)
	case pidfile.Orphaned:
		r.Holders = st.Holders
		r.Message = fmt.Sprintf("%s: main process %d gone, %d %s the lock (%s)", name, st.PID, len(st.Holders), plural(len(st.Holders), "process still holds", "processes still hold"), pidList(st.Holders))
		switch {
		case st.PID == 0:
			r.Message = fmt.Sprintf("%s: orphaned: %s", name, unrecorded(st))
		case supervisedRecord(st):
			r.Message = fmt.Sprintf("%s: orphaned: supervisor %d is gone (killed?) but its program still holds the lock (%s); it is not respawned: stop it (daemonctl stop -p %s)", name, st.PID, pidList(st.Holders), abs)
		case len(st.Holders) == 0:
			r.Message = fmt.Sprintf("%s: main process %d gone; processes this user cannot see still hold the lock", name, st.PID)
		}
	case pidfile.Starting:
		r.Message = fmt.Sprintf("%s: starting (lock held, pid not yet written)", name)
	}
	return r, withKind(ErrDead, "%s", r.Message)
}

// FormatUptime renders a duration as operators read it: 42s, 3m12s,
// 5h03m, 12d4h.
func FormatUptime(d time.Duration) string {
	s := int64(d.Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%dh", s/86400, s%86400/3600)
}
