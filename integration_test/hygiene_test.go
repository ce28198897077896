//go:build linux

package integration_test

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	h "github.com/daemonctl/daemonctl/integration_test/harness"
)

// hygieneInfo is the part of the test daemon's -info-file these tests read.
type hygieneInfo struct {
	PID          int               `json:"pid"`
	InheritedFDs []int             `json:"inherited_fds"`
	FDTargets    map[string]string `json:"fd_targets"`
	Env          []string          `json:"env"`
}

// startForInfo starts the test daemon under dir/web.pid with cmd's extra
// files and env, and returns what it says about itself.
func startForInfo(t *testing.T, dir string, extra []*os.File, env []string, startFlags ...string) hygieneInfo {
	t.Helper()
	pidfile := filepath.Join(dir, "web.pid")
	ready := filepath.Join(dir, "web.ready")
	infoFile := filepath.Join(dir, "web.info")
	args := append([]string{"start", "-p", pidfile}, startFlags...)
	args = append(args, "--", h.TestDaemon, "-ready-file", ready, "-info-file", infoFile)
	if slices.Contains(startFlags, "--notify") {
		args = append(args, "-notify-after", "1ms")
	}
	cmd := exec.Command(h.Daemonctl, args...)
	cmd.ExtraFiles = extra
	h.Expect(t, h.RunCmd(t, cmd, env, args), 0)
	pid := h.ReadPID(t, pidfile)
	h.Watch(t, pid)
	if !h.WaitFile(t, ready, 10*time.Second) {
		t.Fatalf("daemon %d never became ready", pid)
	}
	b, err := os.ReadFile(infoFile)
	if err != nil {
		t.Fatal(err)
	}
	var info hygieneInfo
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatalf("%s: %v", infoFile, err)
	}
	if info.PID != pid {
		t.Fatalf("info from pid %d, pidfile names %d", info.PID, pid)
	}
	t.Cleanup(func() { h.Run(t, "stop", "-p", pidfile) })
	return info
}

func TestHygieneNoDescriptorLeaks(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "web.pid")
	// Descriptors an operator's shell might leave open: files (one of them
	// the pidfile's directory's neighbour), and both ends of a pipe. In the
	// caller they are 3..6, without close-on-exec.
	var extra []*os.File
	for _, name := range []string{"leak-a", "leak-b"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		extra = append(extra, f)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	extra = append(extra, r, w)
	leaked := map[string]bool{}
	for _, f := range extra {
		target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
		if err != nil {
			t.Fatal(err)
		}
		leaked[target] = true
	}

	info := startForInfo(t, dir, extra, nil)
	if !slices.Equal(info.InheritedFDs, []int{0, 1, 2, 3}) {
		t.Errorf("daemon inherited fds %v (%v), want exactly 0, 1, 2 and the lock", info.InheritedFDs, info.FDTargets)
	}
	for fd, want := range map[string]string{"0": os.DevNull, "1": os.DevNull, "2": os.DevNull, "3": pidfile} {
		if got := info.FDTargets[fd]; got != want {
			t.Errorf("daemon fd %s is %q, want %q", fd, got, want)
		}
	}
	// The kernel's view, of every descriptor the daemon has now (its
	// runtime's own included): none is one of the caller's.
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(info.PID) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		target, err := os.Readlink("/proc/" + strconv.Itoa(info.PID) + "/fd/" + e.Name())
		if err == nil && leaked[target] {
			t.Errorf("daemon fd %s is the caller's %s", e.Name(), target)
		}
	}
	// The pipe's write end did not reach the daemon: closing ours gives
	// the reader EOF at once.
	w.Close()
	if err := r.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("read of the pipe after closing our write end: %d, %v; want EOF", n, err)
	}
}

// envSet is an environment as a map, the last entry of a key winning, as
// exec does.
func envSet(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestHygieneEnvironment(t *testing.T) {
	callerExtra := []string{"HYGIENE_CALLER=1", "HYGIENE_OVERRIDE=caller"}
	caller := envSet(append(os.Environ(), callerExtra...))
	for _, tc := range []struct {
		name  string
		env   []string // the caller's, besides the test's own
		flags []string
		want  map[string]string
	}{
		{
			name: "caller's",
			env:  callerExtra,
			want: caller,
		},
		{
			name:  "caller's plus --env",
			env:   callerExtra,
			flags: []string{"--env", "HYGIENE_OVERRIDE=flag", "--env", "HYGIENE_NEW=a=b"},
			want: func() map[string]string {
				m := envSet(append(os.Environ(), callerExtra...))
				m["HYGIENE_OVERRIDE"], m["HYGIENE_NEW"] = "flag", "a=b"
				return m
			}(),
		},
		{
			name: "markers dropped",
			env:  append([]string{"DAEMONCTL_DAEMON=3:/x.pid", "DAEMONCTL_DAEMON_NOTIFY=1", "DAEMONCTL_TEST_PAUSE=nowhere:/x", "NOTIFY_SOCKET=@caller"}, callerExtra...),
			want: caller,
		},
		{
			name:  "--clear-env",
			env:   callerExtra,
			flags: []string{"--clear-env"},
			want:  map[string]string{},
		},
		{
			name:  "--clear-env and --env",
			env:   callerExtra,
			flags: []string{"--clear-env", "--env", "ONLY=this", "--env", "ONLY=that"},
			want:  map[string]string{"ONLY": "that"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := startForInfo(t, t.TempDir(), nil, tc.env, tc.flags...)
			if len(info.Env) != len(envSet(info.Env)) {
				t.Errorf("daemon environment has duplicate keys: %q", info.Env)
			}
			if got := envSet(info.Env); !maps.Equal(got, tc.want) {
				t.Errorf("daemon environment:\n got %q\nwant %v", info.Env, tc.want)
			}
		})
	}
	t.Run("--notify", func(t *testing.T) {
		// NOTIFY_SOCKET reaches the daemon only with --notify, and is then
		// daemonctl's own socket, not the caller's.
		info := startForInfo(t, t.TempDir(), nil, []string{"NOTIFY_SOCKET=@caller"}, "--notify", "--clear-env")
		got := envSet(info.Env)
		if len(got) != 1 || got["NOTIFY_SOCKET"] == "" || got["NOTIFY_SOCKET"] == "@caller" {
			t.Errorf("daemon environment with --notify --clear-env: %q, want only daemonctl's NOTIFY_SOCKET", info.Env)
		}
	})
}
