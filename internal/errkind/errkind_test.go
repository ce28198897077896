package errkind

import (
	"errors"
	"io/fs"
	"testing"
)

var (
	errA = errors.New("kind a")
	errB = errors.New("kind b")
)

func TestErrorf(t *testing.T) {
	for _, c := range []struct {
		name    string
		err     error
		msg     string
		matches []error
		not     []error
	}{
		{"one kind", Errorf([]error{errA}, "pidfile %s: gone", "/run/x.pid"), "pidfile /run/x.pid: gone", []error{errA}, []error{errB, fs.ErrNotExist}},
		{"two kinds", Errorf([]error{errA, errB}, "%d problems", 2), "2 problems", []error{errA, errB}, []error{fs.ErrNotExist}},
		{"a wrapped cause", Errorf([]error{errA}, "dir %s: %w", "/etc/x", fs.ErrNotExist), "dir /etc/x: file does not exist", []error{errA, fs.ErrNotExist}, []error{errB}},
		{"wrapped causes", Errorf([]error{errA}, "%w and %w", fs.ErrNotExist, fs.ErrPermission), "file does not exist and permission denied", []error{errA, fs.ErrNotExist, fs.ErrPermission}, []error{errB}},
		{"no kind", Errorf(nil, "plain"), "plain", nil, []error{errA}},
	} {
		if c.err.Error() != c.msg {
			t.Errorf("%s: message %q, want %q", c.name, c.err.Error(), c.msg)
		}
		for _, k := range c.matches {
			if !errors.Is(c.err, k) {
				t.Errorf("%s: does not match %v", c.name, k)
			}
		}
		for _, k := range c.not {
			if errors.Is(c.err, k) {
				t.Errorf("%s: matches %v", c.name, k)
			}
		}
	}
}

// TestErrorfKeepsKinds: the kinds given are not written to, so a shared
// slice of kinds can be passed again.
func TestErrorfKeepsKinds(t *testing.T) {
	kinds := make([]error, 1, 4)
	kinds[0] = errA
	first := Errorf(kinds, "%w", fs.ErrNotExist)
	second := Errorf(kinds, "%w", fs.ErrPermission)
	if errors.Is(first, fs.ErrPermission) || !errors.Is(first, fs.ErrNotExist) || !errors.Is(second, fs.ErrPermission) {
		t.Fatalf("kinds shared between errors: %v, %v", first, second)
	}
}
