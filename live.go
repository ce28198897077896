package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// terminalOf returns w's width in columns when w is a terminal.
func terminalOf(w io.Writer) (width int, ok bool) {
	f, isFile := w.(interface{ Fd() uintptr })
	if !isFile {
		return 0, false
	}
	return terminalWidth(int(f.Fd()))
}

// colourOn reports whether output to w may be coloured: a terminal, and
// neither NO_COLOR (https://no-color.org) nor TERM=dumb.
func colourOn(w io.Writer) bool {
	if _, tty := terminalOf(w); !tty {
		return false
	}
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// liveDelay is how long an operation runs before its live line appears:
// a quick stop or start shows none, so nothing flickers.
const liveDelay = 250 * time.Millisecond

// liveLine is one status line redrawn in place on a terminal while an
// operation waits ("stopping web (pid 4242): SIGTERM 3.1s ago"), and
// erased when it ends, so the final message takes its place. On anything
// but a terminal it is nil, and its methods do nothing.
type liveLine struct {
	w     io.Writer
	width int
	text  func(now time.Time) string

	mu    sync.Mutex
	shown bool
	done  chan struct{}
	ended chan struct{}
}

// newLiveLine starts redrawing text(now) on w, a terminal, every tenth of
// a second after liveDelay; text may return "" for nothing to show yet.
// It returns nil when w is not a terminal or quiet is set.
func newLiveLine(w io.Writer, quiet bool, text func(now time.Time) string) *liveLine {
	width, tty := terminalOf(w)
	if !tty || quiet || os.Getenv("TERM") == "dumb" {
		return nil
	}
	l := &liveLine{w: w, width: width, text: text, done: make(chan struct{}), ended: make(chan struct{})}
	go l.run()
	return l
}

func (l *liveLine) run() {
	defer close(l.ended)
	timer := time.NewTimer(liveDelay)
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

func (l *liveLine) draw(now time.Time) {
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
func (l *liveLine) clear() {
	if l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
}

// Write prints b (a whole message, like a daemon's STATUS= line) above the
// live line: it erases the line, writes, and lets the next tick redraw it.
func (l *liveLine) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	return l.w.Write(b)
}

// End stops redrawing and erases the line. It may be called on nil.
func (l *liveLine) End() {
	if l == nil {
		return
	}
	close(l.done)
	<-l.ended
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}

// progressWriter is where messages printed during the operation go: above
// the live line, or straight to w when there is none. They carry a
// daemon's text (STATUS= lines), so control characters are escaped.
func (l *liveLine) progressWriter(w io.Writer) io.Writer {
	if l == nil {
		return textWriter{w}
	}
	return textWriter{l}
}

// stopProgress is the live line of a stop: "stopping web (pid 4242):
// SIGTERM 3.1s ago", updated by the observer it returns (nil when there is
// no line to show).
func stopProgress(w io.Writer, quiet bool) (*liveLine, func(controller.StopEvent)) {
	return restartProgress(w, quiet, nil)
}

// restartProgress is stopProgress followed, once the signalled processes
// are gone, by the readiness line of start (when start waits for one).
func restartProgress(w io.Writer, quiet bool, start *controller.StartSpec) (*liveLine, func(controller.StopEvent)) {
	var mu sync.Mutex
	var last *controller.StopEvent
	var startBegin time.Time
	line := newLiveLine(w, quiet, func(now time.Time) string {
		mu.Lock()
		defer mu.Unlock()
		if last != nil && startBegin.IsZero() {
			if slices.ContainsFunc(last.PIDs, process.Alive) || start == nil {
				return fmt.Sprintf("stopping %s (%s): SIG%s %.1fs ago", last.Name, pidsText(last.PIDs), signals.Name(last.Signal), now.Sub(last.Sent).Seconds())
			}
			startBegin = now
		}
		if start == nil {
			return ""
		}
		if startBegin.IsZero() {
			startBegin = now
		}
		return startText(*start, now.Sub(startBegin))
	})
	if line == nil {
		return nil, nil
	}
	return line, func(ev controller.StopEvent) {
		mu.Lock()
		defer mu.Unlock()
		last = &ev
	}
}

// startProgress is the live line of a start that waits for readiness:
// "starting web: waiting for READY=1 (2.1s)".
func startProgress(w io.Writer, quiet bool, spec controller.StartSpec) *liveLine {
	if spec.Wait <= 0 && !spec.Notify {
		return nil
	}
	begin := time.Now()
	return newLiveLine(w, quiet, func(now time.Time) string { return startText(spec, now.Sub(begin)) })
}

// startText describes a readiness wait, or is "" when start does not wait.
func startText(spec controller.StartSpec, waited time.Duration) string {
	name := controller.ServiceName(spec.Name, spec.PIDFile)
	switch {
	case spec.Notify:
		return fmt.Sprintf("starting %s: waiting for READY=1 (%.1fs)", name, waited.Seconds())
	case spec.Wait > 0:
		return fmt.Sprintf("starting %s: checking it stays up for %v (%.1fs)", name, spec.Wait, waited.Seconds())
	}
	return ""
}

func pidsText(pids []int) string {
	if len(pids) == 1 {
		return fmt.Sprintf("pid %d", pids[0])
	}
	s := "pids "
	for i, p := range pids {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(p)
	}
	return s
}
