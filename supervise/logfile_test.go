package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func openLog(t *testing.T, path string, max int64, keep int) *logFile {
	t.Helper()
	l, err := openLogFile(path, max, keep, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLogFileRotatesAtLineBoundaries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	l := openLog(t, path, 10, 2)
	// "aaaa\nbbbb\n" fills the file exactly; "cc\n" starts the next; a
	// write that does not fit is cut at its last newline that does.
	for _, w := range []string{"aaaa\n", "bbbb\n", "cc\n", "dddd\neeee\n"} {
		l.Write([]byte(w))
	}
	if got := read(t, path); got != "eeee\n" {
		t.Errorf("%s = %q", path, got)
	}
	// Older files shift up and the oldest beyond keep goes.
	if got := read(t, path+".2"); got != "aaaa\nbbbb\n" {
		t.Errorf("%s.2 = %q", path, got)
	}
	if got := read(t, path+".1"); got != "cc\ndddd\n" {
		t.Errorf("%s.1 = %q", path, got)
	}
	l.Write([]byte("ffff\ngggg\nhh\n"))
	if exists(path + ".3") {
		t.Errorf("%s.3 exists: keep is 2", path)
	}
	// A line longer than a whole file is cut, never dropped.
	l.Write([]byte("0123456789ABCDE\n"))
	all := read(t, path+".2") + read(t, path+".1") + read(t, path)
	if !strings.HasSuffix(all, "hh\n0123456789ABCDE\n") {
		t.Errorf("the files end with %q", all)
	}
	for _, f := range []string{path, path + ".1", path + ".2"} {
		if st, _ := os.Stat(f); st.Size() > 10 {
			t.Errorf("%s is %d bytes, more than 10", f, st.Size())
		}
	}
}

func TestLogFileKeepNone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	l := openLog(t, path, 8, 0)
	l.Write([]byte("1234567\n"))
	l.Write([]byte("abc\n"))
	if got := read(t, path); got != "abc\n" || exists(path+".1") {
		t.Errorf("with keep 0: %q, .1 exists %v", got, exists(path+".1"))
	}
}

func TestLogFileAppendsToAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	if err := os.WriteFile(path, []byte("before\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, path, 10, 1)
	l.Write([]byte("x\n"))
	l.Write([]byte("after\n"))
	if got := read(t, path+".1"); got != "before\nx\n" {
		t.Errorf(".1 = %q: the existing size counts toward the bound", got)
	}
}

func TestLogFileRefusesWhatItMustNotWrite(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.log")
	if err := os.Link(secret, hard); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{link: "symbolic link", hard: "has 2 hard links", fifo: "FIFO", dir: "is a directory", "/dev/null": "is a device"} {
		_, err := openLogFile(path, 0, 0, nil, nil)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("openLogFile(%s) = %v, want an error naming the file that says %q", path, err, want)
		}
	}
	if got := read(t, secret); got != "keep\n" {
		t.Errorf("the link's target now holds %q", got)
	}
}

func TestLogFileRotationDoesNotFollowAPlantedLink(t *testing.T) {
	// The directory's owner (the service's user) plants a symbolic link
	// where the next file will be created, and where old files go.
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.log")
	changes := 0
	l, err := openLogFile(path, 8, 2, nil, func() { changes++ })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Symlink(secret, path+".2"); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("1234567\n"))
	// Rotated: out.log is now out.log.1. Plant a link as out.log.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, path); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("abcdefg\n"))
	l.Write([]byte("next\n"))
	if got := read(t, secret); got != "keep\n" {
		t.Errorf("the link's target now holds %q", got)
	}
	if n, lost, last := l.stats(); n == 0 || lost == 0 || !strings.Contains(last, "symbolic link") || changes == 0 {
		t.Errorf("stats = %d, %d, %q (changes %d); want the refused writes counted", n, lost, last, changes)
	}
}

func TestLogFileReopensARemovedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	l := openLog(t, path, 0, 0)
	l.Write([]byte("one\n"))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("two\n"))
	if got := read(t, path); got != "two\n" {
		t.Errorf("after removal: %q, want a new file", got)
	}
	if n, _, _ := l.stats(); n != 0 {
		t.Errorf("%d failures, want none", n)
	}
}

func TestLogFileSupervisorLinesStartALine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	l := openLog(t, path, 0, 0)
	l.Write([]byte("partial"))
	l.line("supervisor")
	l.line("again")
	if got := read(t, path); got != "partial\nsupervisor\nagain\n" {
		t.Errorf("log = %q", got)
	}
}

func TestLogFileGivesNewFilesToTheOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "out.log")
	existing := filepath.Join(dir, "old.log")
	if err := os.WriteFile(existing, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	owner := &Cred{UID: 65534, GID: 65534}
	l, err := openLogFile(path, 8, 1, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write([]byte("1234567\nx\n"))
	for _, f := range []string{path, path + ".1"} {
		var st unix.Stat_t
		if err := unix.Lstat(f, &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != 65534 || st.Gid != 65534 || uint32(st.Mode)&0o777 != 0o640&^uint32(umask()) {
			t.Errorf("%s: owner %d:%d mode %o, want 65534:65534, 0640 less the umask", f, st.Uid, st.Gid, st.Mode&0o777)
		}
	}
	o, err := openLogFile(existing, 0, 0, owner, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	var st unix.Stat_t
	if err := unix.Lstat(existing, &st); err != nil || st.Uid != 0 {
		t.Errorf("an existing file changed owner: %d, %v", st.Uid, err)
	}
}

func umask() int {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return m
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func BenchmarkLogFileWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "out.log")
	l, err := openLogFile(path, 1<<20, 2, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	chunk := []byte(strings.Repeat(fmt.Sprintf("%099d\n", 0), 320)) // 32000 bytes of lines
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		l.Write(chunk)
	}
}

func TestLogDirFollowsOnlyRootsLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("links of two owners need root")
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root-link")
	if err := os.Symlink("real", root); err != nil {
		t.Fatal(err)
	}
	l, err := openLogFile(filepath.Join(root, "out.log"), 0, 0, nil, nil)
	if err != nil {
		t.Fatalf("through root's link: %v", err)
	}
	l.Write([]byte("ok\n"))
	l.Close()
	if got := read(t, filepath.Join(real, "out.log")); got != "ok\n" {
		t.Errorf("through root's link: %q", got)
	}
	theirs := filepath.Join(dir, "their-link")
	if err := os.Symlink("real", theirs); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err = openLogFile(filepath.Join(theirs, "out.log"), 0, 0, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "symbolic link that uid 65534 owns") {
		t.Errorf("through nobody's link: %v, want a refusal naming the link's owner", err)
	}
}

func TestLogDirSwappedForALinkIsNotFollowed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a link of another user needs root")
	}
	// The service's user owns the parent of the log directory: it moves
	// the directory away and puts a link to /etc-like target in its place.
	parent := t.TempDir()
	logs := filepath.Join(parent, "logs")
	target := filepath.Join(t.TempDir(), "etc")
	for _, d := range []string{logs, target} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l := openLog(t, filepath.Join(logs, "out.log"), 0, 0)
	l.Write([]byte("one\n"))
	if err := os.Rename(logs, logs+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, logs); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(logs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("two\n"))
	// Even once the old directory is gone, the link is not followed.
	if err := os.RemoveAll(logs + ".old"); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("three\n"))
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("the link's target got %v", entries)
	}
	if n, _, last := l.stats(); n == 0 || !strings.Contains(last, "directory is gone") {
		t.Errorf("stats %d, %q; want the lost line counted", n, last)
	}
}

func TestLogFileHoldsAnUnfinishedLine(t *testing.T) {
	// Output arrives in pieces that end anywhere: a file still ends with a
	// whole line when it is rotated.
	path := filepath.Join(t.TempDir(), "out.log")
	l := openLog(t, path, 10, 3)
	for _, w := range []string{"aaaa\nbb", "bb\ncc", "ccccc\nd", "ddd\n"} {
		l.Write([]byte(w))
	}
	if got := read(t, path+".2"); got != "aaaa\nbbbb\n" {
		t.Errorf(".2 = %q", got)
	}
	if got := read(t, path+".1"); got != "ccccccc\n" {
		t.Errorf(".1 = %q", got)
	}
	if got := read(t, path); got != "dddd\n" {
		t.Errorf("current = %q", got)
	}
	// An unfinished line is written by Sync (the program died), and the
	// supervisor's own line starts on a line of its own.
	l.Write([]byte("last wor"))
	if got := read(t, path); got != "dddd\n" {
		t.Errorf("an unfinished line was written before its end: %q", got)
	}
	l.line("sup")
	if got := read(t, path+".1") + read(t, path); !strings.HasSuffix(got, "last wor\nsup\n") {
		t.Errorf("after the supervisor's line: %q", got)
	}
}
