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
// case ("TERM", "SIGTERM", "term"), or as a number ("15"). Signal 0, which
// delivers nothing, is refused. The error wraps ErrBadSignal.
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
	return 0, fmt.Errorf("%w %q (try TERM, HUP, KILL, USR1 or a number)", ErrBadSignal, s)
}

// Name is the signal's name without the SIG prefix ("TERM"), or its number
// when it has no name.
func Name(sig unix.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return strings.TrimPrefix(name, "SIG")
	}
	return strconv.Itoa(int(sig))
}
