//go:build linux

package integration_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// The privilege tests run daemonctl as a real unprivileged user against
// root's daemons and files. They use "nobody", which every Linux system
// has, rather than creating a user: nothing on the machine is changed.
// They need root (to run a process as nobody, and to own root daemons),
// and skip otherwise.

// unprivileged is the user the tests switch to, with copies of the
// binaries it can execute (the harness builds them in a 0700 directory).
type unprivileged struct {
	uid, gid  uint32
	daemonctl string
	daemon    string
	dir       string // a 0755 directory of the test, for pidfiles
	helper    string // a copy of the test binary, made by helperBinary
}

func asUnprivileged(t *testing.T) *unprivileged {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs daemonctl as an unprivileged user against root's daemons")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody to run as: %v", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	dir := t.TempDir()
	// t.TempDir and its parent are 0700: open them for nobody.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &unprivileged{uid: uint32(uid), gid: uint32(gid), dir: dir,
		daemonctl: filepath.Join(bin, "daemonctl"), daemon: filepath.Join(bin, "testdaemon")}
	copyExecutable(t, h.Daemonctl, p.daemonctl)
	copyExecutable(t, h.TestDaemon, p.daemon)
	return p
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// run runs daemonctl as the unprivileged user.
func (p *unprivileged) run(t *testing.T, args ...string) h.Result {
	t.Helper()
	cmd := exec.Command(p.daemonctl, args...)
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.uid, Gid: p.gid, Groups: []uint32{}}}
	return h.RunCmd(t, cmd, nil, args)
}

// runUmask runs daemonctl (as root, or as the unprivileged user when p
// is not nil) with umask 000 in the caller.
func runUmask(t *testing.T, p *unprivileged, args ...string) h.Result {
	t.Helper()
	bin := h.Daemonctl
	if p != nil {
		bin = p.daemonctl
	}
	shArgs := append([]string{"-c", `umask 000 && exec "$0" "$@"`, bin}, args...)
	cmd := exec.Command("/bin/sh", shArgs...)
	if p != nil {
		cmd.Dir = p.dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.uid, Gid: p.gid, Groups: []uint32{}}}
	}
	return h.RunCmd(t, cmd, nil, args)
}

// fileState is what "untouched" compares: contents, inode, owner, mode
// and modification time.
type fileState struct {
	data  []byte
	ino   uint64
	uid   uint32
	mode  fs.FileMode
	mtime time.Time
}

func snapshotFile(t *testing.T, path string) fileState {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := fileState{mode: st.Mode(), mtime: st.ModTime()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.ino, s.uid = sys.Ino, sys.Uid
	}
	if st.Mode().IsRegular() {
		if s.data, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func assertFileUntouched(t *testing.T, path string, before fileState) {
	t.Helper()
	after := snapshotFile(t, path)
	if !bytes.Equal(after.data, before.data) || after.ino != before.ino || after.uid != before.uid || after.mode != before.mode || !after.mtime.Equal(before.mtime) {
		t.Fatalf("%s changed: %+v, was %+v", path, after, before)
	}
}

func TestPrivStopSignalRootDaemon(t *testing.T) {
	p := asUnprivileged(t)
	pidfile := filepath.Join(p.dir, "web.pid")
	hupFile := filepath.Join(p.dir, "web.hup")
	usr1File := filepath.Join(p.dir, "web.usr1")
	termFile := filepath.Join(p.dir, "web.term")
	d := h.StartDaemon(t, pidfile, nil, "-hup-file", hupFile, "-usr1-file", usr1File, "-term-file", termFile)
	before := snapshotFile(t, pidfile)
	pid := strconv.Itoa(d.PID)

	// status cannot read a root daemon's descriptors; /proc/locks and the
	// daemon's session still vouch for it.
	r := p.run(t, "status", "-p", pidfile)
	h.Expect(t, r, 0)
	if !strings.Contains(r.Stdout(), "running (pid "+pid) {
		t.Fatalf("status as nobody: %q, want running pid %s", r.Stdout(), pid)
	}
	for _, args := range [][]string{
		{"stop", "-p", pidfile},
		{"stop", "-p", pidfile, "--retry", "KILL/1"},
		{"reload", "-p", pidfile},
		{"signal", "-p", pidfile, "USR1"},
		{"signal", "-p", pidfile, "KILL"},
	} {
		r := p.run(t, args...)
		h.Expect(t, r, 4)
		assertOneLineError(t, r, pid, "not permitted")
		if h.Exited(d.PIDFD) {
			t.Fatalf("daemonctl %v as nobody killed root's daemon", args)
		}
		assertFileUntouched(t, pidfile, before)
		if !h.Locked(t, pidfile) {
			t.Fatalf("the lock was lost after daemonctl %v as nobody", args)
		}
	}
	for _, f := range []string{hupFile, usr1File, termFile} {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the daemon received a signal from nobody (%s: %v)", f, err)
		}
	}
	h.Expect(t, p.run(t, "status", "-p", pidfile), 0)
	h.Expect(t, h.Run(t, "stop", "-p", pidfile), 0)
	if !h.WaitExit(d.PIDFD, 10*time.Second) {
		t.Fatal("root's stop did not stop the daemon")
	}
}

func TestPrivWorldWritableDirOtherOwner(t *testing.T) {
	p := asUnprivileged(t)
	sticky := filepath.Join(p.dir, "tmp")
	if err := os.Mkdir(sticky, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o1777); err != nil {
		t.Fatal(err)
	}
	// One file each way: root's, which nobody must not use, and nobody's,
	// which root must not use. Both name a dead PID and are writable by
	// everyone (as a planted file would be), so only the owner check
	// stands in the way.
	dead := deadPID(t)
	rootsFile := filepath.Join(sticky, "roots.pid")
	nobodysFile := filepath.Join(sticky, "nobodys.pid")
	for _, f := range []string{rootsFile, nobodysFile} {
		if err := os.WriteFile(f, []byte(strconv.Itoa(dead)+"\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(nobodysFile, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	// And root's own 0644 file, which nobody cannot even open for writing.
	rootsPrivate := filepath.Join(sticky, "roots-private.pid")
	if err := os.WriteFile(rootsPrivate, []byte(strconv.Itoa(dead)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who     string
		pidfile string
		run     func(t *testing.T, args ...string) h.Result
		daemon  string
		code    int
		why     string
	}{
		{"nobody", rootsFile, p.run, p.daemon, 1, "another user"},
		{"root", nobodysFile, func(t *testing.T, args ...string) h.Result { return h.Run(t, args...) }, h.TestDaemon, 1, "another user"},
		{"nobody-private", rootsPrivate, p.run, p.daemon, 4, "permission denied"},
	} {
		t.Run(tc.who, func(t *testing.T) {
			before := snapshotFile(t, tc.pidfile)
			marker := tc.pidfile + ".ready"
			r := tc.run(t, "start", "-p", tc.pidfile, "--", tc.daemon, "-ready-file", marker)
			h.Expect(t, r, tc.code)
			assertOneLineError(t, r, tc.pidfile, tc.why)
			if pids := testDaemons(t, marker); len(pids) > 0 {
				t.Fatalf("start refused, yet daemons %v run", pids)
			}
			assertFileUntouched(t, tc.pidfile, before)
			// Nor may stop remove it (it is not the caller's to remove).
			r = tc.run(t, "stop", "-p", tc.pidfile)
			if r.Code() == 0 {
				t.Fatalf("stop as %s removed another user's pidfile: %s", tc.who, r)
			}
			assertFileUntouched(t, tc.pidfile, before)
		})
	}
}

// deadPID is the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(h.Daemonctl, "--version")
	h.RunCmd(t, cmd, nil, []string{"--version"})
	return cmd.Process.Pid
}

func TestPrivLinksRefused(t *testing.T) {
	p := asUnprivileged(t)
	dir := filepath.Join(p.dir, "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte(strconv.Itoa(deadPID(t))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(target, int(p.uid), int(p.gid)); err != nil {
		t.Fatal(err)
	}
	symlink := filepath.Join(dir, "sym.pid")
	hardlink := filepath.Join(dir, "hard.pid")
	if err := os.Symlink(target, symlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(target, hardlink); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who  string
		run  func(t *testing.T, args ...string) h.Result
		prog string
	}{
		{"nobody", p.run, p.daemon},
		{"root", func(t *testing.T, args ...string) h.Result { return h.Run(t, args...) }, h.TestDaemon},
	} {
		for _, link := range []string{symlink, hardlink} {
			t.Run(tc.who+"/"+filepath.Base(link), func(t *testing.T) {
				beforeLink, beforeTarget := snapshotFile(t, link), snapshotFile(t, target)
				marker := link + ".ready"
				r := tc.run(t, "start", "-p", link, "--", tc.prog, "-ready-file", marker)
				h.Expect(t, r, 1)
				assertOneLineError(t, r, link)
				if pids := testDaemons(t, marker); len(pids) > 0 {
					t.Fatalf("start refused, yet daemons %v run", pids)
				}
				r = tc.run(t, "stop", "-p", link)
				if r.Code() == 0 {
					t.Fatalf("stop through a link succeeded: %s", r)
				}
				assertOneLineError(t, r, link)
				// Reading through a hard link is harmless; a symlink is
				// not even read.
				if r := tc.run(t, "status", "-p", link); link == symlink && r.Code() != 4 {
					t.Fatalf("status through a symlink: exit %d, want 4", r.Code())
				}
				assertFileUntouched(t, link, beforeLink)
				assertFileUntouched(t, target, beforeTarget)
			})
		}
	}
}

func TestPrivUserNeedsRoot(t *testing.T) {
	p := asUnprivileged(t)
	pidfile := filepath.Join(p.dir, "web.pid")
	marker := pidfile + ".ready"
	for _, flags := range [][]string{{"--user", "root"}, {"--user", "0"}, {"--group", "root"}, {"--user", "root", "--group", "root"}} {
		args := append(append([]string{"start", "-p", pidfile}, flags...), "--", p.daemon, "-ready-file", marker)
		r := p.run(t, args...)
		h.Expect(t, r, 4) // LSB "no privilege", as for a defined service's user
		assertOneLineError(t, r, "root")
		if _, err := os.Lstat(pidfile); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("refused start %v created %s", flags, pidfile)
		}
		if pids := testDaemons(t, marker); len(pids) > 0 {
			t.Fatalf("refused start %v, yet daemons %v run", flags, pids)
		}
	}
}

func TestPrivPidfileMode(t *testing.T) {
	p := asUnprivileged(t)
	for _, tc := range []struct {
		who string
		as  *unprivileged
	}{{"root", nil}, {"nobody", p}} {
		t.Run(tc.who, func(t *testing.T) {
			dir := filepath.Join(p.dir, tc.who)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			prog := h.TestDaemon
			stop := func(pidfile string) h.Result { return h.Run(t, "stop", "-p", pidfile) }
			if tc.as != nil {
				prog = p.daemon
				if err := os.Chown(dir, int(p.uid), int(p.gid)); err != nil {
					t.Fatal(err)
				}
				stop = func(pidfile string) h.Result { return p.run(t, "stop", "-p", pidfile) }
			}
			// A new pidfile, and an old one left world-writable: neither
			// may end up wider than 0644, whatever the umasks.
			fresh := filepath.Join(dir, "fresh.pid")
			old := filepath.Join(dir, "old.pid")
			if err := os.WriteFile(old, []byte(strconv.Itoa(deadPID(t))+"\n"), 0o666); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(old, 0o666); err != nil {
				t.Fatal(err)
			}
			if tc.as != nil {
				if err := os.Chown(old, int(p.uid), int(p.gid)); err != nil {
					t.Fatal(err)
				}
			}
			for _, pidfile := range []string{fresh, old} {
				ready, infoFile := pidfile+".ready", pidfile+".info"
				h.Expect(t, runUmask(t, tc.as, "start", "-p", pidfile, "--umask", "000", "--", prog, "-ready-file", ready, "-info-file", infoFile), 0)
				pid := h.ReadPID(t, pidfile)
				h.Watch(t, pid)
				st, err := os.Stat(pidfile)
				if err != nil {
					t.Fatal(err)
				}
				if mode := st.Mode().Perm(); mode&^0o644 != 0 {
					t.Errorf("%s is mode %04o, wider than 0644", pidfile, mode)
				}
				if sys := st.Sys().(*syscall.Stat_t); tc.as != nil && sys.Uid != p.uid {
					t.Errorf("%s is owned by uid %d, want nobody's", pidfile, sys.Uid)
				}
				// The daemon's own umask is still the one asked for.
				if !h.WaitFile(t, ready, 10*time.Second) {
					t.Fatalf("daemon %d never became ready", pid)
				}
				var info struct{ Umask string }
				if b, err := os.ReadFile(infoFile); err != nil || json.Unmarshal(b, &info) != nil || info.Umask != "0000" {
					t.Errorf("the daemon's umask is %q (%v), want 0000", info.Umask, err)
				}
				h.Expect(t, stop(pidfile), 0)
			}
		})
	}
}
