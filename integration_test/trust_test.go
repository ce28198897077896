package integration_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// This file tests who may say what root runs: definition files and
// directories writable by anyone but root or the caller are refused
// (issue 9, finding 4).

// TestServiceGroupWritableAttack: a root:nogroup 0664 definition lets any
// member of nogroup rewrite it. As the real user nobody (group nogroup)
// the attacker points program at its own command; root's check and start
// refuse the file (exit 6, one line naming it and the fix) and the
// attacker's command never runs. Once the file is 0644 the attacker's
// write fails and the service starts.
func TestServiceGroupWritableAttack(t *testing.T) {
	p := asUnprivileged(t)
	nogroup, err := user.LookupGroup("nogroup")
	if err != nil {
		t.Skipf("no group nogroup: %v", err)
	}
	gid, _ := strconv.Atoi(nogroup.Gid)
	// Definitions in p.dir (0755, root's), reachable by nobody.
	s := &services{dir: filepath.Join(p.dir, "daemonctl.d"), runDir: filepath.Join(p.dir, "run")}
	for _, d := range []string{s.dir, s.runDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.env = []string{"DAEMONCTL_CONFIG_DIR=" + s.dir}
	s.defineDaemon(t, "web", "")
	web := filepath.Join(s.dir, "web.toml")
	if err := os.Chown(web, 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(web, 0o664); err != nil {
		t.Fatal(err)
	}
	pwned := filepath.Join(p.dir, "pwned")
	evil := fmt.Sprintf("program = \"/usr/bin/touch\"\nargs = [%q]\npidfile = %q\n", pwned, s.pidfile("web"))
	asNobody := func(script string) error {
		cmd := exec.Command("/bin/sh", "-c", script, "sh", web)
		cmd.Stdin = nil
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.uid, Gid: uint32(gid), Groups: []uint32{}}}
		cmd.Env = []string{"EVIL=" + evil}
		_, err := h.Output(cmd)
		return err
	}
	if err := asNobody(`printf '%s' "$EVIL" > "$1"`); err != nil {
		t.Fatalf("nobody could not write the root:nogroup 0664 file, so the test shows nothing: %v", err)
	}
	want := web + ": refused: the file is group-writable (mode 0664), which would let others make root run any program; fix it (chmod go-w " + web + ")"
	for cmd, code := range map[string]int{"check": 6, "start": 6, "restart": 6, "status": 4} {
		r := s.run(t, cmd, "web")
		h.Expect(t, r, code)
		assertOneLineError(t, r, want)
	}
	h.Expect(t, s.run(t, "start", "--all"), 6)
	assertNoFile(t, pwned)
	assertNoFile(t, s.pidfile("web"))

	// Fixed as the message says: nobody can no longer write it.
	if out, err := exec.Command("chmod", "go-w", web).CombinedOutput(); err != nil {
		t.Fatalf("chmod go-w: %v %s", err, out)
	}
	s.defineDaemon(t, "web", "")
	if err := asNobody(`printf '%s' "$EVIL" > "$1"`); err == nil {
		t.Fatal("nobody wrote a 0644 file")
	}
	h.Expect(t, s.run(t, "check", "web"), 0)
	_, fd := s.started(t, s.run(t, "start", "web"), "web")
	assertNoFile(t, pwned)
	h.Expect(t, s.run(t, "stop", "web"), 0)
	if !h.Exited(fd) {
		t.Fatal("web survived stop")
	}
}

// TestServiceGroupWritableOwn: the caller's own definitions, made
// group-writable (a umask of 002), are refused too, as is a definition
// directory its group can write or one below a directory others can
// write; the messages name the path and the fix. Runs as whoever runs
// the tests.
func TestServiceGroupWritableOwn(t *testing.T) {
	s := newServices(t)
	s.defineDaemon(t, "web", "")
	s.defineDaemon(t, "api", "")
	web := filepath.Join(s.dir, "web.toml")
	if err := os.Chmod(web, 0o664); err != nil {
		t.Fatal(err)
	}
	who := "root"
	if os.Geteuid() != 0 {
		who = "you"
	}
	r := s.run(t, "check")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, web+": refused: the file is group-writable (mode 0664), which would let others make "+who+" run any program; fix it (chmod go-w "+web+")")
	h.Expect(t, s.run(t, "check", "api"), 0)
	if err := os.Chmod(web, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := os.Chmod(s.dir, 0o770); err != nil {
		t.Fatal(err)
	}
	for cmd, code := range map[string]int{"check": 6, "start": 6, "stop": 6, "status": 4} {
		r := s.run(t, cmd, "web")
		h.Expect(t, r, code)
		assertOneLineError(t, r, "definition directory "+s.dir+" is group-writable (mode 0770): it would let others make "+who+" run any program; fix it (chmod go-w "+s.dir+") or use another --config-dir")
	}
	h.Expect(t, s.run(t, "status"), 4)
	if err := os.Chmod(s.dir, 0o700); err != nil {
		t.Fatal(err)
	}

	parent := filepath.Dir(s.dir)
	if err := os.Chmod(parent, 0o775); err != nil {
		t.Fatal(err)
	}
	r = s.run(t, "start", "web")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, "definition directory "+s.dir+": "+parent+" is group-writable (mode 0775), so others could replace the definitions and make "+who+" run any program; fix it (chmod go-w "+parent+") or use another --config-dir")
	assertNoFile(t, s.pidfile("web"))
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	h.Expect(t, s.run(t, "check"), 0)
}

// TestServiceUnprivilegedOwnDefinitions: nobody's own definitions in a
// directory of its own are used when only nobody can write them, and
// refused when its group can.
func TestServiceUnprivilegedOwnDefinitions(t *testing.T) {
	p := asUnprivileged(t)
	dir := filepath.Join(p.dir, "conf")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(dir, "mine.toml")
	if err := os.WriteFile(def, fmt.Appendf(nil, "program = %q\npidfile = %q\n", p.daemon, filepath.Join(p.dir, "mine.pid")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{dir, def} {
		if err := os.Chown(f, int(p.uid), int(p.gid)); err != nil {
			t.Fatal(err)
		}
	}
	h.Expect(t, p.run(t, "--config-dir", dir, "check"), 0)
	if err := os.Chmod(def, 0o664); err != nil {
		t.Fatal(err)
	}
	r := p.run(t, "--config-dir", dir, "check")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, def+": refused: the file is group-writable (mode 0664), which would let others make you run any program; fix it (chmod go-w "+def+")")
	if err := os.Chmod(def, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	r = p.run(t, "--config-dir", dir, "start", "mine")
	h.Expect(t, r, 6)
	assertOneLineError(t, r, "definition directory "+dir+" is group-writable (mode 0775)", "chmod go-w "+dir)
	// A root-owned directory is as good as one's own; a root-owned file too.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(def, 0, 0); err != nil {
		t.Fatal(err)
	}
	h.Expect(t, p.run(t, "--config-dir", dir, "check"), 0)
}
