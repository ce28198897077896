//go:build linux

// Command startup times what a caller of daemonctl waits for, in one run,
// side by side with an empty Go program (the floor under any Go command)
// and start-stop-daemon:
//
//	status -p    of a running daemon
//	stop -p      from the call until the daemon receives SIGTERM, and the
//	             notice latency: stop returned minus the daemon's exit
//	start -p     from the call until the daemon's program runs (the pidfile
//	             names it, live)
//	status       the table of -table services (1,000), every one running
//
// Every round runs each step once, in a fresh random order, so that a noisy
// machine slows every tool alike; it reports medians (with the quartiles)
// and each median's ratio to the empty Go program's. Run it from the
// repository root:
//
//	go run ./bench/startup                     # builds daemonctl as README says
//	go run ./bench/startup -n 300 -table 0     # more rounds, no table
//	go run ./bench/startup -ctl ./daemonctl    # an existing binary
//	go run ./bench/startup -base /tmp/main-daemonctl   # before/after, same run
//
// It is the child subreaper of every process it starts, reaps at once, and
// at the end (or on failure, or ^C) stops every daemon it started, by PID
// and only while that PID is still its own child.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildFlags is README's build command for daemonctl; the floor is built
// the same way.
var buildFlags = []string{"build", "-tags", "urfave_cli_no_docs"}

func main() {
	rounds := flag.Int("n", 100, "measured rounds (each runs every step once)")
	warmup := flag.Int("warmup", 5, "rounds run first and not counted")
	ctl := flag.String("ctl", "", "daemonctl binary to time (default: build it from the current directory as README says)")
	base := flag.String("base", "", "another daemonctl binary (an older build) to time in the same rounds, for a before/after")
	ssd := flag.String("ssd", "/usr/sbin/start-stop-daemon", "start-stop-daemon binary (skipped if missing)")
	table := flag.Int("table", 1000, "services in the status-table step (0 skips it)")
	tableRuns := flag.Int("table-runs", 20, "timed runs of the status table")
	keep := flag.Bool("keep", false, "keep the scratch directory")
	flag.Parse()

	dir, err := os.MkdirTemp("", "daemonctl-startup-")
	if err != nil {
		fatal(err)
	}
	b := &bench{dir: dir, run: filepath.Join(dir, "run")}
	code := b.main(*ctl, *base, *ssd, *rounds, *warmup, *table, *tableRuns)
	if !*keep && code == 0 {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "startup: scratch directory kept: %s\n", dir)
	}
	os.Exit(code)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "startup:", err)
	os.Exit(1)
}

type bench struct {
	dir, run string
	r        *runner
	floor    string
	sigstamp string
	sleep    string
	tools    []*tool
}

// tool is one controller's command lines.
type tool struct {
	name   string
	bin    string // a daemonctl binary; "" for start-stop-daemon
	start  func(pidfile string, argv ...string) []string
	status func(pidfile string) []string
	stop   func(pidfile string) []string

	statusPID string // its long-running daemon for the status step
	failed    int    // steps that failed (start-stop-daemon's are dropped)
}

func (b *bench) main(ctl, base, ssd string, rounds, warmup, table, tableRuns int) int {
	if err := os.Mkdir(b.run, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		return 1
	}
	defer b.cleanup()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		b.cleanup()
		os.Exit(130)
	}()
	if err := b.setup(ctl, base, ssd); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		return 1
	}
	res, err := b.rounds(rounds, warmup)
	if err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		return 1
	}
	var tbl map[string][]time.Duration
	if table > 0 {
		if tbl, err = b.table(table, tableRuns); err != nil {
			fmt.Fprintln(os.Stderr, "startup:", err)
			return 1
		}
	}
	b.report(res, table, tbl)
	return 0
}

// setup builds what it needs (before the reaper runs: it would take
// os/exec's children), becomes the subreaper and starts the daemons the
// status step asks about.
func (b *bench) setup(ctl, base, ssd string) error {
	build := func(out, pkg string) error {
		args := append(slices.Clone(buildFlags), "-o", out, pkg)
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("CGO_ENABLED=0 go %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	if ctl == "" {
		ctl = filepath.Join(b.dir, "daemonctl")
		if err := build(ctl, "."); err != nil {
			return err
		}
	} else if abs, err := filepath.Abs(ctl); err == nil {
		ctl = abs
	}
	b.floor = filepath.Join(b.dir, "floor")
	b.sigstamp = filepath.Join(b.dir, "sigstamp")
	for _, h := range []struct{ out, pkg string }{{b.floor, "./bench/floor"}, {b.sigstamp, "./bench/sigstamp"}} {
		if err := build(h.out, h.pkg); err != nil {
			return err
		}
	}
	var err error
	if b.sleep, err = exec.LookPath("sleep"); err != nil {
		return err
	}
	if b.sleep, err = filepath.EvalSymlinks(b.sleep); err != nil {
		return err
	}
	if b.r, err = newRunner(filepath.Join(b.dir, "errors.log")); err != nil {
		return err
	}

	b.tools = []*tool{daemonctl("daemonctl", ctl)}
	if base != "" {
		if abs, err := filepath.Abs(base); err == nil {
			base = abs
		}
		b.tools = append(b.tools, daemonctl("base", base))
	}
	if _, err := os.Stat(ssd); err == nil {
		b.tools = append(b.tools, &tool{
			name: "start-stop-daemon",
			start: func(f string, argv ...string) []string {
				return append([]string{ssd, "--start", "--background", "--make-pidfile", "--pidfile", f, "--exec", argv[0], "--"}, argv[1:]...)
			},
			status: func(f string) []string { return []string{ssd, "--status", "--pidfile", f} },
			stop: func(f string) []string {
				return []string{ssd, "--stop", "--pidfile", f, "--retry", "TERM/5/KILL/5", "--remove-pidfile"}
			},
		})
	} else {
		fmt.Fprintf(os.Stderr, "startup: %s not installed: daemonctl alone\n", ssd)
	}
	for _, t := range b.tools {
		t.statusPID = filepath.Join(b.run, t.name+"-status.pid")
		if _, err := b.r.mustRun(t.start(t.statusPID, b.sleep, "100000")...); err != nil {
			return err
		}
		if !poll(2*time.Second, func() bool { _, ok := runs(t.statusPID, filepath.Base(b.sleep)); return ok }) {
			return fmt.Errorf("%s: the status step's daemon did not start", t.name)
		}
	}
	return nil
}

// daemonctl is the tool for a daemonctl binary.
func daemonctl(name, bin string) *tool {
	return &tool{
		name:   name,
		bin:    bin,
		start:  func(f string, argv ...string) []string { return append([]string{bin, "start", "-p", f, "--"}, argv...) },
		status: func(f string) []string { return []string{bin, "status", "-p", f} },
		stop:   func(f string) []string { return []string{bin, "stop", "-p", f} },
	}
}

// cleanup stops what the tools left running: the table's services by
// daemonctl, then any daemon under run/ that is still our child.
func (b *bench) cleanup() {
	if b.r == nil {
		return
	}
	killOurs(filepath.Join(b.run, "*.pid"))
	killOurs(filepath.Join(b.run, "table", "*.pid"))
}

// Sample names.
const (
	floorStep  = "floor"
	statusStep = "status"
	startStep  = "start"
	termStep   = "term"   // stop: call → TERM received
	noticeStep = "notice" // stop: returned − daemon exited
	lateStep   = "late"   // start returned before the program ran: by how much
)

// results holds each tool's samples per step; the floor's under "".
type results map[string]map[string][]time.Duration

func (res results) add(tool, step string, d time.Duration) {
	if res[tool] == nil {
		res[tool] = map[string][]time.Duration{}
	}
	res[tool][step] = append(res[tool][step], d)
}

// rounds runs warmup+n rounds of every step in a random order.
func (b *bench) rounds(n, warmup int) (results, error) {
	res := results{}
	type step struct {
		name string
		run  func(res results) error
		tool *tool
	}
	steps := []step{{floorStep, func(res results) error {
		s, err := b.r.mustRun(b.floor)
		res.add("", floorStep, s.duration())
		return err
	}, nil}}
	for _, t := range b.tools {
		steps = append(steps,
			step{t.name + " status", func(res results) error { return b.status(t, res) }, t},
			step{t.name + " start", func(res results) error { return b.start(t, res) }, t},
			step{t.name + " stop", func(res results) error { return b.stop(t, res) }, t},
		)
	}
	for i := range warmup + n {
		into := res
		if i < warmup {
			into = results{}
		}
		rand.Shuffle(len(steps), func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
		for _, s := range steps {
			// Let the previous step's exiting processes finish on the other
			// CPU before timing the next.
			time.Sleep(time.Millisecond)
			err := s.run(into)
			if err != nil && s.tool != nil && s.tool.bin == "" {
				// A failure of the reference tool loses one sample, said
				// here and counted in the report; daemonctl's fail the run.
				fmt.Fprintf(os.Stderr, "startup: round %d: %s: %v (sample dropped)\n", i+1, s.name, err)
				s.tool.failed++
				killOurs(filepath.Join(b.run, s.tool.name+"-start.pid"))
				killOurs(filepath.Join(b.run, s.tool.name+"-stop.pid"))
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
		}
	}
	return res, nil
}

func (b *bench) status(t *tool, res results) error {
	s, err := b.r.mustRun(t.status(t.statusPID)...)
	res.add(t.name, statusStep, s.duration())
	return err
}

// start times a start until the daemon's program runs: when start
// returns if it runs by then (daemonctl's contract), else when a poll
// (every 50 µs) first sees it. Then it stops it, not timed.
func (b *bench) start(t *tool, res results) error {
	f := filepath.Join(b.run, t.name+"-start.pid")
	comm := filepath.Base(b.sleep)
	s, err := b.r.mustRun(t.start(f, b.sleep, "100000")...)
	if err != nil {
		return err
	}
	end := s.end
	pid, ok := runs(f, comm)
	if !ok {
		if !poll(2*time.Second, func() (ok bool) { pid, ok = runs(f, comm); return ok }) {
			return fmt.Errorf("%s: no live %s in %s after start", t.name, comm, f)
		}
		end = monotonic()
		res.add(t.name, lateStep, time.Duration(end-s.end))
	}
	res.add(t.name, startStep, time.Duration(end-s.start))
	if _, err := b.r.mustRun(t.stop(f)...); err != nil {
		return err
	}
	if !poll(5*time.Second, func() bool { return gone(pid) }) {
		return fmt.Errorf("%s: pid %d still runs after stop", t.name, pid)
	}
	_ = os.Remove(f)
	return nil
}

// stop starts sigstamp (not timed) and times its stop: until it receives
// TERM, and from its exit until stop returns.
func (b *bench) stop(t *tool, res results) error {
	f := filepath.Join(b.run, t.name+"-stop.pid")
	stamp := filepath.Join(b.run, t.name+"-stop.stamp")
	_ = os.Remove(stamp)
	_ = os.Remove(stamp + ".ready")
	if _, err := b.r.mustRun(t.start(f, b.sigstamp, stamp)...); err != nil {
		return err
	}
	if !poll(5*time.Second, func() bool { _, err := os.Stat(stamp + ".ready"); return err == nil }) {
		return fmt.Errorf("%s: sigstamp never became ready", t.name)
	}
	pid := readPID(f)
	time.Sleep(time.Millisecond)
	s, err := b.r.mustRun(t.stop(f)...)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(stamp)
	if err != nil {
		// Stop returned 0 without the daemon having taken TERM: say what is
		// left, for whoever reads the error.
		comm, state, _, alive := procStat(pid)
		return fmt.Errorf("%s: stop exited 0 but sigstamp (pid %d; now alive: %v %s %c) left no stamp, so got no TERM: %w", t.name, pid, alive, comm, state, err)
	}
	var received, exited int64
	if _, err := fmt.Sscan(string(data), &received, &exited); err != nil {
		return fmt.Errorf("%s: stamp %q: %w", t.name, data, err)
	}
	res.add(t.name, termStep, time.Duration(received-s.start))
	res.add(t.name, noticeStep, time.Duration(s.end-exited))
	if pid != 0 && !poll(5*time.Second, func() bool { return gone(pid) }) {
		return fmt.Errorf("%s: pid %d still runs after stop", t.name, pid)
	}
	_ = os.Remove(f)
	return nil
}

// table defines n services, starts them all, times `daemonctl status` (the
// whole process: start, load n definitions, inspect n daemons, print) of
// each daemonctl binary, interleaved, and stops them all.
func (b *bench) table(n, runs int) (map[string][]time.Duration, error) {
	conf := filepath.Join(b.dir, "conf")
	run := filepath.Join(b.run, "table")
	for _, d := range []string{conf, run} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
	}
	for i := range n {
		name := fmt.Sprintf("svc%04d", i)
		def := fmt.Sprintf("program = %q\nargs = [\"100000\"]\npidfile = %q\n", b.sleep, filepath.Join(run, name+".pid"))
		if err := os.WriteFile(filepath.Join(conf, name+".toml"), []byte(def), 0o644); err != nil {
			return nil, err
		}
	}
	ctl := b.tools[0].bin
	if _, err := b.r.mustRun(ctl, "--config-dir", conf, "start", "--all", "-q"); err != nil {
		return nil, err
	}
	defer func() { _, _ = b.r.mustRun(ctl, "--config-dir", conf, "stop", "--all", "-q") }()
	res := map[string][]time.Duration{}
	for i := range runs + 1 {
		for _, t := range b.tools {
			if t.bin == "" {
				continue
			}
			time.Sleep(time.Millisecond)
			s, err := b.r.mustRun(t.bin, "--config-dir", conf, "status")
			if err != nil {
				return nil, err
			}
			if i > 0 { // the first warms the page cache
				res[t.name] = append(res[t.name], s.duration())
			}
		}
	}
	return res, nil
}

// quartiles returns the 25th, 50th and 75th percentiles (nearest rank).
func quartiles(ds []time.Duration) (q1, med, q3 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[int(p*float64(len(s)-1)+0.5)] }
	return at(0.25), at(0.5), at(0.75)
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

// cell is "median (q1–q3)" in ms, or "-".
func cell(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	q1, med, q3 := quartiles(ds)
	return fmt.Sprintf("%s (%s–%s)", ms(med), ms(q1), ms(q3))
}

func median(ds []time.Duration) time.Duration {
	_, m, _ := quartiles(ds)
	return m
}

func (b *bench) report(res results, table int, tbl map[string][]time.Duration) {
	var uname syscall.Utsname
	_ = syscall.Uname(&uname)
	release := make([]byte, 0, len(uname.Release))
	for _, c := range uname.Release {
		if c == 0 {
			break
		}
		release = append(release, byte(c))
	}
	floor := res[""][floorStep]
	fmt.Printf("startup: %s, %d CPUs, Linux %s; %d rounds, steps in random order; binaries built with CGO_ENABLED=0 go %s\n",
		runtime.Version(), runtime.NumCPU(), release, len(floor), strings.Join(buildFlags, " "))
	for _, t := range b.tools {
		if t.bin != "" {
			fmt.Printf("  %s: %s\n", t.name, t.bin)
		}
	}
	fmt.Printf("medians in ms (quartiles); ×: the median over the empty Go program's, and in\n")
	fmt.Printf("parentheses the median of that ratio taken within each round\n\n")

	var ctls []*tool
	fmt.Printf("%-34s", "step")
	for _, t := range b.tools {
		fmt.Printf(" %-22s", t.name)
	}
	fmt.Printf(" %-22s", "empty Go program")
	for _, t := range b.tools {
		if t.bin != "" {
			ctls = append(ctls, t)
			fmt.Printf(" %-14s", t.name+" ×")
		}
	}
	fmt.Printf(" goal\n")
	row := func(label, step, goal string, ratios bool) {
		fmt.Printf("%-34s", label)
		for _, t := range b.tools {
			fmt.Printf(" %-22s", cell(res[t.name][step]))
		}
		if !ratios {
			fmt.Printf(" %-22s", "")
			for range ctls {
				fmt.Printf(" %-14s", "")
			}
			fmt.Printf(" %s\n", goal)
			return
		}
		fmt.Printf(" %-22s", cell(floor))
		for _, t := range ctls {
			ds := res[t.name][step]
			paired := make([]float64, len(ds))
			for i := range ds {
				paired[i] = float64(ds[i]) / float64(floor[i])
			}
			slices.Sort(paired)
			fmt.Printf(" %-14s", fmt.Sprintf("%.2f× (%.2f)", float64(median(ds))/float64(median(floor)), paired[len(paired)/2]))
		}
		fmt.Printf(" %s\n", goal)
	}
	row("status -p (running daemon)", statusStep, "≤ 1.3×", true)
	row("stop -p: call → daemon gets TERM", termStep, "≤ 1.3×", true)
	row("start -p: call → daemon runs", startStep, "≤ 2.5×", true)
	row("stop -p: daemon exited → returned", noticeStep, "≈ 1 ms", false)
	for _, t := range b.tools {
		if t.failed > 0 {
			fmt.Printf("(%s failed %d steps; those samples are missing, see the error log)\n", t.name, t.failed)
		}
		if late := res[t.name][lateStep]; len(late) > 0 {
			fmt.Printf("(%s start returned %d times of %d before the program ran: %s ms later, median)\n", t.name, len(late), len(res[t.name][startStep]), ms(median(late)))
		}
	}
	if table > 0 {
		fmt.Printf("\n%-34s", fmt.Sprintf("status table, %d services", table))
		for _, t := range ctls {
			fmt.Printf(" %-22s", t.name+" "+cell(tbl[t.name]))
		}
		fmt.Printf(" goal ≤ 50 ms (whole process)\n")
	}
}
