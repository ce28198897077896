package signals

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseRealtime(t *testing.T) {
	for in, want := range map[string]int{
		"RTMIN": 34, "SIGRTMIN": 34, "rtmin": 34, "SigRtMin": 34,
		"RTMIN+1": 35, "sigrtmin+1": 35, "RTMIN+0": 34, "RTMIN+01": 35, "RTMIN+15": 49, "RTMIN+30": 64,
		"RTMAX": 64, "SIGRTMAX": 64, "RTMAX-1": 63, "rtmax-14": 50, "RTMAX-0": 64, "RTMAX-30": 34,
	} {
		if got, err := Parse(in); err != nil || got != unix.Signal(want) {
			t.Errorf("Parse(%q) = %v, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{
		"RTMIN+31", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMAX-", "RTMIN++1", "RTMIN+-1",
		"RTMIN+ 1", "RTMIN+1 ", "RTMIN1", "RTMINX", "RTMIN+100", "RTMIN+001", "RT", "RTMID", "SIGRTMIN+1x",
	} {
		if got, err := Parse(in); !errors.Is(err, ErrBadSignal) {
			t.Errorf("Parse(%q) = %v, %v; want an error wrapping ErrBadSignal", in, got, err)
		}
	}
}

func TestNameRealtime(t *testing.T) {
	for n, want := range map[int]string{
		32: "32", 33: "33", 34: "RTMIN", 35: "RTMIN+1", 40: "RTMIN+6", 49: "RTMIN+15",
		50: "RTMAX-14", 63: "RTMAX-1", 64: "RTMAX",
	} {
		if got := Name(unix.Signal(n)); got != want {
			t.Errorf("Name(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestNamesLikeBash compares with bash's kill -l, which names signals as
// glibc numbers them: Name gives the same name for every signal bash names
// from 32 on (the real-time range), and Parse reads every name bash prints
// as its number.
func TestNamesLikeBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to compare with")
	}
	for n := 1; n <= maxSignal; n++ {
		out, err := exec.Command(bash, "-c", "kill -l "+strconv.Itoa(n)).Output()
		if err != nil {
			t.Fatalf("bash kill -l %d: %v", n, err)
		}
		name := strings.TrimSpace(string(out))
		if name == "" {
			// bash leaves glibc's own 32 and 33 unnamed.
			if got := Name(unix.Signal(n)); got != strconv.Itoa(n) {
				t.Errorf("bash names no signal %d, Name gives %q", n, got)
			}
			continue
		}
		if got, err := Parse(name); err != nil || got != unix.Signal(n) {
			t.Errorf("bash names signal %d %q, Parse reads %v, %v", n, name, got, err)
		}
		if n >= 32 && Name(unix.Signal(n)) != name {
			t.Errorf("bash names signal %d %q, Name gives %q", n, name, Name(unix.Signal(n)))
		}
	}
}
