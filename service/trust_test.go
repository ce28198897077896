package service

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadGroupWritable: a definition directory or file its group can
// write is refused like a world-writable one: any member of the group
// could make root run any program. The message names the path and the fix.
func TestLoadGroupWritable(t *testing.T) {
	dir := defDir(t, map[string]string{"web.toml": `program = "/bin/true"`, "ok.toml": `program = "/bin/true"`})
	web := filepath.Join(dir, "web.toml")
	if err := os.Chmod(web, 0o664); err != nil {
		t.Fatal(err)
	}
	set := mustLoad(t, dir)
	if p := onlyProblem(t, set); p.Service != "web" || p.Error() != web+": refused: the file is group-writable (mode 0664), which would let others make "+whoRuns()+" run any program; fix it (chmod go-w "+web+")" {
		t.Errorf("problem %q", p)
	}
	if _, err := set.Lookup("ok"); err != nil {
		t.Errorf("ok: %v", err)
	}

	if err := os.Chmod(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	want := "definition directory " + dir + " is group-writable (mode 0775): it would let others make " + whoRuns() + " run any program; fix it (chmod go-w " + dir + ") or use another --config-dir"
	if !errors.Is(err, ErrUnsafe) || !errors.Is(err, ErrNotConfigured) || err.Error() != want {
		t.Fatalf("Load of a group-writable directory: %v", err)
	}
}

// TestLoadUnsafeParent: a directory above the definition directory that
// others can write lets them replace the definitions (rename the
// directory, put theirs in its place): refused, naming that directory. A
// sticky one (as /tmp) is not, as long as the entries in it are ours.
func TestLoadUnsafeParent(t *testing.T) {
	base := t.TempDir()
	parent := filepath.Join(base, "srv")
	dir := filepath.Join(parent, "daemonctl.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "web.toml"), []byte(`program = "/bin/true"`+"\npidfile = \"/run/x/web.pid\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o775, 0o757, 0o777} {
		if err := os.Chmod(parent, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "definition directory "+dir+": "+parent+" is ") ||
			!strings.Contains(err.Error(), "so others could replace the definitions") || !strings.HasSuffix(err.Error(), "fix it (chmod go-w "+parent+") or use another --config-dir") {
			t.Errorf("Load under a %04o parent: %v", mode, err)
		}
	}
	if err := os.Chmod(parent, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	if set := mustLoad(t, dir); len(set.Services) != 1 {
		t.Errorf("under a sticky parent: %v", set.Problems)
	}
	// Reached through a symbolic link, the real path is what counts.
	if err := os.Chmod(parent, 0o775); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link.d")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(link); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), parent+" is group-writable") {
		t.Errorf("Load through a link to a directory under a group-writable one: %v", err)
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	if set := mustLoad(t, link); len(set.Services) != 1 {
		t.Errorf("through a link to a safe directory: %v", set.Problems)
	}
	// The sticky exemption is for the way there, not for the directory.
	if err := os.Chmod(dir, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), dir+" is world-writable (mode 1777)") {
		t.Errorf("Load of a sticky world-writable directory: %v", err)
	}
}

// TestLoadLinkedDefinition: a definition that is a symbolic link is
// trusted only if the way to the file it names is.
func TestLoadLinkedDefinition(t *testing.T) {
	dir := defDir(t, nil)
	elsewhere := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(elsewhere, "web.toml")
	if err := os.WriteFile(target, []byte("program = \"/bin/true\"\npidfile = \"/run/x/web.pid\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "web.toml")); err != nil {
		t.Fatal(err)
	}
	if set := mustLoad(t, dir); len(set.Services) != 1 || set.Services[0].Program != "/bin/true" {
		t.Fatalf("a link to a safe file: %v", set.Problems)
	}
	if err := os.Chmod(elsewhere, 0o775); err != nil {
		t.Fatal(err)
	}
	set := mustLoad(t, dir)
	if p := onlyProblem(t, set); !strings.Contains(p.Msg, "refused: it is a link, and "+elsewhere+" is group-writable (mode 0775), so others could change the definition") {
		t.Errorf("a link through a group-writable directory: %v", p)
	}
	if err := os.Chmod(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o666); err != nil {
		t.Fatal(err)
	}
	if p := onlyProblem(t, mustLoad(t, dir)); !strings.Contains(p.Msg, target+" is world-writable (mode 0666)") {
		t.Errorf("a link to a world-writable file: %v", p)
	}
}

// TestLoadParentOwnedByAnother: the owner of a directory above the
// definitions can replace them, whatever its mode.
func TestLoadParentOwnedByAnother(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	base := t.TempDir()
	parent := filepath.Join(base, "home")
	dir := filepath.Join(parent, "defs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(parent, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if !errors.Is(err, ErrUnsafe) || err.Error() != "definition directory "+dir+": "+parent+" is owned by uid 4242, neither root nor you, so others could replace the definitions and make root run any program; fix it (chown root "+parent+") or use another --config-dir" {
		t.Fatalf("Load under a directory owned by uid 4242: %v", err)
	}
}
