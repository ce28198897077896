// Package metrics renders services' status in the Prometheus text
// exposition format (version 0.0.4), for node_exporter's textfile
// collector: operators who run many hosts already collect that, so
// daemonctl needs no fleet layer of its own.
package metrics

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/daemonctl/daemonctl/controller"
)

// States are the values of daemonctl_state's state label, one a line for
// every service (one-hot, as node_exporter's systemd unit state): a
// query can then count services by state without knowing them all.
var states = []controller.State{
	controller.StateRunning, controller.StateStarting, controller.StateBackoff,
	controller.StateStopping, controller.StateStopped, controller.StateFailed,
	controller.StateDead, controller.StateOrphaned, controller.StateUnverified,
	controller.StateUnknown, controller.StateInvalid,
}

// family is one metric: its samples of every service are written
// together, as the format requires.
type family struct {
	name, kind, help string
	// samples appends r's samples (labels after service and pidfile,
	// value); none when r has no such value.
	samples func(r *controller.Report, add func(extra, value string))
}

func families() []family {
	return []family{
		{"daemonctl_up", "gauge", "Whether the service runs, and is ready when supervised (1), or not (0).", func(r *controller.Report, add func(string, string)) {
			add("", bit(r.State == controller.StateRunning))
		}},
		{"daemonctl_state", "gauge", "The service's state: 1 for the state it is in, 0 for the others.", func(r *controller.Report, add func(string, string)) {
			for _, s := range states {
				add(`,state="`+string(s)+`"`, bit(r.State == s))
			}
		}},
		{"daemonctl_start_time_seconds", "gauge", "When the service's program started, in seconds since the Unix epoch.", func(r *controller.Report, add func(string, string)) {
			if r.Started != nil && r.PID > 0 {
				add("", seconds(r.Started.UnixNano()))
			}
		}},
		{"daemonctl_respawns_total", "counter", "How many times the supervisor respawned the program since it started (0 when not supervised).", func(r *controller.Report, add func(string, string)) {
			n := 0
			if r.Respawns != nil {
				n = *r.Respawns
			}
			add("", strconv.Itoa(n))
		}},
		{"daemonctl_last_exit_time_seconds", "gauge", "When the supervised program last ended, in seconds since the Unix epoch; code is its exit status and signal the signal that killed it (empty when none), cause why the supervisor ended it (watchdog, notready, spawn; empty when it ended on its own).", func(r *controller.Report, add func(string, string)) {
			if e := r.LastExit; e != nil {
				code := strconv.Itoa(e.Code)
				if e.Signal != "" {
					code = ""
				}
				add(`,code="`+code+`",signal="`+escape(e.Signal)+`",cause="`+escape(e.Cause)+`"`, seconds(e.At.UnixNano()))
			}
		}},
		{"daemonctl_rss_bytes", "gauge", "Resident memory of the service's program, in bytes, while it runs.", func(r *controller.Report, add func(string, string)) {
			if r.RSS > 0 {
				add("", strconv.FormatInt(r.RSS, 10))
			}
		}},
		{"daemonctl_log_write_failures_total", "counter", "Writes to the supervised service's log files that failed (disk full, directory removed).", func(r *controller.Report, add func(string, string)) {
			if r.Supervisor > 0 || r.Respawns != nil {
				add("", strconv.Itoa(r.LogFailures))
			}
		}},
		{"daemonctl_watchdog_misses_total", "counter", "Watchdog periods the supervised program let pass without WATCHDOG=1.", func(r *controller.Report, add func(string, string)) {
			if r.Supervisor > 0 || r.Respawns != nil {
				add("", strconv.Itoa(r.WatchdogMisses))
			}
		}},
	}
}

// Write writes the metrics of reports (each service's status) to w. A
// service's labels are service (its name) and pidfile; every family has
// its HELP and TYPE lines, and families with no sample are left out.
// It returns w's error.
func Write(w io.Writer, reports []controller.Report) error {
	bw := bufio.NewWriter(w)
	for _, f := range families() {
		head := false
		for i := range reports {
			r := &reports[i]
			labels := `service="` + escape(r.Name) + `",pidfile="` + escape(r.PIDFile) + `"`
			f.samples(r, func(extra, value string) {
				if !head {
					bw.WriteString("# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.kind + "\n")
					head = true
				}
				bw.WriteString(f.name + "{" + labels + extra + "} " + value + "\n")
			})
		}
	}
	return bw.Flush()
}

// escape makes s a label value: backslash, double quote and newline
// escaped as the format says, and bytes that are not UTF-8 (a pidfile's
// path may hold any) replaced by U+FFFD, which a label must be.
func escape(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// seconds renders nanoseconds since the epoch as seconds, to the
// millisecond.
func seconds(ns int64) string {
	return strconv.FormatFloat(float64(ns/1e6)/1e3, 'f', -1, 64)
}
