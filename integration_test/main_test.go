// Package integration_test drives the real daemonctl binary, built once by
// TestMain, as an init script would: as a subprocess, against real daemons
// (testdata/testdaemon), real locks and real signals. The machinery lives
// in harness/.
package integration_test

import (
	"os"
	"testing"

	"github.com/daemonctl/daemonctl/integration_test/harness"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		// A copy of this binary re-executed to play an attacker's process
		// or a namespace's init (trust_test.go), not to run tests.
		os.Exit(runHelper(role, os.Args[1:]))
	}
	os.Exit(harness.Main(m))
}
