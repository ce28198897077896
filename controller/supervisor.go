package controller

import (
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/daemonctl/daemonctl/supervise"
)

// runSupervisor is the launcher stage of a supervised start (ls.Supervise
// set): instead of forking the program and exiting, the stage becomes its
// supervisor (supervise.Start), reports the program's PID and its own,
// and, once report has sent that, keeps the program running until the
// supervision ends (supervise.Supervisor.Wait). It returns the stage's
// exit code: 0 when the service stopped or its program finished, 1 when
// the supervisor gave up or the first start failed.
func runSupervisor(ls *launchSpec, report func(launchResult) error) int {
	// The supervisor outlives the caller: it must not keep the caller's
	// working directory busy (an unmount). The program's is cfg's.
	_ = os.Chdir("/")
	syscall.Umask(0o022)
	pauseForTest("before-lock")
	pf, res := acquire(ls.PIDFile)
	if pf == nil {
		_ = report(res)
		return 1
	}
	pauseForTest("after-lock")
	// The program's umask, and the log files'.
	syscall.Umask(int(ls.Umask))
	sv := ls.Supervise
	cfg := supervise.Config{
		PIDFile: pf,
		Name:    ServiceName(ls.Name, ls.PIDFile),
		Program: supervise.Program{Path: ls.Path, Argv: ls.Argv, Env: ls.Env, Dir: ls.Dir, Nice: ls.Nice},
		Respawn: sv.Respawn,
		Logs: supervise.Logs{
			Stdout: devNullAsNone(ls.Stdout), Stderr: devNullAsNone(ls.Stderr),
			MaxSize: sv.LogMaxSize, Keep: sv.LogKeep,
		},
		Ready:          supervise.Ready{Wait: ls.Wait, Notify: ls.Notify, Timeout: ls.NotifyTimeout},
		Watchdog:       sv.Watchdog,
		Forking:        sv.Forking,
		ProgramPIDFile: sv.ProgramPIDFile,
		NotifySocket:   ls.NotifySocket,
		StopSchedule:   ls.StopSchedule,
	}
	if c := ls.Cred; c != nil {
		cfg.Program.Cred = &supervise.Cred{UID: c.UID, GID: c.GID, Groups: c.Groups}
	}
	sup, err := supervise.Start(cfg)
	if err != nil {
		_ = report(launchResult{Kind: supervisedKind(err), Error: strings.TrimSpace(err.Error())})
		return 1
	}
	// A caller gone before reading the report changes nothing: the
	// service runs, as an unsupervised start's daemon would.
	_ = report(launchResult{PID: sup.PID(), Supervisor: os.Getpid()})
	if sup.Wait() == supervise.GaveUp {
		return 1
	}
	return 0
}

// devNullAsNone maps /dev/null, which the supervisor needs no pipe for, to
// "" (no log).
func devNullAsNone(name string) string {
	if name == os.DevNull {
		return ""
	}
	return name
}

// supervisedKind classifies supervise.Start's error for its exit code.
func supervisedKind(err error) launchKind {
	switch {
	case errors.Is(err, supervise.ErrProgramNotFound):
		return kindNotFound
	case errors.Is(err, supervise.ErrNoPrivilege):
		return kindPrivilege
	case errors.Is(err, supervise.ErrFailedStart):
		return kindFailedStart
	case errors.Is(err, supervise.ErrUsage), errors.Is(err, supervise.ErrUnsupported):
		return kindUsage
	}
	return kindNone
}
