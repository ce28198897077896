package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/supervise"
)

// defDir makes a private definition directory holding files (name ->
// contents). Without root, a definition without a pidfile needs
// XDG_RUNTIME_DIR: it is given one if the environment has none.
func defDir(t *testing.T, files map[string]string) string {
	t.Helper()
	if os.Geteuid() != 0 && os.Getenv("XDG_RUNTIME_DIR") == "" {
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	}
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustLoad(t *testing.T, dir string) *Set {
	t.Helper()
	set, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	return set
}

// onlyProblem returns the one problem of set, failing otherwise.
func onlyProblem(t *testing.T, set *Set) *Problem {
	t.Helper()
	if len(set.Problems) != 1 {
		t.Fatalf("want 1 problem, got %d: %v", len(set.Problems), set.Problems)
	}
	return set.Problems[0]
}

const complete = `# the web front end
description = "Example web server"
program = "/bin/sleep"
args = ["infinity", "--port=8080"]
pidfile = "/run/test/web.pid"
user = "root"
group = "0"
chdir = "/tmp"
umask = 27
nice = 5
clear-env = true
stdout = "/var/log/web.log"
stderr = "/var/log/web.err"
stop-schedule = "QUIT/30/KILL/5"
reload-signal = "USR2"
notify = true
timeout = "20s"
keep-on-timeout = true
notify-socket = "/run/test/web.notify"

[env]
PORT = "8080"
LANG = "C.UTF-8"

[init]
required-start = "$network"
default-start = "3 5"
`

func TestLoadComplete(t *testing.T) {
	set := mustLoad(t, defDir(t, map[string]string{"web.toml": complete}))
	if len(set.Problems) != 0 {
		t.Fatalf("problems: %v", set.Problems)
	}
	d, err := set.Lookup("web")
	if err != nil {
		t.Fatal(err)
	}
	if d.Program != "/bin/sleep" || !slices.Equal(d.Args, []string{"infinity", "--port=8080"}) {
		t.Errorf("program %q args %q", d.Program, d.Args)
	}
	if d.PIDFile != "/run/test/web.pid" || d.DefaultPIDFile {
		t.Errorf("pidfile %q default %v", d.PIDFile, d.DefaultPIDFile)
	}
	if d.Umask == nil || *d.Umask != 0o027 || d.Nice == nil || *d.Nice != 5 {
		t.Errorf("umask %v nice %v", d.Umask, d.Nice)
	}
	if !slices.Equal(d.Env, []string{"LANG=C.UTF-8", "PORT=8080"}) || !d.ClearEnv {
		t.Errorf("env %q clear %v", d.Env, d.ClearEnv)
	}
	if d.ReloadSignal != unix.SIGUSR2 || d.StopSchedule.OrDefault().String() != "QUIT/30/KILL/5" {
		t.Errorf("reload %v stop %v", d.ReloadSignal, d.StopSchedule.OrDefault())
	}
	if !d.Notify || d.NotifyTimeout != 20*time.Second || !d.KeepOnTimeout {
		t.Errorf("notify %v timeout %v keep %v", d.Notify, d.NotifyTimeout, d.KeepOnTimeout)
	}
	want := InitInfo{RequiredStart: "$network", RequiredStop: "$remote_fs $syslog", DefaultStart: "3 5", DefaultStop: "0 1 6"}
	if d.Init != want {
		t.Errorf("init %+v, want %+v", d.Init, want)
	}
	spec := d.StartSpec
	if spec.Name != "web" || spec.PIDFile != d.PIDFile || spec.Dir != "/tmp" || spec.User != "root" || spec.NotifyTimeout != 20*time.Second || spec.StopSchedule.String() != "QUIT/30/KILL/5" {
		t.Errorf("start spec %+v", spec)
	}
	if stop := d.StopSpec(); stop.PIDFile != d.PIDFile || stop.Name != "web" {
		t.Errorf("stop spec %+v", stop)
	}
	if probs := d.Check(); len(probs) == 0 {
		t.Errorf("Check found nothing wrong, but /run/test and /var/log/web.notify's directory do not exist")
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/4242")
	set := mustLoad(t, defDir(t, map[string]string{"api.toml": `program = "sleep"`}))
	d, err := set.Lookup("api")
	if err != nil {
		t.Fatal(err)
	}
	wantPID := "/run/user/4242/daemonctl/api.pid"
	if os.Geteuid() == 0 {
		wantPID = "/run/daemonctl/api.pid"
	}
	if d.PIDFile != wantPID || !d.DefaultPIDFile {
		t.Errorf("pidfile %q (default %v), want %q", d.PIDFile, d.DefaultPIDFile, wantPID)
	}
	if d.ReloadSignal != unix.SIGHUP || d.StopSchedule.OrDefault().String() != "TERM/10/KILL/5" || d.Umask != nil || d.Nice != nil {
		t.Errorf("defaults: reload %v stop %v umask %v nice %v", d.ReloadSignal, d.StopSchedule.OrDefault(), d.Umask, d.Nice)
	}
}

func TestLoadNoRuntimeDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root's default pidfile directory is /run/daemonctl, whatever XDG_RUNTIME_DIR says")
	}
	dir := defDir(t, map[string]string{"api.toml": `program = "sleep"`})
	t.Setenv("XDG_RUNTIME_DIR", "")
	p := onlyProblem(t, mustLoad(t, dir))
	if p.Key != "pidfile" || !strings.Contains(p.Msg, "XDG_RUNTIME_DIR") {
		t.Errorf("problem %q", p)
	}
}

// TestLoadBadFiles: each bad file is one problem naming its file, line
// and key, and does not keep the good file from loading.
// badFile is a definition with one problem, where it is, and what it says.
type badFile struct {
	name, body string
	line       int
	key, msg   string
}

func TestLoadBadFiles(t *testing.T) {
	cases := []badFile{
		{"typo", "program = \"/bin/true\"\nprogramm = \"x\"\n", 2, "", `unknown key "programm" (did you mean "program"?)`},
		{"unknowntable", "program = \"/bin/true\"\n[service]\nx = 1\n", 2, "", `unknown key "service"`},
		{"unknowninit", "program = \"/bin/true\"\n[init]\nprovides = \"x\"\n", 3, "", `unknown key "init.provides"`},
		{"niceword", "program = \"/bin/true\"\nnice = \"high\"\n", 2, "nice", "expected an integer from -20 to 19, not a TOML string"},
		{"argsstring", "program = \"/bin/true\"\nargs = \"-v\"\n", 2, "args", "expected an array of strings, not a TOML string"},
		{"umaskoctal", "program = \"/bin/true\"\numask = 027\n", 2, "", "not valid TOML: integers cannot have leading zeroes"},
		{"umaskbad", "program = \"/bin/true\"\numask = \"999\"\n", 2, "umask", `"999" is not an octal mask`},
		{"waitbad", "program = \"/bin/true\"\n\nwait = \"soon\"\n", 3, "wait", `"soon" is not a positive duration`},
		{"schedule", "program = \"/bin/true\"\nstop-schedule = \"TERM/x\"\n", 2, "stop-schedule", `invalid schedule "TERM/x"`},
		{"signal", "program = \"/bin/true\"\nreload-signal = \"BOGUS\"\n", 2, "reload-signal", "BOGUS"},
		{"envint", "program = \"/bin/true\"\n[env]\nPORT = 8080\n", 3, "env.PORT", "expected a string"},
		{"syntax", "program = \"/bin/true\"\nargs = [\n", 2, "", "not valid TOML"},
		{"syntax2", "program = /bin/true\n", 1, "", "not valid TOML"},
		{"duplicate", "program = \"/bin/true\"\nprogram = \"/bin/false\"\n", 2, "program", "already defined"},
		{"noprogram", "args = [\"x\"]\n", 0, "program", "missing"},
		{"relprogram", "program = \"bin/web\"\n", 1, "program", "relative path"},
		{"relpidfile", "program = \"/bin/true\"\npidfile = \"run/web.pid\"\n", 2, "pidfile", `"run/web.pid" is a relative path`},
		{"dirpidfile", "program = \"/bin/true\"\npidfile = \"/run/\"\n", 2, "pidfile", "names a directory"},
		{"relstdout", "program = \"/bin/true\"\nstdout = \"web.log\"\n", 2, "stdout", "relative path"},
		{"nicerange", "program = \"/bin/true\"\nnice = 40\n", 2, "nice", "out of range"},
		{"timeout", "program = \"/bin/true\"\ntimeout = \"5s\"\n", 2, "timeout", "applies only with notify = true"},
		{"envname", "program = \"/bin/true\"\nenv = { \"A=B\" = \"x\" }\n", 2, "env", "not an environment variable name"},
		{"nulargs", "program = \"/bin/true\"\nargs = [\"-v\", \"a\\u0000b\"]\n", 2, "args", "element 2 of 2 holds a NUL byte (\\u0000), which no argument can carry: remove it"},
		{"nulenv", "program = \"/bin/true\"\n[env]\nA = \"x\\u0000\"\n", 3, "env.A", "the value holds a NUL byte (\\u0000)"},
		// Supervision.
		{"nosupervise", "program = \"/bin/true\"\nrespawn = \"always\"\n", 2, "respawn", "applies only with supervise = true"},
		{"nosupervisewd", "program = \"/bin/true\"\n\nwatchdog = \"1s\"\n", 3, "watchdog", "applies only with supervise = true"},
		{"respawnbad", "program = \"/bin/true\"\nsupervise = true\nrespawn = \"sometimes\"\n", 3, "respawn", `"sometimes": write "on-failure" or "always"`},
		{"limitzero", "program = \"/bin/true\"\nsupervise = true\nrespawn-limit = \"0/0s\"\n", 3, "respawn-limit", "N must be a number from 1"},
		{"limitabc", "program = \"/bin/true\"\nsupervise = true\nrespawn-limit = \"abc\"\n", 3, "respawn-limit", "expected N/PERIOD"},
		{"limitslash", "program = \"/bin/true\"\nsupervise = true\nrespawn-limit = \"5/\"\n", 3, "respawn-limit", "PERIOD must be a duration"},
		{"delayneg", "program = \"/bin/true\"\nsupervise = true\nrespawn-delay = \"-1s\"\n", 3, "respawn-delay", "is not a duration"},
		{"delaymax", "program = \"/bin/true\"\nsupervise = true\nrespawn-delay = \"10s\"\nrespawn-delay-max = \"1s\"\n", 4, "respawn-delay-max", "below respawn-delay"},
		{"sizebad", "program = \"/bin/true\"\nsupervise = true\nlog-max-size = \"10Q\"\n", 3, "log-max-size", "expected a number of bytes"},
		{"keepbad", "program = \"/bin/true\"\nsupervise = true\nlog-keep = 5000\n", 3, "log-keep", "out of range"},
		{"pidnoforking", "program = \"/bin/true\"\nsupervise = true\nprogram-pidfile = \"/run/x.pid\"\n", 3, "program-pidfile", "applies only with forking = true"},
		{"pidrelative", "program = \"/bin/true\"\nsupervise = true\nforking = true\nprogram-pidfile = \"x.pid\"\n", 4, "program-pidfile", "relative path"},
		{"forkingnotify", "program = \"/bin/true\"\nnotify = true\nsupervise = true\nforking = true\n", 4, "forking", "cannot also notify"},
	}
	// A NUL byte (TOML's \u0000) in any string that reaches a path, an
	// argument, the environment or an init script.
	nul := "holds a NUL byte (\\u0000), which daemonctl cannot pass on: remove it"
	for _, key := range []string{"program", "pidfile", "user", "group", "chdir", "stdout", "stderr", "description"} {
		c := badFile{"nul" + key, fmt.Sprintf("program = \"/bin/true\"\n%s = \"/x\\u0000y\"\n", key), 2, key, nul}
		if key == "program" {
			c.body, c.line = "program = \"/bin/\\u0000true\"\n", 1
		}
		cases = append(cases, c)
	}
	cases = append(cases, badFile{"nulsocket", "program = \"/bin/true\"\nnotify = true\nnotify-socket = \"/run/\\u0000s\"\n", 3, "notify-socket", nul})
	for _, key := range []string{"required-start", "required-stop", "default-start", "default-stop"} {
		cases = append(cases, badFile{"nul" + key, fmt.Sprintf("program = \"/bin/true\"\n[init]\n%s = \"2\\u0000\"\n", key), 3, "init." + key, nul})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := defDir(t, map[string]string{c.name + ".toml": c.body, "good.toml": `program = "/bin/true"` + "\npidfile = \"/run/good.pid\"\n"})
			set := mustLoad(t, dir)
			p := onlyProblem(t, set)
			file := filepath.Join(dir, c.name+".toml")
			if p.File != file || p.Line != c.line || p.Key != c.key || p.Service != c.name || !strings.Contains(p.Msg, c.msg) {
				t.Errorf("got %+v\nwant file %s line %d key %q msg containing %q", p, file, c.line, c.key, c.msg)
			}
			if !errors.Is(p, ErrNotConfigured) {
				t.Errorf("%v does not match ErrNotConfigured", p)
			}
			if strings.Contains(p.Error(), "\n") {
				t.Errorf("problem is not one line: %q", p.Error())
			}
			if _, err := set.Lookup("good"); err != nil {
				t.Errorf("the good file did not load: %v", err)
			}
			if _, err := set.Lookup(c.name); !errors.Is(err, ErrNotConfigured) || errors.Is(err, ErrNoService) {
				t.Errorf("Lookup(%s) = %v, want its problem", c.name, err)
			}
			if !slices.Equal(set.Names(), []string{"good", c.name}) && !slices.Equal(set.Names(), []string{c.name, "good"}) {
				t.Errorf("Names() = %v", set.Names())
			}
		})
	}
}

func TestLoadSupervised(t *testing.T) {
	dir := defDir(t, map[string]string{
		"web.toml": "program = \"/bin/sleep\"\npidfile = \"/run/web.pid\"\nsupervise = true\nrespawn = \"always\"\nrespawn-delay = \"1s\"\n" +
			"respawn-limit = \"7/1m\"\nwatchdog = \"30s\"\nlog-max-size = \"1M\"\nlog-keep = 3\nforking = true\nprogram-pidfile = \"/run/web/main.pid\"\n",
		"plain.toml": "program = \"/bin/sleep\"\npidfile = \"/run/plain.pid\"\nsupervise = true\n",
		"off.toml":   "program = \"/bin/sleep\"\npidfile = \"/run/off.pid\"\n",
	})
	set := mustLoad(t, dir)
	if len(set.Problems) > 0 {
		t.Fatalf("problems: %v", set.Problems)
	}
	web, _ := set.Lookup("web")
	want := controller.Supervision{
		Respawn:    supervise.Respawn{When: supervise.Always, Delay: time.Second, DelayMax: 30 * time.Second, Limit: supervise.Limit{Count: 7, Period: time.Minute}},
		LogMaxSize: 1 << 20, LogKeep: 3, Watchdog: 30 * time.Second, Forking: true, ProgramPIDFile: "/run/web/main.pid",
	}
	if web.Supervise == nil || *web.Supervise != want {
		t.Errorf("web: supervise %+v, want %+v", web.Supervise, want)
	}
	plain, _ := set.Lookup("plain")
	if plain.Supervise == nil || *plain.Supervise != *controller.DefaultSupervision() {
		t.Errorf("plain: supervise %+v, want the defaults", plain.Supervise)
	}
	if off, _ := set.Lookup("off"); off.Supervise != nil {
		t.Errorf("off: supervised %+v", off.Supervise)
	}
}

func TestLoadSharedPIDFile(t *testing.T) {
	dir := defDir(t, map[string]string{
		"a.toml":    "program = \"/bin/true\"\npidfile = \"/run/x/shared.pid\"\n",
		"b.toml":    "# b\nprogram = \"/bin/true\"\npidfile = \"/run/x/../x/shared.pid\"\n",
		"c.toml":    "program = \"/bin/true\"\npidfile = \"/run/x/c.pid\"\n",
		"notes.txt": "not a definition",
		".#c.toml":  "an editor's lock file",
	})
	set := mustLoad(t, dir)
	if len(set.Problems) != 2 {
		t.Fatalf("want 2 problems, got %v", set.Problems)
	}
	for i, want := range []struct {
		name  string
		line  int
		other string
	}{{"a", 2, "b.toml"}, {"b", 3, "a.toml"}} {
		p := set.Problems[i]
		if p.Service != want.name || p.Line != want.line || p.Key != "pidfile" || !strings.Contains(p.Msg, "/run/x/shared.pid is also the pidfile of "+filepath.Join(dir, want.other)) {
			t.Errorf("problem %d: %v", i, p)
		}
	}
	if len(set.Services) != 1 || set.Services[0].Name != "c" {
		t.Errorf("services %v, want only c", set.Services)
	}
}

func TestLoadUnsafeDir(t *testing.T) {
	dir := defDir(t, map[string]string{"web.toml": `program = "/bin/true"`})
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if !errors.Is(err, ErrUnsafe) || !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), "is world-writable (mode 0777)") {
		t.Fatalf("Load of a world-writable directory: %v", err)
	}
}

func TestLoadUnsafeFile(t *testing.T) {
	dir := defDir(t, map[string]string{"web.toml": `program = "/bin/true"`, "ok.toml": "program = \"/bin/true\"\n"})
	if err := os.Chmod(filepath.Join(dir, "web.toml"), 0o666); err != nil {
		t.Fatal(err)
	}
	set := mustLoad(t, dir)
	if p := onlyProblem(t, set); p.Service != "web" || !strings.Contains(p.Msg, "world-writable") {
		t.Errorf("problem %v", p)
	}
	if _, err := set.Lookup("ok"); err != nil {
		t.Errorf("ok: %v", err)
	}
}

func TestLoadDirOwnedByAnother(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	dir := defDir(t, map[string]string{"web.toml": `program = "/bin/true"`})
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "owned by uid 4242") {
		t.Fatalf("Load of a directory owned by uid 4242: %v", err)
	}
	if err := os.Chown(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "web.toml"), 4242, 4242); err != nil {
		t.Fatal(err)
	}
	set := mustLoad(t, dir)
	if p := onlyProblem(t, set); !strings.Contains(p.Msg, "owned by uid 4242") {
		t.Errorf("problem %v", p)
	}
}

func TestLoadMissingDir(t *testing.T) {
	set := mustLoad(t, filepath.Join(t.TempDir(), "nope"))
	if !set.Missing || len(set.Services)+len(set.Problems) != 0 {
		t.Fatalf("set %+v", set)
	}
	_, err := set.Lookup("web")
	if !errors.Is(err, ErrNoService) || !errors.Is(err, ErrNotConfigured) {
		t.Errorf("Lookup: %v", err)
	}
}

func TestLoadBadName(t *testing.T) {
	p := onlyProblem(t, mustLoad(t, defDir(t, map[string]string{"-web.toml": `program = "/bin/true"`})))
	if !strings.Contains(p.Msg, "not a service name") {
		t.Errorf("problem %v", p)
	}
}

func TestCheck(t *testing.T) {
	tmp := t.TempDir()
	dir := defDir(t, map[string]string{
		"good.toml":    "program = \"sh\"\npidfile = \"" + tmp + "/good.pid\"\nchdir = \"" + tmp + "\"\n",
		"noprog.toml":  "program = \"/nonexistent/web\"\npidfile = \"" + tmp + "/noprog.pid\"\n",
		"nouser.toml":  "program = \"/bin/true\"\npidfile = \"" + tmp + "/nouser.pid\"\nuser = \"no-such-user-daemonctl\"\n",
		"nogroup.toml": "program = \"/bin/true\"\npidfile = \"" + tmp + "/nogroup.pid\"\n\ngroup = \"no-such-group-daemonctl\"\n",
		"nodirs.toml":  "program = \"/bin/true\"\npidfile = \"" + tmp + "/missing/nodirs.pid\"\nstderr = \"" + tmp + "/logs/err\"\n",
		"notexec.toml": "program = \"" + tmp + "/notexec\"\npidfile = \"" + tmp + "/notexec.pid\"\n",
	})
	if err := os.WriteFile(filepath.Join(tmp, "notexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set := mustLoad(t, dir)
	check := func(name string) []*Problem {
		d, err := set.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		return d.Check()
	}
	if probs := check("good"); len(probs) != 0 {
		t.Errorf("good: %v", probs)
	}
	if probs := check("noprog"); len(probs) != 1 || probs[0].Line != 1 || !errors.Is(probs[0], controller.ErrProgramNotFound) || !strings.Contains(probs[0].Msg, "does not exist") {
		t.Errorf("noprog: %v", probs)
	}
	if probs := check("notexec"); len(probs) != 1 || !errors.Is(probs[0], controller.ErrProgramNotFound) || !strings.Contains(probs[0].Msg, "not executable") {
		if os.Geteuid() != 0 {
			t.Errorf("notexec: %v", probs)
		}
	}
	if probs := check("nouser"); len(probs) != 1 || probs[0].Line != 3 || probs[0].Key != "user" || errors.Is(probs[0], controller.ErrProgramNotFound) {
		t.Errorf("nouser: %v", probs)
	}
	if probs := check("nogroup"); len(probs) != 1 || probs[0].Line != 4 || probs[0].Key != "group" {
		t.Errorf("nogroup: %v", probs)
	}
	if probs := check("nodirs"); len(probs) != 2 {
		t.Errorf("nodirs: %v", probs)
	}
}

func TestPreparePIDDir(t *testing.T) {
	run := filepath.Join(t.TempDir(), "daemonctl")
	d := &Definition{StartSpec: controller.StartSpec{Name: "web", PIDFile: filepath.Join(run, "web.pid")}, DefaultPIDFile: true}
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	for range 2 {
		if err := d.PreparePIDDir(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(run)
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("pidfile directory: %v, %v", st.Mode(), err)
	}
	given := &Definition{StartSpec: controller.StartSpec{Name: "x", PIDFile: filepath.Join(t.TempDir(), "no", "x.pid")}}
	if err := given.PreparePIDDir(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(given.PIDFile)); err == nil {
		t.Errorf("created the directory of a pidfile the definition names")
	}
}

func TestKeyLines(t *testing.T) {
	lines, err := keyLines([]byte("a = 1\n\n[env]\nPORT = \"1\"\n[init]\ndefault-start = \"2\"\nb.c = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 1, "env": 3, "env.PORT": 4, "init": 5, "init.default-start": 6, "init.b.c": 7}
	for k, v := range want {
		if lines[k] != v {
			t.Errorf("line of %s = %d, want %d (all: %v)", k, lines[k], v, lines)
		}
	}
}

func TestKeysDocumented(t *testing.T) {
	// Every key the decoder accepts is documented (the manual is made
	// from Keys).
	for _, k := range Keys() {
		if k.Doc == "" || k.Type == "" || k.Default == "" {
			t.Errorf("key %s lacks documentation", k.Name)
		}
	}
	for _, key := range []string{"program", "args", "pidfile", "user", "group", "chdir", "umask", "nice", "env", "clear-env", "stdout", "stderr", "stop-schedule", "reload-signal", "wait", "notify", "timeout", "keep-on-timeout", "notify-socket", "description", "supervise", "respawn", "respawn-delay", "respawn-delay-max", "respawn-limit", "watchdog", "log-max-size", "log-keep", "forking", "program-pidfile", "init.required-start", "init.required-stop", "init.default-start", "init.default-stop"} {
		if _, ok := keyDoc(key); !ok {
			t.Errorf("key %s is not in Keys()", key)
		}
	}
}

func TestCheckNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may switch to any user")
	}
	dir := defDir(t, map[string]string{"web.toml": "program = \"/bin/true\"\npidfile = \"" + t.TempDir() + "/web.pid\"\nuser = \"root\"\n"})
	d, err := mustLoad(t, dir).Lookup("web")
	if err != nil {
		t.Fatal(err)
	}
	probs := d.Check()
	if len(probs) != 1 || probs[0].Key != "user" || probs[0].Line != 3 || !errors.Is(probs[0], controller.ErrNoPrivilege) {
		t.Fatalf("problems %v", probs)
	}
}
