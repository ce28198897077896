package supervise

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// pump copies one stream of the program's output from a pipe into a log
// file. The supervisor creates the pipe once and keeps its write end for
// its whole life, handing it to every program it starts, so the pump is
// one goroutine parked in Go's poller (no thread, no timer) and the
// output of a program's lingering children keeps flowing too.
type pump struct {
	r    *os.File // read end, non-blocking, in the poller
	w    *os.File // write end, blocking, for the programs
	log  *logFile
	buf  []byte
	ack  chan struct{}
	done chan struct{} // closed when the pump stops (its pipe failed)
}

// pumpBuffer is what one read takes from the pipe (the pipe itself holds
// 64 KiB): small, as it is resident for the supervisor's life, and large
// enough for 250 MB/s.
const pumpBuffer = 16 << 10

// newPump creates the pipe and starts copying it into log.
func newPump(log *logFile) (*pump, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// Fd makes the write end blocking, as a program expects its stdout.
	w.Fd()
	p := &pump{r: r, w: w, log: log, buf: make([]byte, pumpBuffer), ack: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p, nil
}

func (p *pump) run() {
	defer close(p.done)
	for {
		n, err := p.r.Read(p.buf)
		if n > 0 {
			_, _ = p.log.Write(p.buf[:n])
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			p.drain()
			p.ack <- struct{}{}
		case err != nil:
			return // the supervisor holds the write end: never EOF
		}
	}
}

// drain copies what the pipe holds now, without waiting for more.
func (p *pump) drain() {
	_ = p.r.SetReadDeadline(time.Time{})
	rc, err := p.r.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		for {
			n, err := unix.Read(int(fd), p.buf)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if n <= 0 {
				return true // EAGAIN: empty
			}
			_, _ = p.log.Write(p.buf[:n])
		}
	})
}

// flush returns once everything written to the pipe before the call is in
// the log file: the last lines of a program that just died come before
// the supervisor's line about its death. A deadline in the past wakes the
// pump's pending read (or fails its next one at once); it then drains the
// pipe and acknowledges. Only one goroutine may flush at a time.
func (p *pump) flush() {
	_ = p.r.SetReadDeadline(time.Unix(1, 0))
	select {
	case <-p.ack:
	case <-p.done:
	}
}

// fd is the write end's descriptor, for the program's stdout or stderr.
func (p *pump) fd() int { return int(p.w.Fd()) }
