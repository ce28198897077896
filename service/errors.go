package service

import (
	"errors"
	"fmt"
)

var (
	// ErrNotConfigured means a service's definition is missing or cannot
	// be used (LSB exit 6, "program is not configured"): a file that is not
	// valid TOML, an unknown key, a bad value, a relative path, a pidfile
	// two services share, or a definition directory others could write.
	ErrNotConfigured = errors.New("not configured")
	// ErrNoService means no definition file names the service.
	ErrNoService = errors.New("no such service")
	// ErrUnsafe means the definition directory or a file in it is
	// world-writable or owned by another user: whoever can write it could
	// make root run any program.
	ErrUnsafe = errors.New("unsafe definition directory")
)

// Problem is what is wrong with one definition, located as precisely as
// the file allows: FILE:LINE: KEY: what to fix.
type Problem struct {
	// Service is the service the file defines ("" for the directory).
	Service string
	File    string
	// Line is 1-based; 0 when the problem has no one line (a missing key).
	Line int
	// Key is the offending key, dotted ("init.default-start"); "" when the
	// file as a whole is at fault.
	Key string
	Msg string
	// Kind classifies the problem for exit codes: ErrNotConfigured,
	// controller.ErrProgramNotFound for a program that is not installed, or
	// controller.ErrNoPrivilege for a user only root may switch to.
	Kind error
}

func (p *Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, p.Line)
	}
	if p.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, p.Key, p.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, p.Msg)
}

// Unwrap lets errors.Is match the problem's Kind, and ErrNotConfigured
// for every problem: a definition with any problem is not usable.
func (p *Problem) Unwrap() []error {
	if p.Kind == nil || p.Kind == ErrNotConfigured {
		return []error{ErrNotConfigured}
	}
	return []error{p.Kind, ErrNotConfigured}
}
