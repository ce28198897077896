package ssd

import "errors"

var (
	// ErrUsage means the command line is wrong; start-stop-daemon exits 3
	// (4 with --status) and points at --help.
	ErrUsage = errors.New("usage")
	// ErrTrouble means the request could not be carried out: a file or
	// user that does not exist, a pidfile that must not be believed, a
	// program that cannot be executed. start-stop-daemon 1.21 exits 2 for
	// these (4 with --status), though its manual says 3.
	ErrTrouble = errors.New("trouble")
)
