package main

import "time"

// roundElapsed shortens a duration for messages: 2ms, 1.3s.
func roundElapsed(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(100 * time.Millisecond)
}
