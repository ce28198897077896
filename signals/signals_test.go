package signals

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	valid := []struct {
		in   string
		want unix.Signal
	}{
		{"TERM", unix.SIGTERM},
		{"SIGTERM", unix.SIGTERM},
		{"term", unix.SIGTERM},
		{"sigTerm", unix.SIGTERM},
		{"15", unix.SIGTERM},
		{"HUP", unix.SIGHUP},
		{"KILL", unix.SIGKILL},
		{"9", unix.SIGKILL},
		{"usr1", unix.SIGUSR1},
		{"1", unix.Signal(1)},
		{"64", unix.Signal(64)},
		{"34", unix.Signal(34)}, // a real-time signal, known only by number
	}
	for _, tc := range valid {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	invalid := []string{"", "0", "00", "65", "-15", "+15", "01", "015", "1e1", " 15", "15 ", "SIGFOO", "FOO", "SIG", "sig", "TERM ", "TERM\x00", "SIGSIGTERM", "99999999999999999999"}
	for _, in := range invalid {
		got, err := Parse(in)
		if !errors.Is(err, ErrBadSignal) || got != 0 {
			t.Errorf("Parse(%q) = %v, %v; want 0 and an error wrapping ErrBadSignal", in, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) error spans lines: %q", in, err)
		}
	}
}

func TestName(t *testing.T) {
	for sig, want := range map[unix.Signal]string{
		unix.SIGTERM: "TERM",
		unix.SIGKILL: "KILL",
		unix.SIGHUP:  "HUP",
		unix.SIGUSR2: "USR2",
	} {
		if got := Name(sig); got != want {
			t.Errorf("Name(%d) = %q, want %q", int(sig), got, want)
		}
	}
	// Every signal's name reads back as that signal.
	for n := 1; n <= maxSignal; n++ {
		sig := unix.Signal(n)
		if got, err := Parse(Name(sig)); err != nil || got != sig {
			t.Errorf("Parse(Name(%d)) = Parse(%q) = %v, %v", n, Name(sig), got, err)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	s := time.Second
	valid := []struct {
		in    string
		first unix.Signal
		want  Schedule
		str   string
	}{
		{"TERM/10/KILL/5", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 10 * s}, {unix.SIGKILL, 5 * s}}}, "TERM/10/KILL/5"},
		{"5", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 5 * s}, {unix.SIGKILL, 5 * s}}}, "TERM/5/KILL/5"},
		{"5", unix.SIGHUP, Schedule{Steps: []Step{{unix.SIGHUP, 5 * s}, {unix.SIGKILL, 5 * s}}}, "HUP/5/KILL/5"},
		{"0", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 0}, {unix.SIGKILL, 0}}}, "TERM/KILL"},
		{"0.5", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, s / 2}, {unix.SIGKILL, s / 2}}}, "TERM/0.5/KILL/0.5"},
		{"-15/3", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 3 * s}}}, "TERM/3"},
		{"-9/0", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGKILL, 0}}}, "KILL/0"},
		{"sigterm/1/usr1/2", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, s}, {unix.SIGUSR1, 2 * s}}}, "TERM/1/USR1/2"},
		{"TERM/8.001", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 8001 * time.Millisecond}}}, "TERM/8.001"},
		{"TERM/.25", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, s / 4}}}, "TERM/0.25"},
		{"TERM/0.0000000015", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 2}}}, "TERM/0.000000002"},
		{"TERM/2147483647", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 2147483647 * s}}}, "TERM/2147483647"},
		// Items in any order, as start-stop-daemon reads them.
		{"forever/TERM/1", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, s}}, Repeat: 1}, "forever/TERM/1"},
		{"TERM/KILL/5", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 0}, {unix.SIGKILL, 5 * s}}}, "TERM/KILL/5"},
		{"TERM/5/KILL", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 5 * s}, {unix.SIGKILL, 0}}}, "TERM/5/KILL"},
		{"1/TERM/2", unix.SIGTERM, Schedule{Steps: []Step{{0, s}, {unix.SIGTERM, 2 * s}}}, "1/TERM/2"},
		{"TERM/5/forever/KILL/1", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 5 * s}, {unix.SIGKILL, s}}, Repeat: 1}, "TERM/5/forever/KILL/1"},
		{"HUP/1/TERM/forever/5", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGHUP, s}, {unix.SIGTERM, 0}, {0, 5 * s}}, Repeat: 1}, "HUP/1/TERM/forever/5"},
		{"TERM/1/forever/KILL/0/HUP/2", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, s}, {unix.SIGKILL, 0}, {unix.SIGHUP, 2 * s}}, Repeat: 2}, "TERM/1/forever/KILL/HUP/2"},
		{"15/3", unix.SIGTERM, Schedule{Steps: []Step{{0, 15 * s}, {0, 3 * s}}}, "15/3"},
		{"forever/5", unix.SIGTERM, Schedule{Steps: []Step{{0, 5 * s}}, Repeat: 1}, "forever/5"},
		// Zero timeouts and signal 0 change nothing.
		{"TERM/0/5", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 5 * s}}}, "TERM/5"},
		{"TERM/-0/5", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 5 * s}}}, "TERM/5"},
		{"TERM/0", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 0}}}, "TERM/0"},
		{"-0/5", unix.SIGTERM, Schedule{Steps: []Step{{0, 5 * s}}}, "5/0"},
		{"-00/-0", unix.SIGTERM, Schedule{Steps: []Step{{}}}, "0/0"},
		{"-015/05", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 5 * s}}}, "TERM/5"},
		{"TERM/-1", unix.SIGTERM, Schedule{Steps: []Step{{unix.SIGTERM, 0}, {unix.SIGHUP, 0}}}, "TERM/HUP"},
	}
	for _, tc := range valid {
		got, err := ParseSchedule(tc.in, tc.first)
		if err != nil {
			t.Errorf("ParseSchedule(%q, %v): %v", tc.in, tc.first, err)
			continue
		}
		if !equalSchedules(got, tc.want) {
			t.Errorf("ParseSchedule(%q, %v) = %+v, want %+v", tc.in, tc.first, got, tc.want)
		}
		if got.String() != tc.str {
			t.Errorf("ParseSchedule(%q).String() = %q, want %q", tc.in, got.String(), tc.str)
		}
		again, err := ParseSchedule(got.String(), unix.SIGTERM)
		if err != nil || !equalSchedules(again, got) {
			t.Errorf("ParseSchedule(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}

	invalid := []string{
		"", "/", "//", "TERM", "TERM/", "/5", "TERM//5", "TERM/x", "-", "-/5",
		"TERM/-1.5", "TERM/1e3", "TERM/NaN", "TERM/Inf", "TERM/0x10", "TERM/99999999999",
		"TERM/2147483648", "TERM/2147483647.5", "TERM/1.2.3", "TERM/.", "TERM/ 5", "TERM/5 ",
		"-65/5", "--15/5", "+15/5", " 15/5", "-+15/5", "-99999999999999999999/5",
		"FOO/5", "forever", "TERM/5/forever", "TERM/5/forever/forever", "forever/forever/TERM/1",
		"forever/TERM/1/forever/KILL/1", "FOREVER/TERM/1", "-1", "1e3", "5/", "5/forever",
		// A repeated part that never waits.
		"forever/TERM", "TERM/forever/KILL", "forever/TERM/0", "TERM/5/forever/0", "TERM/forever/-0",
	}
	for _, in := range invalid {
		got, err := ParseSchedule(in, unix.SIGTERM)
		if !errors.Is(err, ErrBadSchedule) {
			t.Errorf("ParseSchedule(%q) = %+v, %v; want an error wrapping ErrBadSchedule", in, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "TERM/10/KILL/5") || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseSchedule(%q) error %q is not one line with an example", in, err)
		}
	}
}

func TestParseScheduleErrorSaysWhy(t *testing.T) {
	for in, want := range map[string]string{
		"TERM/5/forever":    "forever is last",
		"TERM/forever/KILL": "never waits",
		"forever/1/forever": "more than once",
		"TERM":              "a single item must be seconds",
		"TERM//5":           "empty item",
		"-65/5":             "numbers go from 0 (none) to 64",
	} {
		if _, err := ParseSchedule(in, unix.SIGTERM); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSchedule(%q) error %v, want it to say %q", in, err, want)
		}
	}
}

func TestWalk(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		in   string
		want []Step // the first len(want) steps taken, or all when the walk ends
		ends bool
	}{
		{"TERM/10/KILL/5", []Step{{unix.SIGTERM, 10 * s}, {unix.SIGKILL, 5 * s}}, true},
		{"forever/TERM/1", []Step{{unix.SIGTERM, s}, {unix.SIGTERM, s}, {unix.SIGTERM, s}}, false},
		{"HUP/1/forever/TERM/2/KILL/3", []Step{{unix.SIGHUP, s}, {unix.SIGTERM, 2 * s}, {unix.SIGKILL, 3 * s}, {unix.SIGTERM, 2 * s}, {unix.SIGKILL, 3 * s}, {unix.SIGTERM, 2 * s}}, false},
		{"HUP/1/TERM/forever/5", []Step{{unix.SIGHUP, s}, {unix.SIGTERM, 0}, {0, 5 * s}, {0, 5 * s}}, false},
	} {
		sched, err := ParseSchedule(tc.in, unix.SIGTERM)
		if err != nil {
			t.Fatal(err)
		}
		var got []Step
		for st := range sched.Walk() {
			if len(got) == len(tc.want)+1 {
				break
			}
			got = append(got, st)
		}
		if tc.ends && !slices.Equal(got, tc.want) || !tc.ends && !slices.Equal(got[:len(tc.want)], tc.want) {
			t.Errorf("Walk(%q) = %v, want %v (ends: %v)", tc.in, got, tc.want, tc.ends)
		}
		if !tc.ends && len(got) != len(tc.want)+1 {
			t.Errorf("Walk(%q) ended after %d steps", tc.in, len(got))
		}
	}
	// Repeat beyond the number of steps repeats them all.
	var n int
	for range (Schedule{Steps: []Step{{unix.SIGTERM, time.Second}}, Repeat: 5}).Walk() {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("Walk with Repeat 5 over one step took %d steps", n)
	}
}

func TestScheduleStringUnnamedSignal(t *testing.T) {
	// Signals without a name print as numbers, which ParseSchedule reads
	// as signals only with a leading dash.
	sched, err := ParseSchedule("-32/3/KILL/1", unix.SIGTERM)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseSchedule(sched.String(), unix.SIGTERM)
	if err != nil || !equalSchedules(again, sched) {
		t.Errorf("round trip of %q: %+v, %v", sched.String(), again, err)
	}
	// The same for the first signal of a bare number.
	sched, err = ParseSchedule("5", 32)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := ParseSchedule(sched.String(), unix.SIGTERM); err != nil || !equalSchedules(again, sched) {
		t.Errorf("round trip of %q: %+v, %v", sched.String(), again, err)
	}
}

func TestDefaultAndWithFirst(t *testing.T) {
	def := DefaultSchedule()
	if def.String() != "TERM/10/KILL/5" {
		t.Errorf("DefaultSchedule() = %q", def.String())
	}
	hup := def.WithFirst(unix.SIGHUP)
	if hup.String() != "HUP/10/KILL/5" {
		t.Errorf("WithFirst(HUP) = %q", hup.String())
	}
	if def.String() != "TERM/10/KILL/5" {
		t.Errorf("WithFirst changed the original: %q", def.String())
	}
	if empty := (Schedule{}).WithFirst(unix.SIGHUP); len(empty.Steps) != 0 {
		t.Errorf("WithFirst on an empty schedule = %+v", empty)
	}
	if got := (Schedule{}).OrDefault(); got.String() != "TERM/10/KILL/5" {
		t.Errorf("OrDefault of the zero schedule = %q", got.String())
	}
	if got := hup.OrDefault(); got.String() != "HUP/10/KILL/5" {
		t.Errorf("OrDefault of HUP/10/KILL/5 = %q", got.String())
	}
	for in, want := range map[string]string{
		"1/TERM/2":              "1/HUP/2",
		"forever/TERM/1":        "forever/HUP/1",
		"15/3":                  "HUP/15/3",
		"forever/5":             "HUP/forever/5",
		"TERM/5/forever/KILL/1": "HUP/5/forever/KILL/1",
	} {
		sched, err := ParseSchedule(in, unix.SIGTERM)
		if err != nil {
			t.Fatal(err)
		}
		if got := sched.WithFirst(unix.SIGHUP).String(); got != want {
			t.Errorf("%q.WithFirst(HUP) = %q, want %q", in, got, want)
		}
	}
}

func equalSchedules(a, b Schedule) bool {
	return a.Repeat == b.Repeat && slices.Equal(a.Steps, b.Steps)
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"TERM", "SIGTERM", "term", "15", "0", "65", "", "SIGFOO", "01", "-15", "ſıgterm", "64"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrBadSignal) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrBadSignal", s, err)
			}
			if sig != 0 {
				t.Fatalf("Parse(%q) returned %v with its error", s, sig)
			}
			return
		}
		if sig < 1 || sig > maxSignal {
			t.Fatalf("Parse(%q) = %d, outside 1..%d", s, int(sig), maxSignal)
		}
		if again, err := Parse(Name(sig)); err != nil || again != sig {
			t.Fatalf("Parse(%q) = %d, but Parse(Name) = %v, %v", s, int(sig), again, err)
		}
	})
}

func FuzzParseSchedule(f *testing.F) {
	for _, seed := range []string{"TERM/10/KILL/5", "5", "-15/3", "TERM/0.5/KILL/1/forever", "", "TERM", "TERM/x", "15/3", "TERM/-1", "TERM/1e3", "TERM/NaN", "TERM/99999999999", "0.000000001",
		"forever/TERM/1", "TERM/KILL/5", "1/TERM/2", "HUP/1/TERM/forever/5", "TERM/forever/KILL", "-0/-0", "TERM/0.0000000015", "TERM/2147483647.999999999", "-015/RTMIN+3/0"} {
		f.Add(seed, uint8(unix.SIGTERM))
	}
	f.Add("7", uint8(unix.SIGHUP))
	f.Add("0", uint8(34))
	f.Fuzz(func(t *testing.T, s string, firstByte uint8) {
		first := unix.Signal(firstByte)
		if first < 1 || first > maxSignal {
			first = unix.SIGTERM
		}
		sched, err := ParseSchedule(s, first)
		if err != nil {
			if !errors.Is(err, ErrBadSchedule) {
				t.Fatalf("ParseSchedule(%q) error %v does not wrap ErrBadSchedule", s, err)
			}
			return
		}
		if len(sched.Steps) == 0 {
			t.Fatalf("ParseSchedule(%q) = an empty schedule", s)
		}
		if sched.Repeat < 0 || sched.Repeat > len(sched.Steps) {
			t.Fatalf("ParseSchedule(%q): Repeat %d outside 0..%d", s, sched.Repeat, len(sched.Steps))
		}
		repeatedWaits := false
		for i, st := range sched.Steps {
			if st.Wait < 0 || st.Wait > maxWait {
				t.Fatalf("ParseSchedule(%q): wait %v outside 0..%v", s, st.Wait, maxWait)
			}
			if st.Signal < 0 || st.Signal > maxSignal {
				t.Fatalf("ParseSchedule(%q): signal %d outside 0..%d", s, int(st.Signal), maxSignal)
			}
			if i >= len(sched.Steps)-sched.Repeat && st.Wait > 0 {
				repeatedWaits = true
			}
		}
		if sched.Repeat > 0 && !repeatedWaits {
			t.Fatalf("ParseSchedule(%q) = %+v, which repeats without waiting", s, sched)
		}
		str := sched.String()
		again, err := ParseSchedule(str, unix.SIGTERM)
		if err != nil {
			t.Fatalf("ParseSchedule(%q) = %q, which does not parse: %v", s, str, err)
		}
		if !equalSchedules(again, sched) {
			t.Fatalf("ParseSchedule(%q) = %+v, printed %q, parsed back as %+v", s, sched, str, again)
		}
	})
}
