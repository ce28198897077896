package controller

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestLaunchResultErr: a failed report becomes an error with the stage's
// message that matches its kind's sentinel, and only that one.
func TestLaunchResultErr(t *testing.T) {
	sentinels := []error{ErrProgramNotFound, ErrNoPrivilege, ErrOrphaned, ErrUnverified}
	for _, c := range []struct {
		kind launchKind
		want error // nil: none of the sentinels
	}{
		{kindNone, nil},
		{kindNotFound, ErrProgramNotFound},
		{kindPrivilege, ErrNoPrivilege},
		{kindOrphaned, ErrOrphaned},
		{kindUnverified, ErrUnverified},
	} {
		err := launchResult{Kind: c.kind, Error: "cannot run /x: exec format error"}.err()
		if err == nil || err.Error() != "cannot run /x: exec format error" {
			t.Errorf("kind %d: %v", c.kind, err)
			continue
		}
		for _, s := range sentinels {
			if errors.Is(err, s) != (s == c.want) {
				t.Errorf("kind %d: errors.Is(%v) = %v", c.kind, s, errors.Is(err, s))
			}
		}
	}
	for _, ok := range []launchResult{{PID: 42}, {Running: 42}, {}} {
		if err := ok.err(); err != nil {
			t.Errorf("%+v.err() = %v", ok, err)
		}
	}
}

// TestStageDied: a stage that exited without a report is explained by how
// it ended, from real processes' states.
func TestStageDied(t *testing.T) {
	run := func(script string) *syscall.WaitStatus {
		t.Helper()
		pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
		if err != nil {
			t.Fatal(err)
		}
		ws, err := waitStage(pid)
		if err != nil {
			t.Fatal(err)
		}
		return ws
	}
	if got := stageDied("/run/web.pid", run("kill -KILL $$"), nil).Error(); !strings.Contains(got, "killed by SIGKILL before it reported") || !strings.HasPrefix(got, "/run/web.pid: start interrupted") {
		t.Errorf("killed stage: %q", got)
	}
	if got := stageDied("/run/web.pid", run("exit 3"), nil).Error(); got != "/run/web.pid: start failed: the launcher stage exited (exit status 3) without a report" {
		t.Errorf("exited stage: %q", got)
	}
	if got := stageDied("/run/web.pid", nil, errors.New("wait: no child")).Error(); got != "/run/web.pid: start failed: the launcher stage gave no report: wait: no child" {
		t.Errorf("unknown end: %q", got)
	}
}
