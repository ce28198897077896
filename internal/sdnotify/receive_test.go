package sdnotify

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Message
	}{
		{"READY=1", Message{Ready: true}},
		{"READY=1\n", Message{Ready: true}},
		{"STATUS=loading\nREADY=1", Message{Ready: true, Status: "loading"}},
		{"WATCHDOG=1", Message{Watchdog: true}},
		{"WATCHDOG=trigger", Message{WatchdogTrigger: true}},
		{"STATUS=a\nSTATUS=b", Message{Status: "b"}},
		{"STATUS=\x1b[2Jclear\x07", Message{Status: "[2Jclear"}},
		{"READY=0", Message{}},
		{"READY=10", Message{}},
		{" READY=1", Message{}},
		{"READY=1 ", Message{}},
		{"WATCHDOG=0", Message{}},
		{"WATCHDOG=11", Message{}},
		{"STATUS=", Message{}},
		{"\x00\xff binary", Message{}},
		{"", Message{}},
	} {
		if got := Parse([]byte(tc.in)); got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	if got := Printable("ok\tthere\x7f\ufffd é"); got != "okthere é" {
		t.Errorf("Printable = %q", got)
	}
	if got := Printable(strings.Repeat("x", 500)); len(got) != 200 {
		t.Errorf("Printable of 500 runes has %d", len(got))
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"READY=1", "STATUS=x\nWATCHDOG=1", "WATCHDOG=trigger", "\n\n", "STATUS=\x00"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg := Parse(b)
		if msg.Ready && !strings.Contains("\n"+string(b)+"\n", "\nREADY=1\n") {
			t.Fatalf("Parse(%q) ready without a READY=1 line", b)
		}
		for _, r := range msg.Status {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("Parse(%q) status %q holds a control character", b, msg.Status)
			}
		}
	})
}
