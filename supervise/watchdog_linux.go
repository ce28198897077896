package supervise

import (
	"fmt"
	"iter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/internal/sdnotify"
	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// schedule is the stop schedule for the program.
func (s *Supervisor) schedule() signals.Schedule {
	if len(s.cfg.StopSchedule.Steps) == 0 {
		return signals.DefaultSchedule()
	}
	return s.cfg.StopSchedule
}

// watchdogExpired ends a program that stopped pinging: SIGABRT, then the
// rest of the stop schedule, then (on its exit) a respawn.
func (s *Supervisor) watchdogExpired(why string) {
	if s.main == nil || s.main.cause != CauseNone {
		return
	}
	s.snap.WatchdogMisses++
	s.main.cause, s.main.why = CauseWatchdog, why
	sched := s.schedule().WithFirst(unix.SIGABRT)
	s.logf("pid %d: %s; ending it (%s)", s.main.pid, why, sched)
	s.publishNow()
	s.startEscalation(sched)
}

// startEscalation walks sched on the main process, one step per timer.
func (s *Supervisor) startEscalation(sched signals.Schedule) {
	stopTimer(&s.watchdogT)
	stopTimer(&s.readyT)
	s.stopEscalation()
	s.nextStep, s.endSteps = iter.Pull(sched.Walk())
	s.escalate()
}

// escalate takes the schedule's next step: its signal now, the step after
// it once its wait is over. At the schedule's end the program is left to
// exit.
func (s *Supervisor) escalate() {
	if s.main == nil || s.nextStep == nil {
		return
	}
	step, ok := s.nextStep()
	if !ok {
		s.stopEscalation()
		return
	}
	if step.Signal != 0 {
		_ = s.main.proc.Signal(step.Signal)
	}
	s.escalateT = time.NewTimer(step.Wait)
}

// stopEscalation ends a walk of the stop schedule.
func (s *Supervisor) stopEscalation() {
	stopTimer(&s.escalateT)
	if s.endSteps != nil {
		s.endSteps()
		s.nextStep, s.endSteps = nil, nil
	}
}

// notified handles the messages of the service's processes.
func (s *Supervisor) notified(msgs []sdnotify.Message) {
	changed := false
	for _, m := range msgs {
		if m.Status != "" && m.Status != s.snap.Status {
			s.snap.Status, changed = m.Status, true
			if !s.firstDone && s.cfg.Progress != nil {
				fmt.Fprintln(s.cfg.Progress, m.Status)
			}
		}
		if s.main == nil || s.stopping {
			continue
		}
		switch {
		case m.Ready && !s.main.ready && s.cfg.Ready.Notify:
			s.ready()
		case m.WatchdogTrigger:
			s.watchdogExpired("it sent WATCHDOG=trigger")
		case m.Watchdog && s.watchdogT != nil:
			s.watchdogT.Reset(s.cfg.Watchdog)
		}
	}
	if changed {
		s.publishSoon()
	}
}

// listen receives the notify socket's messages for the supervisor's
// whole life, parked in the poller between datagrams.
func (s *Supervisor) listen() {
	for {
		msgs, err := s.sock.Next(s.accept)
		if err != nil {
			return
		}
		s.notes <- msgs
	}
}

// accept reports whether a notify datagram comes from the service: a
// descendant of this supervisor (the program, what it forked, what this
// subreaper adopted: the supervisor has no other children), or a holder
// of the service's lock, which this supervisor took.
func (s *Supervisor) accept(sender int) bool {
	for p, hops := sender, 0; p > 1 && hops < 64; hops++ {
		info, err := process.Get(p)
		if err != nil {
			break
		}
		if info.PPID == s.self {
			return true
		}
		p = info.PPID
	}
	taker, _ := process.LockTaker(sender, s.lockID)
	return taker == s.self
}
