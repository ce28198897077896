package supervise

import "strconv"

// Ending is how a supervisor ended.
type Ending int

const (
	// Stopped: a stop signal (TERM, INT, QUIT) reached the supervisor and
	// the program is gone. The pidfile was removed, unless processes the
	// program left still hold the service's lock (then it stays, and
	// reads as orphaned until daemonctl stop finishes them).
	Stopped Ending = iota + 1
	// Finished: the program exited with status 0 under OnFailure. The
	// pidfile stays, with the state Exited as the supervisor's last word.
	Finished
	// GaveUp: more than Limit respawns within its period. The pidfile
	// stays, with the state Failed and why as the last word.
	GaveUp
)

func (e Ending) String() string {
	switch e {
	case Stopped:
		return "stopped"
	case Finished:
		return "finished"
	case GaveUp:
		return "gave up"
	}
	return "ending(" + strconv.Itoa(int(e)) + ")"
}
