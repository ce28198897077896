package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daemonctl/daemonctl/controller"
)

// BenchmarkStatusTable times `daemonctl status` (the table of every
// defined service) with 1,000 services defined and 1,000 real daemons
// (sleep) running:
//
//	go test -run '^$' -bench StatusTable -benchtime 200x .
//
// in-process is the command's own work (load the 1,000 files, inspect the
// 1,000 pidfiles and processes, render); binary adds the start of the
// daemonctl process, as an operator sees it.
func BenchmarkStatusTable(b *testing.B) { benchmarkStatusTable(b, false) }

// BenchmarkStatusTableSupervised is BenchmarkStatusTable with every
// service under a supervisor (start --supervise): status reads each
// supervisor's published state too, and the table has a RESPAWNS column.
func BenchmarkStatusTableSupervised(b *testing.B) { benchmarkStatusTable(b, true) }

func benchmarkStatusTable(b *testing.B, supervised bool) {
	const services = 1000
	dir := b.TempDir()
	conf := filepath.Join(dir, "conf")
	run1 := filepath.Join(dir, "run")
	for _, d := range []string{conf, run1} {
		if err := os.Mkdir(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		b.Skip("no sleep(1) to run as the daemons")
	}
	for i := range services {
		name := fmt.Sprintf("svc%04d", i)
		def := fmt.Sprintf("program = %q\nargs = [\"infinity\"]\npidfile = %q\nsupervise = %v\n", sleep, filepath.Join(run1, name+".pid"), supervised)
		if err := os.WriteFile(filepath.Join(conf, name+".toml"), []byte(def), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var stderr strings.Builder
	if code := run([]string{"daemonctl", "--config-dir", conf, "start", "--all", "-q"}, io.Discard, &stderr); code != 0 {
		b.Fatalf("start --all: exit %d: %s", code, stderr.String())
	}
	b.Cleanup(func() {
		if code := run([]string{"daemonctl", "--config-dir", conf, "stop", "--all", "-q"}, io.Discard, os.Stderr); code != 0 {
			b.Errorf("stop --all: exit %d", code)
		}
	})
	var out strings.Builder
	if code := run([]string{"daemonctl", "--config-dir", conf, "status"}, &out, os.Stderr); code != 0 {
		b.Fatalf("status: exit %d", code)
	}
	if n := strings.Count(out.String(), " running "); n != services {
		b.Fatalf("%d of %d services running:\n%s", n, services, out.String())
	}

	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			if code := run([]string{"daemonctl", "--config-dir", conf, "status"}, io.Discard, io.Discard); code != 0 {
				b.Fatalf("status: exit %d", code)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if code := run([]string{"daemonctl", "--config-dir", conf, "status", "--json"}, io.Discard, io.Discard); code != 0 {
				b.Fatalf("status: exit %d", code)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		bin := filepath.Join(dir, "daemonctl")
		build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		for b.Loop() {
			cmd := exec.Command(bin, "--config-dir", conf, "status")
			if err := cmd.Run(); err != nil {
				b.Fatalf("status: %v", err)
			}
		}
	})
}

// BenchmarkWriteTable renders 1,000 rows, without the inspection: the
// cost of the columns themselves (supervised: every row with a RESPAWNS
// cell).
func BenchmarkWriteTable(b *testing.B) {
	for _, supervised := range []bool{false, true} {
		rows := make([]tableRow, 1000)
		started := time.Now().Add(-time.Hour)
		for i := range rows {
			rows[i].Report = controller.Report{Name: fmt.Sprintf("svc%04d", i), State: controller.StateRunning, PID: 10000 + i, Started: &started, Uptime: 3600, RSS: 1 << 20, Command: []string{"/usr/bin/sleep", "infinity"}}
			if supervised {
				n := i % 7
				rows[i].Respawns, rows[i].Supervisor = &n, 9999
			}
		}
		b.Run(fmt.Sprintf("supervised=%v", supervised), func(b *testing.B) {
			for b.Loop() {
				writeTable(io.Discard, rows, false, 0)
			}
		})
	}
}
