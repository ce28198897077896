package controller

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestResolve: what the caller checks before anything detaches, each
// failure with its sentinel (exit code) and a message naming what is
// wrong, and a valid spec's defaults.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	sh, err := LookProgram("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	link := filepath.Join(dir, "link.pid")
	if err := os.Symlink(filepath.Join(dir, "target.pid"), link); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	uint32p := func(n uint32) *uint32 { return &n }
	intp := func(n int) *int { return &n }
	base := func() StartSpec { return StartSpec{PIDFile: filepath.Join(dir, "web.pid"), Program: "sh"} }
	for _, c := range []struct {
		name    string
		edit    func(*StartSpec)
		kind    error // nil: any error but the sentinels below
		mention string
	}{
		{"no pidfile", func(s *StartSpec) { s.PIDFile = "" }, ErrUsage, "no pidfile given"},
		{"pidfile is a directory", func(s *StartSpec) { s.PIDFile = dir + "/" }, ErrUsage, "names a directory"},
		{"no pidfile directory", func(s *StartSpec) { s.PIDFile = filepath.Join(dir, "none", "web.pid") }, nil, "mkdir -p " + filepath.Join(dir, "none")},
		{"symlinked pidfile", func(s *StartSpec) { s.PIDFile = link }, nil, "is a symbolic link"},
		{"pidfile not a file", func(s *StartSpec) { s.PIDFile = dir }, nil, "is not a regular file"},
		{"no program", func(s *StartSpec) { s.Program = "" }, ErrUsage, "no program given"},
		{"program missing", func(s *StartSpec) { s.Program = filepath.Join(dir, "none") }, ErrProgramNotFound, "does not exist"},
		{"program not on PATH", func(s *StartSpec) { s.Program = "no-such-program-daemonctl" }, ErrProgramNotFound, "not found on PATH"},
		{"program not executable", func(s *StartSpec) { s.Program = notExec }, ErrProgramNotFound, "chmod +x"},
		{"program a directory", func(s *StartSpec) { s.Program = dir }, ErrProgramNotFound, "is a directory"},
		{"no such chdir", func(s *StartSpec) { s.Dir = filepath.Join(dir, "none") }, nil, "--chdir"},
		{"umask too large", func(s *StartSpec) { s.Umask = uint32p(0o1000) }, ErrUsage, "--umask"},
		{"nice too low", func(s *StartSpec) { s.Nice = intp(-21) }, ErrUsage, "--nice -21"},
		{"nice too high", func(s *StartSpec) { s.Nice = intp(20) }, ErrUsage, "--nice 20"},
		{"no log directory", func(s *StartSpec) { s.Stderr = filepath.Join(dir, "none", "err.log") }, nil, "create it first"},
		{"bad env", func(s *StartSpec) { s.Env = []string{"NOEQUALS"} }, ErrUsage, "--env"},
		{"empty env key", func(s *StartSpec) { s.Env = []string{"=x"} }, ErrUsage, "--env"},
		{"negative wait", func(s *StartSpec) { s.Wait = -time.Second }, ErrUsage, "--wait"},
		{"negative timeout", func(s *StartSpec) { s.Notify, s.NotifyTimeout = true, -time.Second }, ErrUsage, "--timeout"},
		{"no such user", func(s *StartSpec) { s.User = "no-such-user-daemonctl" }, ErrUsage, "--user no-such-user-daemonctl: no such user"},
		{"no such group", func(s *StartSpec) { s.Group = "no-such-group-daemonctl" }, ErrUsage, "--group no-such-group-daemonctl: no such group"},
	} {
		spec := base()
		c.edit(&spec)
		ls, err := spec.resolve()
		switch {
		case err == nil:
			t.Errorf("%s: resolved to %+v, want an error", c.name, ls)
		case !strings.Contains(err.Error(), c.mention) || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: %q, want one line mentioning %q", c.name, err, c.mention)
		case c.kind != nil && !errors.Is(err, c.kind):
			t.Errorf("%s: %v does not match %v", c.name, err, c.kind)
		case c.kind == nil && (errors.Is(err, ErrUsage) || errors.Is(err, ErrProgramNotFound) || errors.Is(err, ErrNoPrivilege)):
			t.Errorf("%s: %v matches a sentinel", c.name, err)
		}
	}

	spec := StartSpec{PIDFile: "web.pid", Program: "sh", Args: []string{"-c", "exit 0"}, Stdout: "out.log"}
	t.Chdir(dir)
	ls, err := spec.resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "web.pid")
	if spec.PIDFile != want || spec.Name != "web" || ls.PIDFile != want {
		t.Errorf("pidfile %q (spec %q), name %q; want %q, web", ls.PIDFile, spec.PIDFile, spec.Name, want)
	}
	if ls.Path != sh || !slices.Equal(ls.Argv, []string{"sh", "-c", "exit 0"}) {
		t.Errorf("path %q argv %q", ls.Path, ls.Argv)
	}
	if ls.Dir != "/" || ls.Umask != 0o022 || ls.Cred != nil || ls.Nice != nil {
		t.Errorf("defaults: dir %q umask %o cred %v nice %v", ls.Dir, ls.Umask, ls.Cred, ls.Nice)
	}
	if ls.Stdout != filepath.Join(dir, "out.log") || ls.Stderr != "" {
		t.Errorf("stdout %q stderr %q", ls.Stdout, ls.Stderr)
	}
}

// TestBuildEnv: the caller's environment less daemonctl's own markers and
// its NOTIFY_SOCKET, or none, then --env's entries, each replacing an
// earlier one of its key.
func TestBuildEnv(t *testing.T) {
	t.Setenv("DAEMONCTL_TEST_KEEP", "kept")
	for _, key := range []string{launcherEnv, daemonEnv, daemonEnvNotify, testPauseEnv, "NOTIFY_SOCKET"} {
		t.Setenv(key, "leaked")
	}
	env, err := buildEnv([]string{"A=1", "DAEMONCTL_TEST_KEEP=replaced", "A=2", "EMPTY="}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range env {
		if strings.HasSuffix(kv, "=leaked") {
			t.Errorf("%s reached the daemon's environment", kv)
		}
	}
	if got := lookup(env, "DAEMONCTL_TEST_KEEP"); got != "replaced" {
		t.Errorf("DAEMONCTL_TEST_KEEP=%q, want replaced", got)
	}
	if lookup(env, "A") != "2" || !slices.Contains(env, "EMPTY=") || strings.Count(strings.Join(env, "\n"), "\nA=") > 1 {
		t.Errorf("--env entries: %q", env)
	}
	env, err = buildEnv([]string{"ONLY=this"}, true)
	if err != nil || !slices.Equal(env, []string{"ONLY=this"}) {
		t.Errorf("--clear-env: %q, %v", env, err)
	}
	if env, err := buildEnv(nil, true); err != nil || len(env) != 0 {
		t.Errorf("--clear-env alone: %q, %v", env, err)
	}
	for _, bad := range []string{"NOEQUALS", "=value", "K\x00EY=v"} {
		if _, err := buildEnv([]string{bad}, true); !errors.Is(err, ErrUsage) {
			t.Errorf("buildEnv(%q): %v, want ErrUsage", bad, err)
		}
	}
}

// lookup is the value of key's last entry in env.
func lookup(env []string, key string) string {
	value := ""
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			value = v
		}
	}
	return value
}

func TestSetEnv(t *testing.T) {
	env := setEnv([]string{"A=1", "B=2"}, "A=3")
	env = setEnv(env, "C=4")
	if !slices.Equal(env, []string{"A=3", "B=2", "C=4"}) {
		t.Errorf("setEnv: %q", env)
	}
}

// TestCheckIdentity: names and numbers resolve; names that do not exist
// are each reported, under their key. (Who needs root is the privilege
// tests' part: they run as nobody.)
func TestCheckIdentity(t *testing.T) {
	if p := CheckIdentity("", ""); p != nil {
		t.Errorf("no user, no group: %v", p)
	}
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	if p := CheckIdentity(me.Username, ""); p != nil {
		t.Errorf("the caller's own user: %v", p)
	}
	if p := CheckIdentity(me.Uid, me.Gid); len(p) > 0 && !p[0].NeedsRoot {
		t.Errorf("the caller's uid and gid as numbers: %v", p)
	}
	p := CheckIdentity("no-such-user-daemonctl", "no-such-group-daemonctl")
	if len(p) != 2 || p[0].Key != "user" || p[1].Key != "group" || p[0].NeedsRoot || p[1].NeedsRoot {
		t.Fatalf("unknown user and group: %v", p)
	}
	if !errors.Is(p[0], ErrUsage) || errors.Is(p[0], ErrNoPrivilege) || p[0].Error() != "--user no-such-user-daemonctl: no such user" {
		t.Errorf("unknown user: %v", p[0])
	}
	root := &IdentityError{Key: "user", Name: "root", NeedsRoot: true}
	if !errors.Is(root, ErrNoPrivilege) || errors.Is(root, ErrUsage) || !strings.Contains(root.Error(), "need root") {
		t.Errorf("needs root: %v", root)
	}
	if os.Geteuid() == 0 {
		if c, err := resolveCred("nobody", ""); err != nil || c == nil || c.UID == 0 || len(c.Groups) == 0 {
			t.Errorf("resolveCred(nobody) as root: %+v, %v", c, err)
		}
	}
}
