package ssd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/process"
)

// target is what a process must be to match, start-stop-daemon's
// pid_check: every criterion given must hold.
type target struct {
	// exec is --exec's file (under --chroot), nil without --exec.
	exec *process.FileID
	// program is daemonctl's --daemonctl-program, nil without it.
	program *program
	name    string
	uid     int // --user, -1 without it
	ppid    int
	// confine, when >= 0, is the one user who could have written the
	// pidfile the PID came from: only that user's processes match.
	confine int
	// session, when not 0, keeps to the processes of that session: what
	// is left of a dead main process that led it.
	session int
}

// program is a --daemonctl-program: a binary, or a script and its
// interpreter.
type program struct {
	path   string
	exe    process.FileID
	interp *process.FileID
}

// resolveTarget looks up the matching options (start-stop-daemon's
// setup_options): the --exec file must exist, the --user must be known.
func resolveTarget(o Options) (target, error) {
	t := target{name: o.Name, uid: -1, ppid: o.PPID, confine: -1}
	if o.Exec != "" {
		id, err := statID(filepath.Join(o.Chroot, o.Exec))
		if err != nil {
			return t, fmt.Errorf("%w: unable to stat %s (%v)", ErrTrouble, filepath.Join(o.Chroot, o.Exec), errnoText(err))
		}
		t.exec = &id
	}
	if o.User != "" {
		uid, ok := parseUnsigned(o.User, 10)
		if !ok {
			u, err := user.Lookup(o.User)
			if err != nil {
				return t, fmt.Errorf("%w: user '%s' not found", ErrTrouble, o.User)
			}
			uid, _ = strconv.Atoi(u.Uid)
		}
		t.uid = uid
	}
	if o.Program != "" {
		p, err := resolveProgram(o.Program)
		if err != nil {
			return t, err
		}
		t.program = p
	}
	return t, nil
}

// resolveProgram finds a --daemonctl-program and, for a #! script, its
// interpreter (through env(1) too).
func resolveProgram(path string) (*program, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTrouble, path, err)
	}
	id, err := statID(abs)
	if err != nil {
		return nil, fmt.Errorf("%w: unable to stat %s (%v)", ErrTrouble, abs, errnoText(err))
	}
	p := &program{path: abs, exe: id}
	if interp := interpreter(abs); interp != "" {
		if iid, err := statID(interp); err == nil {
			p.interp = &iid
		}
	}
	return p, nil
}

// interpreter is the program a #! script at path runs ("" for anything
// else); through env(1), the program env would find on PATH.
func interpreter(path string) string {
	interp, arg := process.Interpreter(path)
	if filepath.Base(interp) == "env" && arg != "" {
		p, err := exec.LookPath(arg)
		if err != nil {
			return ""
		}
		return p
	}
	return interp
}

// statID is the inode a path names, following symbolic links (as
// start-stop-daemon's stat of --exec does).
func statID(path string) (process.FileID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return process.FileID{}, err
	}
	return process.FileID{Dev: uint64(st.Dev), Ino: st.Ino}, nil
}

// errnoText renders an error from a system call as strerror does.
func errnoText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return err.Error()
}

// matches reports whether pid is alive (a zombie, or a process on its way
// out, is not) and meets every criterion. The cheap ones, from one read
// of /proc/PID/stat, come first: a scan looks at every process.
func (t *target) matches(pid int) bool {
	st, ok := readStat(pid)
	switch {
	case !ok:
		return false
	case t.session != 0 && st.session != t.session:
		return false
	case t.ppid != 0 && st.ppid != t.ppid:
		return false
	case t.name != "" && st.comm != t.name:
		return false
	case t.exec != nil && !runs(pid, *t.exec):
		return false
	case t.program != nil && !t.program.runBy(pid):
		return false
	}
	if t.uid >= 0 {
		if owner, err := process.Owner(pid); err != nil || owner != t.uid {
			return false
		}
	}
	if t.confine >= 0 {
		r, e, s, err := process.UIDs(pid)
		if err != nil || r != t.confine || e != t.confine || s != t.confine {
			return false
		}
	}
	return true
}

// procStat is what matching needs of /proc/PID/stat.
type procStat struct {
	comm          string // the kernel's name (15 bytes at most)
	ppid, session int
}

// pfExiting is the kernel's PF_EXITING task flag: the process has begun
// to exit (and may have closed its descriptors) before it turns zombie.
const pfExiting = 0x4

// readStat reads /proc/PID/stat; ok is false for a process that does not
// exist, is a zombie or is exiting.
func readStat(pid int) (procStat, bool) {
	// One open, one read, one close: a scan does this for every process,
	// and os.ReadFile would add an fstat, fcntls and a poller registration.
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return procStat{}, false
	}
	var buf [1024]byte
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil || n <= 0 {
		return procStat{}, false
	}
	b := buf[:n]
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	f := strings.Fields(string(b[end+1:])) // f[0] is field 3, the state
	if len(f) < 7 || f[0] == "Z" || f[0] == "X" || f[0] == "x" {
		return procStat{}, false
	}
	if flags, err := strconv.ParseUint(f[6], 10, 64); err != nil || flags&pfExiting != 0 {
		return procStat{}, false
	}
	st := procStat{comm: string(b[open+1 : end])}
	st.ppid, _ = strconv.Atoi(f[1])
	st.session, _ = strconv.Atoi(f[3])
	return st, true
}

// runs reports whether pid runs the executable want, as
// start-stop-daemon's --exec sees it: /proc/PID/exe is that file; or the
// process's own file was deleted (a package upgrade replaced the binary)
// and the path it had now names want.
func runs(pid int, want process.FileID) bool {
	if id, err := process.Exe(pid); err == nil && id == want {
		return true
	}
	exe := "/proc/" + strconv.Itoa(pid) + "/exe"
	link, err := os.Readlink(exe)
	if err != nil {
		return false
	}
	path, deleted := strings.CutSuffix(link, " (deleted)")
	var st unix.Stat_t
	if !deleted || unix.Stat(exe, &st) != nil || st.Nlink != 0 {
		return false
	}
	id, err := statID(path)
	return err == nil && id == want
}

// runBy reports whether the process pid runs the program: its
// executable, or its interpreter with the script among its arguments.
func (p *program) runBy(pid int) bool {
	if runs(pid, p.exe) {
		return true
	}
	if p.interp == nil || !runs(pid, *p.interp) {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	return err == nil && len(args) > 1 && slices.Contains(args[1:], p.path)
}

// scan lists the live processes that match t, in /proc's order, without
// this process.
func scan(t *target) ([]int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("%w: unable to opendir /proc (%v)", ErrTrouble, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("%w: reading /proc: %v", ErrTrouble, err)
	}
	self := os.Getpid()
	var pids []int
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self {
			continue
		}
		if t.matches(pid) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
