//go:build !linux

package controller

import (
	"time"

	"github.com/daemonctl/daemonctl/signals"
)

// notifySocket is unavailable: the credential check needs Linux.
type notifySocket struct{ name string }

func listenNotify(path string, c *cred) (*notifySocket, error) {
	return nil, withKind(ErrUnsupported, "--notify needs Linux (sender credentials); use --wait")
}

func (s *notifySocket) Close() {}

func (s *notifySocket) wait(proc *signals.Process, deadline time.Time) (notifyEvent, error) {
	return eventTimeout, ErrUnsupported
}

func (s *notifySocket) receive(pid int, pidPath string) []notifyMsg { return nil }
