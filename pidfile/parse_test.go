package pidfile

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/daemonctl/daemonctl/process"
)

func TestParsePID(t *testing.T) {
	pidMax := process.PIDMax()
	valid := []struct {
		in   string
		want int
	}{
		{"2", 2},
		{"42", 42},
		{"4242\n", 4242},
		{strconv.Itoa(pidMax), pidMax},
		{strconv.Itoa(pidMax) + "\n", pidMax},
	}
	for _, tc := range valid {
		got, err := ParsePID([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("ParsePID(%q) = %d, %v; want %d, nil", tc.in, got, err, tc.want)
		}
	}

	invalid := []string{
		"",
		"\n",
		"abc",
		"-1",
		"0",
		"1",
		"1\n",
		"01",
		"007\n",
		"+5",
		" 5",
		"5 ",
		"5\n\n",
		"\n5",
		"5\r\n",
		"12 34",
		"12\n34\n",
		"99999999999",
		"4294967298", // 2^32+2: wraps to 2 in a 32-bit conversion
		"18446744073709551618",
		strconv.Itoa(pidMax + 1),
		"\x00\x01\x02\xff",
		"42\x00",
		"٤٢", // Arabic-Indic digits
		strings.Repeat("1", 33),
		"42\n" + strings.Repeat(" ", 40),
	}
	for _, in := range invalid {
		got, err := ParsePID([]byte(in))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePID(%q) = %d, %v; want an error wrapping ErrInvalid", in, got, err)
		}
		if got != 0 {
			t.Errorf("ParsePID(%q) returned pid %d with its error", in, got)
		}
	}
}

func TestParsePIDErrorIsBounded(t *testing.T) {
	// A 10 MB pidfile must not end up quoted in full in a one-line message.
	_, err := ParsePID(bytes.Repeat([]byte("x"), 10<<20))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if len(err.Error()) > 200 {
		t.Errorf("error message is %d bytes long; want one short line", len(err.Error()))
	}
}

// validPID is the only shape of pidfile contents ParsePID may accept.
var validPID = regexp.MustCompile(`^[1-9][0-9]*\n?$`)

func FuzzParsePID(f *testing.F) {
	for _, seed := range []string{"", "1", "2", "42\n", "32768", "4194304\n", "0", "-1", "+5", " 5", "5\n\n", "12 34", "99999999999", "\xff\xfe"} {
		f.Add([]byte(seed))
	}
	pidMax := process.PIDMax()
	f.Fuzz(func(t *testing.T, b []byte) {
		pid, err := ParsePID(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParsePID(%q) error %v does not wrap ErrInvalid", b, err)
			}
			if pid != 0 {
				t.Fatalf("ParsePID(%q) returned pid %d with its error", b, pid)
			}
			if strings.Contains(err.Error(), "\n") && len(b) > maxSize {
				t.Fatalf("ParsePID(%q) error spans lines: %q", b, err)
			}
			return
		}
		if !validPID.Match(b) {
			t.Fatalf("ParsePID(%q) = %d, accepted contents that are not one plain decimal", b, pid)
		}
		if pid < 2 || pid > pidMax {
			t.Fatalf("ParsePID(%q) = %d, outside 2..%d", b, pid, pidMax)
		}
		if got := strings.TrimSuffix(string(b), "\n"); got != strconv.Itoa(pid) {
			t.Fatalf("ParsePID(%q) = %d, which does not print back as %q", b, pid, got)
		}
		// What WritePID writes must parse back to the same PID.
		if again, err := ParsePID([]byte(strconv.Itoa(pid) + "\n")); err != nil || again != pid {
			t.Fatalf("round trip of %d: got %d, %v", pid, again, err)
		}
	})
}
