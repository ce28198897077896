package process

import "errors"

var (
	// ErrGone means the process does not exist or is a zombie.
	ErrGone = errors.New("no such process")
	// ErrUnsupported means this platform cannot answer the question.
	ErrUnsupported = errors.New("not supported on this platform")
)
