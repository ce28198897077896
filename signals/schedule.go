package signals

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Step is one step of a stop: send Signal (nothing when 0), then wait up
// to Wait for the processes to exit (only look, without waiting, when 0).
type Step struct {
	Signal unix.Signal
	Wait   time.Duration
}

// Schedule is a stop schedule, as start-stop-daemon's --retry reads it.
// Walk gives its steps in the order a stop takes them.
type Schedule struct {
	Steps []Step
	// Repeat is how many of the last Steps are taken again and again once
	// the end is reached (start-stop-daemon's "forever"); 0: the schedule
	// ends there.
	Repeat int
}

// DefaultSchedule is TERM, 10 s, KILL, 5 s.
func DefaultSchedule() Schedule {
	return Schedule{Steps: []Step{{unix.SIGTERM, 10 * time.Second}, {unix.SIGKILL, 5 * time.Second}}}
}

// OrDefault is s, or DefaultSchedule when s has no steps: a Schedule's
// zero value means the default wherever one is walked.
func (s Schedule) OrDefault() Schedule {
	if len(s.Steps) == 0 {
		return DefaultSchedule()
	}
	return s
}

// maxWait is the longest timeout, start-stop-daemon's (INT_MAX seconds).
const maxWait = math.MaxInt32 * time.Second

// Walk yields the steps in order, then, when Repeat > 0, the last Repeat
// steps (all of them if Repeat exceeds their number) over and over
// without end: the caller stops when the processes are gone.
func (s Schedule) Walk() iter.Seq[Step] {
	return func(yield func(Step) bool) {
		for _, st := range s.Steps {
			if !yield(st) {
				return
			}
		}
		if s.Repeat <= 0 || len(s.Steps) == 0 {
			return
		}
		again := s.Steps[max(len(s.Steps)-s.Repeat, 0):]
		for {
			for _, st := range again {
				if !yield(st) {
					return
				}
			}
		}
	}
}

// ParseSchedule reads start-stop-daemon's --retry syntax. A bare number
// of seconds N means first/N/KILL/N, where first is the signal to start
// with (TERM unless the caller was given --signal). Otherwise the schedule
// is two or more items separated by slashes, in any order:
//
//   - a signal: a name as Parse reads it, with or without a leading dash
//     ("TERM", "-TERM", "sigterm", "RTMIN+2"), or a number with a leading
//     dash ("-15"; "-0" sends nothing); an item that starts with a digit is
//     a timeout, never a signal;
//   - a timeout: wait up to that many seconds for the processes to exit,
//     a decimal number with an optional fraction ("5", "0.5"), at most
//     2147483647;
//   - forever, once: when the end is reached, go on again from the item
//     after it, without end. It may not be last.
//
// Consecutive items make one step: a signal and the timeout after it; a
// timeout that follows a timeout (or forever) is a step of its own that
// sends nothing. A zero timeout and "-0" change nothing and are dropped.
//
// Differences from start-stop-daemon 1.21, all deliberate: it reads only
// 19 upper-case names without SIG ("TERM", not "term" or "SIGTERM") and
// whole seconds, in items under 20 characters, where this also takes any
// name Parse takes, fractions and longer items; it takes signal numbers
// above 64, which kill(2) then refuses, and strtol's leftovers "+15",
// " 15" and "-+15", all refused here; and a repeated part that never
// waits ("TERM/forever/KILL", "forever/TERM/0") is refused here because
// start-stop-daemon spins on it at 100% CPU for as long as a process
// outlives the signal.
//
// The error wraps ErrBadSchedule.
func ParseSchedule(s string, first unix.Signal) (Schedule, error) {
	bad := func(why string, args ...any) (Schedule, error) {
		return Schedule{}, fmt.Errorf("%w %q: %s (example: TERM/10/KILL/5)", ErrBadSchedule, s, fmt.Sprintf(why, args...))
	}
	items := strings.Split(s, "/")
	if len(items) == 1 {
		if !isTimeout(s) {
			return bad("a single item must be seconds to wait, like 5 for %s/5/KILL/5", Name(first))
		}
		d, err := parseSeconds(s)
		if err != nil {
			return bad("%v", err)
		}
		return Schedule{Steps: []Step{{first, d}, {unix.SIGKILL, d}}}, nil
	}
	var steps []Step
	repeatAt := -1 // the index in steps where the repeated part begins
	open := false  // the last step is a signal still without its timeout
	for i, item := range items {
		switch {
		case item == "forever":
			if repeatAt >= 0 {
				return bad("forever appears more than once")
			}
			if i == len(items)-1 {
				return bad("forever is last, so there is nothing to repeat")
			}
			repeatAt, open = len(steps), false
		case isTimeout(item):
			d, err := parseSeconds(item)
			if err != nil {
				return bad("item %d (%q): %v", i+1, item, err)
			}
			switch {
			case d == 0:
			case open:
				steps[len(steps)-1].Wait, open = d, false
			default:
				steps = append(steps, Step{Wait: d})
			}
		default:
			sig, err := parseSignalItem(item)
			if err != nil {
				return bad("item %d: %v", i+1, err)
			}
			if sig != 0 {
				steps, open = append(steps, Step{Signal: sig}), true
			}
		}
	}
	sched := Schedule{Steps: steps}
	if repeatAt >= 0 {
		sched.Repeat = len(steps) - repeatAt
		if !slices.ContainsFunc(steps[repeatAt:], func(st Step) bool { return st.Wait > 0 }) {
			return bad("the part after forever never waits, so it would repeat without pause; give it a timeout, like forever/TERM/1")
		}
	}
	if len(steps) == 0 {
		// Only "-0" and zero timeouts: look once, as they do.
		sched.Steps = []Step{{}}
	}
	return sched, nil
}

// isTimeout reports whether a schedule item is a number of seconds: it
// starts with a digit (as for start-stop-daemon) or a decimal point.
func isTimeout(item string) bool {
	return item != "" && (item[0] >= '0' && item[0] <= '9' || item[0] == '.')
}

// parseSignalItem reads a schedule's signal item: a name, or a number
// after a dash. The number 0 means no signal.
func parseSignalItem(item string) (unix.Signal, error) {
	name := strings.TrimPrefix(item, "-")
	if name != "" && strings.Trim(name, "0123456789") == "" {
		n, err := strconv.Atoi(name)
		if err != nil || n > maxSignal {
			return 0, fmt.Errorf("%w %q: numbers go from 0 (none) to %d", ErrBadSignal, item, maxSignal)
		}
		return unix.Signal(n), nil
	}
	if item == "" {
		return 0, fmt.Errorf("%w: empty item (two slashes in a row, or one at an end)", ErrBadSignal)
	}
	return Parse(name)
}

// parseSeconds parses a non-negative decimal number of seconds, with an
// optional fraction, up to maxWait. It is exact to the nanosecond (the
// tenth decimal rounds), so that String's output reads back unchanged.
func parseSeconds(s string) (time.Duration, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole+frac == "" || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, errors.New("not a number of seconds")
	}
	tooLong := fmt.Errorf("more than %d seconds", int64(maxWait/time.Second))
	var d time.Duration
	if whole != "" {
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n > int64(maxWait/time.Second) {
			return 0, tooLong
		}
		d = time.Duration(n) * time.Second
	}
	roundUp := len(frac) > 9 && frac[9] >= '5'
	frac = (frac + "000000000")[:9]
	ns, _ := strconv.Atoi(frac)
	if roundUp {
		ns++
	}
	d += time.Duration(ns)
	if d > maxWait {
		return 0, tooLong
	}
	return d, nil
}

// formatSeconds renders d as parseSeconds reads it: "5", "0.25".
func formatSeconds(d time.Duration) string {
	s := strconv.FormatInt(int64(d/time.Second), 10)
	if ns := int64(d % time.Second); ns != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%09d", ns), "0")
	}
	return s
}

// String renders the schedule in the syntax ParseSchedule reads, which
// reads it back as the same schedule.
func (s Schedule) String() string {
	var parts []string
	for i, st := range s.Steps {
		if s.Repeat > 0 && i == max(len(s.Steps)-s.Repeat, 0) {
			parts = append(parts, "forever")
		}
		if st.Signal != 0 {
			name := Name(st.Signal)
			if name[0] >= '0' && name[0] <= '9' {
				name = "-" + name // a plain number would read as seconds
			}
			parts = append(parts, name)
		}
		if st.Wait != 0 || st.Signal == 0 {
			parts = append(parts, formatSeconds(st.Wait))
		}
	}
	if len(parts) == 1 {
		// One item alone reads as a bare timeout; a zero timeout after it
		// changes nothing.
		parts = append(parts, "0")
	}
	return strings.Join(parts, "/")
}

// WithFirst returns the schedule with its first signal replaced by sig,
// or, when it sends none, with sig sent first.
func (s Schedule) WithFirst(sig unix.Signal) Schedule {
	if len(s.Steps) == 0 {
		return s // the caller's default applies
	}
	steps := append([]Step(nil), s.Steps...)
	for i := range steps {
		if steps[i].Signal != 0 {
			steps[i].Signal = sig
			return Schedule{Steps: steps, Repeat: s.Repeat}
		}
	}
	return Schedule{Steps: append([]Step{{Signal: sig}}, steps...), Repeat: s.Repeat}
}
