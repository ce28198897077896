// Package parallel runs indexed tasks on a bounded number of goroutines:
// the definitions' loading, the status table's inspections and stop
// --all's stops.
package parallel

import (
	"sync"
	"sync/atomic"
)

// For calls do(i) for every i from 0 to n-1, on at most workers
// goroutines at once (at least one), and returns once every call has
// returned. Calls begin in the order of i. Each worker claims the next
// index from an atomic counter: handing each task over a channel woke a
// goroutine, a futex call, per task (measured on the status table). With
// one worker, or at most one task, do runs in the caller's goroutine.
func For(n, workers int, do func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			do(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				do(i)
			}
		})
	}
	wg.Wait()
}
