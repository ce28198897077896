package controller

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

// StartSpec is everything a start needs: what to run and how to detach it.
// The zero value of each optional field means the classic default.
type StartSpec struct {
	// PIDFile is the pidfile path; relative paths are made absolute.
	PIDFile string
	// Name is how messages call the service; default: PIDFile's base name
	// without ".pid".
	Name string
	// Program is resolved on PATH; Args follow it.
	Program string
	Args    []string
	// Dir is the daemon's working directory; default "/".
	Dir string
	// Umask is the daemon's umask; nil means 022.
	Umask *uint32
	// User and Group (names or numbers) drop privileges; root only.
	User, Group string
	// Env adds KEY=VALUE entries to the environment, which is the caller's
	// own unless ClearEnv is set.
	Env      []string
	ClearEnv bool
	// Stdout and Stderr are files appended to (created 0640); default
	// /dev/null.
	Stdout, Stderr string
	// Nice, when set, is the daemon's nice value.
	Nice *int
	// Wait, when positive, makes Start watch the daemon that long and fail
	// if it exits meanwhile.
	Wait time.Duration
	// Notify makes Start wait for READY=1 on NOTIFY_SOCKET, up to
	// NotifyTimeout (default 30 s). On timeout the daemon is stopped with
	// StopSchedule (its zero value: signals.DefaultSchedule) unless
	// KeepOnTimeout.
	Notify        bool
	NotifyTimeout time.Duration
	KeepOnTimeout bool
	// NotifySocket is a file-system path for the notify socket; default an
	// abstract socket.
	NotifySocket string
	StopSchedule signals.Schedule
	// Supervise, when not nil, keeps the program running under a
	// supervisor: the launcher stage stays alive, holds the lock and
	// respawns the program (start --supervise; see the supervise package).
	Supervise *Supervision
}

// Supervision is how a supervised service is kept running.
type Supervision struct {
	// Respawn is when and how soon the program is started again
	// (supervise.DefaultRespawn for the flags' defaults).
	Respawn supervise.Respawn
	// LogMaxSize is the size at which Stdout and Stderr are rotated (0:
	// never), keeping LogKeep old files.
	LogMaxSize int64
	LogKeep    int
	// Watchdog, when positive, is how often the program must send
	// WATCHDOG=1.
	Watchdog time.Duration
	// Forking marks a program that forks itself away; its main process is
	// then the PID in ProgramPIDFile, or the single process left.
	Forking        bool
	ProgramPIDFile string
}

// DefaultSupervision is --supervise with no other supervise flag: respawn
// on failure after 100 ms doubling to 30 s, giving up past 5 respawns in
// 10 s, logs rotated at 10 MiB keeping 5.
func DefaultSupervision() *Supervision {
	return &Supervision{Respawn: supervise.DefaultRespawn(), LogMaxSize: supervise.DefaultLogMaxSize, LogKeep: supervise.DefaultLogKeep}
}

// resolve validates spec and turns it into what the launcher runs. It
// checks everything that can be checked before anything detaches.
func (spec *StartSpec) resolve() (*launchSpec, error) {
	pidPath, err := AbsPIDFile(spec.PIDFile)
	if err != nil {
		return nil, err
	}
	spec.PIDFile = pidPath
	spec.Name = ServiceName(spec.Name, pidPath)
	dir := filepath.Dir(pidPath)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("pidfile directory %s does not exist: create it (mkdir -p %s) or choose another -p", dir, dir)
	}
	if st, err := os.Lstat(pidPath); err == nil {
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("pidfile %s is a symbolic link, which daemonctl never follows: remove it or point -p at a real path", pidPath)
		case !st.Mode().IsRegular():
			return nil, fmt.Errorf("pidfile %s is not a regular file: choose another -p", pidPath)
		}
	}
	if spec.Program == "" {
		return nil, withKind(ErrUsage, "no program given: daemonctl start -p FILE -- PROGRAM [ARG...]")
	}
	path, err := LookProgram(spec.Program)
	if err != nil {
		return nil, withKind(ErrProgramNotFound, "program %v", err)
	}
	ls := &launchSpec{
		PIDFile: pidPath,
		Path:    path,
		Argv:    append([]string{spec.Program}, spec.Args...),
		Dir:     "/",
		Umask:   0o022,
		Stdout:  spec.Stdout,
		Stderr:  spec.Stderr,
		Nice:    spec.Nice,
	}
	if spec.Dir != "" {
		if ls.Dir, err = filepath.Abs(spec.Dir); err != nil {
			return nil, err
		}
		if st, err := os.Stat(ls.Dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--chdir %s: no such directory", spec.Dir)
		}
	}
	if spec.Umask != nil {
		if *spec.Umask > 0o777 {
			return nil, withKind(ErrUsage, "--umask %o: must be an octal number up to 777", *spec.Umask)
		}
		ls.Umask = *spec.Umask
	}
	if spec.Nice != nil && (*spec.Nice < -20 || *spec.Nice > 19) {
		return nil, withKind(ErrUsage, "--nice %d: must be between -20 and 19", *spec.Nice)
	}
	for _, name := range []*string{&ls.Stdout, &ls.Stderr} {
		if *name == "" {
			continue
		}
		if *name, err = filepath.Abs(*name); err != nil {
			return nil, err
		}
		if st, err := os.Stat(filepath.Dir(*name)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("log file %s: directory %s does not exist: create it first", *name, filepath.Dir(*name))
		}
	}
	if ls.Cred, err = resolveCred(spec.User, spec.Group); err != nil {
		return nil, err
	}
	if ls.Env, err = buildEnv(spec.Env, spec.ClearEnv); err != nil {
		return nil, err
	}
	if spec.Wait < 0 {
		return nil, withKind(ErrUsage, "--wait %v: must be positive", spec.Wait)
	}
	if spec.Notify && spec.NotifyTimeout < 0 {
		return nil, withKind(ErrUsage, "--timeout %v: must be positive", spec.NotifyTimeout)
	}
	if spec.Supervise != nil {
		if err := spec.resolveSupervision(ls); err != nil {
			return nil, err
		}
	}
	return ls, nil
}

// resolveSupervision checks the supervise settings and copies them, with
// the readiness wait the supervisor then does itself, into ls.
func (spec *StartSpec) resolveSupervision(ls *launchSpec) error {
	sv := *spec.Supervise
	r := sv.Respawn
	switch {
	case r.When != supervise.OnFailure && r.When != supervise.Always:
		return withKind(ErrUsage, "--respawn: expected on-failure or always")
	case r.Delay < 0 || r.DelayMax < 0:
		return withKind(ErrUsage, "--respawn-delay %v, --respawn-delay-max %v: must not be negative", r.Delay, r.DelayMax)
	case r.DelayMax < r.Delay:
		return withKind(ErrUsage, "--respawn-delay-max %v is below --respawn-delay %v: raise it, or lower the delay", r.DelayMax, r.Delay)
	case sv.LogMaxSize < 0:
		return withKind(ErrUsage, "--log-max-size %d: must not be negative", sv.LogMaxSize)
	case sv.LogKeep < 0 || sv.LogKeep > 1000:
		return withKind(ErrUsage, "--log-keep %d: must be 0 to 1000", sv.LogKeep)
	case sv.Watchdog < 0 || sv.Watchdog > 0 && sv.Watchdog < time.Millisecond:
		return withKind(ErrUsage, "--watchdog %v: give a duration of at least 1ms, like 30s", sv.Watchdog)
	case sv.ProgramPIDFile != "" && !sv.Forking:
		return withKind(ErrUsage, "--program-pidfile is read only for a program that forks itself away: add --forking")
	case sv.Forking && spec.Notify:
		return withKind(ErrUsage, "--forking and --notify exclude each other: a forking program is ready when its start-up exits")
	case spec.KeepOnTimeout:
		return withKind(ErrUsage, "--keep-on-timeout does not go with --supervise: the supervisor ends a program that is not ready, and respawns it")
	case ls.LockEnv:
		return withKind(ErrUsage, "a program that daemonizes itself (Daemonize) cannot be supervised")
	}
	if sv.ProgramPIDFile != "" {
		abs, err := filepath.Abs(sv.ProgramPIDFile)
		if err != nil {
			return err
		}
		if st, err := os.Stat(filepath.Dir(abs)); err != nil || !st.IsDir() {
			return fmt.Errorf("--program-pidfile %s: directory %s does not exist: create it first", sv.ProgramPIDFile, filepath.Dir(abs))
		}
		sv.ProgramPIDFile = abs
	}
	ls.Supervise, ls.Name = &sv, spec.Name
	ls.Wait, ls.Notify, ls.NotifyTimeout, ls.NotifySocket = spec.Wait, spec.Notify, spec.NotifyTimeout, spec.NotifySocket
	ls.StopSchedule = spec.StopSchedule
	return nil
}

// LookProgram finds prog on PATH (or as a path) and checks that it is an
// executable file, returning its absolute path: the daemon runs from
// another directory. Its error matches ErrProgramNotFound and says why
// prog cannot run and what to do ("/usr/sbin/web does not exist: install
// it, or fix the path"); start and check both say it.
func LookProgram(prog string) (string, error) {
	path, err := exec.LookPath(prog)
	if err == nil {
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			return "", withKind(ErrProgramNotFound, "%s is a directory, not a program", prog)
		}
		return filepath.Abs(path)
	}
	if st, serr := os.Stat(prog); serr == nil && st.IsDir() {
		return "", withKind(ErrProgramNotFound, "%s is a directory, not a program", prog)
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "", withKind(ErrProgramNotFound, "%s is not executable: chmod +x it", prog)
	case strings.Contains(prog, "/"):
		return "", withKind(ErrProgramNotFound, "%s does not exist: install it, or fix the path", prog)
	}
	return "", withKind(ErrProgramNotFound, "%s was not found on PATH: give its absolute path", prog)
}

// resolveCred looks up --user and --group into the identity the daemon
// runs as. Without either it returns nil: the daemon keeps the caller's
// identity. Its error is CheckIdentity's first.
func resolveCred(userName, groupName string) (*cred, error) {
	c, problems := lookupCred(userName, groupName)
	if len(problems) > 0 {
		return nil, problems[0]
	}
	return c, nil
}

// CheckIdentity reports what keeps a daemon from running as userName and
// groupName (names or numbers; either may be ""): a name that does not
// exist, or, once both exist, a user or group other than the caller's
// when the caller is not root (the user's primary group counts when no
// group is given). Nil means a start may run as them.
func CheckIdentity(userName, groupName string) []*IdentityError {
	_, problems := lookupCred(userName, groupName)
	return problems
}

// lookupCred is resolveCred's and CheckIdentity's lookup.
func lookupCred(userName, groupName string) (*cred, []*IdentityError) {
	if userName == "" && groupName == "" {
		return nil, nil
	}
	c := &cred{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	var problems []*IdentityError
	if userName != "" {
		if u, err := lookupUser(userName); err != nil {
			problems = append(problems, &IdentityError{Key: "user", Name: userName})
		} else {
			uid, _ := strconv.ParseUint(u.Uid, 10, 32)
			gid, _ := strconv.ParseUint(u.Gid, 10, 32)
			c.UID, c.GID = uint32(uid), uint32(gid)
			if ids, err := u.GroupIds(); err == nil {
				for _, id := range ids {
					if n, err := strconv.ParseUint(id, 10, 32); err == nil {
						c.Groups = append(c.Groups, uint32(n))
					}
				}
			}
		}
	}
	if groupName != "" {
		if g, err := lookupGroup(groupName); err != nil {
			problems = append(problems, &IdentityError{Key: "group", Name: groupName})
		} else {
			gid, _ := strconv.ParseUint(g.Gid, 10, 32)
			c.GID = uint32(gid)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if c.Groups == nil {
		c.Groups = []uint32{c.GID}
	}
	if euid, egid := uint32(os.Geteuid()), uint32(os.Getegid()); euid != 0 && (c.UID != euid || c.GID != egid) {
		// Each key that asks for another identity; the user's primary
		// group is the user's when no group is given.
		if userName != "" && (c.UID != euid || groupName == "") {
			problems = append(problems, &IdentityError{Key: "user", Name: userName, NeedsRoot: true})
		}
		if groupName != "" && (c.GID != egid || userName == "") {
			problems = append(problems, &IdentityError{Key: "group", Name: groupName, NeedsRoot: true})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return c, nil
}

// lookupUser finds a user by name, or by uid when name is a number.
func lookupUser(name string) (*user.User, error) {
	u, err := user.Lookup(name)
	if err == nil {
		return u, nil
	}
	if _, nerr := strconv.ParseUint(name, 10, 32); nerr == nil {
		return user.LookupId(name)
	}
	return nil, err
}

// lookupGroup finds a group by name, or by gid when name is a number.
func lookupGroup(name string) (*user.Group, error) {
	g, err := user.LookupGroup(name)
	if err == nil {
		return g, nil
	}
	if _, nerr := strconv.ParseUint(name, 10, 32); nerr == nil {
		return user.LookupGroupId(name)
	}
	return nil, err
}

// buildEnv is the daemon's environment: the caller's (less daemonctl's own
// markers and the caller's NOTIFY_SOCKET), or nothing with clear, then the
// KEY=VALUE entries of extra, each replacing an earlier KEY.
func buildEnv(extra []string, clear bool) ([]string, error) {
	var env []string
	if !clear {
		for _, kv := range os.Environ() {
			key, _, _ := strings.Cut(kv, "=")
			if key != launcherEnv && key != daemonEnv && key != daemonEnvNotify && key != testPauseEnv && key != "NOTIFY_SOCKET" {
				env = append(env, kv)
			}
		}
	}
	for _, kv := range extra {
		key, _, ok := strings.Cut(kv, "=")
		if !ok || key == "" || strings.ContainsAny(key, "\x00") {
			return nil, withKind(ErrUsage, "--env %q: expected KEY=VALUE", kv)
		}
		env = setEnv(env, kv)
	}
	return env, nil
}

// setEnv returns env with kv's key set to kv, replacing an earlier entry.
func setEnv(env []string, kv string) []string {
	key, _, _ := strings.Cut(kv, "=")
	for i, old := range env {
		if k, _, _ := strings.Cut(old, "="); k == key {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}
