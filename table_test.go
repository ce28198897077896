package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/service"
)

func TestWriteTable(t *testing.T) {
	started := time.Now().Add(-200 * time.Second)
	rows := []tableRow{
		{Report: controller.Report{Name: "api", State: controller.StateRunning, PID: 4242, Started: &started, Uptime: 200, RSS: 12_900_000, Command: []string{"/usr/bin/api", "--listen", ":9000"}}},
		{Report: controller.Report{Name: "batch-long-name", State: controller.StateStopped}},
		{Report: controller.Report{Name: "web", State: controller.StateDead, PID: 7}},
	}
	var b strings.Builder
	writeTable(&b, rows, false, 0)
	want := `NAME             STATE     PID  UPTIME    RSS  COMMAND
api              running  4242  3m20s   12.3M  /usr/bin/api --listen :9000
batch-long-name  stopped     -  -           -  -
web              dead        7  -           -  -
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	writeTable(&b, rows, true, 60)
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[1], "\x1b[32mrunning\x1b[0m  4242") || !strings.Contains(lines[3], "\x1b[31mdead\x1b[0m   ") {
		t.Fatalf("colours:\n%q", b.String())
	}
	plain := strings.NewReplacer("\x1b[32m", "", "\x1b[2m", "", "\x1b[31m", "", "\x1b[0m", "").Replace(lines[1])
	if len([]rune(plain)) != 59 || !strings.HasSuffix(plain, "…") {
		t.Fatalf("cut to 60 columns: %q (%d)", plain, len([]rune(plain)))
	}
}

// TestWriteTableRespawns: a supervised service adds a RESPAWNS column,
// "-" for the services not supervised; without one there is none.
func TestWriteTableRespawns(t *testing.T) {
	started := time.Now().Add(-200 * time.Second)
	three := 3
	rows := []tableRow{
		{Report: controller.Report{Name: "api", State: controller.StateRunning, PID: 4242, Started: &started, Uptime: 200, RSS: 12_900_000, Supervisor: 4241, Respawns: &three, Command: []string{"/usr/bin/api"}}},
		{Report: controller.Report{Name: "db", State: controller.StateStopped}},
	}
	var b strings.Builder
	writeTable(&b, rows, false, 0)
	want := `NAME  STATE     PID  UPTIME  RESPAWNS    RSS  COMMAND
api   running  4242  3m20s          3  12.3M  /usr/bin/api
db    stopped     -  -              -      -  -
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	writeTable(&b, rows[1:], false, 0)
	if strings.Contains(b.String(), "RESPAWNS") {
		t.Fatalf("a table without a supervised service has RESPAWNS:\n%s", b.String())
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{4096: "4K", 1000: "1K", 1 << 20: "1.0M", 12_900_000: "12.3M", 3 << 30: "3.0G"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestWorstStatus: the table's exit code is unknown over dead over
// stopped over running.
func TestWorstStatus(t *testing.T) {
	_, stopped := controller.Status("/nonexistent/dir/x.pid", "x")
	dead := fmt.Errorf("dead: %w", controller.ErrDead)
	unknown := &service.Problem{Msg: "bad", Kind: service.ErrNotConfigured}
	row := func(err error) tableRow { return tableRow{err: err} }
	for _, c := range []struct {
		rows []tableRow
		want int
	}{
		{[]tableRow{row(nil), row(nil)}, 0},
		{[]tableRow{row(nil), row(stopped)}, 3},
		{[]tableRow{row(stopped), row(dead), row(stopped)}, 1},
		{[]tableRow{row(unknown), row(dead), row(stopped)}, 4},
		{[]tableRow{row(stopped), row(dead), row(unknown)}, 4},
	} {
		if got := exitCode("status", worstStatus(c.rows)); got != c.want {
			t.Errorf("rows %v: exit %d, want %d", c.rows, got, c.want)
		}
	}
}

// TestWriteTableEscapes: a daemon's arguments reach the table escaped,
// one row each, and a cut never splits a character.
func TestWriteTableEscapes(t *testing.T) {
	rows := []tableRow{
		{Report: controller.Report{Name: "evil", State: controller.StateRunning, PID: 7, Command: []string{"/bin/evil\x1b]0;pwned\x07", "\x1b[2J", "\nweb  running  1  -  -  /bin/forged", "\u009b31m\xff"}}},
		{Report: controller.Report{Name: "wide", State: controller.StateRunning, PID: 8, Command: []string{"/bin/日本語日本語日本語日本語日本語日本語日本語"}}},
	}
	var b strings.Builder
	writeTable(&b, rows, false, 0)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3: %q", len(lines), b.String())
	}
	want := `/bin/evil\x1b]0;pwned\x07 \x1b[2J \nweb  running  1  -  -  /bin/forged \u009b31m\xff`
	if !strings.HasSuffix(lines[1], "  "+want) {
		t.Fatalf("row %q, want COMMAND %q", lines[1], want)
	}
	b.Reset()
	writeTable(&b, rows, false, 50)
	if !utf8.ValidString(b.String()) {
		t.Fatalf("cut mid-character: %q", b.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n >= 50 {
			t.Fatalf("line of %d characters on 50 columns: %q", n, line)
		}
	}
}
