//go:build !linux

package controller

import (
	"time"

	"github.com/daemonctl/daemonctl/internal/sdnotify"
	"github.com/daemonctl/daemonctl/signals"
)

// notifySocket is unavailable: the credential check needs Linux.
type notifySocket struct{}

func listenNotify(path string, c *cred) (*notifySocket, error) {
	return nil, withKind(ErrUnsupported, "--notify needs Linux (sender credentials); use --wait")
}

func (s *notifySocket) Close() {}

func (s *notifySocket) Name() string { return "" }

func (s *notifySocket) wait(proc *signals.Process, deadline time.Time) (notifyEvent, error) {
	return eventTimeout, ErrUnsupported
}

func (s *notifySocket) receive(pid int, pidPath string) []sdnotify.Message { return nil }
