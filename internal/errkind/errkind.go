// Package errkind makes errors that read as their own message and match
// sentinel errors (errors.Is) without repeating the sentinels' text: a
// "pidfile /run/x.pid: permission denied: run as its owner or root" that is
// also controller.ErrNoPrivilege, so that a command line can map it to an
// exit code while printing only what the operator needs.
package errkind

import "fmt"

// Errorf returns an error whose message is format's, as fmt.Errorf gives
// it, and which matches each of kinds, and the cause a %w in format wraps.
func Errorf(kinds []error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	switch cause := err.(type) {
	case interface{ Unwrap() error }:
		kinds = append(kinds[:len(kinds):len(kinds)], cause.Unwrap())
	case interface{ Unwrap() []error }:
		kinds = append(kinds[:len(kinds):len(kinds)], cause.Unwrap()...)
	}
	return &kindError{msg: err.Error(), kinds: kinds}
}

// kindError is Errorf's error.
type kindError struct {
	msg   string
	kinds []error
}

func (e *kindError) Error() string   { return e.msg }
func (e *kindError) Unwrap() []error { return e.kinds }
