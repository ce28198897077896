package logview

import (
	"context"
	"time"
)

// tickInterval is how often a ticker looks, where inotify is not had.
const tickInterval = 250 * time.Millisecond

// ticker is the waiter without inotify: it wakes every tickInterval.
type ticker struct {
	ctx context.Context
	t   *time.Ticker
}

func newTicker(ctx context.Context) waiter {
	return &ticker{ctx: ctx, t: time.NewTicker(tickInterval)}
}

func (t *ticker) wait() error {
	select {
	case <-t.ctx.Done():
		return t.ctx.Err()
	case <-t.t.C:
		return nil
	}
}

func (t *ticker) close() { t.t.Stop() }
