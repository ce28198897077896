package controller

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenLog: the stage appends to a regular file with one name,
// creating it 0640, and refuses, in one line naming the file, what it
// must not write to or hand to the daemon; a FIFO is refused without
// blocking.
func TestOpenLog(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.log")
	f, err := openLog(fresh, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("one\n")
	f.Close()
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("created %v, %v; want mode 0640", st.Mode(), err)
	}
	f, err = openLog(fresh, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("two\n")
	f.Close()
	if b, _ := os.ReadFile(fresh); string(b) != "one\ntwo\n" {
		t.Fatalf("appended: %q", b)
	}

	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(fresh, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.log")
	if err := os.Link(fresh, hard); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.log")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, mention string }{
		{link, "is a symbolic link"},
		{hard, "has 2 hard links"},
		{fifo, "is a FIFO"},
		{dir, dir},
		{"/dev/zero", "is a device"},
		{filepath.Join(dir, "none", "x.log"), "no such file or directory"},
	} {
		f, err := openLog(c.path, nil)
		if err == nil {
			f.Close()
			t.Errorf("openLog(%s) opened it", c.path)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "log file "+c.path) || !strings.Contains(msg, c.mention) || strings.Contains(msg, "\n") {
			t.Errorf("openLog(%s): %q, want one line naming it and %q", c.path, msg, c.mention)
		}
	}
}

// TestOpenStdio: stdin is /dev/null, and stdout and stderr naming one
// file share one descriptor, so that their lines interleave in order.
func TestOpenStdio(t *testing.T) {
	log := filepath.Join(t.TempDir(), "both.log")
	files, err := openStdio(&launchSpec{Stdout: log, Stderr: log})
	if err != nil {
		t.Fatal(err)
	}
	defer files[0].Close()
	defer files[1].Close()
	if files[0].Name() != os.DevNull || files[1] != files[2] {
		t.Errorf("stdio %q %q %q", files[0].Name(), files[1].Name(), files[2].Name())
	}
	nulls, err := openStdio(&launchSpec{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range nulls {
		if f.Name() != os.DevNull {
			t.Errorf("default stdio: %q", f.Name())
		}
		f.Close()
	}
}
