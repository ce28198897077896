package signals

import "errors"

var (
	// ErrBadSignal means a signal name or number is not known.
	ErrBadSignal = errors.New("unknown signal")
	// ErrBadSchedule means a stop schedule does not parse.
	ErrBadSchedule = errors.New("invalid schedule")
	// ErrGone means the process has exited.
	ErrGone = errors.New("process has exited")
)
