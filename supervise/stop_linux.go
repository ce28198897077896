package supervise

import (
	"os/signal"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
	"github.com/daemonctl/daemonctl/signals"
)

// forward passes a signal on to the program.
func (s *Supervisor) forward(sig unix.Signal) {
	if s.main == nil {
		s.logf("SIG%s received with no program running: dropped", signals.Name(sig))
		return
	}
	_ = s.main.proc.Signal(sig)
}

// stop handles SIGTERM, SIGINT and SIGQUIT: forward, never respawn, end
// once the program is gone.
func (s *Supervisor) stop(sig unix.Signal) {
	first := !s.stopping
	s.stopping, s.stopSig = true, sig
	stopTimer(&s.respawnT)
	stopTimer(&s.readyT)
	stopTimer(&s.waitT)
	stopTimer(&s.watchdogT)
	if s.main == nil {
		if first {
			s.logf("SIG%s: stopping (no program running)", signals.Name(sig))
		}
		s.finishStop()
		return
	}
	_ = s.main.proc.Signal(sig)
	if first {
		s.logf("SIG%s: stopping; forwarded to pid %d", signals.Name(sig), s.main.pid)
		s.snap.State = Stopping
		s.publishNow()
	}
}

// finishStop ends a stop once the program is gone.
func (s *Supervisor) finishStop() {
	s.flush()
	if !s.firstDone {
		s.failStart(withKind(ErrFailedStart, "%s: stopped by SIG%s during the start", s.cfg.Name, signals.Name(s.stopSig)))
		return
	}
	s.finish()
	if left := s.children(); len(left) > 0 {
		// The program's leftovers hold the service's lock: the pidfile
		// stays, so they read as orphaned and stop can finish them.
		s.logf("stopped; the program left %s, which still hold the lock", pidList(left))
		_ = s.pf.Close()
	} else {
		_ = s.pf.Release()
	}
	s.ending, s.ended = Stopped, true
	close(s.done)
}

// end ends the supervision with a last word on the pidfile, which stays.
func (s *Supervisor) end(e Ending, st State) {
	s.snap.State = st
	s.snap.PID, s.snap.Next = 0, time.Time{}
	s.publishNow()
	s.finish()
	_ = s.pf.Close()
	s.ending, s.ended = e, true
	close(s.done)
}

// failStart ends a first start that failed, leaving nothing behind.
func (s *Supervisor) failStart(err error) {
	s.stopAll(s.schedule())
	s.flush()
	s.finish()
	_ = s.pf.Release()
	s.ending, s.ended = GaveUp, true
	s.firstDone = true
	s.first <- err
	close(s.done)
}

// finish closes what the supervisor holds besides the pidfile.
func (s *Supervisor) finish() {
	signal.Stop(s.chld)
	signal.Stop(s.stops)
	signal.Stop(s.others)
	if s.sock != nil {
		s.sock.Close()
	}
	s.watch.close()
	s.closePublisher()
	for _, l := range s.logs {
		l.Close()
	}
}

func (s *Supervisor) closePublisher() {
	if s.pub != nil {
		s.pub.Close()
		s.pub = nil
	}
}

// stopAll ends every child of the supervisor (the program and whatever it
// left) with sched, and reaps them. It blocks: only the end of a failed
// first start uses it.
func (s *Supervisor) stopAll(sched signals.Schedule) {
	for step := range sched.Walk() {
		var procs []*signals.Process
		for _, pid := range s.children() {
			// Our children, not reaped: their PIDs cannot be reused.
			if p, err := signals.Open(pid); err == nil {
				if step.Signal != 0 {
					_ = p.Signal(step.Signal)
				}
				procs = append(procs, p)
			}
		}
		if len(procs) == 0 {
			break
		}
		deadline := time.Now().Add(step.Wait)
		for len(procs) > 0 {
			exited, err := signals.WaitAny(procs, time.Until(deadline))
			if err != nil || len(exited) == 0 {
				break
			}
			for _, e := range exited {
				e.Close()
				procs = slices.DeleteFunc(procs, func(p *signals.Process) bool { return p == e })
			}
		}
		for _, p := range procs {
			p.Close()
		}
		s.reapQuietly()
	}
	s.reapQuietly()
	if s.main != nil {
		s.main.proc.Close()
		s.main = nil
		s.mainPID.Store(0)
	}
}

// reapQuietly collects every exited child without acting on it.
func (s *Supervisor) reapQuietly() {
	for {
		if _, _, ok := reapOne(); !ok {
			return
		}
	}
}

// children lists the supervisor's live children (zombies and exiting
// processes left out).
func (s *Supervisor) children() []int {
	all, _ := process.Children(s.self)
	var live []int
	for _, pid := range all {
		if _, err := process.Get(pid); err == nil {
			live = append(live, pid)
		}
	}
	return live
}
