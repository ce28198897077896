// Package service reads named service definitions: one TOML file per
// service in a directory (/etc/daemonctl.d/web.toml defines "web"), and
// turns them into the controller's start and stop specifications.
//
// Root runs the programs these files name, so the files, the directory
// and every directory above it must be writable by nobody but their
// owner, who must be root or the caller (see trust.go). Every problem is reported as FILE:LINE: KEY: what to fix, and a
// broken file never stops the others from being used.
package service

import (
	"errors"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/internal/errkind"
)

// Ext is the extension of definition files; other files are ignored.
const Ext = ".toml"

// Definition is one usable service: how it starts, as the controller
// takes it (a file's key sets the StartSpec field its command-line flag
// sets), and what only a definition says.
type Definition struct {
	// StartSpec's PIDFile is absolute, its Env sorted by key, and its
	// StopSchedule's zero value means the default, TERM/10/KILL/5.
	controller.StartSpec
	// File is the definition file's path.
	File        string
	Description string
	// DefaultPIDFile is set when the file gave no pidfile: its directory
	// is then daemonctl's to create.
	DefaultPIDFile bool
	ReloadSignal   unix.Signal
	Init           InitInfo
	// doc is the file's text, parsed again for key lines only when a
	// problem needs one (most loads find none: the table loads every file).
	doc   []byte
	lines map[string]int
}

// InitInfo is what an LSB init script's header says of the service.
type InitInfo struct {
	RequiredStart, RequiredStop string
	DefaultStart, DefaultStop   string
}

// Set is what a definition directory holds.
type Set struct {
	Dir string
	// Missing is set when the directory does not exist: no services.
	Missing bool
	// Services are the usable definitions, sorted by name.
	Services []*Definition
	// Problems are the broken files' problems, by file and line. A service
	// with problems is not in Services.
	Problems []*Problem
}

// namePattern is what a service name may be: it is a file name, a
// pidfile's default name, and a word in init scripts and completions.
// Compiled on first use: at package initialisation every daemonctl
// command would pay for it.
var namePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]*$`)
})

// ValidName reports whether name can name a service.
func ValidName(name string) bool { return namePattern().MatchString(name) }

// Lookup returns the usable definition of name. Otherwise the error
// matches ErrNotConfigured: it lists the file's problems, or, matching
// ErrNoService too, says there is no such file.
func (s *Set) Lookup(name string) (*Definition, error) {
	for _, d := range s.Services {
		if d.Name == name {
			return d, nil
		}
	}
	if problems := s.ProblemsOf(name); len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = p
		}
		return nil, errors.Join(errs...)
	}
	where := filepath.Join(s.Dir, name+Ext)
	if s.Missing {
		return nil, errkind.Errorf([]error{ErrNoService, ErrNotConfigured}, "%s: no such service: %s does not exist (nor does its directory); define it there, or use -p FILE", name, where)
	}
	return nil, errkind.Errorf([]error{ErrNoService, ErrNotConfigured}, "%s: no such service: %s does not exist; define it there, or use -p FILE", name, where)
}

// ProblemsOf lists the problems of the file defining name.
func (s *Set) ProblemsOf(name string) []*Problem {
	var out []*Problem
	for _, p := range s.Problems {
		if p.Service == name {
			out = append(out, p)
		}
	}
	return out
}

// Names lists every service defined, usable or not, sorted.
func (s *Set) Names() []string {
	names := map[string]bool{}
	for _, d := range s.Services {
		names[d.Name] = true
	}
	for _, p := range s.Problems {
		if p.Service != "" {
			names[p.Service] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}

// StopSpec is the controller's stop specification for d.
func (d *Definition) StopSpec() controller.StopSpec {
	return controller.StopSpec{PIDFile: d.PIDFile, Name: d.Name, Schedule: d.StopSchedule, Program: d.Program}
}
