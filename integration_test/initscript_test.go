package integration_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// This file tests `daemonctl init-script NAME` by running the script it
// generates, with /bin/sh, through every LSB action.

// writeInitScript generates the init script of name into a file.
func writeInitScript(t *testing.T, s *services, name string, extra ...string) string {
	t.Helper()
	r := s.run(t, append(append([]string{"init-script"}, extra...), name)...)
	h.Expect(t, r, 0)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(r.Stdout()), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// runScript runs an init script with one action, as init would: through
// the shell, with a minimal environment (no DAEMONCTL_CONFIG_DIR).
func runScript(t *testing.T, script string, args ...string) h.Result {
	t.Helper()
	cmd := exec.Command("/bin/sh", append([]string{script}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	r := h.RunCmd(t, cmd, nil, append([]string{"[init script]"}, args...))
	return r
}

// TestInitScriptSyntax: the script parses (sh -n) and carries the LSB
// header, filled from the definition.
func TestInitScriptSyntax(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "[init]\nrequired-start = \"$network $remote_fs\"\ndefault-start = \"3 5\"\n")
	script := writeInitScript(t, s, "web")
	if out, err := h.Output(exec.Command("/bin/sh", "-n", script)); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	text := string(readFile(t, script))
	for _, want := range []string{
		"#!/bin/sh\n### BEGIN INIT INFO\n",
		"\n# Provides:          web\n",
		"\n# Required-Start:    $network $remote_fs\n",
		"\n# Required-Stop:     $remote_fs $syslog\n",
		"\n# Default-Start:     3 5\n",
		"\n# Default-Stop:      0 1 6\n",
		"\n# Short-Description: test daemon web\n",
		"\n### END INIT INFO\n",
		"\nDAEMONCTL='" + h.Daemonctl + "'\n",
		"\nCONFIG_DIR='" + s.dir + "'\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("script lacks %q:\n%s", want, text)
		}
	}
	custom := writeInitScript(t, s, "web", "--daemonctl", "/usr/bin/daemonctl")
	if !strings.Contains(string(readFile(t, custom)), "\nDAEMONCTL='/usr/bin/daemonctl'\n") {
		t.Errorf("--daemonctl not used")
	}
	h.Expect(t, s.run(t, "init-script", "--daemonctl", "daemonctl", "web"), 2)
}

// TestInitScriptActions: every action of the generated script, with the
// LSB exit codes, against a real daemon.
func TestInitScriptActions(t *testing.T) {
	s := newServices(t)
	hup := s.file("web", "hup")
	s.defineDaemon(t, "web", "", "-hup-file", hup)
	script := writeInitScript(t, s, "web")

	h.Expect(t, runScript(t, script, "status"), 3)
	pid, fd := s.started(t, runScript(t, script, "start"), "web")
	h.Expect(t, runScript(t, script, "status"), 0)
	h.Expect(t, runScript(t, script, "start"), 0)
	if got := h.ReadPID(t, s.pidfile("web")); got != pid {
		t.Fatalf("a second start replaced pid %d with %d", pid, got)
	}

	h.Expect(t, runScript(t, script, "reload"), 0)
	h.Expect(t, runScript(t, script, "force-reload"), 0)
	if !h.WaitFileFunc(t, hup, eventTimeout, func(b []byte) bool { return string(b) == "HUP\nHUP\n" }) {
		t.Fatalf("reload and force-reload: HUP file %q", readFile(t, hup))
	}

	os.Remove(s.ready("web"))
	pid2, fd2 := s.started(t, runScript(t, script, "try-restart"), "web")
	if pid2 == pid || !h.Exited(fd) {
		t.Fatalf("try-restart of a running service: pid %d -> %d", pid, pid2)
	}
	os.Remove(s.ready("web"))
	pid3, _ := s.started(t, runScript(t, script, "restart"), "web")
	if pid3 == pid2 || !h.Exited(fd2) {
		t.Fatalf("restart: pid %d -> %d", pid2, pid3)
	}

	h.Expect(t, runScript(t, script, "stop"), 0)
	assertNoFile(t, s.pidfile("web"))
	h.Expect(t, runScript(t, script, "stop"), 0)
	h.Expect(t, runScript(t, script, "status"), 3)

	// Not running: try-restart leaves it so (a success); reload and
	// force-reload say "not running".
	h.Expect(t, runScript(t, script, "try-restart"), 0)
	assertNoFile(t, s.pidfile("web"))
	h.Expect(t, runScript(t, script, "reload"), 7)
	h.Expect(t, runScript(t, script, "force-reload"), 7)

	// restart of a stopped service starts it.
	os.Remove(s.ready("web"))
	_, _ = s.started(t, runScript(t, script, "restart"), "web")
	h.Expect(t, runScript(t, script, "stop"), 0)

	for _, args := range [][]string{{}, {"bogus"}} {
		r := runScript(t, script, args...)
		h.Expect(t, r, 2)
		if !strings.Contains(r.Stderr(), "Usage: ") {
			t.Fatalf("stderr %q", r.Stderr())
		}
	}
}

// TestInitScriptFailures: the script passes daemonctl's LSB codes on: a
// broken definition (6), a program not installed (5), and daemonctl
// itself missing (5, status 4).
func TestInitScriptFailures(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	script := writeInitScript(t, s, "web")

	s.define(t, "web", "program = \"/nonexistent/web\"\npidfile = \""+s.pidfile("web")+"\"\n")
	r := runScript(t, script, "start")
	h.Expect(t, r, 5)
	assertOneLineError(t, r, "/nonexistent/web does not exist")

	s.define(t, "web", "program = \"/bin/true\"\npidfile = \"relative.pid\"\n")
	for action, code := range map[string]int{"start": 6, "stop": 6, "restart": 6, "try-restart": 6, "reload": 6, "status": 4} {
		r := runScript(t, script, action)
		h.Expect(t, r, code)
		if !strings.Contains(r.Stderr(), "relative path") {
			t.Fatalf("%s: stderr %q", action, r.Stderr())
		}
	}

	s.defineDaemon(t, "web", "")
	gone := writeInitScript(t, s, "web", "--daemonctl", "/nonexistent/daemonctl")
	h.Expect(t, runScript(t, gone, "start"), 5)
	h.Expect(t, runScript(t, gone, "status"), 4)
	assertNoFile(t, s.pidfile("web"))
}

// TestInitScriptQuoting: a definition directory whose path holds spaces
// and quotes reaches daemonctl intact.
func TestInitScriptQuoting(t *testing.T) {
	base := filepath.Join(t.TempDir(), `it's a "dir" $HOME`)
	if err := os.Mkdir(base, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &services{dir: base, runDir: t.TempDir(), env: []string{"DAEMONCTL_CONFIG_DIR=" + base}}
	s.defineDaemon(t, "web", "")
	script := writeInitScript(t, s, "web")
	if out, err := h.Output(exec.Command("/bin/sh", "-n", script)); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	_, _ = s.started(t, runScript(t, script, "start"), "web")
	h.Expect(t, runScript(t, script, "status"), 0)
	h.Expect(t, runScript(t, script, "stop"), 0)
}
