package controller

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/daemonctl/daemonctl/signals"
)

// The caller's side of the launch: start the launcher stage (stage.go)
// with the spec and status pipes, send it the spec, read its report, and
// turn a failed report into an error matching the package's sentinels.

// launch runs the launcher stage for ls and returns its report. Errors here
// are the caller's own (the stage could not be started or died silently).
// With reap it also waits for the stage to exit, after which the daemon is
// reparented to the nearest subreaper (the caller, for a readiness wait).
func launch(ls *launchSpec, args []string, env []string, reap bool) (launchResult, error) {
	self, err := selfExecutable()
	if err != nil {
		return launchResult{}, fmt.Errorf("cannot find own executable to launch the daemon: %w", err)
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return launchResult{}, err
	}
	defer specR.Close()
	defer specW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return launchResult{}, err
	}
	defer statusR.Close()
	defer statusW.Close()
	// The stage's stdio is /dev/null: it must not hold the caller's
	// terminal or output pipe (a supervisor outlives the caller, and
	// $(daemonctl start ...) would wait for it).
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return launchResult{}, err
	}
	defer null.Close()
	// syscall.ForkExec, not exec.Cmd: os.StartProcess first probes, with
	// a throwaway child, whether clone can return a pidfd (about a
	// millisecond here), which a start does not need.
	pid, err := syscall.ForkExec(self, args, &syscall.ProcAttr{
		Env: append(env[:len(env):len(env)], launcherEnv+"=1",
			// One P: the stage runs one goroutine at a time, and fewer Ps
			// mean fewer pages touched at start-up. The daemon's
			// environment is ls.Env, which this does not reach.
			"GOMAXPROCS=1"),
		Files: []uintptr{null.Fd(), null.Fd(), null.Fd(), specR.Fd(), statusW.Fd()}, // specFD, statusFD
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return launchResult{}, fmt.Errorf("start launcher %s: %w", self, err)
	}
	specR.Close()
	statusW.Close()
	// Written whole, then closed: the stage reads to the end.
	_, werr := specW.Write(ls.encode())
	specW.Close()
	msg, derr := io.ReadAll(statusR)
	var res launchResult
	if derr == nil {
		if len(msg) == 0 {
			derr = io.ErrUnexpectedEOF
		} else {
			res, derr = decodeLaunchResult(msg)
		}
	}
	if derr != nil || reap {
		ws, waitErr := waitStage(pid)
		if derr != nil {
			return launchResult{}, stageDied(ls.PIDFile, ws, waitErr)
		}
	} else {
		// The stage exits right after its report; waiting for that would
		// add its exit (≈0.5 ms) to every start. If this process exits
		// first, init reaps it.
		go func() { _, _ = waitStage(pid) }()
	}
	if werr != nil {
		return launchResult{}, fmt.Errorf("send start spec to launcher: %w", werr)
	}
	return res, nil
}

// waitStage reaps the stage and returns how it ended.
func waitStage(pid int) (*syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("wait for the launcher stage: %w", err)
		}
		return &ws, nil
	}
}

// stageDied explains a launcher stage that exited without reporting: ws
// is how it ended, nil when that is unknown (waitErr says why).
func stageDied(path string, ws *syscall.WaitStatus, waitErr error) error {
	switch {
	case ws == nil:
		return fmt.Errorf("%s: start failed: the launcher stage gave no report: %v", path, waitErr)
	case ws.Signaled():
		return fmt.Errorf("%s: start interrupted: the launcher stage was killed by SIG%s before it reported (a concurrent stop or kill?); run status to see what runs", path, signals.Name(ws.Signal()))
	}
	return fmt.Errorf("%s: start failed: the launcher stage exited (exit status %d) without a report", path, ws.ExitStatus())
}

// err turns a failed result into an error matching its kind's sentinel.
func (r launchResult) err() error {
	if r.Error == "" {
		return nil
	}
	if kind := r.Kind.sentinel(); kind != nil {
		return withKind(kind, "%s", r.Error)
	}
	return errors.New(r.Error)
}

// sentinel is the error a launch failure of kind k matches.
func (k launchKind) sentinel() error {
	switch k {
	case kindNotFound:
		return ErrProgramNotFound
	case kindPrivilege:
		return ErrNoPrivilege
	case kindOrphaned:
		return ErrOrphaned
	case kindUnverified:
		return ErrUnverified
	case kindFailedStart:
		return ErrFailedStart
	case kindUsage:
		return ErrUsage
	}
	return nil
}
