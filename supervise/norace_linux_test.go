//go:build !race

package supervise_test

// raceFlags is empty: the tests run without the race detector.
var raceFlags []string
