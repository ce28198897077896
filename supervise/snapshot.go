package supervise

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/signals"
)

// State is where a supervisor stands.
type State int

const (
	// Starting: the program runs and has not yet sent READY=1 (Notify),
	// or a forking program's start-up has not handed over yet.
	Starting State = iota + 1
	// Running: the program runs (and is ready).
	Running
	// Backoff: the program exited; it is respawned at Snapshot.Next.
	Backoff
	// Stopping: the supervisor was told to stop (TERM, INT, QUIT) and
	// waits for the program to exit; it will not respawn it.
	Stopping
	// Failed: the supervisor gave up (more than Limit respawns within its
	// period) and exited; Snapshot.Why says why. A last word: readers
	// believe it after the supervisor is gone.
	Failed
	// Exited: the program exited with status 0 under OnFailure, which
	// ends the service; the supervisor exited. A last word too.
	Exited
)

var stateNames = [...]string{Starting: "starting", Running: "running", Backoff: "backoff", Stopping: "stopping", Failed: "failed", Exited: "exited"}

func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether s is a supervisor's last word (Failed,
// Exited), which outlives it.
func (s State) Terminal() bool { return s == Failed || s == Exited }

// Cause says why the supervisor itself ended a program, or could not run
// it.
type Cause int

const (
	// CauseNone: the program exited on its own (or by someone else's
	// signal).
	CauseNone Cause = iota
	// CauseWatchdog: no WATCHDOG=1 within the watchdog period (or
	// WATCHDOG=trigger); the supervisor sent SIGABRT.
	CauseWatchdog
	// CauseNotReady: no READY=1 within Ready.Timeout, or a forking
	// program's main process could not be found.
	CauseNotReady
	// CauseSpawn: the program could not be executed (Exit.Err says why).
	CauseSpawn
)

var causeNames = [...]string{CauseNone: "", CauseWatchdog: "watchdog", CauseNotReady: "notready", CauseSpawn: "spawn"}

// Exit is how a program ended.
type Exit struct {
	// Code is the exit status when Signal is 0.
	Code int
	// Signal killed the program, with a core dump when Core is set.
	Signal unix.Signal
	Core   bool
	// At is when the supervisor saw it end.
	At time.Time
	// Cause is set when the supervisor ended the program (the signal is
	// then its own) or could not run it (Err says why).
	Cause Cause
	Err   string
}

// exitOf reads a wait status.
func exitOf(ws unix.WaitStatus, at time.Time) Exit {
	e := Exit{At: at}
	switch {
	case ws.Exited():
		e.Code = ws.ExitStatus()
	case ws.Signaled():
		e.Signal, e.Core = ws.Signal(), ws.CoreDump()
	}
	return e
}

// Failure reports whether the exit counts as a failure under OnFailure:
// a non-zero status, a death by a signal, or an end the supervisor
// caused.
func (e Exit) Failure() bool { return e.Code != 0 || e.Signal != 0 || e.Cause != CauseNone }

// String says how the program ended, for status lines and the log:
// "exited with status 1", "killed by SIGSEGV (core dumped)", "cannot run
// /usr/sbin/web: no such file or directory", and, when the supervisor
// ended the program, why: "killed by SIGABRT (no WATCHDOG=1 within 30s)".
func (e Exit) String() string {
	var s string
	switch {
	case e.Cause == CauseSpawn:
		return e.Err
	case e.Signal != 0:
		s = "killed by SIG" + signals.Name(e.Signal)
		if e.Core {
			s += " (core dumped)"
		}
	default:
		s = fmt.Sprintf("exited with status %d", e.Code)
	}
	if e.Err != "" {
		s += " (" + e.Err + ")"
	}
	return s
}

// Snapshot is what a supervisor published about its service.
type Snapshot struct {
	// Supervisor is the supervisor's PID, the one in the pidfile.
	Supervisor int
	// Live is set while the supervisor runs and holds the lock; otherwise
	// the snapshot is its last word (State is Failed or Exited).
	Live  bool
	State State
	// PID is the program's main process (0 in Backoff and after the end),
	// StartTicks its start time in clock ticks since boot, and Started
	// when the supervisor started it (or adopted it, for a forking
	// program).
	PID        int
	StartTicks uint64
	Started    time.Time
	// Respawns counts the program's respawns since the supervisor started.
	Respawns int
	// Last is how the previous program ended (At is zero before the
	// first exit).
	Last Exit
	// Next is when the program is respawned, in Backoff.
	Next time.Time
	// Limit is the respawn limit; in Failed, the one that was exceeded.
	Limit Limit
	// Stdout and Stderr are the log files (for daemonctl logs).
	Stdout, Stderr string
	// LogFailures counts writes to the log files that failed (disk full,
	// directory removed), LogLost the bytes they lost, and LogError is the
	// last failure.
	LogFailures int
	LogLost     int64
	LogError    string
	// Watchdog is the watchdog period (0: none) and WatchdogMisses counts
	// its expiries.
	Watchdog       time.Duration
	WatchdogMisses int
	// Status is the last STATUS= text the program sent.
	Status string
}

// Why says, for Failed and Exited, why the supervisor ended: "gave up
// after 5 respawns in 10s (last: exited with status 1)", "exited with
// status 0". It is "" for other states.
func (s Snapshot) Why() string {
	switch s.State {
	case Failed:
		return fmt.Sprintf("gave up after %d respawns in %s (last: %s)", s.Limit.Count, formatDuration(s.Limit.Period), s.Last)
	case Exited:
		return s.Last.String()
	}
	return ""
}

// Read returns what the supervisor of the service st (from
// pidfile.Inspect) published. It never signals the supervisor; it needs
// only read access to the pidfile.
//
// The snapshot is returned with Live set while the supervisor runs and
// holds the service's lock, and without it when the supervisor is gone and
// left a last word (Failed, Exited). Errors: ErrNotSupervised when the
// pidfile carries no state of its current start's supervisor (not
// supervised, or published by an earlier start); ErrStale when the
// supervisor is gone without a last word (SIGKILLed): its "running" is
// not believed; ErrBadState for a state that does not parse; and the
// errors of reading the file.
func Read(st pidfile.State) (Snapshot, error) {
	sup, err := st.Supervision()
	if errors.Is(err, pidfile.ErrNoRecord) {
		return Snapshot{}, fmt.Errorf("%s: %w", st.Path, ErrNotSupervised)
	}
	if err != nil {
		return Snapshot{}, err
	}
	snap, err := decode(sup.Body)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%s: %w", st.Path, err)
	}
	snap.Supervisor, snap.Live = sup.Supervisor, sup.Live
	if !snap.Live && !snap.State.Terminal() {
		return Snapshot{}, fmt.Errorf("%s: %w (it said %s)", st.Path, ErrStale, snap.State)
	}
	return snap, nil
}

// The published body is one line of space-separated key=value fields, as
// the pidfile's record; values with other bytes than printable ASCII
// (paths, texts) are percent-encoded. Fields at their zero value are left
// out. A reader ignores keys it does not know, so a newer supervisor can
// add some.
const snapshotVersion = "supervise/1"

// encode renders s (Supervisor and Live are not published: the pidfile's
// header and lock say them).
func (s Snapshot) encode() []byte {
	var b strings.Builder
	b.WriteString(snapshotVersion)
	put := func(key, value string) {
		if value != "" && value != "0" {
			b.WriteString(" " + key + "=" + value)
		}
	}
	nanos := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return strconv.FormatInt(t.UnixNano(), 10)
	}
	put("state", s.State.String())
	put("pid", strconv.Itoa(s.PID))
	put("start", strconv.FormatUint(s.StartTicks, 10))
	put("started", nanos(s.Started))
	put("respawns", strconv.Itoa(s.Respawns))
	if !s.Last.At.IsZero() {
		put("exit", exitCode(s.Last))
		put("exitat", nanos(s.Last.At))
		put("cause", causeNames[s.Last.Cause])
		put("err", escape(s.Last.Err))
	}
	put("next", nanos(s.Next))
	if !s.Limit.Unlimited() {
		put("limit", s.Limit.String())
	}
	put("stdout", escape(s.Stdout))
	put("stderr", escape(s.Stderr))
	put("logfail", strconv.Itoa(s.LogFailures))
	put("loglost", strconv.FormatInt(s.LogLost, 10))
	put("logerr", escape(s.LogError))
	if s.Watchdog > 0 {
		put("watchdog", s.Watchdog.String())
	}
	put("wdmiss", strconv.Itoa(s.WatchdogMisses))
	put("status", escape(s.Status))
	return []byte(b.String())
}

// exitCode renders an exit as "code:N" or "signal:NAME[:core]".
func exitCode(e Exit) string {
	if e.Signal != 0 {
		s := "signal:" + signals.Name(e.Signal)
		if e.Core {
			s += ":core"
		}
		return s
	}
	return "code:" + strconv.Itoa(e.Code)
}

// decode reads what encode wrote.
func decode(b []byte) (Snapshot, error) {
	fields := strings.Fields(string(b))
	if len(fields) == 0 || fields[0] != snapshotVersion {
		return Snapshot{}, fmt.Errorf("%w: not a %s state", ErrBadState, snapshotVersion)
	}
	var s Snapshot
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		key, value, ok := strings.Cut(f, "=")
		if !ok || seen[key] {
			return Snapshot{}, fmt.Errorf("%w: field %q", ErrBadState, f)
		}
		seen[key] = true
		if err := s.set(key, value); err != nil {
			return Snapshot{}, fmt.Errorf("%w: field %q", ErrBadState, f)
		}
	}
	if s.State == 0 {
		return Snapshot{}, fmt.Errorf("%w: no state", ErrBadState)
	}
	return s, nil
}

// set decodes one field; unknown keys are ignored.
func (s *Snapshot) set(key, value string) error {
	var err error
	atoi := func(dst *int) {
		*dst, err = strconv.Atoi(value)
		if err == nil && *dst < 0 {
			err = fmt.Errorf("negative")
		}
	}
	at := func(dst *time.Time) {
		var n int64
		if n, err = strconv.ParseInt(value, 10, 64); err == nil {
			*dst = time.Unix(0, n)
		}
	}
	switch key {
	case "state":
		err = fmt.Errorf("unknown state")
		for i, name := range stateNames {
			if name != "" && name == value {
				s.State, err = State(i), nil
			}
		}
	case "pid":
		atoi(&s.PID)
	case "start":
		s.StartTicks, err = strconv.ParseUint(value, 10, 64)
	case "started":
		at(&s.Started)
	case "respawns":
		atoi(&s.Respawns)
	case "exit":
		err = s.Last.parseCode(value)
	case "exitat":
		at(&s.Last.At)
	case "cause":
		err = fmt.Errorf("unknown cause")
		for i, name := range causeNames {
			if name != "" && name == value {
				s.Last.Cause, err = Cause(i), nil
			}
		}
	case "err":
		s.Last.Err, err = unescape(value)
	case "next":
		at(&s.Next)
	case "limit":
		s.Limit, err = ParseLimit(value)
	case "stdout":
		s.Stdout, err = unescape(value)
	case "stderr":
		s.Stderr, err = unescape(value)
	case "logfail":
		atoi(&s.LogFailures)
	case "loglost":
		s.LogLost, err = strconv.ParseInt(value, 10, 64)
	case "logerr":
		s.LogError, err = unescape(value)
	case "watchdog":
		s.Watchdog, err = time.ParseDuration(value)
	case "wdmiss":
		atoi(&s.WatchdogMisses)
	case "status":
		s.Status, err = unescape(value)
	}
	return err
}

// parseCode reads what exitCode wrote.
func (e *Exit) parseCode(v string) error {
	if n, ok := strings.CutPrefix(v, "code:"); ok {
		code, err := strconv.Atoi(n)
		if err != nil || code < 0 || code > 255 {
			return fmt.Errorf("bad code")
		}
		e.Code = code
		return nil
	}
	name, ok := strings.CutPrefix(v, "signal:")
	if !ok {
		return fmt.Errorf("bad exit")
	}
	name, e.Core = strings.CutSuffix(name, ":core")
	sig, err := signals.Parse(name)
	e.Signal = sig
	return err
}

// escape percent-encodes every byte that is not printable ASCII, and '%'
// itself, so a value never holds a space or a newline.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescape reads what escape wrote.
func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated escape")
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape")
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}
