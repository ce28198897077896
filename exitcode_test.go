package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/logview"
	"github.com/daemonctl/daemonctl/service"
	"github.com/daemonctl/daemonctl/signals"
)

// TestExitCodes: every row of the exit-code table decides at least one
// case, and each case gets the code README's table gives it.
func TestExitCodes(t *testing.T) {
	kind := func(sentinel error) error { return fmt.Errorf("some message: %w", sentinel) }
	notConfigured := &service.Problem{Msg: "x", Kind: service.ErrNotConfigured}
	missing := &service.Problem{Msg: "x", Kind: controller.ErrProgramNotFound}
	needsRoot := &service.Problem{Msg: "x", Kind: controller.ErrNoPrivilege}
	cases := []struct {
		command string
		err     error
		want    int
	}{
		{"start", nil, 0},
		{"status", nil, 0},

		{"status", kind(controller.ErrUsage), 4},
		{"status", kind(signals.ErrBadSignal), 4},
		{"status", kind(controller.ErrUnknown), 4},
		{"status", errors.Join(kind(controller.ErrUnknown), kind(controller.ErrUnverified)), 4},
		{"status", kind(controller.ErrNotRunning), 3},
		{"status", kind(controller.ErrDead), 1},
		{"status", notConfigured, 4},
		{"status", kind(errFewDescriptors), 4},
		{"status", errors.New("anything else"), 4},

		{"start", kind(controller.ErrUsage), 2},
		{"stop", kind(signals.ErrBadSchedule), 2},
		{"signal", kind(signals.ErrBadSignal), 2},
		{"", kind(controller.ErrUsage), 2},

		{"start", kind(controller.ErrUnverified), 1},
		{"restart", kind(controller.ErrUnverified), 1},
		{"stop", kind(controller.ErrUnverified), 4},
		{"reload", kind(controller.ErrUnverified), 4},
		{"signal", kind(controller.ErrUnverified), 4},

		{"start", kind(controller.ErrNoPrivilege), 4},
		{"stop", kind(fs.ErrPermission), 4},
		{"check", needsRoot, 4},
		{"start", errors.Join(missing, needsRoot), 4},

		{"start", missing, 5},
		{"restart", kind(controller.ErrProgramNotFound), 5},
		{"check", missing, 5},
		{"start", errors.Join(missing, notConfigured), 5},
		{"stop", kind(controller.ErrProgramNotFound), 1},

		{"start", notConfigured, 6},
		{"stop", notConfigured, 6},
		{"reload", notConfigured, 6},
		{"check", notConfigured, 6},

		{"reload", kind(controller.ErrNotRunning), 7},
		{"signal", kind(controller.ErrNotRunning), 7},
		{"stop", kind(controller.ErrNotRunning), 1},

		{"logs", kind(logview.ErrNoLogs), 6},
		{"logs", kind(fs.ErrPermission), 4},
		{"logs", kind(fs.ErrNotExist), 1},
		{"logs", kind(logview.ErrGone), 1},
		{"logs", kind(controller.ErrUsage), 2},

		{"start", kind(errFewDescriptors), 1},
		{"stop", kind(controller.ErrStillRunning), 1},
		{"start", kind(controller.ErrFailedStart), 1},
	}
	decided := make([]bool, len(exitRules()))
	for _, c := range cases {
		if got := exitCode(c.command, c.err); got != c.want {
			t.Errorf("exitCode(%q, %v) = %d, want %d", c.command, c.err, got, c.want)
		}
		if c.err == nil {
			continue
		}
		if row := exitRow(c.command, c.err); row >= 0 {
			decided[row] = true
		}
	}
	for i, ok := range decided {
		if !ok {
			t.Errorf("no case is decided by row %d of the table (%+v)", i, exitRules()[i])
		}
	}
}

// TestExitCodeFromCommand: the code is that of the command urfave/cli ran,
// whatever global flags come before it.
func TestExitCodeFromCommand(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.pid")
	for _, c := range []struct {
		args string
		want int
	}{
		{"status -p " + missing, 3},
		{"--config-dir /nonexistent status -p " + missing, 3},
		{"--config-dir=/nonexistent status -p " + missing, 3},
		{"-config-dir /nonexistent status --no-such-flag", 4},
		{"--config-dir /nonexistent stop --no-such-flag", 2},
		{"--config-dir /nonexistent reload -p " + missing, 7},
		{"--config-dir /nonexistent signal -p " + missing + " NOSUCHSIGNAL", 2},
		{"--config-dir /nonexistent no-such-command", 2},
		{"--no-such-flag status", 2},
	} {
		args := append([]string{"daemonctl"}, strings.Fields(c.args)...)
		if got := run(args, io.Discard, io.Discard); got != c.want {
			t.Errorf("daemonctl %s: exit %d, want %d", c.args, got, c.want)
		}
	}
}
