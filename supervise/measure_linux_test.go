package supervise_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daemonctl/daemonctl/supervise"
)

// The measurements below run only with SUPERVISE_MEASURE=1: they take
// minutes (the idle one a full minute) and start a hundred supervisors.
// They log their figures (go test -v) and fail only on what must not
// happen at all (an idle supervisor using CPU).
//
//	SUPERVISE_MEASURE=1 go test -run Measure -v ./supervise/
const measureEnv = "SUPERVISE_MEASURE"

func skipUnlessMeasuring(t *testing.T) {
	if os.Getenv(measureEnv) == "" {
		t.Skipf("a measurement: set %s=1 to run it", measureEnv)
	}
}

// sleeperConfig supervises /bin/sleep, with both logs, in dir.
func sleeperConfig(t *testing.T, dir string) *harnessConfig {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	h := &harnessConfig{PIDFile: filepath.Join(dir, "web.pid"), Umask: 0o022}
	h.Config = supervise.Config{
		Name:    "web",
		Program: supervise.Program{Path: sleep, Argv: []string{"sleep", "infinity"}},
		Respawn: supervise.DefaultRespawn(),
		Logs:    supervise.Logs{Stdout: filepath.Join(dir, "out.log"), Stderr: filepath.Join(dir, "err.log"), MaxSize: supervise.DefaultLogMaxSize, Keep: supervise.DefaultLogKeep},
	}
	return h
}

func TestMeasureIdle(t *testing.T) {
	skipUnlessMeasuring(t)
	dir := t.TempDir()
	s := &service{t: t, dir: dir}
	h := sleeperConfig(t, dir)
	h.Config.Ready.Notify = false
	s.pidfile = h.PIDFile
	s.start(h)
	time.Sleep(2 * time.Second) // let the start-up settle; measuring, not synchronising
	ticks0, switches0 := cpuTicks(t, s.pid), contextSwitches(t, s.pid)
	time.Sleep(60 * time.Second)
	ticks1, switches1 := cpuTicks(t, s.pid), contextSwitches(t, s.pid)
	t.Logf("idle supervisor over 60 s: %d CPU ticks (utime+stime), %d context switches over its %d threads", ticks1-ticks0, switches1-switches0, threads(t, s.pid))
	if ticks1 != ticks0 {
		t.Errorf("an idle supervisor used %d CPU ticks in 60 s, want 0", ticks1-ticks0)
	}
}

func TestMeasureMemory(t *testing.T) {
	skipUnlessMeasuring(t)
	const n = 100
	var sups []*service
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		s := &service{t: t, dir: dir}
		h := sleeperConfig(t, dir)
		s.pidfile = h.PIDFile
		sups = append(sups, s.start(h))
	}
	syscall.Sync() // a binary just built has dirty page-cache pages
	time.Sleep(time.Second)
	var pss, priv, rss []int
	for _, s := range sups {
		m := smapsRollup(t, s.pid)
		pss, priv, rss = append(pss, m["Pss"]), append(priv, m["Private_Dirty"]), append(rss, m["Rss"])
	}
	t.Logf("%d supervisors (logs on, /bin/sleep): Pss median %d kB max %d; Private_Dirty median %d kB max %d; Rss median %d kB; threads %d",
		n, median(pss), slices.Max(pss), median(priv), slices.Max(priv), median(rss), threads(t, sups[0].pid))

	// One supervisor after 200 respawns: the garbage of each is collected.
	dir := t.TempDir()
	s := &service{t: t, dir: dir, starts: filepath.Join(dir, "starts")}
	h := sleeperConfig(t, dir)
	s.pidfile = h.PIDFile
	h.Config.Program = supervise.Program{Path: "/bin/sh", Argv: []string{"sh", "-c", "echo $$ >> " + s.starts}}
	h.Config.Respawn = supervise.Respawn{When: supervise.Always}
	s.start(h)
	s.waitStarts(201)
	m := smapsRollup(t, s.pid)
	t.Logf("after 200 respawns: Pss %d kB, Private_Dirty %d kB, Rss %d kB", m["Pss"], m["Private_Dirty"], m["Rss"])
}

// smapsRollup reads /proc/PID/smaps_rollup, in kB.
func smapsRollup(t *testing.T, pid int) map[string]int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[2] == "kB" {
			m[strings.TrimSuffix(f[0], ":")], _ = strconv.Atoi(f[1])
		}
	}
	return m
}

// cpuTicks is utime+stime of pid, in clock ticks (stat(5) fields 14, 15).
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
}

// contextSwitches sums the voluntary and involuntary switches of every
// thread of pid: each is a wake-up.
func contextSwitches(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "voluntary_ctxt_switches:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				total += n
			}
			if v, ok := strings.CutPrefix(l, "nonvoluntary_ctxt_switches:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				total += n
			}
		}
	}
	return total
}

func threads(t *testing.T, pid int) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return len(tasks)
}

func median(v []int) int {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
