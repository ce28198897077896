package main

import (
	"os"
	"testing"

	"github.com/daemonctl/daemonctl/controller"
)

// TestMain lets the test binary serve as daemonctl's own launcher stage:
// starts made in-process (the benchmarks) re-execute it as one.
func TestMain(m *testing.M) {
	if controller.IsLauncher() {
		os.Exit(controller.RunLauncher())
	}
	os.Exit(m.Run())
}
