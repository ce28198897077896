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
		// The cases the controller's own parser was tested with, before it
		// gave way to this one.
		{"READY=1\nSTATUS=up", Message{Ready: true, Status: "up"}},
		{"MAINPID=42\nSTATUS=x\nWATCHDOG=1", Message{Status: "x", Watchdog: true}},
		{"\n\n", Message{}},
		{"ready=1", Message{}},
		{"XREADY=1", Message{}},
		{"STATUS=READY=1", Message{Status: "READY=1"}},
		{"STATUS=a\x1b[2Jb\rc\x7fd", Message{Status: "a[2Jbcd"}},
		{"STATUS=bad \xff byte", Message{Status: "bad  byte"}},
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
	long := strings.Repeat("é", 300)
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"tab\there", "tabhere"},
		{"\x1b]0;title\x07", "]0;title"},
		{"del\x7f", "del"},
		{"c1 \u009b stays", "c1 \u009b stays"}, // the CLI escapes it (escape.go)
		{"\xff\xfe", ""},
		{"日本語", "日本語"},
		{long, strings.Repeat("é", 200)},
	} {
		if got := Printable(c.in); got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
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
