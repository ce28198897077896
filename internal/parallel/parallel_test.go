package parallel

import (
	"sync/atomic"
	"testing"
)

// TestFor: every index is done exactly once, never more than workers at a
// time, and all before For returns.
func TestFor(t *testing.T) {
	for _, c := range []struct{ n, workers int }{{0, 4}, {1, 4}, {5, 1}, {5, 0}, {100, 3}, {3, 100}} {
		done := make([]atomic.Int32, c.n)
		var running, most atomic.Int32
		For(c.n, c.workers, func(i int) {
			now := running.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			done[i].Add(1)
			running.Add(-1)
		})
		for i := range done {
			if got := done[i].Load(); got != 1 {
				t.Errorf("n %d, workers %d: task %d done %d times", c.n, c.workers, i, got)
			}
		}
		if limit := int32(max(c.workers, 1)); most.Load() > limit {
			t.Errorf("n %d, workers %d: %d tasks ran at once", c.n, c.workers, most.Load())
		}
	}
}

// TestForInOrderWithOneWorker: one worker does the tasks in order, in the
// caller's goroutine (start --all starts services one after another).
func TestForInOrderWithOneWorker(t *testing.T) {
	var order []int
	For(5, 1, func(i int) { order = append(order, i) })
	for i, got := range order {
		if got != i {
			t.Fatalf("order %v", order)
		}
	}
	if len(order) != 5 {
		t.Fatalf("order %v", order)
	}
}

// TestForRunsConcurrently: with several workers, tasks do run at the same
// time: the first two each wait for the other to begin.
func TestForRunsConcurrently(t *testing.T) {
	var started [2]chan struct{}
	for i := range started {
		started[i] = make(chan struct{})
	}
	For(2, 2, func(i int) {
		close(started[i])
		<-started[1-i]
	})
}
