package supervise

import (
	"time"
)

// ready marks the main process as ready (started, READY=1, or handed
// over to) and arms its watchdog.
func (s *Supervisor) ready() {
	c := s.main
	c.ready = true
	stopTimer(&s.readyT)
	s.snap.State = Running
	if s.cfg.Watchdog > 0 {
		s.watchdogT = time.NewTimer(s.cfg.Watchdog)
	}
	s.publishNow()
	if !s.firstDone {
		if s.cfg.Ready.Wait > 0 {
			s.waitT = time.NewTimer(s.cfg.Ready.Wait)
			return
		}
		s.firstStarted()
	}
}

// firstStarted ends the first start: Start returns.
func (s *Supervisor) firstStarted() {
	s.firstDone = true
	s.first <- nil
}

func (s *Supervisor) readyTimeout() time.Duration {
	if s.cfg.Ready.Timeout > 0 {
		return s.cfg.Ready.Timeout
	}
	return defaultTimeout
}

// notReady handles the end of the readiness wait: no READY=1, or a
// forking program that did not hand over.
func (s *Supervisor) notReady() {
	why := "no READY=1 within " + formatDuration(s.readyTimeout())
	if s.cfg.Forking {
		why = s.handWhy
		if why == "" {
			why = "its start-up did not exit within " + formatDuration(s.readyTimeout())
		}
	}
	if s.main == nil {
		// A handoff that never came: no process to end.
		s.handoff = false
		s.watch.clear()
		s.exited(nil, Exit{At: time.Now(), Cause: CauseNotReady, Err: why})
		return
	}
	if !s.firstDone {
		s.failStart(withKind(ErrFailedStart, "%s: pid %d: %s", s.cfg.Name, s.main.pid, why))
		return
	}
	s.main.cause, s.main.why = CauseNotReady, why
	s.logf("pid %d: %s; ending it (%s)", s.main.pid, why, s.schedule())
	s.startEscalation(s.schedule())
}
