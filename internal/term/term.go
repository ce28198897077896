// Package term is what daemonctl's command line knows of terminals:
// whether output goes to one and how wide it is, whether it may be
// coloured, and a status line redrawn in place while an operation waits.
// golang.org/x/term answers the terminal questions (the ioctls differ by
// platform).
package term

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Width returns w's width in columns (0 when unknown) and whether w is a
// terminal.
func Width(w io.Writer) (columns int, isTerminal bool) {
	f, isFile := w.(interface{ Fd() uintptr })
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	columns, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0, true
	}
	return columns, true
}

// Colour reports whether output to w may be coloured: a terminal, and
// neither NO_COLOR (https://no-color.org) nor TERM=dumb.
func Colour(w io.Writer) bool {
	if _, tty := Width(w); !tty {
		return false
	}
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// lineDelay is how long an operation runs before its live line appears:
// a quick stop or start shows none, so nothing flickers.
const lineDelay = 250 * time.Millisecond

// Line is one status line redrawn in place on a terminal while an
// operation waits ("stopping web (pid 4242): SIGTERM 3.1s ago"), and
// erased when it ends, so the final message takes its place. On anything
// but a terminal it is nil, and its methods do nothing.
type Line struct {
	w     io.Writer
	width int
	text  func(now time.Time) string

	mu    sync.Mutex
	shown bool
	done  chan struct{}
	ended chan struct{}
}

// NewLine starts redrawing text(now) on w, a terminal, every tenth of a
// second after a quarter of a second; text may return "" for nothing new
// to show. It returns nil when w is not a terminal, TERM is dumb, or
// quiet is set.
func NewLine(w io.Writer, quiet bool, text func(now time.Time) string) *Line {
	width, tty := Width(w)
	if !tty || quiet || os.Getenv("TERM") == "dumb" {
		return nil
	}
	l := &Line{w: w, width: width, text: text, done: make(chan struct{}), ended: make(chan struct{})}
	go l.run()
	return l
}

func (l *Line) run() {
	defer close(l.ended)
	timer := time.NewTimer(lineDelay)
	defer timer.Stop()
	for {
		select {
		case <-l.done:
			return
		case now := <-timer.C:
			l.draw(now)
			timer.Reset(100 * time.Millisecond)
		}
	}
}

func (l *Line) draw(now time.Time) {
	s := l.text(now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == "" {
		return
	}
	if l.width > 1 && len(s) >= l.width {
		s = s[:l.width-1] // a wrapped line could not be redrawn in place
	}
	fmt.Fprint(l.w, "\r\x1b[K"+s)
	l.shown = true
}

// clear erases the line if it is shown; l.mu is held.
func (l *Line) clear() {
	if l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
}

// Write prints b (a whole message, like a daemon's STATUS= line) above the
// line: it erases the line, writes, and lets the next tick redraw it.
func (l *Line) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	return l.w.Write(b)
}

// End stops redrawing and erases the line. It may be called on nil.
func (l *Line) End() {
	if l == nil {
		return
	}
	close(l.done)
	<-l.ended
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}
