package signals

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// startStopDaemon is dpkg's, whose --retry grammar ParseSchedule reads.
const startStopDaemon = "/sbin/start-stop-daemon"

// retryCases are --retry values with start-stop-daemon's verdict (as
// dpkg 1.21 gives it) and ParseSchedule's: want is the schedule as String
// renders it, "" when refused. Where the two disagree, why says why.
// TestRetryGrammar checks our half, TestRetryGrammarAgainstStartStopDaemon
// checks the ssd column against the real program.
var retryCases = []struct {
	in    string
	first unix.Signal // --signal, for a bare number
	ssd   bool
	want  string
	why   string
}{
	// The examples of the issue: items in any order.
	{in: "forever/TERM/1", ssd: true, want: "forever/TERM/1"}, // Debian's redis-server script
	{in: "TERM/KILL/5", ssd: true, want: "TERM/KILL/5"},
	{in: "TERM/5/KILL", ssd: true, want: "TERM/5/KILL"},
	{in: "1/TERM/2", ssd: true, want: "1/TERM/2"},
	{in: "TERM/5/forever/KILL/1", ssd: true, want: "TERM/5/forever/KILL/1"},
	{in: "HUP/1/TERM/forever/5", ssd: true, want: "HUP/1/TERM/forever/5"},
	{in: "TERM/5/forever", ssd: false},
	{in: "TERM/30/KILL/5", ssd: true, want: "TERM/30/KILL/5"},
	{in: "QUIT/30/TERM/10/KILL/5", ssd: true, want: "QUIT/30/TERM/10/KILL/5"},

	// A bare number: SIGNAL/N/KILL/N.
	{in: "5", ssd: true, want: "TERM/5/KILL/5"},
	{in: "5", first: unix.SIGHUP, ssd: true, want: "HUP/5/KILL/5"},
	{in: "0", ssd: true, want: "TERM/KILL"},
	{in: "05", ssd: true, want: "TERM/5/KILL/5"},
	{in: "TERM", ssd: false},
	{in: "-15", ssd: false},
	{in: "0.5", ssd: false, want: "TERM/0.5/KILL/0.5", why: "fractions of a second"},

	// Empty items, slashes at the ends.
	{in: "", ssd: false},
	{in: "/", ssd: false},
	{in: "//", ssd: false},
	{in: "/TERM/5", ssd: false},
	{in: "TERM/5/", ssd: false}, // ssd: "internal error: count=2 != schedule_length=3", exit 3
	{in: "TERM//5", ssd: false},
	{in: "-/5", ssd: false},

	// forever.
	{in: "forever", ssd: false},
	{in: "forever/forever", ssd: false},
	{in: "forever/forever/TERM/1", ssd: false},
	{in: "forever/TERM/1/forever/KILL/1", ssd: false},
	{in: "FOREVER/TERM/1", ssd: false},
	{in: "forever/5", ssd: true, want: "forever/5"},
	{in: "forever/-0/1", ssd: true, want: "forever/1"},
	{in: "TERM/1/forever/KILL/0/HUP/2", ssd: true, want: "TERM/1/forever/KILL/HUP/2"},
	// A repeated part that never waits: ssd spins on it at 100% CPU.
	{in: "forever/TERM", ssd: true, why: "repeats without waiting"},
	{in: "TERM/forever/KILL", ssd: true, why: "repeats without waiting"},
	{in: "forever/TERM/0", ssd: true, why: "repeats without waiting"},
	{in: "TERM/5/forever/0", ssd: true, why: "repeats without waiting"},
	{in: "TERM/forever/-0", ssd: true, why: "repeats without waiting"},

	// Signal numbers, signal 0, signs.
	{in: "-15/5", ssd: true, want: "TERM/5"},
	{in: "-015/5", ssd: true, want: "TERM/5"},
	{in: "-9/0", ssd: true, want: "KILL/0"},
	{in: "-0/5", ssd: true, want: "5/0"},
	{in: "-00/5", ssd: true, want: "5/0"},
	{in: "-0/-0", ssd: true, want: "0/0"},
	{in: "0/0", ssd: true, want: "0/0"},
	{in: "TERM/-0/5", ssd: true, want: "TERM/5"},
	{in: "TERM/-1", ssd: true, want: "TERM/HUP"},
	{in: "-32/5", ssd: true, want: "-32/5"},
	{in: "-34/5", ssd: true, want: "RTMIN/5"},
	{in: "-64/5", ssd: true, want: "RTMAX/5"},
	{in: "-65/5", ssd: true, why: "no signal 65: ssd's kill(2) fails at stop time"},
	{in: "-2147483647/5", ssd: true, why: "no such signal: ssd's kill(2) fails at stop time"},
	{in: "-2147483648/5", ssd: false},
	{in: "--15/5", ssd: false},
	{in: "+15/5", ssd: true, why: "strtol's leading sign in a signal item"},
	{in: "-+15/5", ssd: true, why: "strtol's leading sign in a signal item"},
	{in: " 15/5", ssd: true, why: "strtol's leading blanks in a signal item"},
	{in: "- 15/5", ssd: true, why: "strtol's leading blanks in a signal item"},

	// Numbers without a dash are timeouts, wherever they are.
	{in: "15/3", ssd: true, want: "15/3"},
	{in: "5/10", ssd: true, want: "5/10"},
	{in: "1/1", ssd: true, want: "1/1"},

	// Names.
	{in: "-TERM/5", ssd: true, want: "TERM/5"},
	{in: "term/5", ssd: false, want: "TERM/5", why: "names in any case"},
	{in: "SIGTERM/5", ssd: false, want: "TERM/5", why: "names with SIG"},
	{in: "-SIGTERM/5", ssd: false, want: "TERM/5", why: "names with SIG"},
	{in: "WINCH/5", ssd: false, want: "WINCH/5", why: "all of Parse's names, not ssd's 19"},
	{in: "RTMIN/5", ssd: false, want: "RTMIN/5", why: "real-time signal names"},
	{in: "RTMIN+2/5", ssd: false, want: "RTMIN+2/5", why: "real-time signal names"},
	{in: "USR1/1/USR2/1/CHLD/1", ssd: true, want: "USR1/1/USR2/1/CHLD/1"},
	{in: "FOO/5", ssd: false},
	{in: "TERM /5", ssd: false},

	// Timeouts.
	{in: "TERM/05", ssd: true, want: "TERM/5"},
	{in: "TERM/0", ssd: true, want: "TERM/0"},
	{in: "TERM/2147483647", ssd: true, want: "TERM/2147483647"},
	{in: "TERM/2147483648", ssd: false},
	{in: "TERM/99999999999999999999", ssd: false},
	{in: "TERM/0000000000000000005", ssd: true, want: "TERM/5"},
	{in: "TERM/00000000000000000005", ssd: false, want: "TERM/5", why: "items of 20 characters or more"},
	{in: "TERM/0.5", ssd: false, want: "TERM/0.5", why: "fractions of a second"},
	{in: "TERM/5.0", ssd: false, want: "TERM/5", why: "fractions of a second"},
	{in: "TERM/.5", ssd: false, want: "TERM/0.5", why: "fractions of a second"},
	{in: "TERM/-5", ssd: true, want: "TERM/TRAP"}, // -5 is signal 5
	{in: "TERM/1e3", ssd: false},
	{in: "TERM/0x10", ssd: false},
	{in: "TERM/5s", ssd: false},
	{in: "TERM/NaN", ssd: false},
	{in: "TERM/5 ", ssd: false},
}

func TestRetryGrammar(t *testing.T) {
	for _, tc := range retryCases {
		first := tc.first
		if first == 0 {
			first = unix.SIGTERM
		}
		if (tc.want != "") != tc.ssd && tc.why == "" {
			t.Errorf("case %q: ours and ssd's verdicts differ without a why", tc.in)
		}
		sched, err := ParseSchedule(tc.in, first)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseSchedule(%q) = %q, want it refused", tc.in, sched)
		case tc.want == "" && !errors.Is(err, ErrBadSchedule):
			t.Errorf("ParseSchedule(%q) error %v does not wrap ErrBadSchedule", tc.in, err)
		case tc.want != "" && err != nil:
			t.Errorf("ParseSchedule(%q): %v, want %q", tc.in, err, tc.want)
		case tc.want != "" && sched.String() != tc.want:
			t.Errorf("ParseSchedule(%q) = %q, want %q", tc.in, sched, tc.want)
		}
	}
}

// TestRetryGrammarAgainstStartStopDaemon runs the real start-stop-daemon
// on each case, in test mode (it signals nobody), and checks that it
// accepts or refuses it as the table says.
func TestRetryGrammarAgainstStartStopDaemon(t *testing.T) {
	if _, err := os.Stat(startStopDaemon); err != nil {
		t.Skipf("%s is not installed (dpkg): %v", startStopDaemon, err)
	}
	// Above PID_MAX_LIMIT (2^22): no process can have it, so even a
	// start-stop-daemon that ignored --test could signal nobody.
	const nobody = "4194305"
	for _, tc := range retryCases {
		args := []string{"--stop", "--test", "--pid", nobody, "--retry=" + tc.in}
		if tc.first != 0 {
			args = append(args, "--signal", strconv.Itoa(int(tc.first)))
		}
		out, err := exec.Command(startStopDaemon, args...).CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", startStopDaemon, err)
		}
		// 0: it would stop; 3: bad usage. Anything else is not about
		// the schedule.
		switch {
		case code != 0 && code != 3:
			t.Errorf("start-stop-daemon --retry=%q: exit %d, want 0 or 3: %s", tc.in, code, out)
		case (code == 0) != tc.ssd:
			t.Errorf("start-stop-daemon --retry=%q: exit %d (%q), the table says accepted=%v", tc.in, code, out, tc.ssd)
		}
	}
}
