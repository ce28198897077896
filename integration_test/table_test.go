package integration_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// This file tests `daemonctl status` without a service: the table of every
// defined service, and its JSON; and `daemonctl check`.

// tableRow is one row of the JSON table.
type tableRow struct {
	Name    string   `json:"name"`
	PIDFile string   `json:"pidfile"`
	State   string   `json:"state"`
	PID     int      `json:"pid"`
	Started string   `json:"started"`
	Command []string `json:"command"`
	RSS     int64    `json:"rss"`
	Message string   `json:"message"`
}

func tableJSON(t *testing.T, s *services) ([]tableRow, h.Result) {
	t.Helper()
	r := s.run(t, "status", "--json")
	var rows []tableRow
	if err := json.Unmarshal([]byte(r.Stdout()), &rows); err != nil {
		t.Fatalf("status --json printed %q: %v", r.Stdout(), err)
	}
	return rows, r
}

// TestTableStates: the table lists every service, and its exit code is
// that of the worst: 4 unknown (a broken definition), then 1 dead, then 3
// stopped, else 0.
func TestTableStates(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "alpha", "")
	pid, _ := s.started(t, s.run(t, "start", "alpha"), "alpha")

	r := s.run(t, "status")
	h.Expect(t, r, 0)
	lines := strings.Split(strings.TrimSuffix(r.Stdout(), "\n"), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^NAME +STATE +PID +UPTIME +RSS +COMMAND$`).MatchString(lines[0]) {
		t.Fatalf("table %q", r.Stdout())
	}
	row := regexp.MustCompile(`^alpha +running +(\d+) +(\d+s|\d+m\d+s) +([\d.]+[KMG]) +(.*)$`).FindStringSubmatch(lines[1])
	if row == nil || row[1] != itoa(pid) || !strings.HasPrefix(row[4], h.TestDaemon+" -ready-file ") {
		t.Fatalf("row %q", lines[1])
	}
	if strings.Contains(r.Stdout(), "\x1b[") {
		t.Fatalf("colour on a pipe: %q", r.Stdout())
	}

	s.defineDaemon(t, "bravo", "")
	h.Expect(t, s.run(t, "status"), 3)
	h.Expect(t, s.run(t, "status", "--all"), 3)

	s.defineDaemon(t, "charlie", "")
	_, fd := s.started(t, s.run(t, "start", "charlie"), "charlie")
	if err := unixKill(fd); err != nil {
		t.Fatal(err)
	}
	if !h.WaitExit(fd, eventTimeout) {
		t.Fatal("charlie survived SIGKILL")
	}
	r = s.run(t, "status")
	h.Expect(t, r, 1)
	if !regexp.MustCompile(`\ncharlie +dead +\d+ +- +- +-\n`).MatchString(r.Stdout()) {
		t.Fatalf("dead row missing: %q", r.Stdout())
	}

	bad := s.define(t, "delta", "program = 42\n")
	r = s.run(t, "status")
	h.Expect(t, r, 4)
	if !regexp.MustCompile(`\ndelta +invalid +- +- +- +-\n`).MatchString(r.Stdout()) {
		t.Fatalf("invalid row missing: %q", r.Stdout())
	}
	if r.Stderr() != bad+":1: program: expected a string (an absolute path, or a name looked up on PATH), not a TOML integer\n" {
		t.Fatalf("stderr %q", r.Stderr())
	}
	names := regexp.MustCompile(`(?m)^(\w+) `).FindAllStringSubmatch(r.Stdout(), -1)
	var got []string
	for _, n := range names {
		got = append(got, n[1])
	}
	if strings.Join(got, " ") != "NAME alpha bravo charlie delta" {
		t.Fatalf("rows %v, want them sorted by name", got)
	}

	h.Expect(t, s.run(t, "stop", "--all"), 6)
	h.Expect(t, s.run(t, "status", "-q"), 4)
}

// TestTableJSON: --json is an array of the objects single status prints,
// with rss for a running service.
func TestTableJSON(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "idle", "")
	pid, _ := s.started(t, s.run(t, "start", "web"), "web")
	rows, r := tableJSON(t, s)
	h.Expect(t, r, 3)
	if len(rows) != 2 || rows[0].Name != "idle" || rows[1].Name != "web" {
		t.Fatalf("rows %+v", rows)
	}
	web := rows[1]
	if web.State != "running" || web.PID != pid || web.PIDFile != s.pidfile("web") || web.RSS <= 0 || web.Started == "" || len(web.Command) == 0 || web.Command[0] != h.TestDaemon {
		t.Fatalf("web %+v", web)
	}
	if rows[0].State != "stopped" || rows[0].PID != 0 || rows[0].RSS != 0 {
		t.Fatalf("idle %+v", rows[0])
	}
	// The same object as the single status's.
	var single tableRow
	r = s.run(t, "status", "--json", "web")
	h.Expect(t, r, 0)
	if err := json.Unmarshal([]byte(r.Stdout()), &single); err != nil {
		t.Fatal(err)
	}
	if single.Name != web.Name || single.PID != web.PID || single.State != web.State || single.Started != web.Started || single.PIDFile != web.PIDFile {
		t.Fatalf("single %+v, table %+v", single, web)
	}

	bad := s.define(t, "zulu", "program = \"/bin/true\"\nbogus = 1\n")
	rows, r = tableJSON(t, s)
	h.Expect(t, r, 4)
	if z := rows[len(rows)-1]; z.Name != "zulu" || z.State != "invalid" || !strings.HasPrefix(z.Message, bad+":2: unknown key \"bogus\"") {
		t.Fatalf("zulu %+v", z)
	}
	if r.Stderr() != "" {
		t.Fatalf("--json wrote %q to stderr", r.Stderr())
	}
	h.Expect(t, s.run(t, "stop", "web"), 0)
}

// TestTableEmpty: no definitions is no services: nothing runs that should.
func TestTableEmpty(t *testing.T) {
	s := newServices(t)
	r := s.run(t, "status")
	h.Expect(t, r, 0)
	assertOneLineError(t, r, "no services defined in "+s.dir)
	rows, r := tableJSON(t, s)
	h.Expect(t, r, 0)
	if len(rows) != 0 || strings.TrimSpace(r.Stdout()) != "[]" {
		t.Fatalf("--json printed %q", r.Stdout())
	}
	r = h.RunEnv(t, []string{"DAEMONCTL_CONFIG_DIR=" + filepath.Join(s.dir, "none")}, "status")
	h.Expect(t, r, 0)
}

// TestTableColour: on a terminal the STATE column is coloured, unless
// NO_COLOR is set, and no line is wider than the terminal.
func TestTableColour(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "idle", "")
	_, _ = s.started(t, s.run(t, "start", "web"), "web")

	r, tty := runOnTerminal(t, "1", s.env, "status")
	h.Expect(t, r, 3)
	if !strings.Contains(tty, "\x1b[32mrunning\x1b[0m") || !strings.Contains(tty, "\x1b[2mstopped\x1b[0m") {
		t.Fatalf("no colours on a terminal: %q", tty)
	}
	for _, line := range strings.Split(strings.TrimRight(tty, "\r\n"), "\r\n") {
		plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(line, "")
		if n := utf8.RuneCountInString(plain); n >= 80 {
			t.Fatalf("line of %d columns on an 80-column terminal: %q", n, plain)
		}
	}
	if !strings.Contains(tty, "…") {
		t.Fatalf("the long COMMAND was not cut: %q", tty)
	}

	r, tty = runOnTerminal(t, "1", append(s.env, "NO_COLOR=1"), "status")
	h.Expect(t, r, 3)
	if strings.Contains(tty, "\x1b[") || !strings.Contains(tty, "running") {
		t.Fatalf("NO_COLOR, yet %q", tty)
	}
	h.Expect(t, s.run(t, "stop", "web"), 0)
}

// TestCheckDefinitions: check validates without starting anything, one
// line per problem; 0 when all is well, 5 when only programs are missing,
// 6 otherwise.
func TestCheckDefinitions(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "api", "")
	r := s.run(t, "check")
	h.Expect(t, r, 0)
	assertStdout(t, r, s.dir+": 2 services, all ok")
	assertStdout(t, s.run(t, "check", "web"), "web: ok ("+filepath.Join(s.dir, "web.toml")+")")

	missing := s.define(t, "gone", fmt.Sprintf("program = \"/nonexistent/gone\"\npidfile = %q\n", s.pidfile("gone")))
	r = s.run(t, "check")
	h.Expect(t, r, 5)
	assertOneLineError(t, r, missing+":1: program: /nonexistent/gone does not exist")
	h.Expect(t, s.run(t, "check", "web"), 0)

	typo := s.define(t, "typo", fmt.Sprintf("program = %q\npidfile = %q\nusr = \"root\"\n", h.TestDaemon, s.pidfile("typo")))
	r = s.run(t, "check")
	h.Expect(t, r, 6)
	if r.Stderr() != missing+":1: program: /nonexistent/gone does not exist: install it, or fix the path\n"+typo+":3: unknown key \"usr\" (did you mean \"user\"?)\n" {
		t.Fatalf("stderr %q", r.Stderr())
	}
	if r.Stdout() != "" {
		t.Fatalf("stdout %q", r.Stdout())
	}
	if entries, _ := os.ReadDir(s.runDir); len(entries) != 0 {
		t.Fatalf("check left %v", entries)
	}
}

// TestTableEscapes: a daemon whose command line holds terminal escapes,
// newlines, C1 controls and bytes that are not UTF-8 (which bash's exec
// -a and printf put there, past daemonctl's own argument passing) cannot
// reach the operator's terminal through status: the table shows them
// escaped, one row per service, on a pipe and on a terminal; --json
// escapes DEL and C1 too, and still decodes to the daemon's arguments.
func TestTableEscapes(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("needs bash, for exec -a")
	}
	s := newServices(t)
	script := `exec -a "$(printf '/bin/x\377\033]0;pwned\007')" "$0" -ready-file "$1" ` +
		`-stdout-line "$(printf '\033[2J\033[H')" -stdout-line "$(printf '\nforged  running  1  1s  1K  /bin/forged')" -stdout-line "$(printf '\302\23331m\177')"`
	s.define(t, "evil", fmt.Sprintf("program = \"/bin/bash\"\nargs = [\"-c\", %q, %q, %q]\npidfile = %q\n", script, h.TestDaemon, s.ready("evil"), s.pidfile("evil")))
	pid, _ := s.started(t, s.run(t, "start", "evil"), "evil")
	want := `/bin/x\xff\x1b]0;pwned\x07 -ready-file ` + s.ready("evil") + ` -stdout-line \x1b[2J\x1b[H -stdout-line \nforged  running  1  1s  1K  /bin/forged -stdout-line \u009b31m\x7f`
	clean := func(t *testing.T, out string) {
		t.Helper()
		if !utf8.ValidString(out) {
			t.Fatalf("output is not UTF-8: %q", out)
		}
		for _, r := range out {
			if r < 0x20 && r != '\n' && r != '\r' || r >= 0x7f && r <= 0x9f {
				t.Fatalf("%U reached the output: %q", r, out)
			}
		}
	}

	r := s.run(t, "status")
	h.Expect(t, r, 0)
	clean(t, r.Stdout())
	lines := strings.Split(strings.TrimSuffix(r.Stdout(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "evil ") || !strings.HasSuffix(lines[1], "  "+want) {
		t.Fatalf("table %q, want one row ending in %q", r.Stdout(), want)
	}

	r, tty := runOnTerminal(t, "1", s.env, "status")
	h.Expect(t, r, 0)
	colours := regexp.MustCompile("\x1b\\[[0-9;]*m")
	clean(t, colours.ReplaceAllString(tty, ""))
	if rows := strings.Split(strings.TrimRight(tty, "\r\n"), "\r\n"); len(rows) != 2 || !strings.Contains(rows[1], `/bin/x\xff\x1b]0;pwned\x07 -ready-file`) {
		t.Fatalf("terminal showed %q", tty)
	}

	r = s.run(t, "status", "--json")
	h.Expect(t, r, 0)
	if strings.ContainsAny(r.Stdout(), "\x1b\x07\x7f\u009b") {
		t.Fatalf("--json printed raw controls: %q", r.Stdout())
	}
	var rows []tableRow
	if err := json.Unmarshal([]byte(r.Stdout()), &rows); err != nil {
		t.Fatal(err)
	}
	// JSON cannot hold the \xff byte (encoding/json makes it U+FFFD); the
	// rest is exactly what the daemon was given.
	if len(rows) != 1 || rows[0].PID != pid || len(rows[0].Command) != 9 || rows[0].Command[0] != "/bin/x\ufffd\x1b]0;pwned\a" ||
		rows[0].Command[8] != "\u009b31m\x7f" || rows[0].Command[6] != "\nforged  running  1  1s  1K  /bin/forged" {
		t.Fatalf("--json command %q", rows[0].Command)
	}
	h.Expect(t, s.run(t, "stop", "evil"), 0)
}
