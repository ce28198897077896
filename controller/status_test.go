package controller

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/daemonctl/daemonctl/pidfile"
)

func TestFormatUptime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0s",
		999 * time.Millisecond:                "0s",
		42 * time.Second:                      "42s",
		59*time.Second + 999*time.Millisecond: "59s",
		time.Minute:                           "1m00s",
		3*time.Minute + 12*time.Second:        "3m12s",
		time.Hour - time.Second:               "59m59s",
		time.Hour:                             "1h00m",
		5*time.Hour + 3*time.Minute + 59*time.Second: "5h03m",
		24 * time.Hour: "1d0h",
		12*24*time.Hour + 4*time.Hour + 59*time.Minute: "12d4h",
	} {
		if got := FormatUptime(d); got != want {
			t.Errorf("FormatUptime(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRoundElapsed(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		849_600 * time.Nanosecond:   850 * time.Microsecond,
		2_345_678 * time.Nanosecond: 2_300 * time.Microsecond,
		1_349 * time.Millisecond:    1_300 * time.Millisecond,
		125_400 * time.Millisecond:  125 * time.Second,
	} {
		if got := RoundElapsed(d); got != want {
			t.Errorf("RoundElapsed(%v) = %v, want %v", d, got, want)
		}
	}
}

// TestStateOf: every pidfile status has a state of its own, one of the
// State constants, named as pidfile names it.
func TestStateOf(t *testing.T) {
	seen := map[State]pidfile.Status{}
	for s := pidfile.NotRunning; s <= pidfile.Unverified; s++ {
		state := stateOf(s)
		if state == StateUnknown || state == StateInvalid {
			t.Errorf("stateOf(%v) = %q", s, state)
		}
		if other, dup := seen[state]; dup {
			t.Errorf("stateOf(%v) = stateOf(%v) = %q", s, other, state)
		}
		seen[state] = s
		if string(state) != s.String() {
			t.Errorf("stateOf(%v) = %q: pidfile says %q", s, state, s.String())
		}
	}
	if got := stateOf(pidfile.Unverified + 1); got != StateUnknown {
		t.Errorf("stateOf(a status pidfile does not have) = %q", got)
	}
}

// TestStatusWithoutDaemon: what Status says, and which error it returns,
// when no daemon is involved: no pidfile, garbage, a dead PID.
func TestStatusWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	write := func(name, contents string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(contents), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct {
		path    string
		state   State
		kind    error
		message string
	}{
		{filepath.Join(dir, "none.pid"), StateStopped, ErrNotRunning, "none: not running"},
		{filepath.Join(dir, "missing", "dir.pid"), StateStopped, ErrNotRunning, "dir: not running"},
		{write("garbage.pid", "not a pid\n"), StateUnknown, ErrUnknown, "garbage: status unknown: pidfile " + dir + "/garbage.pid"},
		{write("empty.pid", ""), StateDead, ErrDead, "empty: dead (empty pidfile " + dir + "/empty.pid left by an interrupted start)"},
		{"", StateUnknown, ErrUsage, "no pidfile given: use -p FILE"},
	} {
		r, err := Status(c.path, "")
		if r.State != c.state || !errors.Is(err, c.kind) || len(r.Message) < len(c.message) || r.Message[:len(c.message)] != c.message {
			t.Errorf("Status(%s) = %q %q, %v; want %q %q..., %v", c.path, r.State, r.Message, err, c.state, c.message, c.kind)
		}
	}
}
