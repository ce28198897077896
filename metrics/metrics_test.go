package metrics

import (
	"math"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/daemonctl/daemonctl/controller"
)

// parse parses text as node_exporter's textfile collector does (the
// reference parser, with the legacy metric name rules, the strictest).
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the output does not parse: %v\n%s", err, text)
	}
	return fams
}

func labels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// value is the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		l := labels(m)
		match := true
		for k, v := range want {
			match = match && l[k] == v
		}
		if !match {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		}
		t.Fatalf("%s has type %v", name, f.GetType())
	}
	return 0, false
}

// TestWriteParses: a supervised service with a history, a plain running
// one with a hostile name and path (quote, backslash, newline, a byte
// that is not UTF-8), and a stopped one, through the reference parser.
func TestWriteParses(t *testing.T) {
	started := time.Unix(1700000000, 250e6)
	exited := time.Unix(1700000100, 0)
	two := 2
	hostile := "we\"b\\x\ny\xff"
	reports := []controller.Report{
		{Name: "web", PIDFile: "/run/web.pid", State: controller.StateRunning, PID: 42, Started: &started, RSS: 1 << 20, Supervisor: 41, Respawns: &two,
			LastExit: &controller.ExitInfo{Signal: "SEGV", At: exited, Text: "killed by SIGSEGV"}, LogFailures: 3},
		{Name: hostile, PIDFile: "/run/" + hostile + ".pid", State: controller.StateRunning, PID: 43, Started: &started, RSS: 4096},
		{Name: "db", PIDFile: "/run/db.pid", State: controller.StateStopped},
		{Name: "crashy", PIDFile: "/run/crashy.pid", State: controller.StateFailed, Supervisor: 44, Respawns: &two,
			LastExit: &controller.ExitInfo{Code: 1, At: exited, Cause: "watchdog"}},
	}
	var b strings.Builder
	if err := Write(&b, reports); err != nil {
		t.Fatal(err)
	}
	fams := parse(t, b.String())
	wantHostile := strings.ToValidUTF8(hostile, "\uFFFD")
	web := map[string]string{"service": "web", "pidfile": "/run/web.pid"}
	bad := map[string]string{"service": wantHostile, "pidfile": "/run/" + wantHostile + ".pid"}
	db := map[string]string{"service": "db"}
	crashy := map[string]string{"service": "crashy"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"daemonctl_up", web, 1},
		{"daemonctl_up", bad, 1},
		{"daemonctl_up", db, 0},
		{"daemonctl_up", crashy, 0},
		{"daemonctl_state", merge(web, "state", "running"), 1},
		{"daemonctl_state", merge(web, "state", "stopped"), 0},
		{"daemonctl_state", merge(db, "state", "stopped"), 1},
		{"daemonctl_state", merge(crashy, "state", "failed"), 1},
		{"daemonctl_start_time_seconds", web, 1700000000.25},
		{"daemonctl_start_time_seconds", bad, 1700000000.25},
		{"daemonctl_respawns_total", web, 2},
		{"daemonctl_respawns_total", bad, 0},
		{"daemonctl_respawns_total", db, 0},
		{"daemonctl_last_exit_time_seconds", merge(web, "signal", "SEGV", "code", ""), 1700000100},
		{"daemonctl_last_exit_time_seconds", merge(crashy, "code", "1", "signal", "", "cause", "watchdog"), 1700000100},
		{"daemonctl_rss_bytes", web, 1 << 20},
		{"daemonctl_log_write_failures_total", web, 3},
		{"daemonctl_watchdog_misses_total", crashy, 0},
	} {
		got, ok := value(t, fams, c.name, c.labels)
		if !ok || math.Abs(got-c.want) > 1e-6 {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// Values a service does not have are left out, not made up.
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"daemonctl_start_time_seconds", db},
		{"daemonctl_rss_bytes", db},
		{"daemonctl_last_exit_time_seconds", bad},
		{"daemonctl_log_write_failures_total", bad},
	} {
		if got, ok := value(t, fams, c.name, c.labels); ok {
			t.Errorf("%s%v = %v, want no sample", c.name, c.labels, got)
		}
	}
	// One state per service, and HELP and TYPE for every family.
	for _, svc := range []map[string]string{web, bad, db, crashy} {
		sum := 0.0
		for _, m := range fams["daemonctl_state"].GetMetric() {
			l := labels(m)
			if l["service"] == svc["service"] {
				sum += m.GetGauge().GetValue()
			}
		}
		if sum != 1 {
			t.Errorf("service %q is in %v states, want 1", svc["service"], sum)
		}
	}
	for name, f := range fams {
		if f.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
	}
	if len(fams) != len(families()) {
		t.Errorf("%d families parsed, want %d", len(fams), len(families()))
	}
}

func merge(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestWriteEmpty: no services, no output (an empty file is valid).
func TestWriteEmpty(t *testing.T) {
	var b strings.Builder
	if err := Write(&b, nil); err != nil || b.Len() != 0 {
		t.Fatalf("Write(nil) = %q, %v", b.String(), err)
	}
}
