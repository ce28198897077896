package controller

// notifyEvent is what woke a readiness wait.
type notifyEvent int

const (
	eventMessage notifyEvent = iota // datagrams are waiting
	eventExited                     // the daemon exited
	eventTimeout                    // the deadline passed
)

// notifyMsg is what one accepted datagram said.
type notifyMsg struct {
	ready  bool
	status string
}

// maxDatagram is the largest notify message read; larger ones are
// discarded whole (systemd uses the same limit, its NOTIFY_BUFFER_MAX is
// larger, but real messages are a few hundred bytes).
const maxDatagram = 4096

// parseNotify reads the newline-separated KEY=VALUE assignments of a
// notify datagram. Only the exact line READY=1 declares readiness.
func parseNotify(b []byte) notifyMsg {
	var msg notifyMsg
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != '\n' {
			continue
		}
		line := string(b[start:i])
		start = i + 1
		switch {
		case line == "READY=1":
			msg.ready = true
		case len(line) > 7 && line[:7] == "STATUS=":
			msg.status = printable(line[7:])
		}
	}
	return msg
}

// printable drops control characters, so a daemon's STATUS text cannot
// drive the operator's terminal, and bounds its length.
func printable(s string) string {
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
