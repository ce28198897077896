package ssd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/controller"
)

// run carries out o's command and returns its exit code, or an error
// wrapping ErrTrouble (Main prints it and exits 2, or 4 for --status).
// Without --background a start that succeeds does not return.
func run(o Options, stdout, stderr io.Writer) (int, error) {
	t, err := resolveTarget(o)
	if err != nil {
		return 0, err
	}
	c, err := resolveCred(o)
	if err != nil {
		return 0, err
	}
	f, err := newFinder(o, t)
	if err != nil {
		return 0, err
	}
	switch o.Action {
	case ActionStatus:
		res, err := f.find()
		if err != nil {
			return 0, err
		}
		return res.status, nil
	case ActionStop:
		return stop(o, f, stdout, stderr)
	}
	return start(o, f, c, stdout, stderr)
}

// start is --start: unless a matching process runs, it starts the
// program, in one of three ways: daemonctl's own locked start for
// --background --make-pidfile; a detaching stage for --background alone;
// otherwise the program replaces this process. It returns the exit code
// (0 started, or would be with --test; nothing-done when a matching
// process runs), and an error wrapping ErrTrouble when the program could
// not be started, when processes left by a dead main process still run,
// or when an option cannot be honoured in this combination (the error
// names it).
func start(o Options, f finder, c cred, stdout, stderr io.Writer) (int, error) {
	own := o.Background && o.MakePIDFile && o.PIDFile != os.DevNull
	switch {
	case own && o.Chroot != "":
		return 0, fmt.Errorf("%w: --chroot does not go with --background --make-pidfile here: daemonctl's own start keeps the pidfile and the daemon outside any chroot", ErrTrouble)
	case own && o.NoClose:
		return 0, fmt.Errorf("%w: --no-close does not go with --make-pidfile here: daemonctl's own start gives the daemon /dev/null, or --output", ErrTrouble)
	case o.Background && o.NotifyAwait && !own:
		return 0, fmt.Errorf("%w: --notify-await needs --make-pidfile here: only daemonctl's own start listens for READY=1", ErrTrouble)
	}
	res, err := f.find()
	if err != nil {
		return 0, err
	}
	if res.orphans {
		return 0, fmt.Errorf("%w: pid %d is gone, but processes it left (%s) still run; not starting a second instance: stop them first (%s --stop with the same options)", ErrTrouble, res.main, pidWords(res.pids), Name)
	}
	if len(res.pids) > 0 {
		name := o.Exec
		if name == "" {
			name = "process"
		}
		o.info(stdout, "%s already running.\n", name)
		return o.nothingDone(), nil
	}
	if o.Test {
		if o.Quiet <= 0 {
			printWouldStart(stdout, o, c)
		}
		return 0, nil
	}
	o.debug(stdout, "Starting %s...\n", o.StartAs)
	// The nice value, scheduler and I/O class are the thread's: set on
	// this one, they reach the program through the fork or the exec.
	runtime.LockOSThread()
	if err := applyPriority(o, stderr); err != nil {
		return 0, err
	}
	switch {
	case own:
		return ownStart(o, c, stdout)
	case o.Background:
		return detach(o, stdout)
	}
	if o.MakePIDFile {
		if err := writePIDFile(o.PIDFile, os.Getpid()); err != nil {
			return 0, err
		}
	}
	return 0, execInPlace(o, c)
}

// ownStart is --background --make-pidfile: daemonctl's own start, the
// daemon holding the pidfile's lock.
func ownStart(o Options, c cred, stdout io.Writer) (int, error) {
	mask := o.Umask
	if mask < 0 {
		mask = unix.Umask(0o022)
		unix.Umask(mask)
	}
	m := uint32(mask) & 0o777
	spec := controller.StartSpec{
		PIDFile:       o.PIDFile,
		Program:       absolute(o.StartAs, o.Chdir),
		Args:          o.Args,
		Dir:           o.Chdir,
		Umask:         &m,
		Stdout:        o.Output,
		Stderr:        o.Output,
		Notify:        o.NotifyAwait,
		NotifyTimeout: max(o.NotifyTimeout, 1),
	}
	if c.uid >= 0 {
		spec.User = strconv.Itoa(c.uid)
	}
	if c.gid >= 0 {
		spec.Group = strconv.Itoa(c.gid)
	}
	if c.home != "" {
		spec.Env = []string{"HOME=" + c.home}
	}
	progress := io.Discard
	if o.Quiet < 0 {
		progress = stdout
	}
	started, err := controller.Start(spec, progress)
	if err != nil {
		if errors.Is(err, controller.ErrProgramNotFound) {
			return 0, fmt.Errorf("%w: unable to start %s (%v)", ErrTrouble, o.StartAs, err)
		}
		return 0, fmt.Errorf("%w: %v", ErrTrouble, err)
	}
	if started.AlreadyRunning {
		// A racing start won: the service runs once.
		o.info(stdout, "%s already running.\n", orElse(o.Exec, "process"))
		return o.nothingDone(), nil
	}
	return 0, nil
}

// orElse returns s, or def when s is empty.
func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// absolute makes a program path absolute: start-stop-daemon executes a
// relative one from its --chdir.
func absolute(path, dir string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// cred is who --chuid and --group make the program (start-stop-daemon's
// runas_uid, runas_gid): -1 where nothing changes.
type cred struct {
	user     string // the --chuid user's name, "" without --chuid
	uid, gid int
	groups   []int // the user's groups, for --chuid
	home     string
}

// resolveCred looks up --chuid and --group as start-stop-daemon's
// setup_options does: a number is taken as is for a group and must exist
// for a user; the user's primary group is the default; HOME becomes the
// user's home when it exists.
func resolveCred(o Options) (cred, error) {
	c := cred{uid: -1, gid: -1}
	if o.ChGroup != "" {
		if gid, ok := parseUnsigned(o.ChGroup, 10); ok {
			c.gid = gid
		} else {
			g, err := user.LookupGroup(o.ChGroup)
			if err != nil {
				return c, fmt.Errorf("%w: group '%s' not found", ErrTrouble, o.ChGroup)
			}
			c.gid, _ = strconv.Atoi(g.Gid)
		}
	}
	if o.ChUser == "" {
		return c, nil
	}
	var u *user.User
	var err error
	if _, ok := parseUnsigned(o.ChUser, 10); ok {
		u, err = user.LookupId(o.ChUser)
	} else {
		u, err = user.Lookup(o.ChUser)
	}
	if err != nil {
		return c, fmt.Errorf("%w: user '%s' not found", ErrTrouble, o.ChUser)
	}
	c.user = u.Username
	c.uid, _ = strconv.Atoi(u.Uid)
	if c.gid < 0 {
		c.gid, _ = strconv.Atoi(u.Gid)
	}
	c.groups = []int{c.gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err == nil && !slices.Contains(c.groups, n) {
				c.groups = append(c.groups, n)
			}
		}
	}
	if st, err := os.Stat(u.HomeDir); err == nil && st.IsDir() {
		c.home = u.HomeDir
	}
	return c, nil
}

// apply changes this process's identity as start-stop-daemon's do_start
// does: the group, then (changing user) the user's groups, then the user.
// The syscall package's calls change every thread.
func (c cred) apply() error {
	ruid, rgid := os.Getuid(), os.Getgid()
	if c.gid >= 0 && c.gid != rgid {
		if err := syscall.Setgid(c.gid); err != nil {
			return fmt.Errorf("%w: unable to set gid to %d (%s)", ErrTrouble, c.gid, errnoText(err))
		}
	}
	if c.user == "" {
		return nil
	}
	if c.gid != rgid || c.uid != ruid {
		if err := syscall.Setgroups(c.groups); err != nil {
			return fmt.Errorf("%w: unable to set initgroups() with gid %d (%s)", ErrTrouble, c.gid, errnoText(err))
		}
	}
	if c.uid != ruid {
		if err := syscall.Setuid(c.uid); err != nil {
			return fmt.Errorf("%w: unable to set uid to %s (%s)", ErrTrouble, c.user, errnoText(err))
		}
	}
	return nil
}

// credential is c for a child process: nil when nothing changes.
func (c cred) credential() *syscall.Credential {
	if c.uid < 0 && c.gid < 0 {
		return nil
	}
	cr := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: true}
	if c.uid >= 0 {
		cr.Uid = uint32(c.uid)
	}
	if c.gid >= 0 {
		cr.Gid = uint32(c.gid)
	}
	if c.user != "" {
		cr.NoSetGroups = false
		for _, g := range c.groups {
			cr.Groups = append(cr.Groups, uint32(g))
		}
	}
	return cr
}

// environment is the program's environment: this process's, with HOME
// set for --chuid, without daemonctl's stage marker.
func (c cred) environment() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, stageEnv+"=") || c.home != "" && strings.HasPrefix(kv, "HOME=")
	})
	if c.home != "" {
		env = append(env, "HOME="+c.home)
	}
	return env
}

// applyPriority sets --nicelevel, --procsched and --iosched on the
// calling thread, locked to it: a nice or scheduler that is refused is an
// error, an I/O class a warning, as with start-stop-daemon.
func applyPriority(o Options, stderr io.Writer) error {
	if o.Nice != 0 {
		prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
		if err == nil {
			// The system call returns 20 - nice.
			err = unix.Setpriority(unix.PRIO_PROCESS, 0, min(max(20-prio+o.Nice, -20), 19))
		}
		if err != nil {
			return fmt.Errorf("%w: unable to alter nice level by %d (%s)", ErrTrouble, o.Nice, errnoText(err))
		}
	}
	if s := o.ProcSched; s != nil {
		param := struct{ priority int32 }{int32(s.Priority)}
		if _, _, errno := unix.Syscall(unix.SYS_SCHED_SETSCHEDULER, 0, uintptr(s.Policy), uintptr(unsafe.Pointer(&param))); errno != 0 {
			return fmt.Errorf("%w: unable to set process scheduler (%s)", ErrTrouble, errnoText(errno))
		}
	}
	if s := o.IOSched; s != nil {
		const whoProcess, classShift = 1, 13
		mask := s.Policy<<classShift | s.Priority
		if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, whoProcess, 0, uintptr(mask)); errno != 0 {
			fmt.Fprintf(stderr, "%s: warning: unable to alter IO priority to mask %d (%s)\n", o.Prog, mask, errnoText(errno))
		}
	}
	return nil
}

// execInPlace runs the program in this process, as start-stop-daemon
// does without --background: umask, chroot, working directory, identity,
// then exec. It returns only on failure.
func execInPlace(o Options, c cred) error {
	if o.Umask >= 0 {
		unix.Umask(o.Umask)
	}
	if o.Chroot != "" {
		if err := unix.Chdir(o.Chroot); err != nil {
			return fmt.Errorf("%w: unable to chdir() to %s (%s)", ErrTrouble, o.Chroot, errnoText(err))
		}
		if err := unix.Chroot(o.Chroot); err != nil {
			return fmt.Errorf("%w: unable to chroot() to %s (%s)", ErrTrouble, o.Chroot, errnoText(err))
		}
	}
	if err := unix.Chdir(o.Chdir); err != nil {
		return fmt.Errorf("%w: unable to chdir() to %s (%s)", ErrTrouble, o.Chdir, errnoText(err))
	}
	if err := c.apply(); err != nil {
		return err
	}
	argv := append([]string{o.StartAs}, o.Args...)
	err := syscall.Exec(o.StartAs, argv, c.environment())
	return fmt.Errorf("%w: unable to start %s (%s)", ErrTrouble, o.StartAs, errnoText(err))
}

// writePIDFile writes pid to path for --make-pidfile without
// --background, as start-stop-daemon does, but never through a symbolic
// link, into a FIFO or device, or into a file with other names: it opens
// without truncating, checks, then truncates.
func writePIDFile(path string, pid int) error {
	if path == os.DevNull {
		return nil
	}
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("%w: unable to open pidfile '%s' for writing (%s)", ErrTrouble, path, errnoText(err))
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		return fmt.Errorf("%w: unable to open pidfile '%s' for writing (not a regular file with one name)", ErrTrouble, path)
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("%w: unable to write pidfile '%s' (%v)", ErrTrouble, path, err)
	}
	if _, err := f.WriteString(strconv.Itoa(pid) + "\n"); err != nil {
		return fmt.Errorf("%w: unable to write pidfile '%s' (%v)", ErrTrouble, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: unable to close pidfile '%s' (%v)", ErrTrouble, path, err)
	}
	return nil
}

// printWouldStart is --test's report of a start, in start-stop-daemon's
// words.
func printWouldStart(w io.Writer, o Options, c cred) {
	var b strings.Builder
	fmt.Fprintf(&b, "Would start %s ", o.StartAs)
	for _, a := range o.Args {
		fmt.Fprintf(&b, "%s ", a)
	}
	if c.user != "" {
		fmt.Fprintf(&b, " (as user %s[%d]", c.user, c.uid)
		if c.gid >= 0 {
			fmt.Fprintf(&b, ", and group %s[%d])", orElse(o.ChGroup, ""), c.gid)
		} else {
			b.WriteString(")")
		}
	}
	if o.Chroot != "" {
		fmt.Fprintf(&b, " in directory %s", o.Chroot)
	}
	if o.Nice != 0 {
		fmt.Fprintf(&b, ", and add %d to the priority", o.Nice)
	}
	if s := o.ProcSched; s != nil {
		fmt.Fprintf(&b, ", with scheduling policy %s with priority %d", s.Name, s.Priority)
	}
	if s := o.IOSched; s != nil {
		fmt.Fprintf(&b, ", with IO scheduling class %s with priority %d", s.Name, s.Priority)
	}
	fmt.Fprintln(w, b.String()+".")
}

// pidWords renders PIDs for messages: "7", "7, 8".
func pidWords(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}
