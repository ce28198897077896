package supervise

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// reap collects every child that exited: the program's main process,
// whose exit drives what happens next, and whatever else the program left
// and this subreaper adopted.
func (s *Supervisor) reap() {
	for {
		pid, ws, ok := reapOne()
		if !ok {
			break
		}
		if s.main != nil && pid == s.main.pid {
			s.mainExited(ws)
		}
	}
	if s.handoff && !s.ended {
		s.tryHandoff()
	}
}

// reapOne collects one exited child, if any, without waiting.
func reapOne() (int, unix.WaitStatus, bool) {
	var ws unix.WaitStatus
	for {
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return pid, ws, err == nil && pid > 0
	}
}

// mainExited handles the main process's exit.
func (s *Supervisor) mainExited(ws unix.WaitStatus) {
	c := s.main
	s.main = nil
	s.mainPID.Store(0)
	c.proc.Close()
	exit := exitOf(ws, time.Now())
	exit.Cause, exit.Err = c.cause, c.why
	stopTimer(&s.watchdogT)
	s.stopEscalation()
	stopTimer(&s.readyT)
	stopTimer(&s.waitT)
	s.flush()
	if s.stopping {
		s.logf("pid %d %s", c.pid, exit)
		s.finishStop()
		return
	}
	if s.cfg.Forking && !exit.Failure() && (c.startup || s.cfg.ProgramPIDFile == "") {
		if s.beginHandoff(c) {
			return
		}
	}
	s.exited(c, exit)
}

// exited decides what follows the end of a program (or of an attempt to
// start one): the end of the first start, of the service, a respawn, or
// giving up.
func (s *Supervisor) exited(c *child, exit Exit) {
	s.snap.Last = exit
	s.snap.PID, s.snap.StartTicks, s.snap.Started = 0, 0, time.Time{}
	if !s.firstDone {
		s.failStart(withKind(ErrFailedStart, "%s: %s", s.cfg.Name, describe(c, exit)))
		return
	}
	if !exit.Failure() && s.cfg.Respawn.When == OnFailure {
		s.logf("%s; on-failure: the service ends", describe(c, exit))
		s.end(Finished, Exited)
		return
	}
	now := time.Now()
	limit := s.cfg.Respawn.Limit
	stable := limit.Period
	if limit.Unlimited() {
		stable = defaultStable
	}
	if c != nil && (now.Sub(c.started) >= stable || c.ready && s.cfg.Ready.Notify) {
		s.delay = s.cfg.Respawn.Delay
	}
	for len(s.recent) > 0 && now.Sub(s.recent[0]) >= limit.Period {
		s.recent = s.recent[1:]
	}
	if !limit.Unlimited() && len(s.recent) >= limit.Count {
		s.snap.State = Failed
		s.logf("%s; %s", describe(c, exit), s.snap.Why())
		s.end(GaveUp, Failed)
		return
	}
	delay := s.delay
	if exit.Cause == CauseSpawn {
		// A program that cannot be executed is retried no faster than once
		// a second, whatever the delay.
		delay = max(delay, time.Second)
	}
	s.delay = min(2*s.delay, max(s.cfg.Respawn.DelayMax, s.cfg.Respawn.Delay))
	s.snap.State, s.snap.Next = Backoff, now.Add(delay)
	s.logf("%s; respawning in %s (respawn %d)", describe(c, exit), formatDuration(delay), s.snap.Respawns+1)
	s.publishNow()
	if delay == 0 {
		s.respawn()
		return
	}
	s.respawnT = time.NewTimer(delay)
}

// describe says how a program ended, for the log: "pid 42 exited with
// status 1 after 1.2s".
func describe(c *child, exit Exit) string {
	if c == nil || c.pid == 0 {
		return exit.String()
	}
	return fmt.Sprintf("pid %d %s after %s", c.pid, exit, exit.At.Sub(c.started).Round(time.Millisecond))
}

// respawn starts the program again.
func (s *Supervisor) respawn() {
	now := time.Now()
	s.snap.Respawns++
	s.snap.Next = time.Time{}
	s.recent = append(s.recent, now)
	if err := s.spawn(); err != nil {
		s.exited(&child{started: now}, Exit{At: now, Cause: CauseSpawn, Err: err.Error()})
	}
}
