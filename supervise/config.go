package supervise

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/signals"
)

// Config is everything Start needs. The launcher stage builds it from the
// start spec; Start reads nothing from the environment. Fields without a
// stated default have none: the stage passes what the flags say, starting
// from DefaultRespawn, DefaultLogs and DefaultReady.
type Config struct {
	// PIDFile is the service's pidfile as pidfile.Acquire returned it:
	// locked, not committed. Start owns it from the call on: it commits
	// this process's own PID to it, releases it (removes it) when the
	// start fails, and Wait's outcome says what became of it.
	PIDFile *pidfile.File
	// Name is how the supervisor's log lines and messages call the
	// service; default the pidfile's name without ".pid".
	Name string
	// Program is what runs under supervision.
	Program Program
	// Respawn says whether and how soon the program is started again.
	Respawn Respawn
	// Logs captures the program's stdout and stderr in rotated files.
	Logs Logs
	// Ready says when the first start counts as done.
	Ready Ready
	// Watchdog, when positive, is how often the program must send
	// WATCHDOG=1: it gets WATCHDOG_USEC and NOTIFY_SOCKET (and
	// WATCHDOG_PID, see Start), and a program silent for that long is sent
	// SIGABRT, then StopSchedule, and respawned.
	Watchdog time.Duration
	// Forking marks a program that forks itself away (nginx's "daemon
	// on"): its exit 0 ends its start-up, and the main process is then the
	// PID in ProgramPIDFile, or, without one, the single process the
	// program left behind.
	Forking        bool
	ProgramPIDFile string
	// NotifySocket is a file-system path for the notify socket (Notify,
	// Watchdog); default an abstract socket with a random name.
	NotifySocket string
	// StopSchedule is walked on the program when the supervisor itself
	// ends it (a watchdog miss, a readiness timeout); its first signal is
	// SIGABRT for a watchdog miss. Zero: signals.DefaultSchedule. Stop
	// signals sent to the supervisor are forwarded as they come, and a
	// stop's later steps (KILL) reach the program through daemonctl's
	// lock-holder logic.
	StopSchedule signals.Schedule
	// Progress, when not nil, receives the STATUS= texts the program sends
	// during the first start, one line each.
	Progress io.Writer
}

// Program is what the supervisor runs, every time it (re)starts it.
type Program struct {
	// Path is the executable, an absolute path; Argv its argument vector
	// (Argv[0] included).
	Path string
	Argv []string
	// Env is the complete environment; Start adds NOTIFY_SOCKET and the
	// watchdog variables.
	Env []string
	// Dir is the working directory; "" means "/".
	Dir string
	// Cred, when not nil, is the identity the program runs as (the
	// supervisor needs the privilege to set it); files the supervisor
	// creates for its logs are given to it.
	Cred *Cred
	// Nice, when not nil, is the program's nice value; the supervisor's
	// own stays as it was.
	Nice *int
}

// Cred is a user, group and supplementary groups.
type Cred struct {
	UID, GID uint32
	Groups   []uint32
}

// When says which exits of the program are followed by a respawn.
type When int

const (
	// OnFailure respawns after a non-zero exit or a death by a signal; an
	// exit with status 0 ends the service.
	OnFailure When = iota
	// Always respawns after every exit.
	Always
)

func (w When) String() string {
	if w == Always {
		return "always"
	}
	return "on-failure"
}

// ParseWhen reads "on-failure" or "always". The error wraps ErrUsage.
func ParseWhen(s string) (When, error) {
	switch s {
	case "on-failure":
		return OnFailure, nil
	case "always":
		return Always, nil
	}
	return 0, withKind(ErrUsage, "respawn %q: expected on-failure or always", s)
}

// Respawn says whether and how soon the program is started again.
type Respawn struct {
	When When
	// Delay is the wait before the first respawn; it doubles with each
	// respawn up to DelayMax, and returns to Delay once a program has
	// stayed up for Limit.Period (10 s with no limit), or sent READY=1
	// under Ready.Notify. 0 respawns at once.
	Delay, DelayMax time.Duration
	// Limit makes the supervisor give up; the zero Limit never does.
	Limit Limit
}

// Limit is "more than Count respawns within Period": the supervisor gives
// up instead of the next respawn. The zero Limit never gives up.
type Limit struct {
	Count  int
	Period time.Duration
}

// Unlimited reports whether the limit never gives up.
func (l Limit) Unlimited() bool { return l.Count == 0 }

// String renders the limit as ParseLimit reads it: "5/10s", "unlimited".
func (l Limit) String() string {
	if l.Unlimited() {
		return "unlimited"
	}
	return fmt.Sprintf("%d/%s", l.Count, formatDuration(l.Period))
}

// maxLimitCount and maxPeriod bound a limit, to catch typos.
const (
	maxLimitCount = 10000
	maxPeriod     = 24 * time.Hour
)

// ParseLimit reads "N/PERIOD" (N respawns, 1 to 10000, within PERIOD, a
// Go duration such as 10s or 2m, or a bare number of seconds, above 0 and
// at most a day), or "unlimited". The error wraps ErrUsage and shows an
// example.
func ParseLimit(s string) (Limit, error) {
	bad := func(why string) (Limit, error) {
		return Limit{}, withKind(ErrUsage, "respawn limit %q: %s (example: 5/10s, or unlimited)", s, why)
	}
	if s == "unlimited" {
		return Limit{}, nil
	}
	count, period, ok := strings.Cut(s, "/")
	if !ok {
		return bad("expected N/PERIOD")
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > maxLimitCount || count[0] == '+' {
		return bad(fmt.Sprintf("N must be a number from 1 to %d", maxLimitCount))
	}
	d, err := parseDuration(period)
	if err != nil || d <= 0 || d > maxPeriod {
		return bad("PERIOD must be a duration above 0 and at most 24h, like 10s")
	}
	return Limit{Count: n, Period: d}, nil
}

// parseDuration reads a Go duration or a bare number of seconds.
func parseDuration(s string) (time.Duration, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > int64(maxPeriod/time.Second) {
			return 0, fmt.Errorf("out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// ParseSize reads a log size: a number of bytes with an optional K, M or
// G suffix (powers of 1024), from 4K up to 1T. The error wraps ErrUsage.
func ParseSize(s string) (int64, error) {
	bad := withKind(ErrUsage, "log size %q: expected a number of bytes from 4K to 1T, like 10M", s)
	if s == "" {
		return 0, bad
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'K', 'k':
		mult = 1 << 10
	case 'M', 'm':
		mult = 1 << 20
	case 'G', 'g':
		mult = 1 << 30
	case 'T', 't':
		mult = 1 << 40
	}
	digits := s
	if mult > 1 {
		digits = s[:len(s)-1]
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, bad
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > (1<<40)/mult || n*mult < minLogSize {
		return 0, bad
	}
	return n * mult, nil
}

// minLogSize keeps a rotation from happening on every line.
const minLogSize = 4 << 10

// Logs says where the program's output goes and how it is rotated.
type Logs struct {
	// Stdout and Stderr are absolute paths of files the supervisor appends
	// the program's output to (created 0640 under the umask, given to
	// Program.Cred); "" sends that stream to /dev/null. The same path for
	// both keeps their lines in order in one file. The supervisor's own
	// lines (each respawn and its cause) go to Stderr.
	Stdout, Stderr string
	// MaxSize is the size at which a file is rotated (renamed FILE.1, the
	// older ones shifted up to FILE.Keep, the oldest removed); 0 never
	// rotates. A line is never split between files unless it is longer
	// than MaxSize.
	MaxSize int64
	Keep    int
}

// Ready says when the first start counts as done (Start returns). Without
// Wait or Notify it does once the first program has been executed (and,
// with Forking, has handed over to the main process).
type Ready struct {
	// Wait, when positive, requires the first program to stay up that
	// long.
	Wait time.Duration
	// Notify requires READY=1 on NOTIFY_SOCKET within Timeout. A
	// respawned program is "starting" until it sends READY=1, and is
	// ended with StopSchedule and respawned if it has not within Timeout.
	Notify bool
	// Timeout bounds Notify's wait and a Forking start-up's (the program's
	// exit and its main process's pidfile); 0 means 30 s.
	Timeout time.Duration
}

// Defaults, as systemd's (100 ms, 5 in 10 s) with an exponential backoff
// to 30 s, and logs of 10 MiB with 5 old files.
const (
	DefaultDelay      = 100 * time.Millisecond
	DefaultDelayMax   = 30 * time.Second
	DefaultLogMaxSize = 10 << 20
	DefaultLogKeep    = 5
	defaultTimeout    = 30 * time.Second
	// defaultStable is how long a program must stay up for its backoff to
	// reset when there is no limit period to go by.
	defaultStable = 10 * time.Second
)

// DefaultRespawn is on-failure, 100 ms doubling to 30 s, 5 respawns in
// 10 s.
func DefaultRespawn() Respawn {
	return Respawn{When: OnFailure, Delay: DefaultDelay, DelayMax: DefaultDelayMax, Limit: Limit{Count: 5, Period: 10 * time.Second}}
}

// DefaultLogs is no files (stdout and stderr to /dev/null), rotated at
// 10 MiB keeping 5 once files are given.
func DefaultLogs() Logs { return Logs{MaxSize: DefaultLogMaxSize, Keep: DefaultLogKeep} }

// check reports the first setting out of range, wrapping ErrUsage.
func (c *Config) check() error {
	bad := func(format string, args ...any) error {
		return withKind(ErrUsage, format, args...)
	}
	p := c.Program
	switch {
	case c.PIDFile == nil:
		return bad("no pidfile: acquire it first (pidfile.Acquire)")
	case p.Path == "" || p.Path[0] != '/':
		return bad("program path %q: must be absolute", p.Path)
	case len(p.Argv) == 0:
		return bad("program %s: empty argument vector", p.Path)
	case c.Respawn.When != OnFailure && c.Respawn.When != Always:
		return bad("respawn policy %d unknown", c.Respawn.When)
	case c.Respawn.Delay < 0 || c.Respawn.DelayMax < 0:
		return bad("respawn delay %v, max %v: must not be negative", c.Respawn.Delay, c.Respawn.DelayMax)
	case c.Respawn.Limit.Count < 0 || c.Respawn.Limit.Count > maxLimitCount:
		return bad("respawn limit %d: must be 1 to %d (0: never give up)", c.Respawn.Limit.Count, maxLimitCount)
	case c.Respawn.Limit.Count > 0 && c.Respawn.Limit.Period <= 0:
		return bad("respawn limit %d in %v: the period must be positive", c.Respawn.Limit.Count, c.Respawn.Limit.Period)
	case c.Logs.MaxSize < 0 || c.Logs.MaxSize > 0 && c.Logs.MaxSize < minLogSize:
		return bad("log max size %d: must be 0 (never rotate) or at least 4K", c.Logs.MaxSize)
	case c.Logs.Keep < 0 || c.Logs.Keep > 1000:
		return bad("log keep %d: must be 0 to 1000", c.Logs.Keep)
	case c.Logs.Stdout != "" && c.Logs.Stdout[0] != '/', c.Logs.Stderr != "" && c.Logs.Stderr[0] != '/':
		return bad("log files %q, %q: must be absolute paths", c.Logs.Stdout, c.Logs.Stderr)
	case c.Ready.Wait < 0 || c.Ready.Timeout < 0 || c.Watchdog < 0:
		return bad("durations must not be negative")
	case c.Watchdog > 0 && c.Watchdog < time.Millisecond:
		return bad("watchdog %v: at least 1ms", c.Watchdog)
	case c.Forking && c.Ready.Notify:
		return bad("a forking program and --notify exclude each other: a forking program is ready when its start-up exits")
	case c.ProgramPIDFile != "" && !c.Forking:
		return bad("a program pidfile is read only for a forking program")
	case c.ProgramPIDFile != "" && c.ProgramPIDFile[0] != '/':
		return bad("program pidfile %q: must be an absolute path", c.ProgramPIDFile)
	}
	return nil
}

// formatDuration prints d without trailing zero units: 10s, 1m30s, 100ms.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
