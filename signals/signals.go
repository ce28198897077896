// Package signals parses signal names and stop schedules, and sends
// signals to and waits for processes through pidfds where the kernel has
// them, so a signal never reaches a process that reused a PID.
package signals

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSignal is the highest signal number accepted (SIGRTMAX on Linux).
const maxSignal = 64

// Parse accepts a signal as a name with or without the SIG prefix, in any
// case ("TERM", "SIGTERM", "term"), or as a number ("15"). On Linux the
// real-time signals have names as for kill(1) in bash: RTMIN (34, as glibc
// numbers it), RTMIN+n, RTMAX-n and RTMAX (64). Signal 0, which delivers
// nothing, is refused. The error wraps ErrBadSignal.
func Parse(s string) (unix.Signal, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty name", ErrBadSignal)
	}
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxSignal || (len(s) > 1 && s[0] == '0') {
			return 0, fmt.Errorf("%w %q: numbers go from 1 to %d", ErrBadSignal, s, maxSignal)
		}
		return unix.Signal(n), nil
	}
	for _, c := range []byte(s) {
		if c >= 0x80 {
			// strings.ToUpper would fold "ſıgterm" into "SIGTERM".
			return 0, fmt.Errorf("%w %q (try TERM, HUP, KILL, USR1 or a number)", ErrBadSignal, s)
		}
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if sig, ok := parseRealtime(name[len("SIG"):]); ok {
		return sig, nil
	}
	return 0, fmt.Errorf("%w %q (try TERM, HUP, KILL, USR1 or a number)", ErrBadSignal, s)
}

// parseRealtime reads RTMIN, RTMIN+n, RTMAX-n or RTMAX (upper case, no
// SIG prefix) within rtMin..rtMax.
func parseRealtime(name string) (unix.Signal, bool) {
	base, op := rtMin, "+"
	switch {
	case rtMin > rtMax:
		return 0, false // no real-time signals here
	case strings.HasPrefix(name, "RTMIN"):
	case strings.HasPrefix(name, "RTMAX"):
		base, op = rtMax, "-"
	default:
		return 0, false
	}
	rest := name[len("RTMIN"):]
	if rest == "" {
		return unix.Signal(base), true
	}
	digits, ok := strings.CutPrefix(rest, op)
	if !ok || digits == "" || len(digits) > 2 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, _ := strconv.Atoi(digits)
	if op == "-" {
		n = -n
	}
	if sig := base + n; sig >= rtMin && sig <= rtMax {
		return unix.Signal(sig), true
	}
	return 0, false
}

// Name is the signal's name without the SIG prefix ("TERM"), or its number
// when it has no name. Real-time signals are named as kill -l names them:
// RTMIN+n in the lower half, RTMAX-n in the upper.
func Name(sig unix.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return strings.TrimPrefix(name, "SIG")
	}
	switch n := int(sig); {
	case n < rtMin || n > rtMax:
	case n == rtMin:
		return "RTMIN"
	case n == rtMax:
		return "RTMAX"
	case n-rtMin <= (rtMax-rtMin)/2:
		return "RTMIN+" + strconv.Itoa(n-rtMin)
	default:
		return "RTMAX-" + strconv.Itoa(rtMax-n)
	}
	return strconv.Itoa(int(sig))
}
