//go:build !linux

package signals

// No real-time signal names where their numbers differ from Linux's (or
// where there are none): an empty range.
const rtMin, rtMax = 1, 0
