package controller

import (
	"strings"
	"testing"
)

func TestParseNotify(t *testing.T) {
	for _, c := range []struct {
		datagram string
		want     notifyMsg
	}{
		{"READY=1", notifyMsg{ready: true}},
		{"READY=1\n", notifyMsg{ready: true}},
		{"STATUS=loading\nREADY=1", notifyMsg{ready: true, status: "loading"}},
		{"READY=1\nSTATUS=up", notifyMsg{ready: true, status: "up"}},
		{"STATUS=one\nSTATUS=two", notifyMsg{status: "two"}},
		{"MAINPID=42\nSTATUS=x\nWATCHDOG=1", notifyMsg{status: "x"}},
		{"STATUS=", notifyMsg{}},
		{"", notifyMsg{}},
		{"\n\n", notifyMsg{}},
		// Only the exact line READY=1 declares readiness.
		{"READY=0", notifyMsg{}},
		{"READY=10", notifyMsg{}},
		{" READY=1", notifyMsg{}},
		{"READY=1 ", notifyMsg{}},
		{"ready=1", notifyMsg{}},
		{"XREADY=1", notifyMsg{}},
		{"STATUS=READY=1", notifyMsg{status: "READY=1"}},
		// A daemon's status reaches the terminal without its controls.
		{"STATUS=a\x1b[2Jb\rc\x7fd", notifyMsg{status: "a[2Jbcd"}},
		{"STATUS=bad \xff byte", notifyMsg{status: "bad  byte"}},
	} {
		if got := parseNotify([]byte(c.datagram)); got != c.want {
			t.Errorf("parseNotify(%q) = %+v, want %+v", c.datagram, got, c.want)
		}
	}
}

func TestPrintable(t *testing.T) {
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
		if got := printable(c.in); got != c.want {
			t.Errorf("printable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
