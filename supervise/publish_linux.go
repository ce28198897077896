package supervise

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// flush writes everything the program wrote so far into the logs, an
// unfinished last line included.
func (s *Supervisor) flush() {
	if s.out != nil {
		s.out.flush()
	}
	if s.err != nil && s.err != s.out {
		s.err.flush()
	}
	for _, l := range s.logs {
		l.Sync()
	}
}

// logf writes the supervisor's line to the stderr log, if there is one,
// after what the program wrote before it.
func (s *Supervisor) logf(format string, args ...any) {
	if s.err == nil {
		return
	}
	s.flush()
	line := fmt.Sprintf("%s daemonctl[%d]: %s: %s", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), s.self, s.cfg.Name, fmt.Sprintf(format, args...))
	s.err.log.line(line)
}

// publishSoon publishes a change of counters or status text at most once
// a second, so a flood of log failures is not a flood of setxattr.
func (s *Supervisor) publishSoon() {
	if wait := time.Second - time.Since(s.published); wait > 0 {
		if s.publishT == nil {
			s.publishT = time.NewTimer(wait)
		}
		return
	}
	s.publishNow()
}

// publishNow publishes the state now (a state change is never delayed).
func (s *Supervisor) publishNow() {
	_ = s.publish()
}

func (s *Supervisor) publish() error {
	stopTimer(&s.publishT)
	if s.pub == nil {
		pub, err := s.pf.Publisher()
		if err != nil {
			return err
		}
		s.pub = pub
	}
	snap := s.snap
	snap.LogFailures, snap.LogLost, snap.LogError = 0, 0, ""
	for _, l := range s.logs {
		n, lost, last := l.stats()
		snap.LogFailures += n
		snap.LogLost += lost
		if last != "" {
			snap.LogError = last
		}
	}
	s.published = time.Now()
	defer s.collect()
	body := snap.encode()
	if len(body) > 2048 {
		// Absurdly long paths or texts: drop what readers can do without.
		snap.Stdout, snap.Stderr, snap.LogError, snap.Status = "", "", "", ""
		body = snap.encode()
	}
	return s.pub.Publish(body)
}

// tuneRuntime makes the Go runtime fit a process that mostly sleeps:
// one P (an event loop needs no parallelism, and every P and the threads
// it brings cost resident memory), and no garbage collection but the
// supervisor's own (collect): the runtime would otherwise force one every
// 2 minutes, waking an idle supervisor. The memory limit is only a net.
//
// Start the stage with GOMAXPROCS=1 in its environment: set here, at run
// time, one P costs about 450 KiB more than from the start (measured:
// 1.3 MiB against 0.85 MiB of private memory), as the second P and what it
// allocated stay.
func tuneRuntime() {
	if runtime.GOMAXPROCS(0) != 1 {
		runtime.GOMAXPROCS(1)
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(64 << 20)
}

// collectEvery is how much the supervisor allocates between two
// collections: a respawn allocates a few KiB (the argument vector and
// environment for exec), a published state one.
const collectEvery = 1 << 20

// collect runs a garbage collection, and returns the memory to the
// system, once collectEvery bytes have been allocated since the last:
// called when something happened (a state was published), never on a
// timer, so the heap stays within about a MiB of what is live.
func (s *Supervisor) collect() {
	metrics.Read(s.allocs[:])
	if total := s.allocs[0].Value.Uint64(); total-s.collected >= collectEvery {
		debug.FreeOSMemory()
		s.collected = total
	}
}
