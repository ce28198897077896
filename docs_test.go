package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/daemonctl/daemonctl/internal/gendocs"
	"github.com/daemonctl/daemonctl/service"
	"github.com/daemonctl/daemonctl/ssd"
)

// generatedDocs renders every generated file under doc/, by path.
func generatedDocs(t *testing.T) map[string][]byte {
	t.Helper()
	app := newApp(io.Discard, io.Discard)
	example, err := os.ReadFile("doc/examples/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	// Without root, the example's default pidfile needs a runtime
	// directory; the init script does not use it.
	if os.Geteuid() != 0 && os.Getenv("XDG_RUNTIME_DIR") == "" {
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	}
	// Loaded from a private copy: the checkout's own directories may be
	// group-writable (umask 002), which Load rightly refuses.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "example.toml"), example, 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := service.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	def, err := set.Lookup("example")
	if err != nil {
		t.Fatalf("the example definition: %v", err)
	}
	// The sample init script is the one an installed example gets.
	installed := *def
	installed.File = "/etc/daemonctl.d/example.toml"
	var script bytes.Buffer
	if err := writeInitScript(&script, &installed, "/usr/bin/daemonctl", "/etc/daemonctl.d"); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"doc/man/daemonctl.1":           []byte(gendocs.Man(app)),
		"doc/man/daemonctl.d.5":         []byte(gendocs.ConfigMan(service.Keys(), string(example))),
		"doc/man/daemonctl-ssd.8":       []byte(gendocs.SSDMan(ssd.Flags())),
		"doc/completion/daemonctl.bash": []byte(gendocs.Bash(app)),
		"doc/completion/_daemonctl":     []byte(gendocs.Zsh(app)),
		"doc/completion/daemonctl.fish": []byte(gendocs.Fish(app)),
		"doc/examples/example.init":     script.Bytes(),
	}
}

// TestGeneratedDocs: the committed manual pages, completions and sample
// init script are what the command-line definition gives. `go generate .`
// (DAEMONCTL_UPDATE_DOCS=1) rewrites them.
func TestGeneratedDocs(t *testing.T) {
	update := os.Getenv("DAEMONCTL_UPDATE_DOCS") != ""
	for path, want := range generatedDocs(t) {
		if update {
			mode := os.FileMode(0o644)
			if filepath.Ext(path) == ".init" {
				mode = 0o755
			}
			if err := os.WriteFile(path, want, mode); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what the CLI definition gives (%v): run go generate .", path, err)
		}
	}
}

// TestSupervisedExample: the packaged example of a supervised service is
// a valid definition, supervised, logging to one file.
func TestSupervisedExample(t *testing.T) {
	example, err := os.ReadFile("doc/examples/supervised.toml")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 && os.Getenv("XDG_RUNTIME_DIR") == "" {
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "supervised.toml"), example, 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := service.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	def, err := set.Lookup("supervised")
	if err != nil {
		t.Fatalf("the supervised example: %v", err)
	}
	if def.Supervise == nil || def.Supervise.LogKeep != 3 || def.Stdout == "" || def.Stdout != def.Stderr {
		t.Fatalf("the supervised example: supervise %+v, stdout %q, stderr %q", def.Supervise, def.Stdout, def.Stderr)
	}
}
