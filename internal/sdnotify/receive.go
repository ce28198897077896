package sdnotify

// Message is what one accepted datagram said. Lines other than those below
// are ignored.
type Message struct {
	// Ready is set by the exact line READY=1.
	Ready bool
	// Watchdog is set by the exact line WATCHDOG=1: the daemon is alive.
	Watchdog bool
	// WatchdogTrigger is set by WATCHDOG=trigger: the daemon asks to be
	// treated as if its watchdog had expired.
	WatchdogTrigger bool
	// Status is the text of the last STATUS= line, made printable.
	Status string
}

// MaxDatagram is the largest message read; larger ones are discarded
// whole (systemd's NOTIFY_BUFFER_MAX is larger, but real messages are a
// few hundred bytes).
const MaxDatagram = 4096

// Parse reads the newline-separated KEY=VALUE assignments of a datagram.
// Only exact lines count: READY=10 or " READY=1" declare nothing.
func Parse(b []byte) Message {
	var msg Message
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != '\n' {
			continue
		}
		line := string(b[start:i])
		start = i + 1
		switch {
		case line == "READY=1":
			msg.Ready = true
		case line == "WATCHDOG=1":
			msg.Watchdog = true
		case line == "WATCHDOG=trigger":
			msg.WatchdogTrigger = true
		case len(line) > 7 && line[:7] == "STATUS=":
			msg.Status = Printable(line[7:])
		}
	}
	return msg
}

// Printable drops control characters, so a daemon's STATUS text cannot
// drive the operator's terminal, and bounds the text to 200 runes.
func Printable(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 0x20 && r != 0x7f && r != 0xfffd {
			out = append(out, r)
		}
		if len(out) == 200 {
			break
		}
	}
	return string(out)
}
