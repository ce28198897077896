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

func steps(pairs ...any) []Step {
	var out []Step
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Step{pairs[i].(unix.Signal), pairs[i+1].(time.Duration)})
	}
	return out
}

func TestParseSchedule(t *testing.T) {
	s := time.Second
	valid := []struct {
		in    string
		first unix.Signal
		want  Schedule
		str   string
	}{
		{"TERM/10/KILL/5", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, 10*s, unix.SIGKILL, 5*s)}, "TERM/10/KILL/5"},
		{"5", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, 5*s, unix.SIGKILL, 5*s)}, "TERM/5/KILL/5"},
		{"5", unix.SIGHUP, Schedule{Steps: steps(unix.SIGHUP, 5*s, unix.SIGKILL, 5*s)}, "HUP/5/KILL/5"},
		{"0", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, 0*s, unix.SIGKILL, 0*s)}, "TERM/0/KILL/0"},
		{"-15/3", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, 3*s)}, "TERM/3"},
		{"-9/0", unix.SIGTERM, Schedule{Steps: steps(unix.SIGKILL, 0*s)}, "KILL/0"},
		{"sigterm/1/usr1/2", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, s, unix.SIGUSR1, 2*s)}, "TERM/1/USR1/2"},
		{"TERM/0.5/KILL/1/forever", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, s/2, unix.SIGKILL, s), Forever: true}, "TERM/0.5/KILL/1/forever"},
		{"TERM/8.001", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, 8001*time.Millisecond)}, "TERM/8.001"},
		{"TERM/.25", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, s/4)}, "TERM/0.25"},
		{"TERM/604800", unix.SIGTERM, Schedule{Steps: steps(unix.SIGTERM, 7*24*time.Hour)}, "TERM/604800"},
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
		"", "/", "TERM", "TERM/", "/5", "TERM/x", "15/3", "TERM/5/9/5",
		"TERM/-1", "TERM/1e3", "TERM/NaN", "TERM/Inf", "TERM/0x10", "TERM/99999999999",
		"TERM/604801", "TERM/1.2.3", "TERM/.", "TERM/ 5", "TERM/5 ", "-0/5", "-65/5", "--15/5",
		"FOO/5", "forever", "TERM/5/forever/forever", "TERM/5/KILL", "-1", "1e3", "5/", "5/forever",
	}
	for _, in := range invalid {
		got, err := ParseSchedule(in, unix.SIGTERM)
		if !errors.Is(err, ErrBadSchedule) {
			t.Errorf("ParseSchedule(%q) = %+v, %v; want an error wrapping ErrBadSchedule", in, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "TERM/10/KILL/5") {
			t.Errorf("ParseSchedule(%q) error %q does not show an example", in, err)
		}
	}
}

func TestParseScheduleNumberWhereSignalBelongs(t *testing.T) {
	_, err := ParseSchedule("15/3", unix.SIGTERM)
	if err == nil || !strings.Contains(err.Error(), "-15") {
		t.Errorf("error %v should tell how to write signal 15", err)
	}
}

func TestScheduleStringUnnamedSignal(t *testing.T) {
	// Signals without a name print as numbers, which ParseSchedule reads
	// as signals only with a leading dash.
	sched, err := ParseSchedule("-40/3/KILL/1", unix.SIGTERM)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseSchedule(sched.String(), unix.SIGTERM)
	if err != nil || !equalSchedules(again, sched) {
		t.Errorf("round trip of %q: %+v, %v", sched.String(), again, err)
	}
	// The same for the first signal of a bare number.
	sched, err = ParseSchedule("5", 40)
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
}

func equalSchedules(a, b Schedule) bool {
	return a.Forever == b.Forever && slices.Equal(a.Steps, b.Steps)
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
	for _, seed := range []string{"TERM/10/KILL/5", "5", "-15/3", "TERM/0.5/KILL/1/forever", "", "TERM", "TERM/x", "15/3", "TERM/-1", "TERM/1e3", "TERM/NaN", "TERM/99999999999", "0.000000001"} {
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
		for _, st := range sched.Steps {
			if st.Wait < 0 || st.Wait > maxWait {
				t.Fatalf("ParseSchedule(%q): wait %v outside 0..%v", s, st.Wait, maxWait)
			}
			if st.Signal < 1 || st.Signal > maxSignal {
				t.Fatalf("ParseSchedule(%q): signal %d outside 1..%d", s, int(st.Signal), maxSignal)
			}
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
