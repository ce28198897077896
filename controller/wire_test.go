package controller

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

// specFrom builds a launch spec from fuzzed values: paths holds the
// pidfile, program, working directory, stdout and stderr, NUL-separated
// (missing ones are empty); argv and env are NUL-separated lists (NUL is
// the one byte the kernel cannot pass in a path, argument or
// environment entry); opts selects the optional fields.
func specFrom(paths, argv, env string, umask, id uint32, nice int32, opts uint8) *launchSpec {
	p := strings.Split(paths, "\x00")
	p = append(p, make([]string, max(0, 5-len(p)))...)
	ls := &launchSpec{
		PIDFile: p[0], Path: p[1], Dir: p[2], Stdout: p[3], Stderr: p[4],
		Argv:  strings.Split(argv, "\x00"),
		Env:   strings.Split(env, "\x00"),
		Umask: umask,
	}
	if opts&1 != 0 {
		ls.Cred = &cred{UID: id, GID: ^id}
		if opts&2 != 0 {
			ls.Cred.Groups = []uint32{id, 0, ^uint32(0)}
		}
	}
	if opts&4 != 0 {
		n := int(nice)
		ls.Nice = &n
	}
	ls.LockEnv = opts&8 != 0
	return ls
}

// sameSpec compares specs as the stage uses them: a nil environment and
// an empty one are the same (runStage never passes nil to exec).
func sameSpec(a, b *launchSpec) bool {
	x, y := *a, *b
	if len(x.Env) == 0 && len(y.Env) == 0 {
		x.Env, y.Env = nil, nil
	}
	return reflect.DeepEqual(x, y)
}

func TestLaunchSpecRoundTrip(t *testing.T) {
	nice := -5
	for _, ls := range []*launchSpec{
		specFrom("/run/web.pid\x00/usr/sbin/web\x00/", "web\x00-d", "PATH=/bin", 0o22, 0, 0, 0),
		// Bytes that are not UTF-8 (JSON turned them into U+FFFD), an
		// empty argument and environment entry, every optional field.
		specFrom("/tmp/\xff.pid\x00/opt/\xfe/bin\x00/srv/\xc3\x28\x00/log/\xff.out\x00/log/\xff.err", "prog\x00\xff\xfe\x00", "K=\xfe\x00\x00=", 0o777, 65534, int32(nice), 0xff),
		{PIDFile: "/p", Path: "/x", Argv: []string{"x"}, Umask: ^uint32(0), Nice: &nice, Cred: &cred{UID: ^uint32(0)}},
		// A supervised start: every supervise setting and the readiness
		// wait the supervisor does.
		{PIDFile: "/p", Path: "/x", Argv: []string{"x"}, Name: "w\xff", Supervise: &Supervision{
			Respawn:    supervise.Respawn{When: supervise.Always, Delay: 1500 * time.Millisecond, DelayMax: time.Minute, Limit: supervise.Limit{Count: 7, Period: 90 * time.Second}},
			LogMaxSize: 4096, LogKeep: 3, Watchdog: 2500 * time.Millisecond, Forking: true, ProgramPIDFile: "/run/\xfe.pid",
		}, Wait: time.Second, Notify: true, NotifyTimeout: 3 * time.Second, NotifySocket: "/s", StopSchedule: signals.Schedule{Steps: []signals.Step{{Signal: unix.SIGINT, Wait: 3 * time.Second}, {Signal: unix.SIGKILL, Wait: time.Second}}}},
		{PIDFile: "/p", Path: "/x", Argv: []string{"x"}, Supervise: &Supervision{}},
	} {
		got, err := decodeLaunchSpec(ls.encode())
		if err != nil || !sameSpec(got, ls) {
			t.Errorf("round trip of %+v: got %+v, %v", ls, got, err)
		}
	}
}

func TestLaunchSpecIncomplete(t *testing.T) {
	for _, ls := range []*launchSpec{
		{Path: "/x", Argv: []string{"x"}},
		{PIDFile: "/p", Argv: []string{"x"}},
		{PIDFile: "/p", Path: "/x"},
	} {
		if _, err := decodeLaunchSpec(ls.encode()); !errors.Is(err, errWire) {
			t.Errorf("decode of %+v: %v, want errWire", ls, err)
		}
	}
}

// FuzzLaunchSpec: whatever arrives on the spec pipe decodes to an error
// or to a spec that encodes back to itself, never a panic; and any spec,
// whatever bytes its paths, arguments and environment hold, crosses the
// pipe unchanged.
func FuzzLaunchSpec(f *testing.F) {
	nice := 5
	f.Add((&launchSpec{PIDFile: "/run/\xff.pid", Path: "/bin/web", Argv: []string{"web", "\xfe"}, Env: []string{"K=\xff"}, Nice: &nice, Cred: &cred{UID: 1, GID: 2, Groups: []uint32{3}}, Stdout: "/l", LockEnv: true}).encode(),
		"/run/\xff.pid\x00/bin/web", "web\x00\xfe", "K=\xff", uint32(0o22), uint32(65534), int32(-20), uint8(0xff))
	f.Add([]byte("m\x02-1p\x01/x\x01/a\x01a"), "", "", "", uint32(1<<31), uint32(0), int32(0), uint8(0))
	f.Add((&launchSpec{PIDFile: "/p", Path: "/x", Argv: []string{"x"}, Supervise: DefaultSupervision(), Notify: true}).encode(), "", "", "", uint32(0), uint32(0), int32(0), uint8(0))
	f.Add([]byte("p\xff\xff\xff\xff\x0f"), "/p\x00/x", "", "", uint32(0), uint32(0), int32(0), uint8(1))
	f.Fuzz(func(t *testing.T, msg []byte, paths, argv, env string, umask, id uint32, nice int32, opts uint8) {
		if ls, err := decodeLaunchSpec(msg); err == nil {
			again, err := decodeLaunchSpec(ls.encode())
			if err != nil || !sameSpec(again, ls) {
				t.Fatalf("decoded %q as %+v, which encodes to %q, decoded as %+v, %v", msg, ls, ls.encode(), again, err)
			}
		}
		ls := specFrom(paths, argv, env, umask, id, nice, opts)
		got, err := decodeLaunchSpec(ls.encode())
		if ls.PIDFile == "" || ls.Path == "" {
			if !errors.Is(err, errWire) {
				t.Fatalf("incomplete spec %+v decoded: %+v, %v", ls, got, err)
			}
			return
		}
		if err != nil || !sameSpec(got, ls) {
			t.Fatalf("round trip of %+v: got %+v, %v", ls, got, err)
		}
	})
}

// FuzzLaunchResult: the stage's report likewise.
func FuzzLaunchResult(f *testing.F) {
	f.Add(launchResult{PID: 4242}.encode(), int32(4242), int32(0), "", int8(0))
	f.Add(launchResult{PID: 4243, Supervisor: 4242}.encode(), int32(4243), int32(0), "", int8(0))
	f.Add(launchResult{Error: "cannot run /x\xff: no such file", Kind: kindNotFound}.encode(), int32(0), int32(7), "\xff\x00", int8(-1))
	f.Add([]byte("K\x03300"), int32(-1), int32(-1), "x", int8(127))
	f.Fuzz(func(t *testing.T, msg []byte, pid, running int32, text string, kind int8) {
		if r, err := decodeLaunchResult(msg); err == nil {
			again, err := decodeLaunchResult(r.encode())
			if err != nil || again != r {
				t.Fatalf("decoded %q as %+v, which encodes to %q, decoded as %+v, %v", msg, r, r.encode(), again, err)
			}
		}
		r := launchResult{PID: int(pid), Running: int(running), Error: text, Kind: launchKind(kind)}
		got, err := decodeLaunchResult(r.encode())
		if err != nil || got != r {
			t.Fatalf("round trip of %+v: got %+v, %v", r, got, err)
		}
	})
}
