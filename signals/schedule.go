package signals

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Step is one stage of a stop: send Signal, then wait up to Wait for the
// process to exit.
type Step struct {
	Signal unix.Signal
	Wait   time.Duration
}

// Schedule is a stop schedule in start-stop-daemon's --retry syntax.
type Schedule struct {
	Steps []Step
	// Forever repeats the last step until the process exits.
	Forever bool
}

// DefaultSchedule is TERM, 10 s, KILL, 5 s.
func DefaultSchedule() Schedule {
	return Schedule{Steps: []Step{{unix.SIGTERM, 10 * time.Second}, {unix.SIGKILL, 5 * time.Second}}}
}

// maxWait bounds a single timeout, to catch typos like 3000000.
const maxWait = 7 * 24 * time.Hour

// ParseSchedule parses "SIG/SECONDS[/SIG/SECONDS...][/forever]", or a bare
// number N meaning first/N/KILL/N, where first is the signal to start with
// (TERM unless the caller was given --signal). Signals are names as for
// Parse, or numbers written with a leading dash ("-15"), since a plain
// number is a timeout. Seconds may have a fraction ("0.5"). The error wraps
// ErrBadSchedule.
func ParseSchedule(s string, first unix.Signal) (Schedule, error) {
	bad := func(why string, args ...any) (Schedule, error) {
		return Schedule{}, fmt.Errorf("%w %q: %s (example: TERM/10/KILL/5)", ErrBadSchedule, s, fmt.Sprintf(why, args...))
	}
	if d, err := parseSeconds(s); err == nil {
		return Schedule{Steps: []Step{{first, d}, {unix.SIGKILL, d}}}, nil
	}
	items := strings.Split(s, "/")
	var sched Schedule
	if items[len(items)-1] == "forever" {
		sched.Forever = true
		items = items[:len(items)-1]
	}
	if len(items) == 0 || len(items)%2 != 0 {
		return bad("expected signal/seconds pairs")
	}
	for i := 0; i < len(items); i += 2 {
		name := items[i]
		if strings.HasPrefix(name, "-") {
			name = name[1:]
		} else if name != "" && name[0] >= '0' && name[0] <= '9' {
			return bad("item %d (%q) is a number where a signal belongs; write a signal number as -%s", i+1, name, name)
		}
		sig, err := Parse(name)
		if err != nil {
			return bad("item %d: %v", i+1, err)
		}
		d, err := parseSeconds(items[i+1])
		if err != nil {
			return bad("item %d (%q): %v", i+2, items[i+1], err)
		}
		sched.Steps = append(sched.Steps, Step{sig, d})
	}
	return sched, nil
}

// parseSeconds parses a non-negative number of seconds, with an optional
// fraction, up to maxWait.
func parseSeconds(s string) (time.Duration, error) {
	if s == "" || strings.Trim(s, "0123456789.") != "" {
		return 0, fmt.Errorf("not a number of seconds")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, fmt.Errorf("not a number of seconds")
	}
	if f > maxWait.Seconds() {
		return 0, fmt.Errorf("more than %v", maxWait)
	}
	// Round: 8.001 s is 8001000000 ns, though 8.001*1e9 is 8000999999.99...
	return time.Duration(math.Round(f * float64(time.Second))), nil
}

// String renders the schedule in the syntax ParseSchedule reads.
func (s Schedule) String() string {
	var parts []string
	for _, st := range s.Steps {
		name := Name(st.Signal)
		if name[0] >= '0' && name[0] <= '9' {
			name = "-" + name // a plain number would read as seconds
		}
		parts = append(parts, name, strconv.FormatFloat(st.Wait.Seconds(), 'f', -1, 64))
	}
	if s.Forever {
		parts = append(parts, "forever")
	}
	return strings.Join(parts, "/")
}

// WithFirst returns the schedule with its first signal replaced by sig.
func (s Schedule) WithFirst(sig unix.Signal) Schedule {
	steps := append([]Step(nil), s.Steps...)
	if len(steps) > 0 {
		steps[0].Signal = sig
	}
	return Schedule{Steps: steps, Forever: s.Forever}
}
