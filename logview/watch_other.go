//go:build !linux

package logview

import "context"

// newWaiter has no inotify here: it looks every tickInterval.
func newWaiter(ctx context.Context, _ []string) (waiter, error) {
	return newTicker(ctx), nil
}
