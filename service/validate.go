package service

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/controller"
)

// Validating: a decoded file's values are checked and turned into a
// Definition. What a start needs beyond the file (the program installed,
// the user existing) is Check's (check.go), so that a service whose
// program was removed can still be stopped.

// problem makes a problem of d's file at key's line.
func (d *Definition) problem(key, format string, args ...any) *Problem {
	return &Problem{Service: d.Name, File: d.File, Line: d.line(key), Key: key, Msg: fmt.Sprintf(format, args...), Kind: ErrNotConfigured}
}

// line is the line key is set on, 0 when it is not.
func (d *Definition) line(key string) int {
	if d.lines == nil && d.doc != nil {
		d.lines, _ = keyLines(d.doc)
	}
	return d.lines[key]
}

// report records a problem at a key of the file being validated.
type report func(key, format string, args ...any)

// fill validates the decoded file and fills d from it, part by part; the
// problems come sorted by line.
func (d *Definition) fill(f *file, runDir string, runDirErr error) []*Problem {
	var problems []*Problem
	bad := func(key, format string, args ...any) {
		problems = append(problems, d.problem(key, format, args...))
	}
	noNULs(f, bad)
	d.fillProgram(f, bad)
	d.fillPIDFile(f, runDir, runDirErr, bad)
	d.fillProcess(f, bad)
	d.fillEnv(f, bad)
	d.fillSignals(f)
	d.fillReadiness(f, bad)
	d.fillSupervise(f, bad)
	d.fillInit(f, bad)
	slices.SortStableFunc(problems, func(a, b *Problem) int { return a.Line - b.Line })
	return problems
}

// noNULs refuses a NUL byte in any string: it ends a C string, so the
// kernel would refuse it in a path, an argument or the environment
// ("invalid argument", at start), and an init script would carry it.
// Refused here, so check catches it.
func noNULs(f *file, bad report) {
	strs := f.strings()
	for _, key := range slices.Sorted(maps.Keys(strs)) {
		if strings.Contains(strs[key], "\x00") {
			bad(key, "holds a NUL byte (\\u0000), which daemonctl cannot pass on: remove it")
		}
	}
	for i, a := range f.Args {
		if strings.Contains(a, "\x00") {
			bad("args", "element %d of %d holds a NUL byte (\\u0000), which no argument can carry: remove it", i+1, len(f.Args))
		}
	}
}

// fillProgram takes what to run: program, args, description.
func (d *Definition) fillProgram(f *file, bad report) {
	switch {
	case f.Program == nil:
		bad("program", "missing: say what to run, like program = \"/usr/sbin/%s\"", d.Name)
	case *f.Program == "":
		bad("program", "is empty: say what to run, like program = \"/usr/sbin/%s\"", d.Name)
	case strings.Contains(*f.Program, "/") && !filepath.IsAbs(*f.Program):
		bad("program", "%q is a relative path: give an absolute path, or a bare name looked up on PATH", *f.Program)
	default:
		d.Program = *f.Program
	}
	d.Args = f.Args
	d.Description = f.Description
	if strings.ContainsAny(d.Description, "\n\r") {
		bad("description", "must be one line")
	}
}

// fillPIDFile takes the pidfile, or the default one in runDir.
func (d *Definition) fillPIDFile(f *file, runDir string, runDirErr error, bad report) {
	switch {
	case f.PIDFile != nil && !filepath.IsAbs(*f.PIDFile):
		bad("pidfile", "%q is a relative path: give an absolute one, like \"/run/%s.pid\"", *f.PIDFile, d.Name)
	case f.PIDFile != nil && strings.HasSuffix(*f.PIDFile, "/"):
		bad("pidfile", "%q names a directory: give a file, like %q", *f.PIDFile, filepath.Join(*f.PIDFile, d.Name+".pid"))
	case f.PIDFile != nil:
		d.PIDFile = filepath.Clean(*f.PIDFile)
	case runDirErr != nil:
		bad("pidfile", "not given, and there is no default: %v; set pidfile = \"/path/to/%s.pid\"", runDirErr, d.Name)
	default:
		d.PIDFile = filepath.Join(runDir, d.Name+".pid")
		d.DefaultPIDFile = true
	}
}

// fillProcess takes how the daemon runs: user, group, directory, output
// files, umask and nice level.
func (d *Definition) fillProcess(f *file, bad report) {
	for key, path := range map[string]string{"chdir": f.Chdir, "stdout": f.Stdout, "stderr": f.Stderr, "notify-socket": f.NotifySocket} {
		if path != "" && !filepath.IsAbs(path) {
			bad(key, "%q is a relative path: give an absolute one", path)
		}
	}
	d.User, d.Group, d.Dir = f.User, f.Group, f.Chdir
	d.Stdout, d.Stderr, d.NotifySocket = f.Stdout, f.Stderr, f.NotifySocket
	if f.Umask != nil {
		m := f.Umask.mask
		d.Umask = &m
	}
	if f.Nice != nil {
		if *f.Nice < -20 || *f.Nice > 19 {
			bad("nice", "%d is out of range: give -20 (highest priority) to 19 (lowest)", *f.Nice)
		}
		n := *f.Nice
		d.Nice = &n
	}
}

// fillEnv takes the [env] table, sorted by key, and clear-env.
func (d *Definition) fillEnv(f *file, bad report) {
	for _, key := range slices.Sorted(maps.Keys(f.Env)) {
		if key == "" || strings.ContainsAny(key, "=\x00") {
			line := "env." + key
			if d.line(line) == 0 {
				line = "env"
			}
			bad(line, "%q is not an environment variable name", key)
			continue
		}
		if strings.Contains(f.Env[key], "\x00") {
			bad("env."+key, "the value holds a NUL byte (\\u0000), which no environment can carry: remove it")
			continue
		}
		d.Env = append(d.Env, key+"="+f.Env[key])
	}
	d.ClearEnv = f.ClearEnv
}

// fillSignals takes the stop schedule and the reload signal (their types
// checked them as they were decoded).
func (d *Definition) fillSignals(f *file) {
	if f.StopSchedule != nil {
		d.StopSchedule = f.StopSchedule.sched
	}
	d.ReloadSignal = unix.SIGHUP
	if f.ReloadSignal != nil {
		d.ReloadSignal = f.ReloadSignal.sig
	}
}

// fillReadiness takes how a start waits: wait, and notify with its
// timeout, keep-on-timeout and socket, which apply only with it.
func (d *Definition) fillReadiness(f *file, bad report) {
	if f.Wait != nil {
		d.Wait = f.Wait.d
	}
	d.Notify = f.Notify
	if f.Timeout != nil {
		d.NotifyTimeout = f.Timeout.d
	}
	if f.KeepOnTimeout != nil {
		d.KeepOnTimeout = *f.KeepOnTimeout
	}
	if !d.Notify {
		// timeout also bounds a supervised forking program's start-up.
		forking := f.Supervise && f.Forking != nil && *f.Forking
		for key, set := range map[string]bool{"timeout": f.Timeout != nil && !forking, "keep-on-timeout": f.KeepOnTimeout != nil, "notify-socket": f.NotifySocket != ""} {
			if set {
				bad(key, "applies only with notify = true")
			}
		}
	}
}

// fillSupervise takes supervise and the settings that apply only with
// it, over the defaults of --supervise.
func (d *Definition) fillSupervise(f *file, bad report) {
	set := map[string]bool{
		"respawn": f.Respawn != nil, "respawn-delay": f.RespawnDelay != nil, "respawn-delay-max": f.RespawnDelayMax != nil,
		"respawn-limit": f.RespawnLimit != nil, "watchdog": f.Watchdog != nil, "log-max-size": f.LogMaxSize != nil,
		"log-keep": f.LogKeep != nil, "forking": f.Forking != nil, "program-pidfile": f.ProgramPIDFile != "",
	}
	if !f.Supervise {
		for _, key := range slices.Sorted(maps.Keys(set)) {
			if set[key] {
				bad(key, "applies only with supervise = true")
			}
		}
		return
	}
	sv := controller.DefaultSupervision()
	d.Supervise = sv
	if f.Respawn != nil {
		sv.Respawn.When = f.Respawn.when
	}
	if f.RespawnDelay != nil {
		sv.Respawn.Delay = f.RespawnDelay.d
		sv.Respawn.DelayMax = max(sv.Respawn.DelayMax, sv.Respawn.Delay)
	}
	if f.RespawnDelayMax != nil {
		sv.Respawn.DelayMax = f.RespawnDelayMax.d
		if sv.Respawn.DelayMax < sv.Respawn.Delay {
			bad("respawn-delay-max", "%v is below respawn-delay %v: raise it, or lower the delay", sv.Respawn.DelayMax, sv.Respawn.Delay)
		}
	}
	if f.RespawnLimit != nil {
		sv.Respawn.Limit = f.RespawnLimit.limit
	}
	if f.Watchdog != nil {
		sv.Watchdog = f.Watchdog.d
	}
	if f.LogMaxSize != nil {
		sv.LogMaxSize = f.LogMaxSize.size
	}
	if f.LogKeep != nil {
		if *f.LogKeep < 0 || *f.LogKeep > 1000 {
			bad("log-keep", "%d is out of range: keep 0 to 1000 old files", *f.LogKeep)
		}
		sv.LogKeep = *f.LogKeep
	}
	if f.Forking != nil {
		sv.Forking = *f.Forking
	}
	switch {
	case f.ProgramPIDFile != "" && !filepath.IsAbs(f.ProgramPIDFile):
		bad("program-pidfile", "%q is a relative path: give an absolute one", f.ProgramPIDFile)
	case f.ProgramPIDFile != "" && !sv.Forking:
		bad("program-pidfile", "applies only with forking = true")
	}
	sv.ProgramPIDFile = f.ProgramPIDFile
	if sv.Forking && f.Notify {
		bad("forking", "a forking program cannot also notify: it is ready when its start-up exits; remove notify or forking")
	}
	if f.KeepOnTimeout != nil && *f.KeepOnTimeout {
		bad("keep-on-timeout", "does not go with supervise: the supervisor ends a program that is not ready, and respawns it")
	}
}

// fillInit takes the init script's header, one line per value.
func (d *Definition) fillInit(f *file, bad report) {
	d.Init = InitInfo{
		RequiredStart: orDefault(f.Init.RequiredStart, "$remote_fs $syslog"),
		RequiredStop:  orDefault(f.Init.RequiredStop, "$remote_fs $syslog"),
		DefaultStart:  orDefault(f.Init.DefaultStart, "2 3 4 5"),
		DefaultStop:   orDefault(f.Init.DefaultStop, "0 1 6"),
	}
	for key, v := range map[string]string{"init.required-start": d.Init.RequiredStart, "init.required-stop": d.Init.RequiredStop, "init.default-start": d.Init.DefaultStart, "init.default-stop": d.Init.DefaultStop} {
		if strings.ContainsAny(v, "\n\r") {
			bad(key, "must be one line")
		}
	}
}

func orDefault(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
