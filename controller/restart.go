package controller

import (
	"io"
	"os"
)

// Restart stops the daemon (if it runs) and starts it again with spec.
func Restart(stop StopSpec, spec StartSpec, observe func(StopEvent), progress io.Writer) (Started, error) {
	ls, err := spec.resolve()
	if err != nil {
		return Started{Name: spec.Name}, err
	}
	stop.PIDFile, stop.Name = spec.PIDFile, spec.Name
	if _, err := Stop(stop, observe); err != nil {
		return Started{Name: spec.Name}, err
	}
	return start(spec, ls, []string{os.Args[0]}, progress)
}
