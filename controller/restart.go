package controller

import (
	"io"
	"os"
)

// Restart stops the daemon (if it runs) with stop, whose PIDFile and Name
// are spec's, and starts it again with spec: Stop's outcomes, then
// Start's. stop.Observe is told how the stop goes (its last event, Done,
// is where the start begins); progress receives the start's STATUS=
// messages, as Start's does.
func Restart(stop StopSpec, spec StartSpec, progress io.Writer) (Started, error) {
	ls, err := spec.resolve()
	if err != nil {
		return Started{Name: spec.Name}, err
	}
	stop.PIDFile, stop.Name = spec.PIDFile, spec.Name
	if _, err := Stop(stop); err != nil {
		return Started{Name: spec.Name}, err
	}
	return start(spec, ls, []string{os.Args[0]}, progress)
}
