package main

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/internal/parallel"
	"github.com/daemonctl/daemonctl/service"
)

// A service command (start, stop, status, ...) acts either on a pidfile
// (-p FILE, the init-script form) or on services defined in the
// definition directory: a NAME, or --all. These helpers read the second
// form.

// byPIDFile reports whether the command was given -p: then the
// positional arguments are what they always were (the PROGRAM, the
// SIGNAL), never a service name.
func byPIDFile(c *cli.Context) bool { return c.IsSet("pidfile") }

// loadServices reads the definition directory (--config-dir,
// DAEMONCTL_CONFIG_DIR, or the default).
func loadServices(c *cli.Context) (*service.Set, error) {
	dir := c.String("config-dir")
	if dir == "" {
		var err error
		if dir, err = service.DefaultDir(); err != nil {
			return nil, fmt.Errorf("%v: %w", err, service.ErrNotConfigured)
		}
	}
	return service.Load(dir)
}

// serviceName is the one NAME a by-name command takes (extra holds the
// number of arguments that may follow it, as signal's SIGNAL).
func serviceName(c *cli.Context, extra int) (string, error) {
	if c.IsSet("name") {
		return "", usagef(c, "--name applies only with -p FILE (a defined service is called by its file's name)")
	}
	args := c.Args()
	switch {
	case args.Len() == 0:
		return "", usagef(c, "name a service (daemonctl %s NAME), or give -p FILE", c.Command.Name)
	case args.Len() > 1+extra:
		if args.Get(1 + extra)[0] == '-' {
			return "", usagef(c, "%q after the service name: options go before it (daemonctl %s [OPTIONS] %s)", args.Get(1+extra), c.Command.Name, args.First())
		}
		return "", usagef(c, "unexpected argument %q (a PROGRAM needs -p FILE: daemonctl %s -p FILE -- PROGRAM [ARG...])", args.Get(1+extra), c.Command.Name)
	}
	name := args.First()
	if !service.ValidName(name) {
		return "", usagef(c, "%q is not a service name (a PROGRAM needs -p FILE: daemonctl %s -p FILE -- PROGRAM [ARG...])", name, c.Command.Name)
	}
	return name, nil
}

// namedService is the defined service a by-name command names (extra: as
// serviceName): its usable definition, or a usage error for the command
// line, or the definitions' error (ErrNotConfigured).
func namedService(c *cli.Context, extra int) (*service.Definition, error) {
	name, err := serviceName(c, extra)
	if err != nil {
		return nil, err
	}
	set, err := loadServices(c)
	if err != nil {
		return nil, err
	}
	return set.Lookup(name)
}

// checkStartable runs the checks a start needs beyond the file itself
// (the program is installed, the user exists, ...).
func checkStartable(def *service.Definition) error {
	problems := def.Check()
	if len(problems) == 0 {
		return def.PreparePIDDir()
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// forAll runs act for every usable service of the definition directory,
// at most workers at a time, and reports each broken one on stderr. act
// writes its success message to out; a failure is printed here, one line,
// as it happens. The error, when any failed, joins them all, so the exit
// code is that of the most specific failure (see exitCode).
func forAll(c *cli.Context, workers int, act func(def *service.Definition, out io.Writer) error) error {
	if c.Args().Present() {
		return usagef(c, "--all takes no service name (got %q)", c.Args().First())
	}
	if c.IsSet("name") {
		return usagef(c, "--name applies only with -p FILE")
	}
	set, err := loadServices(c)
	if err != nil {
		return err
	}
	if len(set.Services) == 0 && len(set.Problems) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "daemonctl: no services defined in %s (add NAME%s files there, or give --config-dir)\n", set.Dir, service.Ext)
		return nil
	}
	var errs []error
	for _, p := range set.Problems {
		fmt.Fprintln(c.App.ErrWriter, printable(p.Error()))
		errs = append(errs, p)
	}
	var mu sync.Mutex
	out := &lockedWriter{mu: &mu, w: c.App.Writer}
	parallel.For(len(set.Services), workers, func(i int) {
		if err := act(set.Services[i], out); err != nil {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(c.App.ErrWriter, printableText(oneLine(commandUsage(c.Command.Name, err))))
			errs = append(errs, err)
		}
	})
	if len(errs) > 0 {
		return reported{errors.Join(errs...)}
	}
	return nil
}

// lockedWriter serializes writes of concurrent actions.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
