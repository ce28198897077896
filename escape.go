package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Text a daemon chooses (its command line, its STATUS= messages, its log
// quoted in an error) must not reach the operator's terminal as control
// sequences: a daemon's arguments could clear root's screen, set the
// window title, or print a forged row in the status table. What a
// terminal acts on is shown escaped instead, Go-style: C0 controls and
// DEL as \n, \t, \r or \xHH (\x1b for ESC), C1 controls (U+0080-U+009F,
// which some terminals take for ESC sequences) as \u0080-\u009f, and a
// byte that is not UTF-8 as \xHH. Backslashes are left alone, so "\x1b"
// may also be those four characters; --json tells them apart.

// printable returns s with every control character and every byte that is
// not UTF-8 escaped.
func printable(s string) string { return escapeControls(s, false) }

// printableText is printable for a message of several lines: newlines and
// tabs are kept.
func printableText(s string) string { return escapeControls(s, true) }

func escapeControls(s string, keepLines bool) string {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; (c < 0x20 || c >= 0x7f) && !(keepLines && (c == '\n' || c == '\t')) {
			break
		}
	}
	if i == len(s) {
		return s // plain ASCII: the common case, no copy
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// textWriter writes whole messages (one per Write, ending in a newline,
// as fmt.Fprintf gives them) through printable, keeping the final newline.
type textWriter struct{ w io.Writer }

func (t textWriter) Write(b []byte) (int, error) {
	msg, nl := bytes.CutSuffix(b, []byte("\n"))
	out := printable(string(msg))
	if nl {
		out += "\n"
	}
	if _, err := io.WriteString(t.w, out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// writeJSON writes v as JSON (indented when indent is set) with DEL and
// the C1 controls escaped as \u007f and \u0080-\u009f, which
// encoding/json leaves raw: the same JSON value, safe on a terminal.
// (encoding/json already escapes C0 controls, and replaces bytes that are
// not UTF-8 with U+FFFD.)
func writeJSON(w io.Writer, v any, indent bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := buf.Bytes()
	if bytes.IndexByte(out, 0x7f) >= 0 || bytes.IndexByte(out, 0xc2) >= 0 {
		var esc bytes.Buffer
		for i := 0; i < len(out); i++ {
			switch {
			case out[i] == 0x7f:
				esc.WriteString(`\u007f`)
			case out[i] == 0xc2 && i+1 < len(out) && out[i+1] >= 0x80 && out[i+1] <= 0x9f:
				// Outside strings JSON is ASCII: this is a C1 control in one.
				fmt.Fprintf(&esc, `\u%04x`, out[i+1])
				i++
			default:
				esc.WriteByte(out[i])
			}
		}
		out = esc.Bytes()
	}
	_, err := w.Write(out)
	return err
}
