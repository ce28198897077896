package logview

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestTailLastLines(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "out.log")
	// More than a tailBlock, so the backwards scan crosses blocks.
	writeFile(t, log, numbered(1, 20000))
	for _, c := range []struct {
		n    int
		want string
	}{
		{0, ""},
		{1, "line 20000\n"},
		{3, "line 19998\nline 19999\nline 20000\n"},
		{5000, numbered(15001, 20000)},
		{30000, numbered(1, 20000)},
	} {
		var b strings.Builder
		if err := Tail(&b, []string{log}, c.n); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("Tail -n %d: got %d bytes starting %.30q, want %d bytes starting %.30q", c.n, b.Len(), b.String(), len(c.want), c.want)
		}
	}
	// An unfinished last line counts as a line.
	writeFile(t, log, "a\nb\nc")
	var b strings.Builder
	if err := Tail(&b, []string{log}, 2); err != nil || b.String() != "b\nc" {
		t.Errorf("Tail of an unfinished line: %q, %v; want \"b\\nc\"", b.String(), err)
	}
}

func TestTailTwoFiles(t *testing.T) {
	dir := t.TempDir()
	out, errLog := filepath.Join(dir, "out.log"), filepath.Join(dir, "err.log")
	writeFile(t, out, "o1\no2\n")
	writeFile(t, errLog, "e1\ne2\n")
	var b strings.Builder
	if err := Tail(&b, []string{out, errLog}, 1); err != nil {
		t.Fatal(err)
	}
	want := "==> " + out + " <==\no2\n\n==> " + errLog + " <==\ne2\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestTailRefuses(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	writeFile(t, secret, "secret\n")
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.log")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		kind error
	}{
		{link, ErrNotLog},
		{fifo, ErrNotLog}, // and it must not block on the FIFO
		{dir, ErrNotLog},
		{filepath.Join(dir, "missing.log"), fs.ErrNotExist},
	} {
		var b strings.Builder
		err := Tail(&b, []string{c.path}, 10)
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Tail %s: %v, want a one-line error naming it, matching %v", c.path, err, c.kind)
		}
		if b.Len() != 0 {
			t.Errorf("Tail %s printed %q", c.path, b.String())
		}
	}
}

func TestLogsPaths(t *testing.T) {
	for _, c := range []struct {
		l    Logs
		want string
	}{
		{Logs{}, ""},
		{Logs{Stdout: "/dev/null", Stderr: "/dev/null"}, ""},
		{Logs{Stdout: "/l/a", Stderr: "/l/a"}, "/l/a"},
		{Logs{Stdout: "/l/a", Stderr: "/l/b"}, "/l/a /l/b"},
		{Logs{Stderr: "/l/b"}, "/l/b"},
	} {
		if got := strings.Join(c.l.Paths(), " "); got != c.want {
			t.Errorf("%+v.Paths() = %q, want %q", c.l, got, c.want)
		}
	}
}

// rotator writes numbered lines to path and rotates it as the supervisor
// does (close, FILE.N-1 -> FILE.N ... FILE -> FILE.1, create FILE) every
// per lines, keeping keep old files.
func rotator(path string, total, per, keep int, gate <-chan struct{}, from int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	for i := from; i <= total; i++ {
		if i == from+per && gate != nil {
			<-gate
		}
		if _, err := fmt.Fprintf(f, "line %d\n", i); err != nil {
			return err
		}
		if i%per == 0 {
			f.Close()
			for k := keep; k > 1; k-- {
				_ = os.Rename(path+"."+strconv.Itoa(k-1), path+"."+strconv.Itoa(k))
			}
			if err := os.Rename(path, path+".1"); err != nil {
				return err
			}
			if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
				return err
			}
		}
	}
	return f.Close()
}

// follow runs Follow on paths into a pipe and returns its lines, until
// stop, and Follow's error.
func follow(t *testing.T, ctx context.Context, paths []string, n int) (<-chan string, <-chan error) {
	t.Helper()
	r, w := io.Pipe()
	lines := make(chan string, 1<<16)
	errc := make(chan error, 1)
	go func() {
		err := Follow(ctx, w, paths, n)
		w.CloseWithError(err)
		errc <- err
	}()
	go func() {
		defer close(lines)
		s := bufio.NewScanner(r)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	return lines, errc
}

// collect reads lines until one equals last, failing after a minute.
func collect(t *testing.T, lines <-chan string, last string) []string {
	t.Helper()
	return collectWriting(t, lines, last, nil)
}

// collectWriting is collect while a writer runs, failing at once when it
// fails.
func collectWriting(t *testing.T, lines <-chan string, last string, werr <-chan error) []string {
	t.Helper()
	var got []string
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the follower ended after %d lines, before %q", len(got), last)
			}
			got = append(got, l)
			if l == last {
				return got
			}
		case err := <-werr:
			if err != nil {
				t.Fatalf("the writer failed: %v", err)
			}
			werr = nil
		case <-timeout:
			t.Fatalf("no %q within a minute; got %d lines: %q", last, len(got), got[max(0, len(got)-3):])
		}
	}
}

// TestFollowAcrossRotations: a writer rotating every 100 lines, many
// times, while Follow follows; what it prints must be every line from the
// last 10 before the start on, in order, none twice.
func TestFollowAcrossRotations(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "out.log")
	writeFile(t, log, numbered(1, 50))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines, errc := follow(t, ctx, []string{log}, 10)
	// The first lines show that Follow has started.
	got := collect(t, lines, "line 50")
	const total = 30000
	werr := make(chan error, 1)
	written := make(chan struct{})
	go func() {
		werr <- rotator(log, total, 100, 50, nil, 51)
		close(written)
	}()
	got = append(got, collectWriting(t, lines, "line "+strconv.Itoa(total), werr)...)
	<-written // its last rotation follows the last line
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow returned %v, want context.Canceled", err)
	}
	for i, l := range got {
		if want := "line " + strconv.Itoa(41+i); l != want {
			t.Fatalf("line %d of the output is %q, want %q (a gap or a duplicate across a rotation)", i, l, want)
		}
	}
}

// TestFollowWaitsForTheFile: a file that does not exist yet is followed
// from its creation, and an unfinished line waits for its end.
func TestFollowWaitsForTheFile(t *testing.T) {
	dir := t.TempDir()
	old, log := filepath.Join(dir, "old.log"), filepath.Join(dir, "new.log")
	writeFile(t, old, "old 1\nold 2\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines, errc := follow(t, ctx, []string{old, log}, 1)
	// Its first lines show that Follow watches.
	got := collect(t, lines, "old 2")
	if want := []string{"==> " + old + " <==", "old 2"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := os.WriteFile(log, []byte("first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got = collect(t, lines, "first")
	if want := []string{"", "==> " + log + " <==", "first"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	f, err := os.OpenFile(old, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "old 3 unfinished")
	fmt.Fprint(f, " now\n")
	f.Close()
	got = collect(t, lines, "old 3 unfinished now")
	if want := []string{"", "==> " + old + " <==", "old 3 unfinished now"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	cancel()
	<-errc
}

// TestFollowDirectoryRemoved: Follow ends with ErrGone, naming the
// directory.
func TestFollowDirectoryRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "out.log")
	writeFile(t, log, "one\n")
	lines, errc := follow(t, context.Background(), []string{log}, 5)
	collect(t, lines, "one")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Follow returned %v, want ErrGone naming %s", err, dir)
		}
	case <-time.After(time.Minute):
		t.Fatal("Follow did not end within a minute of its directory's removal")
	}
}
