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
	os.Exit(harness.Main(m))
}
