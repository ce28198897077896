package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/internal/term"
	"github.com/daemonctl/daemonctl/signals"
)

// progressWriter is where messages printed during the operation go: above
// the live line, or straight to w when there is none. They carry a
// daemon's text (STATUS= lines), so control characters are escaped.
func progressWriter(l *term.Line, w io.Writer) io.Writer {
	if l == nil {
		return textWriter{w}
	}
	return textWriter{l}
}

// stopProgress is the live line of a stop: "stopping web (pid 4242):
// SIGTERM 3.1s ago", drawn from the events the stop reports to the
// observer it returns (nil, nil when there is no line to show).
func stopProgress(w io.Writer, quiet bool) (*term.Line, func(controller.StopEvent)) {
	return restartProgress(w, quiet, nil)
}

// restartProgress is stopProgress followed, once the stop reports its end
// (or at once, when nothing was running), by the readiness line of start
// (when start waits for one).
func restartProgress(w io.Writer, quiet bool, start *controller.StartSpec) (*term.Line, func(controller.StopEvent)) {
	p := &stopStart{start: start, begin: time.Now()}
	line := term.NewLine(w, quiet, p.text)
	if line == nil {
		return nil, nil
	}
	return line, p.observe
}

// stopStart is what the live line of a stop, or of a restart, shows: only
// what the stop told it (observe), then the start's wait.
type stopStart struct {
	start *controller.StartSpec // nil: a stop alone
	begin time.Time

	mu   sync.Mutex
	last controller.StopEvent // the latest; zero before the first
}

func (p *stopStart) observe(ev controller.StopEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = ev
}

// text is the line at now; "" for nothing (new) to show.
func (p *stopStart) text(now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch last := p.last; {
	case last.Signal != 0:
		return fmt.Sprintf("stopping %s (%s): SIG%s %.1fs ago", last.Name, last.Processes(), signals.Name(last.Signal), now.Sub(last.At).Seconds())
	case p.start == nil:
		return ""
	case last.Done:
		return startText(*p.start, now.Sub(last.At))
	}
	return startText(*p.start, now.Sub(p.begin))
}

// startProgress is the live line of a start that waits for readiness:
// "starting web: waiting for READY=1 (2.1s)".
func startProgress(w io.Writer, quiet bool, spec controller.StartSpec) *term.Line {
	if spec.Wait <= 0 && !spec.Notify {
		return nil
	}
	begin := time.Now()
	return term.NewLine(w, quiet, func(now time.Time) string { return startText(spec, now.Sub(begin)) })
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
