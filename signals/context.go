package signals

import (
	"context"
	"os/signal"
	"syscall"
)

// StopContext returns a context cancelled when this process receives
// SIGTERM (the first signal of the default stop schedule) or SIGINT, for a
// daemon that wants to clean up (remove its pidfile) before it exits.
// Call stop to stop listening.
func StopContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(parent, syscall.SIGTERM, syscall.SIGINT)
}
