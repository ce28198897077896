package integration_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// controllerTool is one tool that starts, inspects and stops a daemon:
// daemonctl, or start-stop-daemon doing the same job, for comparison.
type controllerTool struct {
	name   string
	start  func(pidfile string, argv ...string) *exec.Cmd
	status func(pidfile string) *exec.Cmd
	stop   func(pidfile string) *exec.Cmd
}

const ssdPath = "/usr/sbin/start-stop-daemon"

func benchTools(b *testing.B) []controllerTool {
	tools := []controllerTool{{
		name: "daemonctl",
		start: func(pidfile string, argv ...string) *exec.Cmd {
			return exec.Command(h.Daemonctl, append([]string{"start", "-q", "-p", pidfile, "--"}, argv...)...)
		},
		status: func(pidfile string) *exec.Cmd { return exec.Command(h.Daemonctl, "status", "-q", "-p", pidfile) },
		stop:   func(pidfile string) *exec.Cmd { return exec.Command(h.Daemonctl, "stop", "-q", "-p", pidfile) },
	}}
	if _, err := os.Stat(ssdPath); err == nil {
		tools = append(tools, controllerTool{
			name: "start-stop-daemon",
			start: func(pidfile string, argv ...string) *exec.Cmd {
				return exec.Command(ssdPath, append([]string{"--start", "--background", "--make-pidfile", "--pidfile", pidfile, "--exec", argv[0], "--"}, argv[1:]...)...)
			},
			status: func(pidfile string) *exec.Cmd { return exec.Command(ssdPath, "--status", "--pidfile", pidfile) },
			stop: func(pidfile string) *exec.Cmd {
				return exec.Command(ssdPath, "--stop", "--pidfile", pidfile, "--retry", "TERM/10/KILL/5", "--remove-pidfile")
			},
		})
	} else {
		b.Logf("%s not installed: daemonctl alone", ssdPath)
	}
	return tools
}

// runTimed runs cmd and fails the benchmark unless it exits 0.
func runTimed(b *testing.B, cmd *exec.Cmd) {
	b.Helper()
	if out, err := h.Output(cmd); err != nil {
		b.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
}

// BenchmarkStart times a start until it returns with the daemon running
// (the pidfile names the live, locked daemon: daemonctl's contract; for
// start-stop-daemon --background the pidfile is written before it returns).
func BenchmarkStart(b *testing.B) {
	for _, tool := range benchTools(b) {
		b.Run(tool.name, func(b *testing.B) {
			pidfile := filepath.Join(b.TempDir(), "bench.pid")
			for b.Loop() {
				runTimed(b, tool.start(pidfile, "/bin/sleep", "1000"))
				b.StopTimer()
				h.Watch(b, h.ReadPID(b, pidfile))
				runTimed(b, tool.stop(pidfile))
				b.StartTimer()
			}
		})
	}
}

// BenchmarkStatus times status of a running daemon.
func BenchmarkStatus(b *testing.B) {
	for _, tool := range benchTools(b) {
		b.Run(tool.name, func(b *testing.B) {
			pidfile := filepath.Join(b.TempDir(), "bench.pid")
			runTimed(b, tool.start(pidfile, "/bin/sleep", "1000"))
			h.Watch(b, h.ReadPID(b, pidfile))
			for b.Loop() {
				runTimed(b, tool.status(pidfile))
			}
			b.StopTimer()
			runTimed(b, tool.stop(pidfile))
		})
	}
}

// BenchmarkStop times stop of a daemon that exits at once on TERM, until
// stop returns with the daemon gone. daemonctl is woken by the pidfd;
// start-stop-daemon polls every 20 ms.
func BenchmarkStop(b *testing.B) {
	for _, tool := range benchTools(b) {
		b.Run(tool.name, func(b *testing.B) {
			dir := b.TempDir()
			pidfile := filepath.Join(dir, "bench.pid")
			for b.Loop() {
				b.StopTimer()
				ready := filepath.Join(dir, "ready")
				os.Remove(ready)
				runTimed(b, tool.start(pidfile, h.TestDaemon, "-ready-file", ready))
				pidfd := h.Watch(b, h.ReadPID(b, pidfile))
				if !h.WaitFile(b, ready, 10*time.Second) {
					b.Fatal("daemon not ready")
				}
				b.StartTimer()
				runTimed(b, tool.stop(pidfile))
				b.StopTimer()
				if !h.Exited(pidfd) {
					b.Fatal("stop returned before the daemon exited")
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkNotifyReady measures how long "start --notify" takes to return
// after the daemon sent READY=1 (reported as ready-to-exit-µs).
func BenchmarkNotifyReady(b *testing.B) {
	dir := b.TempDir()
	pidfile, stamp := filepath.Join(dir, "bench.pid"), filepath.Join(dir, "stamp")
	var total time.Duration
	for b.Loop() {
		os.Remove(stamp)
		runTimed(b, exec.Command(h.Daemonctl, "start", "-q", "--notify", "-p", pidfile, "--", h.TestDaemon, "-notify-after", "1ms", "-notify-stamp-file", stamp))
		returned := time.Now()
		b.StopTimer()
		h.Watch(b, h.ReadPID(b, pidfile))
		raw, err := os.ReadFile(stamp)
		if err != nil {
			b.Fatal(err)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
		if err != nil {
			b.Fatalf("stamp %q: %v", raw, err)
		}
		total += returned.Sub(time.Unix(0, ns))
		runTimed(b, exec.Command(h.Daemonctl, "stop", "-q", "-p", pidfile))
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "ready-to-exit-µs")
}

// BenchmarkSSDStop times start-stop-daemon --stop --retry TERM/5 of a
// daemon that exits at once on TERM, until it returns: dpkg's
// start-stop-daemon (which looks every 20 ms or more) and daemonctl's
// (woken by the pidfd), on the same daemon started the same way by each:
// in the foreground under --background --make-pidfile, and detaching
// itself with its own pidfile. daemonctl's returns once the daemon has
// exited; dpkg's, matching --exec, as soon as /proc/PID/exe is gone,
// which happens while the daemon is still exiting (its descriptors, and
// sockets, may still be open): "early" counts those returns per stop.
// "notice-µs" is the time from the daemon's taking TERM (its -term-file
// stamp; it exits right after) to the stop's return: the wait alone,
// without the tool's own start, where a busy machine makes a Go
// program's start cost far more than a C program's.
func BenchmarkSSDStop(b *testing.B) {
	if _, err := os.Stat(ssdPath); err != nil {
		b.Skipf("%s is not installed", ssdPath)
	}
	for _, daemon := range []string{"foreground", "forking"} {
		for _, tool := range []struct{ name, path string }{{"dpkg", ssdPath}, {"daemonctl", h.StartStopDaemon}} {
			b.Run(daemon+"/"+tool.name, func(b *testing.B) {
				dir := b.TempDir()
				pidfile, ready := filepath.Join(dir, "bench.pid"), filepath.Join(dir, "ready")
				term := filepath.Join(dir, "term")
				start := []string{"--start", "--quiet", "--background", "--make-pidfile", "--pidfile", pidfile, "--exec", h.TestDaemon, "--", "-ready-file", ready, "-term-file", term}
				if daemon == "forking" {
					start = []string{"--start", "--quiet", "--pidfile", pidfile, "--exec", h.TestDaemon, "--", "-daemonize", "-pidfile", pidfile, "-ready-file", ready, "-term-file", term}
				}
				stop := []string{"--stop", "--quiet", "--pidfile", pidfile, "--exec", h.TestDaemon, "--retry", "TERM/5"}
				early := 0
				var notice time.Duration
				for b.Loop() {
					b.StopTimer()
					os.Remove(ready)
					os.Remove(pidfile)
					os.Remove(term)
					runTimed(b, exec.Command(tool.path, start...))
					if !h.WaitFile(b, ready, 10*time.Second) {
						b.Fatal("daemon not ready")
					}
					pidfd := h.Watch(b, h.ReadPID(b, pidfile))
					b.StartTimer()
					runTimed(b, exec.Command(tool.path, stop...))
					returned := time.Now()
					b.StopTimer()
					raw, err := os.ReadFile(term)
					var ns int64
					if _, serr := fmt.Sscanf(string(raw), "TERM %d", &ns); err != nil || serr != nil {
						b.Fatalf("term stamp %q: %v %v", raw, err, serr)
					}
					notice += returned.Sub(time.Unix(0, ns))
					if !h.Exited(pidfd) {
						if tool.path == h.StartStopDaemon {
							b.Fatal("stop returned before the daemon exited")
						}
						early++
						h.WaitExit(pidfd, 10*time.Second)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(early)/float64(b.N), "early/op")
				b.ReportMetric(float64(notice.Microseconds())/float64(b.N), "notice-µs")
			})
		}
	}
}
