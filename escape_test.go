package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/daemonctl/daemonctl/controller"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/web --port 8080":       "/usr/bin/web --port 8080",
		"naïve ✓ 日本":                     "naïve ✓ 日本",
		"\x1b[2J\x1b[H":                  `\x1b[2J\x1b[H`,
		"\x1b]0;pwned\x07":               `\x1b]0;pwned\x07`,
		"a\nb\tc\rd":                     `a\nb\tc\rd`,
		"\x00\x7f":                       `\x00\x7f`,
		"\u009b31m\u0085":                `\u009b31m\u0085`,
		"\xff\xfe ok \xc2":               `\xff\xfe ok \xc2`,
		"\xc2\x9b":                       `\u009b`,
		`C:\path\x1b`:                    `C:\path\x1b`,
		"\u00a0\u200b":                   "\u00a0\u200b", // printable enough: no terminal acts on them
		"\xe2\x80":                       `\xe2\x80`,     // a cut sequence
		"end\n":                          `end\n`,
		strings.Repeat("\x1b", 3) + "ok": `\x1b\x1b\x1bok`,
	} {
		got := printable(in)
		if got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
		for _, r := range got {
			if r < 0x20 || r >= 0x7f && r <= 0x9f {
				t.Errorf("printable(%q) left %U", in, r)
			}
		}
		if !utf8.ValidString(got) {
			t.Errorf("printable(%q) = %q is not UTF-8", in, got)
		}
	}
	if got := printableText("line 1\n\tline 2\x1b[31m\n"); got != "line 1\n\tline 2\\x1b[31m\n" {
		t.Errorf("printableText kept %q", got)
	}
}

// FuzzPrintable: whatever the bytes, the result holds no control
// character, is UTF-8, and keeps every printable character in order.
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\xff\u009b\x7f", "日本\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := printable(s)
		if !utf8.ValidString(got) {
			t.Fatalf("printable(%q) = %q is not UTF-8", s, got)
		}
		for _, r := range got {
			if r < 0x20 || r >= 0x7f && r <= 0x9f {
				t.Fatalf("printable(%q) = %q holds %U", s, got, r)
			}
		}
		var kept []rune
		for _, r := range s {
			if r >= 0x20 && r != 0x7f && (r < 0x80 || r > 0x9f) && r != utf8.RuneError {
				kept = append(kept, r)
			}
		}
		rest := got
		for _, r := range kept {
			i := strings.IndexRune(rest, r)
			if i < 0 {
				t.Fatalf("printable(%q) = %q lost %q", s, got, r)
			}
			rest = rest[i+utf8.RuneLen(r):]
		}
	})
}

// TestWriteJSONEscapesC1: DEL and C1 controls, which encoding/json leaves
// raw, are escaped; the JSON value is the same.
func TestWriteJSONEscapesC1(t *testing.T) {
	r := controller.Report{Name: "web", Command: []string{"/bin/web", "\u009b2J\x7f", "\x1b]0;x\x07", "naïve"}}
	var b strings.Builder
	if err := writeJSON(&b, r, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07\x7f\u009b") {
		t.Fatalf("raw controls in %q", out)
	}
	if !strings.Contains(out, `"\u009b2J\u007f"`) || !strings.Contains(out, "naïve") {
		t.Fatalf("JSON %s", out)
	}
	var back controller.Report
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	if strings.Join(back.Command, "|") != strings.Join(r.Command, "|") {
		t.Fatalf("decoded %q, want %q", back.Command, r.Command)
	}
}

// TestTextWriter: one message per write, its newline kept, the rest
// escaped.
func TestTextWriter(t *testing.T) {
	var b strings.Builder
	w := textWriter{&b}
	msg := "web: loading\x1b[2J\nforged\n"
	if n, err := w.Write([]byte(msg)); n != len(msg) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b.String() != `web: loading\x1b[2J\nforged`+"\n" {
		t.Fatalf("wrote %q", b.String())
	}
}
