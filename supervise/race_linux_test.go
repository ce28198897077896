//go:build race

package supervise_test

// raceFlags builds the supervisor with the race detector, as the tests.
var raceFlags = []string{"-race"}
