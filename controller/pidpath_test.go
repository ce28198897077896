package controller

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestAbsPIDFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	long := "/" + strings.Repeat("d/", 2100) + "x.pid"
	for _, c := range []struct {
		path, want string
		mention    string // for an error, which is ErrUsage
	}{
		{path: "/run/web.pid", want: "/run/web.pid"},
		{path: "/run/../run/./web.pid", want: "/run/web.pid"},
		{path: "web.pid", want: filepath.Join(dir, "web.pid")},
		{path: "", mention: "no pidfile given"},
		{path: "/run/", mention: "names a directory: give a file, like /run/NAME.pid"},
		{path: long, mention: "more than the 4095 the system allows"},
		{path: "/run/" + strings.Repeat("n", 256) + ".pid", mention: "a name in the path is 260 bytes long"},
		{path: "/run/" + strings.Repeat("n", 251) + ".pid", want: "/run/" + strings.Repeat("n", 251) + ".pid"},
	} {
		got, err := AbsPIDFile(c.path)
		switch {
		case c.mention == "" && (err != nil || got != c.want):
			t.Errorf("AbsPIDFile(%.40q) = %q, %v; want %q", c.path, got, err, c.want)
		case c.mention != "" && (!errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), c.mention)):
			t.Errorf("AbsPIDFile(%.40q): %v, want ErrUsage mentioning %q", c.path, err, c.mention)
		case c.mention != "" && len(err.Error()) > 300:
			t.Errorf("AbsPIDFile(%.40q): a message of %d bytes: the path is not shortened", c.path, len(err.Error()))
		}
	}
}

func TestServiceName(t *testing.T) {
	for _, c := range []struct{ name, path, want string }{
		{"", "/run/web.pid", "web"},
		{"", "/run/web", "web"},
		{"", "web.pid.pid", "web.pid"},
		{"", "/run/daemon.d/x.pid", "x"},
		{"api", "/run/web.pid", "api"},
	} {
		if got := ServiceName(c.name, c.path); got != c.want {
			t.Errorf("ServiceName(%q, %q) = %q, want %q", c.name, c.path, got, c.want)
		}
	}
}
