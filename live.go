package main

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/internal/term"
	"github.com/daemonctl/daemonctl/process"
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
// SIGTERM 3.1s ago", updated by the observer it returns (nil when there is
// no line to show).
func stopProgress(w io.Writer, quiet bool) (*term.Line, func(controller.StopEvent)) {
	return restartProgress(w, quiet, nil)
}

// restartProgress is stopProgress followed, once the signalled processes
// are gone, by the readiness line of start (when start waits for one).
func restartProgress(w io.Writer, quiet bool, start *controller.StartSpec) (*term.Line, func(controller.StopEvent)) {
	var mu sync.Mutex
	var last *controller.StopEvent
	var startBegin time.Time
	line := term.NewLine(w, quiet, func(now time.Time) string {
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
