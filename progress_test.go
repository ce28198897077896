package main

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/controller"
)

// TestStopStartText: the live line of a restart shows the stop's signals
// as the stop reports them, then, from the stop's end, the start's wait;
// a stop's line shows nothing new once the stop is over.
func TestStopStartText(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	spec := controller.StartSpec{PIDFile: "/run/web.pid", Notify: true}
	restart := &stopStart{start: &spec, begin: t0}
	stop := &stopStart{begin: t0}
	steps := []struct {
		event          *controller.StopEvent
		at             time.Duration
		restart, alone string
	}{
		{nil, 300 * time.Millisecond, "starting web: waiting for READY=1 (0.3s)", ""},
		{&controller.StopEvent{Name: "web", PIDs: []int{42}, Signal: unix.SIGTERM, At: t0.Add(time.Second)}, 3100 * time.Millisecond,
			"stopping web (pid 42): SIGTERM 2.1s ago", "stopping web (pid 42): SIGTERM 2.1s ago"},
		{&controller.StopEvent{Name: "web", PIDs: []int{43, 44}, Signal: unix.SIGKILL, At: t0.Add(4 * time.Second)}, 4500 * time.Millisecond,
			"stopping web (pids 43, 44): SIGKILL 0.5s ago", "stopping web (pids 43, 44): SIGKILL 0.5s ago"},
		{&controller.StopEvent{Name: "web", At: t0.Add(5 * time.Second), Done: true}, 7 * time.Second,
			"starting web: waiting for READY=1 (2.0s)", ""},
	}
	for _, s := range steps {
		if s.event != nil {
			restart.observe(*s.event)
			stop.observe(*s.event)
		}
		if got := restart.text(t0.Add(s.at)); got != s.restart {
			t.Errorf("restart at %v: %q, want %q", s.at, got, s.restart)
		}
		if got := stop.text(t0.Add(s.at)); got != s.alone {
			t.Errorf("stop at %v: %q, want %q", s.at, got, s.alone)
		}
	}
}
