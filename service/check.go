package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/daemonctl/daemonctl/controller"
)

// Check verifies what must hold for d to start, beyond the file itself:
// the program is installed and executable, the user and group exist, and
// the directories named exist. Loading does not check these, so that a
// service whose program was removed can still be stopped. A missing
// program's problem matches controller.ErrProgramNotFound (LSB exit 5).
func (d *Definition) Check() []*Problem {
	var problems []*Problem
	if _, err := controller.LookProgram(d.Program); err != nil {
		p := d.problem("program", "%v", err)
		p.Kind = controller.ErrProgramNotFound
		problems = append(problems, p)
	}
	for _, p := range controller.CheckIdentity(d.User, d.Group) {
		if p.NeedsRoot {
			problems = append(problems, d.needsRoot(p.Key))
			continue
		}
		problems = append(problems, d.problem(p.Key, "no such %s %q: create it, or name an existing one", p.Key, p.Name))
	}
	if d.Dir != "" {
		if st, err := os.Stat(d.Dir); err != nil || !st.IsDir() {
			problems = append(problems, d.problem("chdir", "%s is not a directory: create it, or fix the path", d.Dir))
		}
	}
	for _, f := range []struct{ key, path string }{{"stdout", d.Stdout}, {"stderr", d.Stderr}, {"notify-socket", d.NotifySocket}} {
		if f.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(f.path)); err != nil || !st.IsDir() {
			problems = append(problems, d.problem(f.key, "directory %s does not exist: create it first", filepath.Dir(f.path)))
		}
	}
	pidDir := filepath.Dir(d.PIDFile)
	if d.DefaultPIDFile {
		pidDir = filepath.Dir(pidDir) // the default directory is created on start
	}
	if st, err := os.Stat(pidDir); err != nil || !st.IsDir() {
		problems = append(problems, d.problem("pidfile", "directory %s does not exist: create it, or choose another pidfile", pidDir))
	}
	slices.SortStableFunc(problems, func(a, b *Problem) int { return a.Line - b.Line })
	return problems
}

// needsRoot is the problem of a user or group only root may switch to;
// it matches controller.ErrNoPrivilege (LSB exit 4).
func (d *Definition) needsRoot(key string) *Problem {
	p := d.problem(key, "switching to another %s needs root: run daemonctl as root, or remove the key to run as yourself", key)
	p.Kind = controller.ErrNoPrivilege
	return p
}

// PreparePIDDir creates the default pidfile directory (mode 0755) when d
// uses it; a pidfile the file names must be in an existing directory.
func (d *Definition) PreparePIDDir() error {
	if !d.DefaultPIDFile {
		return nil
	}
	dir := filepath.Dir(d.PIDFile)
	err := os.Mkdir(dir, 0o755)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: creating pidfile directory %s: %w", d.Name, dir, err)
	}
	// 0755 whatever the caller's umask: status must work for everyone.
	return os.Chmod(dir, 0o755)
}
