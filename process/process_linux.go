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
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
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
	var boot, real unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot)
	_ = unix.ClockGettime(unix.CLOCK_REALTIME, &real)
	return time.Unix(real.Unix()).Add(-time.Duration(boot.Nano()))
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

// HoldsFlock reports whether pid has a descriptor open on the inode id whose
// open file description holds a flock and is open for writing, by reading
// /proc/PID/fd and /proc/PID/fdinfo. A service's lock is always taken on a
// read-write descriptor; flock needs no write access, so a lock on a
// read-only descriptor is a status probe's, or that of a user who can only
// read the pidfile, never the service's. A permission error (another
// user's process, without privilege) is returned as is, wrapping
// fs.ErrPermission; callers may then fall back to FlockTakers. A gone
// process returns (false, ErrGone).
func HoldsFlock(pid int, id FileID) (bool, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	// Fast path: daemonctl's launcher hands the daemon its lock as fd 3.
	// An fdinfo lock line names the inode and appears only on a descriptor
	// whose open file description holds the lock, so one read answers;
	// the full scan below costs a directory read and a stat per descriptor
	// (status of 1,000 services spends most of its time in /proc).
	if info, err := readProc(dir + "/fdinfo/3"); err == nil && hasFlock(info, lockID(id)) && writable(info) {
		return true, nil
	}
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return false, err
	}
	want := lockID(id)
	for _, fd := range fds {
		var st unix.Stat_t
		if unix.Stat(dir+"/fd/"+fd.Name(), &st) != nil || st.Dev != id.Dev || st.Ino != id.Ino {
			continue
		}
		info, err := os.ReadFile(dir + "/fdinfo/" + fd.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if hasFlock(info, want) && writable(info) {
			return true, nil
		}
	}
	return false, nil
}

// lockID is how /proc prints an inode in lock lines: MAJOR:MINOR:INODE with
// the device numbers in hex.
func lockID(id FileID) string {
	return fmt.Sprintf("%02x:%02x:%d", unix.Major(id.Dev), unix.Minor(id.Dev), id.Ino)
}

// hasFlock reports whether fdinfo (or /proc/locks) text has a FLOCK line on
// the inode printed as want.
func hasFlock(text []byte, want string) bool {
	for line := range bytes.Lines(text) {
		f := strings.Fields(string(line))
		// fdinfo: "lock:" "1:" "FLOCK" "ADVISORY" "WRITE" PID ID ...
		for i, w := range f {
			if w == "FLOCK" && i+4 < len(f) && f[i+4] == want {
				return true
			}
		}
	}
	return false
}

// writable reports whether fdinfo's flags show a descriptor open for
// writing.
func writable(fdinfo []byte) bool {
	for line := range bytes.Lines(fdinfo) {
		if v, ok := bytes.CutPrefix(line, []byte("flags:")); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(string(v)), 8, 64)
			return err == nil && flags&unix.O_ACCMODE != unix.O_RDONLY
		}
	}
	return false
}

// FlockTakers returns the PIDs that /proc/locks names as takers of a flock
// on id. It needs no privilege over the holders, but it names the process
// that took the lock, which may since have exited while a child it forked
// still holds it; use it only as a fallback for HoldsFlock.
func FlockTakers(id FileID) ([]int, error) {
	b, err := os.ReadFile("/proc/locks")
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
// description holds a flock on id: the daemon and any children that
// inherited its lock descriptor. It scans all of /proc, so it costs about a
// millisecond per few hundred processes; processes it may not inspect are
// skipped.
func FlockHolders(id FileID) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid < 1 {
			continue
		}
		if held, _ := HoldsFlock(pid, id); held {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
