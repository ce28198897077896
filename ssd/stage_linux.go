package ssd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// The detaching stage: --background without daemonctl's own start. Go
// cannot fork without exec, so the caller re-executes its own binary, as
// start-stop-daemon with the same command line and stageEnv set, in a new
// session (setsid: the first fork). The stage starts the program as its
// child (the second fork: in the session, not its leader, so it can never
// acquire a controlling terminal) and exits; the caller waits for it, as
// start-stop-daemon's first parent waits for the second. The program's
// nice value and schedulers come from the caller's thread, which forked
// the stage.

// detach starts the stage and returns its exit code: 0 once the program
// was executed, 2 (the stage said why on stderr) when it could not be.
func detach(o Options, stdout io.Writer) (int, error) {
	argv := append([]string(nil), o.raw...)
	if len(argv) == 0 || !Is(argv[0]) {
		argv = append([]string{Name}, argv[min(len(argv), 1):]...)
	}
	o.debug(stdout, "Detaching to start %s...", o.StartAs)
	cmd := &exec.Cmd{
		Path:   "/proc/self/exe",
		Args:   argv,
		Env:    append(os.Environ(), stageEnv+"=1"),
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		// The first fork's setsid.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), nil
	case err != nil:
		return 0, fmt.Errorf("%w: unable to do first fork (%v)", ErrTrouble, err)
	}
	o.debug(stdout, "done.\n")
	return 0, nil
}

// runStage is the stage's work: set up the program's descriptors (all
// closed but /dev/null or --output on 0, 1 and 2, unless --no-close),
// umask, chroot, working directory and identity, start it as a child and
// return 0, or say why it could not be started and return 2.
func runStage(o Options, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "%s: %s\n", o.Prog, fmt.Sprintf(format, a...))
		return 2
	}
	c, err := resolveCred(o)
	if err != nil {
		return fail("%s", message(err))
	}
	stdio := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	if !o.NoClose {
		// Only 0, 1 and 2 reach the program.
		if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
			return fail("unable to close descriptors (%s)", errnoText(err))
		}
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return fail("unable to open '%s' (%s)", os.DevNull, errnoText(err))
		}
		out := null
		if o.Output != "" {
			if out, err = openOutput(o.Output); err != nil {
				return fail("%s", message(err))
			}
		}
		stdio = []*os.File{null, out, out}
	}
	if o.Umask >= 0 {
		unix.Umask(o.Umask)
	}
	path := o.StartAs
	if o.Chroot == "" {
		path = absolute(path, o.Chdir)
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        append([]string{o.StartAs}, o.Args...),
		Env:         c.environment(),
		Dir:         o.Chdir,
		Stdin:       stdio[0],
		Stdout:      stdio[1],
		Stderr:      stdio[2],
		SysProcAttr: &syscall.SysProcAttr{Chroot: o.Chroot, Credential: c.credential()},
	}
	if err := cmd.Start(); err != nil {
		return fail("unable to start %s (%v)", o.StartAs, unwrapExec(err))
	}
	return 0
}

// openOutput opens --output for appending, creating it 0640, refusing a
// symbolic link, a FIFO, a device or a file with other names.
func openOutput(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o640)
	if err != nil {
		return nil, fmt.Errorf("%w: unable to open output file '%s' (%v)", ErrTrouble, path, unwrapExec(err))
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		f.Close()
		return nil, fmt.Errorf("%w: unable to open output file '%s' (not a regular file with one name)", ErrTrouble, path)
	}
	_ = unix.SetNonblock(int(f.Fd()), false)
	return f, nil
}

// unwrapExec shortens an error from starting a process to its cause.
func unwrapExec(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return errnoText(pe.Err)
	}
	return err.Error()
}
