package controller

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/daemonctl/daemonctl/internal/sdnotify"
	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/process"
)

// Options configure Daemonize. The zero value of each optional field means
// the classic default.
type Options struct {
	// PIDFile is required; relative paths are made absolute.
	PIDFile string
	// Name is how messages call the service; default from PIDFile.
	Name string
	// Dir is the daemon's working directory; default "/".
	Dir string
	// Umask is the daemon's umask; 0 means the default 022 (a umask of 0
	// makes world-writable files, so it cannot be asked for here).
	Umask uint32
	// Stdout and Stderr are files appended to (created 0640); default
	// /dev/null.
	Stdout, Stderr string
	// Env adds KEY=VALUE entries to the daemon's environment.
	Env []string
	// Notify makes the parent wait until the daemon calls Ready (within
	// NotifyTimeout, default 30 s). Without it the daemon is reported
	// ready as soon as Daemonize returns in it.
	Notify        bool
	NotifyTimeout time.Duration
	// ReturnInParent makes Daemonize return in the original process once
	// the daemon is up (with a Daemon whose Parent is true) instead of
	// exiting it with status 0.
	ReturnInParent bool
	// Progress receives the parent's messages (STATUS= lines a notifying
	// daemon sends); default os.Stderr.
	Progress io.Writer
}

// Daemon is the result of Daemonize.
type Daemon struct {
	// Parent is true in the original process (with ReturnInParent): the
	// daemon runs elsewhere, as PID.
	Parent bool
	// PID is the daemon's PID.
	PID  int
	file *pidfile.File
}

// Daemonize turns the calling Go program into a daemon, the way the
// classic daemonize(pidfile) does, by re-executing itself (Go cannot
// fork): the same launcher stage as "daemonctl start" detaches it (new
// session, not its leader; cwd, umask, stdio) and the daemon holds the
// pidfile's lock, so "daemonctl status/stop/reload -p PIDFILE" manage it
// like any other daemon. Call it first thing in main, before starting
// goroutines or opening files: everything before it runs three times. Do
// install signal handlers before it (signals.StopContext, signal.Notify):
// without Options.Notify the parent returns as soon as Daemonize returns in
// the daemon, and a HUP or TERM sent then would otherwise kill it.
//
// In the original process it returns only on failure, or with ReturnInParent
// (Daemon.Parent is true); on success the process otherwise exits with
// status 0 once the daemon is up. In the launcher stage it never returns.
// In the daemon it returns a Daemon whose pidfile is written and locked by
// this process; defer its Release.
//
// Errors in the parent: ErrAlreadyRunning (an *AlreadyRunningError
// naming the PID) when another instance holds the lock, ErrNoPrivilege or
// a pidfile error (a missing directory, a symlink) when the pidfile cannot
// be written, ErrFailedStart when the daemon failed before it was up (for
// instance its own Daemonize failed; its exit status is in the message).
// In the daemon: ErrAlreadyDaemon when this process already holds the
// pidfile's lock (Daemonize called twice, or the program was started as a
// daemon by daemonctl with the same pidfile).
func Daemonize(opts Options) (*Daemon, error) {
	if IsLauncher() {
		os.Exit(RunLauncher())
	}
	path, err := AbsPIDFile(opts.PIDFile)
	if err != nil {
		return nil, err
	}
	if marker := os.Getenv(daemonEnv); marker != "" {
		return adopt(marker, path, opts)
	}
	if held, _ := holdsOwnLock(path); held {
		return nil, withKind(ErrAlreadyDaemon, "%s: this process already holds the pidfile's lock: Daemonize was called twice, or daemonctl started it with this pidfile", path)
	}
	return detach(path, opts)
}

// holdsOwnLock reports whether this process holds a lock on path.
func holdsOwnLock(path string) (bool, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return false, err
	}
	taker, err := process.LockTaker(os.Getpid(), process.FileID{Dev: uint64(st.Dev), Ino: st.Ino})
	return taker != 0, err
}

// detach runs in the original process: it starts the program again as a
// daemon through the launcher stage and waits until the daemon is up.
func detach(path string, opts Options) (*Daemon, error) {
	// The daemon is this very binary, as the stage is (selfExecutable):
	// during a package upgrade a newer one could speak another protocol.
	self, err := selfExecutable()
	if err != nil {
		return nil, fmt.Errorf("daemonize: cannot find own executable: %w", err)
	}
	spec := StartSpec{
		PIDFile:       path,
		Name:          opts.Name,
		Program:       self,
		Args:          os.Args[1:],
		Dir:           opts.Dir,
		Env:           opts.Env,
		Stdout:        opts.Stdout,
		Stderr:        opts.Stderr,
		Notify:        true, // the daemon confirms Daemonize succeeded
		NotifyTimeout: opts.NotifyTimeout,
	}
	if opts.Umask != 0 {
		spec.Umask = &opts.Umask
	}
	ls, err := spec.resolve()
	if err != nil {
		return nil, err
	}
	ls.Argv[0] = os.Args[0]
	ls.LockEnv = true
	if opts.Notify {
		ls.Env = setEnv(ls.Env, daemonEnvNotify+"=1")
	}
	progress := opts.Progress
	if progress == nil {
		progress = os.Stderr
	}
	started, err := start(spec, ls, os.Args, progress)
	if err != nil {
		return nil, err
	}
	if started.AlreadyRunning {
		return nil, &AlreadyRunningError{Name: spec.Name, PID: started.PID}
	}
	if !opts.ReturnInParent {
		os.Exit(0)
	}
	return &Daemon{Parent: true, PID: started.PID}, nil
}

// adopt runs in the daemon: it takes over the locked pidfile descriptor
// the launcher passed and, unless the program reports readiness itself,
// tells the parent it is up.
func adopt(marker, path string, opts Options) (*Daemon, error) {
	userNotifies := os.Getenv(daemonEnvNotify) != ""
	os.Unsetenv(daemonEnv)
	os.Unsetenv(daemonEnvNotify)
	fdText, markedPath, _ := strings.Cut(marker, ":")
	fd, err := strconv.Atoi(fdText)
	if err != nil || markedPath != path {
		err = fmt.Errorf("daemonize: launched for pidfile %s, asked for %s", markedPath, path)
		notifyFailure(err)
		return nil, err
	}
	f, err := pidfile.Adopt(uintptr(fd), path)
	if err != nil {
		notifyFailure(err)
		return nil, fmt.Errorf("daemonize: %w", err)
	}
	// The launcher writes our PID and its record right after the fork,
	// before the parent hears READY=1: this descriptor is read-only.
	d := &Daemon{PID: os.Getpid(), file: f}
	if !userNotifies {
		if err := Ready(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// notifyFailure tells a waiting parent why the daemon gives up.
func notifyFailure(err error) {
	_, _ = sdnotify.Send(true, "STATUS=daemonize failed: "+err.Error())
}

// Ready tells whoever started the daemon with readiness notification
// (Daemonize with Options.Notify, "daemonctl start --notify", systemd's
// Type=notify) that it is up, by sending READY=1 to NOTIFY_SOCKET, and
// removes NOTIFY_SOCKET from the environment so children do not inherit
// it. Without NOTIFY_SOCKET it does nothing and returns nil.
func Ready() error {
	_, err := sdnotify.Send(true, sdnotify.Ready)
	if err != nil {
		return fmt.Errorf("notify readiness: %w", err)
	}
	return nil
}

// Release removes the pidfile (if it still names the locked inode) and
// closes the lock descriptor. Defer it in the daemon. In the parent it
// does nothing.
func (d *Daemon) Release() error {
	if d == nil || d.file == nil {
		return nil
	}
	f := d.file
	d.file = nil
	return f.Release()
}
