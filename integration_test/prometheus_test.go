//go:build linux

package integration_test

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// promSample is the value of the sample of family name whose service
// label is service and whose other labels include want.
func promSample(t *testing.T, text, name, service string, want ...string) (float64, bool) {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("status --format prometheus does not parse: %v\n%s", err, text)
	}
	f := fams[name]
	for _, m := range f.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		match := l["service"] == service
		for i := 0; i+1 < len(want); i += 2 {
			match = match && l[want[i]] == want[i+1]
		}
		if !match {
			continue
		}
		if f.GetType() == dto.MetricType_COUNTER {
			return m.GetCounter().GetValue(), true
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

// TestStatusPrometheusSupervised: after a respawn, the metrics say
// respawns 1, the last exit's signal, and the program's start and RSS;
// the output parses with Prometheus's own parser.
func TestStatusPrometheusSupervised(t *testing.T) {
	s := startSupervised(t, []string{"--respawn-delay", "10ms"})
	s.waitStarts(t, 1)
	if err := unix.PidfdSendSignal(s.programFD, unix.SIGKILL, nil, 0); err != nil {
		t.Fatal(err)
	}
	next := s.waitStarts(t, 2)[1]
	s.waitStatus(t, "running the respawned program", func(st supStatus) bool { return st.PID == next && st.State == "running" })
	r := h.Run(t, "status", "--format", "prometheus", "-p", s.pidfile)
	h.Expect(t, r, 0)
	out := r.Stdout()
	for _, c := range []struct {
		name string
		want float64
		more []string
	}{
		{"daemonctl_up", 1, nil},
		{"daemonctl_state", 1, []string{"state", "running"}},
		{"daemonctl_state", 0, []string{"state", "backoff"}},
		{"daemonctl_respawns_total", 1, nil},
		{"daemonctl_last_exit_time_seconds", -1, []string{"signal", "KILL", "code", ""}},
		{"daemonctl_start_time_seconds", -1, nil},
		{"daemonctl_rss_bytes", -1, nil},
	} {
		got, ok := promSample(t, out, c.name, "web", append([]string{"pidfile", s.pidfile}, c.more...)...)
		if !ok || c.want >= 0 && got != c.want || c.want < 0 && got <= 0 {
			t.Errorf("%s%v = %v (found %v), want %v (-1: positive)", c.name, c.more, got, ok, c.want)
		}
	}
}

// TestStatusPrometheusAll: every defined service, a stopped one among
// them (exit 0 all the same: the state is in the metrics), a service not
// supervised with respawns 0.
func TestStatusPrometheusAll(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "db", "")
	s.defineDaemon(t, "sup", "supervise = true\n")
	s.started(t, s.run(t, "start", "web"), "web")
	s.started(t, s.run(t, "start", "sup"), "sup")
	t.Cleanup(func() { s.run(t, "stop", "sup") })
	r := s.run(t, "status", "--format", "prometheus")
	h.Expect(t, r, 0)
	for _, c := range []struct {
		service, name string
		want          float64
		more          []string
	}{
		{"web", "daemonctl_up", 1, nil},
		{"web", "daemonctl_respawns_total", 0, nil},
		{"sup", "daemonctl_up", 1, nil},
		{"sup", "daemonctl_respawns_total", 0, nil},
		{"sup", "daemonctl_log_write_failures_total", 0, nil},
		{"db", "daemonctl_up", 0, nil},
		{"db", "daemonctl_state", 1, []string{"state", "stopped"}},
	} {
		got, ok := promSample(t, r.Stdout(), c.name, c.service, c.more...)
		if !ok || got != c.want {
			t.Errorf("%s{service=%q}%v = %v (found %v), want %v", c.name, c.service, c.more, got, ok, c.want)
		}
	}
	if _, ok := promSample(t, r.Stdout(), "daemonctl_log_write_failures_total", "web"); ok {
		t.Error("a service not supervised has daemonctl_log_write_failures_total")
	}
	r = s.run(t, "status", "--format", "prometheus", "db")
	h.Expect(t, r, 0)
	if _, ok := promSample(t, r.Stdout(), "daemonctl_up", "web"); ok {
		t.Errorf("status --format prometheus db printed web: %q", r.Stdout())
	}
}

// TestStatusPrometheusHostileName: a --name with a quote, a backslash and
// a newline stays one label value that parses back to itself.
func TestStatusPrometheusHostileName(t *testing.T) {
	pidfile := t.TempDir() + "/web.pid"
	h.StartDaemon(t, pidfile, nil)
	name := "we\"b\\\nx} 1\ndaemonctl_up{service=\"forged\"} 1"
	r := h.Run(t, "status", "--format", "prometheus", "-p", pidfile, "--name", name)
	h.Expect(t, r, 0)
	if got, ok := promSample(t, r.Stdout(), "daemonctl_up", name); !ok || got != 1 {
		t.Fatalf("daemonctl_up for the hostile name = %v (found %v)\n%s", got, ok, r.Stdout())
	}
	if _, ok := promSample(t, r.Stdout(), "daemonctl_up", "forged"); ok {
		t.Fatalf("the name forged a sample:\n%s", r.Stdout())
	}
	for _, bad := range [][]string{{"--format", "xml"}, {"--format", "prometheus", "--json"}} {
		r := h.Run(t, append(append([]string{"status"}, bad...), "-p", pidfile)...)
		h.Expect(t, r, 4) // status's usage errors are "unknown"
		if !strings.Contains(r.Stderr(), "--") || strings.Count(r.Stderr(), "\n") != 1 {
			t.Errorf("status %v: %q, want one line", bad, r.Stderr())
		}
	}
}
