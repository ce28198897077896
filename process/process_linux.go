package process

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pfExiting is the kernel's PF_EXITING task flag (include/linux/sched.h).
const pfExiting = 0x4

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; it is 100 on
// every Linux architecture.
const clockTicks = 100

// Get returns what /proc says of pid. It returns ErrGone for a process that
// does not exist, is exiting or is a zombie (a zombie still passes
// kill(pid, 0) but has released its locks and will never run again).
func Get(pid int) (Info, error) {
	stat, err := readProc("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return Info{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return Info{}, err
	}
	fields, err := statFields(stat)
	if err != nil {
		return Info{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	// fields[0] is field 3 of stat(5): the state.
	if fields[0] == "Z" || fields[0] == "X" || fields[0] == "x" {
		return Info{}, fmt.Errorf("pid %d is a zombie: %w", pid, ErrGone)
	}
	// fields[6] is field 9, the kernel's task flags. A process that has
	// begun to exit (PF_EXITING) may have closed its descriptors, and so
	// released its lock, before it turns zombie: it is gone just the same.
	if flags, err := strconv.ParseUint(fields[6], 10, 64); err == nil && flags&pfExiting != 0 {
		return Info{}, fmt.Errorf("pid %d is exiting: %w", pid, ErrGone)
	}
	info := Info{PID: pid}
	info.PPID, _ = strconv.Atoi(fields[1])
	info.Session, _ = strconv.Atoi(fields[3])
	ticks, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return Info{}, fmt.Errorf("pid %d: bad start time %q", pid, fields[19])
	}
	info.StartTicks = ticks
	info.Started = bootTime().Add(time.Duration(ticks) * time.Second / clockTicks)
	// Field 24, rss, in pages: read here, the status table needs no
	// second /proc file per process.
	if pages, err := strconv.ParseInt(fields[21], 10, 64); err == nil {
		info.RSS = pages * int64(os.Getpagesize())
	}
	if cmdline, err := readProc("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil {
		cmdline = bytes.TrimRight(cmdline, "\x00")
		if len(cmdline) > 0 {
			info.Command = strings.Split(string(cmdline), "\x00")
		}
	}
	return info, nil
}

// StartTicks returns pid's start time in clock ticks since boot (see
// Info.StartTicks), reading only /proc/PID/stat. It returns ErrGone as
// Get does.
func StartTicks(pid int) (uint64, error) {
	stat, err := readProc("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	fields, err := statFields(stat)
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	if fields[0] == "Z" || fields[0] == "X" || fields[0] == "x" {
		return 0, fmt.Errorf("pid %d is a zombie: %w", pid, ErrGone)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// readProc reads a small /proc file with one open, reads until EOF and a
// close: os.ReadFile adds an fstat and a poller registration, which
// nearly double the cost of a /proc read.
func readProc(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		space := cap(buf) - len(buf)
		buf = buf[:len(buf)+n]
		// A /proc file hands out all it has, up to the space given: a
		// shorter read is its end, and the read that would say so is
		// saved (one system call of four for each /proc file).
		if n < space {
			return buf, nil
		}
	}
}

// statFields splits /proc/PID/stat after the command name, which may itself
// contain spaces and parentheses; the result starts with field 3 (state).
func statFields(stat []byte) ([]string, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return nil, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 20 {
		return nil, errors.New("malformed /proc stat")
	}
	return fields, nil
}

// bootTime is the wall-clock time at which CLOCK_BOOTTIME was zero, the
// clock /proc/PID/stat start times count in. Reading both clocks back to back
// keeps the error far below a clock tick (/proc/stat's btime is whole seconds).
func bootTime() time.Time {
	var boot unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot)
	// time.Now reads the wall clock through the vDSO, without a system
	// call; unix.ClockGettime always makes one.
	return time.Now().Add(-time.Duration(boot.Nano()))
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	_, err := Get(pid)
	return err == nil
}

// PIDMax is the largest PID the kernel hands out.
func PIDMax() int {
	b, err := readProc("/proc/sys/kernel/pid_max")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 1 {
			return n
		}
	}
	return 1 << 22 // the kernel's upper limit for pid_max
}

// LockTaker reports whether pid holds a flock on the inode id through one
// of its descriptors, whatever the descriptor's access mode, and returns
// the lock's taker (see Holder): 0 when pid holds none. It reads
// /proc/PID/fdinfo, fd 3 first (where daemonctl hands a daemon its lock),
// then every descriptor. A permission error (another user's process,
// without privilege) is returned as is, wrapping fs.ErrPermission; a gone
// process returns ErrGone.
func LockTaker(pid int, id FileID) (int, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	want := lockID(id)
	// Fast path: one read answers for a daemon started by daemonctl. An
	// fdinfo lock line names the inode and appears only on a descriptor
	// whose open file description holds the lock; the full scan below
	// costs a directory read and a stat per descriptor (the status of
	// 1,000 services spends most of its time in /proc).
	if info, err := readProc(dir + "/fdinfo/3"); err == nil {
		if taker := flockTaker(info, want); taker != 0 {
			return taker, nil
		}
	}
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return 0, err
	}
	for _, fd := range fds {
		var st unix.Stat_t
		if unix.Stat(dir+"/fd/"+fd.Name(), &st) != nil || st.Dev != id.Dev || st.Ino != id.Ino {
			continue
		}
		info, err := readProc(dir + "/fdinfo/" + fd.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if taker := flockTaker(info, want); taker != 0 {
			return taker, nil
		}
	}
	return 0, nil
}

// lockID is how /proc prints an inode in lock lines: MAJOR:MINOR:INODE with
// the device numbers in hex.
func lockID(id FileID) string {
	return fmt.Sprintf("%02x:%02x:%d", unix.Major(id.Dev), unix.Minor(id.Dev), id.Ino)
}

// flockTaker returns the taker of the FLOCK line on the inode printed as
// want in fdinfo text, 0 when there is none.
func flockTaker(text []byte, want string) int {
	for line := range bytes.Lines(text) {
		f := strings.Fields(string(line))
		// fdinfo: "lock:" "1:" "FLOCK" "ADVISORY" "WRITE" TAKER ID ...
		for i, w := range f {
			if w == "FLOCK" && i+4 < len(f) && f[i+4] == want {
				if pid, err := strconv.Atoi(f[i+3]); err == nil {
					return pid
				}
			}
		}
	}
	return 0
}

// FlockTakers returns the PIDs that /proc/locks names as takers of a flock
// on id, one per lock. It needs no privilege over the holders, but costs a
// machine-wide lock and milliseconds: use LockTaker where it may read the
// holders' fdinfo.
func FlockTakers(id FileID) ([]int, error) {
	b, err := readProc("/proc/locks")
	if err != nil {
		return nil, err
	}
	want := lockID(id)
	var pids []int
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		// "1:" "FLOCK" "ADVISORY" "WRITE" PID ID START END; blocked waiters
		// have "->" after the number.
		if len(f) >= 6 && f[1] == "FLOCK" && f[5] == want {
			if pid, err := strconv.Atoi(f[4]); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids, nil
}

// FlockHolders returns every process that has a descriptor whose open file
// description holds a flock on id, with the lock's taker: a daemon and the
// children that inherited its lock descriptor share one taker; a process
// that opened the file and locked it itself shows another. It scans all of
// /proc, so it costs about a millisecond per few hundred processes;
// processes it may not inspect are skipped.
func FlockHolders(id FileID) ([]Holder, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var holders []Holder
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid < 1 {
			continue
		}
		if taker, _ := LockTaker(pid, id); taker != 0 {
			holders = append(holders, Holder{PID: pid, Taker: taker})
		}
	}
	return holders, nil
}

// Exe returns the inode of the executable pid runs (/proc/PID/exe), to
// compare with a program's. Reading it needs the privilege to inspect pid:
// another user's process, without root, gives an error wrapping
// fs.ErrPermission.
func Exe(pid int) (FileID, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/exe", &st); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return FileID{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return FileID{}, &fs.PathError{Op: "stat", Path: "/proc/" + strconv.Itoa(pid) + "/exe", Err: err}
	}
	return FileID{Dev: uint64(st.Dev), Ino: st.Ino}, nil
}

// Owner returns the user ID that owns pid's /proc entry (its effective
// user, as ps and start-stop-daemon's --user see it).
func Owner(pid int) (int, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid), &st); err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	return int(st.Uid), nil
}

// UIDs returns pid's real, effective and saved user IDs (the Uid line of
// /proc/PID/status), which, unlike the owner of /proc/PID, do not turn to
// root when the process makes itself undumpable. It returns ErrGone for a
// process that does not exist.
func UIDs(pid int) (real, effective, saved int, err error) {
	b, err := readProc("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1, -1, -1, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "Uid:")
		if !ok {
			continue
		}
		var ids [3]int
		f := strings.Fields(rest)
		for i := range ids {
			if len(f) <= i {
				return -1, -1, -1, fmt.Errorf("pid %d: malformed Uid line %q", pid, line)
			}
			if ids[i], err = strconv.Atoi(f[i]); err != nil {
				return -1, -1, -1, fmt.Errorf("pid %d: malformed Uid line %q", pid, line)
			}
		}
		return ids[0], ids[1], ids[2], nil
	}
	return -1, -1, -1, fmt.Errorf("pid %d: no Uid line in its status", pid)
}

// BootID is the kernel's random identifier of this boot: start times in
// clock ticks since boot mean nothing in another.
func BootID() (string, error) {
	b, err := readProc("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// pidfsMagic is PID_FS_MAGIC, the file-system type of pidfds since Linux
// 6.9, where a pidfd's inode number identifies its process uniquely for
// the whole boot (it is never reused, unlike the PID).
const pidfsMagic = 0x50494446

// PidfdID returns the inode number of pidfd, which names its process
// exactly for the boot on kernels whose pidfds live on pidfs (Linux 6.9
// and later). Elsewhere it returns ErrUnsupported.
func PidfdID(pidfd int) (uint64, error) {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(pidfd, &fs); err != nil {
		return 0, err
	}
	if fs.Type != pidfsMagic {
		return 0, ErrUnsupported
	}
	var st unix.Stat_t
	if err := unix.Fstat(pidfd, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// ProcID returns the pidfd inode number of pid (see PidfdID): with the
// PID it names one process of this boot exactly. It returns ErrGone when
// pid does not exist and ErrUnsupported on kernels without pidfs.
func ProcID(pid int) (uint64, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return 0, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return 0, ErrUnsupported
	}
	defer unix.Close(fd)
	return PidfdID(fd)
}

// Children lists pid's children, zombies included, from every thread's
// /proc/PID/task/TID/children (a multithreaded parent, as any Go program
// is, has its children spread over its threads). It returns ErrGone when
// pid does not exist.
func Children(pid int) ([]int, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return nil, err
	}
	var pids []int
	for _, t := range tasks {
		b, err := readProc(dir + "/" + t.Name() + "/children")
		if err != nil {
			continue // the thread exited meanwhile
		}
		for _, f := range strings.Fields(string(b)) {
			if child, err := strconv.Atoi(f); err == nil {
				pids = append(pids, child)
			}
		}
	}
	return pids, nil
}
