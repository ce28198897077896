package supervise

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]Limit{
		"5/10s":     {5, 10 * time.Second},
		"1/1m":      {1, time.Minute},
		"3/30":      {3, 30 * time.Second},
		"10000/24h": {10000, 24 * time.Hour},
		"2/1.5s":    {2, 1500 * time.Millisecond},
		"unlimited": {},
	} {
		got, err := ParseLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if again, err := ParseLimit(got.String()); err != nil || again != got {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
	for _, in := range []string{"", "0/0s", "0/10s", "5/", "/10s", "abc", "5", "5/0s", "5/-1s", "-1/10s", "+5/10s", "5/10x", "5/25h", "10001/1s", "5/10s/1", " 5/10s", "unlimited/1s", "5/99999999999"} {
		_, err := ParseLimit(in)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("ParseLimit(%q): %v, want ErrUsage", in, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "5/10s") || strings.Contains(msg, "\n") {
			t.Errorf("ParseLimit(%q) error %q: want one line with an example", in, msg)
		}
	}
}

func TestParseWhen(t *testing.T) {
	if w, err := ParseWhen("always"); err != nil || w != Always || w.String() != "always" {
		t.Errorf("ParseWhen(always) = %v, %v", w, err)
	}
	if w, err := ParseWhen("on-failure"); err != nil || w != OnFailure || w.String() != "on-failure" {
		t.Errorf("ParseWhen(on-failure) = %v, %v", w, err)
	}
	for _, in := range []string{"", "never", "Always", "on_failure"} {
		if _, err := ParseWhen(in); !errors.Is(err, ErrUsage) {
			t.Errorf("ParseWhen(%q): %v, want ErrUsage", in, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"4096": 4096, "4K": 4 << 10, "10M": 10 << 20, "10m": 10 << 20, "1G": 1 << 30, "1T": 1 << 40} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "0", "4095", "3K", "10MB", "-1M", "1.5M", "2T", "99999999999999999999", " 10M"} {
		if _, err := ParseSize(in); !errors.Is(err, ErrUsage) {
			t.Errorf("ParseSize(%q): %v, want ErrUsage", in, err)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	good := func() Config {
		return Config{PIDFile: nil, Program: Program{Path: "/bin/true", Argv: []string{"true"}}, Respawn: DefaultRespawn(), Logs: DefaultLogs()}
	}
	cases := map[string]func(*Config){
		"no pidfile":            func(c *Config) {},
		"relative program":      func(c *Config) { c.Program.Path = "true" },
		"empty argv":            func(c *Config) { c.Program.Argv = nil },
		"negative delay":        func(c *Config) { c.Respawn.Delay = -1 },
		"limit without period":  func(c *Config) { c.Respawn.Limit.Period = 0 },
		"tiny log size":         func(c *Config) { c.Logs.MaxSize = 100 },
		"relative log":          func(c *Config) { c.Logs.Stdout = "out.log" },
		"forking and notify":    func(c *Config) { c.Forking, c.Ready.Notify = true, true },
		"pidfile, not forking":  func(c *Config) { c.ProgramPIDFile = "/run/x.pid" },
		"relative prog pidfile": func(c *Config) { c.Forking, c.ProgramPIDFile = true, "x.pid" },
		"negative watchdog":     func(c *Config) { c.Watchdog = -time.Second },
		"unknown policy":        func(c *Config) { c.Respawn.When = 7 },
	}
	for name, change := range cases {
		c := good()
		change(&c)
		if err := c.check(); !errors.Is(err, ErrUsage) {
			t.Errorf("%s: check() = %v, want ErrUsage", name, err)
		}
	}
}

func TestExitString(t *testing.T) {
	for _, tc := range []struct {
		e    Exit
		want string
	}{
		{Exit{Code: 1}, "exited with status 1"},
		{Exit{}, "exited with status 0"},
		{Exit{Signal: unix.SIGSEGV, Core: true}, "killed by SIGSEGV (core dumped)"},
		{Exit{Signal: unix.SIGABRT, Cause: CauseWatchdog, Err: "no WATCHDOG=1 within 30s"}, "killed by SIGABRT (no WATCHDOG=1 within 30s)"},
		{Exit{Cause: CauseSpawn, Err: "cannot run /x: no such file or directory"}, "cannot run /x: no such file or directory"},
	} {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.e, got, tc.want)
		}
	}
	if (Exit{}).Failure() || !(Exit{Code: 2}).Failure() || !(Exit{Signal: unix.SIGTERM}).Failure() || !(Exit{Cause: CauseNotReady}).Failure() {
		t.Error("Failure: want only a clean exit the supervisor did not cause to be no failure")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	at := time.Unix(1764583200, 123456789)
	for _, s := range []Snapshot{
		{State: Starting},
		{State: Running, PID: 4243, StartTicks: 987654, Started: at, Respawns: 2, Last: Exit{Signal: unix.SIGSEGV, Core: true, At: at}, Limit: Limit{5, 10 * time.Second}, Stdout: "/var/log/web out.log", Stderr: "/var/log/\xff%web.err", Watchdog: 30 * time.Second, Status: "serving 3 clients\n"},
		{State: Backoff, Next: at, Last: Exit{Code: 3, At: at, Cause: CauseNotReady, Err: "no READY=1 within 30s"}, LogFailures: 7, LogLost: 1234, LogError: "log file /x: no space left on device", WatchdogMisses: 1},
		{State: Failed, Respawns: 5, Limit: Limit{5, 10 * time.Second}, Last: Exit{Code: 1, At: at}},
		{State: Exited, Last: Exit{At: at, Cause: CauseSpawn, Err: "cannot run /x: exec format error"}},
	} {
		got, err := decode(s.encode())
		if err != nil {
			t.Errorf("decode(%q): %v", s.encode(), err)
			continue
		}
		if !got.Started.Equal(s.Started) || !got.Last.At.Equal(s.Last.At) || !got.Next.Equal(s.Next) {
			t.Errorf("times of %q: %+v", s.encode(), got)
		}
		got.Started, got.Last.At, got.Next = s.Started, s.Last.At, s.Next
		if got != s {
			t.Errorf("decode(encode(%+v)) = %+v", s, got)
		}
		if strings.ContainsAny(string(s.encode()), "\n\x00") {
			t.Errorf("encode(%+v) = %q holds a newline or NUL", s, s.encode())
		}
	}
	for _, bad := range []string{"", "supervise/2 state=running", "supervise/1", "supervise/1 state=sleeping", "supervise/1 state=running pid=x", "supervise/1 state=running state=failed", "supervise/1 state=running pid=-3", "supervise/1 state=running exit=code:300", "supervise/1 state=running exit=signal:FOO", "supervise/1 state=running err=%4", "supervise/1 state=running err=%zz", "supervise/1 state=running limit=0/0s", "supervise/1 state=running junk"} {
		if _, err := decode([]byte(bad)); !errors.Is(err, ErrBadState) {
			t.Errorf("decode(%q): %v, want ErrBadState", bad, err)
		}
	}
	if s, err := decode([]byte("supervise/1 state=running future=1")); err != nil || s.State != Running {
		t.Errorf("an unknown key: %+v, %v; want it ignored", s, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("supervise/1 state=running pid=42 exit=signal:SEGV:core status=a%20b"))
	f.Add([]byte("supervise/1 state=failed limit=5/10s"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decode(b)
		if err != nil {
			return
		}
		again, err := decode(s.encode())
		if err != nil {
			t.Fatalf("decode(%q) = %+v, whose encoding %q does not decode: %v", b, s, s.encode(), err)
		}
		if string(again.encode()) != string(s.encode()) {
			t.Fatalf("round trip of %q: %q then %q", b, s.encode(), again.encode())
		}
	})
}
