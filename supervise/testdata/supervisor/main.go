// Command supervisor stands in for daemonctl's launcher stage in
// supervise mode, for the supervise package's tests and benchmarks: it
// does what the stage will do, and nothing else.
//
//	supervisor CONFIG.json
//
// The test starts it as the leader of a new session with a status pipe as
// descriptor 3. It reads CONFIG (a JSON Harness), sets the umask to 022,
// takes the pidfile (pidfile.Acquire), sets the program's umask, calls
// supervise.Start, writes its report on descriptor 3 and closes it:
//
//	ok PID                  the first start is done; PID is the program
//	error KIND MESSAGE      Start failed (KIND: usage, notfound, privilege,
//	                        failed, busy, other); nothing was left behind
//
// then waits for the supervision to end (supervise.Supervisor.Wait),
// writes how it ended ("stopped", "finished", "gave up") to EndFile when
// that is set, and exits 0 when it stopped or the program finished, 1
// when it gave up, 2 when the start failed.
//
// With Tmpfs set the harness must have been started in a mount namespace
// of its own (CLONE_NEWNS, propagation private): it mounts a tmpfs of
// Tmpfs.Size bytes on Tmpfs.Dir there, for a disk that fills up, which
// the test reads through /proc/PID/root.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/supervise"
)

// Harness is the configuration file.
type Harness struct {
	PIDFile string
	// Umask is the program's (and the log files').
	Umask int
	// Tmpfs, when Dir is set, is mounted before anything else.
	Tmpfs struct {
		Dir  string
		Size int64
	}
	// ProgressFile receives the STATUS= texts of the first start.
	ProgressFile string
	// EndFile receives how the supervision ended.
	EndFile string
	Config  supervise.Config
}

func main() {
	status := os.NewFile(3, "status")
	if len(os.Args) != 2 || status == nil {
		fmt.Fprintln(os.Stderr, "usage: supervisor CONFIG.json (with a status pipe as descriptor 3)")
		os.Exit(2)
	}
	report := func(line string) {
		_, _ = status.WriteString(line + "\n")
		status.Close()
	}
	var h Harness
	data, err := os.ReadFile(os.Args[1])
	if err == nil {
		err = json.Unmarshal(data, &h)
	}
	if err != nil {
		report("error other " + err.Error())
		os.Exit(2)
	}
	if h.Tmpfs.Dir != "" {
		if err := unix.Mount("tmpfs", h.Tmpfs.Dir, "tmpfs", 0, "size="+strconv.FormatInt(h.Tmpfs.Size, 10)); err != nil {
			report("error other mount tmpfs: " + err.Error())
			os.Exit(2)
		}
	}
	syscall.Umask(0o022)
	pf, err := pidfile.Acquire(h.PIDFile)
	if err != nil {
		kind := "other"
		if errors.Is(err, pidfile.ErrLocked) || errors.Is(err, pidfile.ErrRunning) {
			kind = "busy"
		}
		report("error " + kind + " " + err.Error())
		os.Exit(2)
	}
	syscall.Umask(h.Umask)
	cfg := h.Config
	cfg.PIDFile = pf
	if h.ProgressFile != "" {
		f, err := os.OpenFile(h.ProgressFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			report("error other " + err.Error())
			os.Exit(2)
		}
		cfg.Progress = f
	}
	sup, err := supervise.Start(cfg)
	if err != nil {
		report("error " + kind(err) + " " + strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(2)
	}
	report("ok " + strconv.Itoa(sup.PID()))
	end := sup.Wait()
	if h.EndFile != "" {
		_ = os.WriteFile(h.EndFile, []byte(end.String()+"\n"), 0o644)
	}
	if end == supervise.GaveUp {
		os.Exit(1)
	}
}

func kind(err error) string {
	switch {
	case errors.Is(err, supervise.ErrUsage):
		return "usage"
	case errors.Is(err, supervise.ErrProgramNotFound):
		return "notfound"
	case errors.Is(err, supervise.ErrNoPrivilege):
		return "privilege"
	case errors.Is(err, supervise.ErrFailedStart):
		return "failed"
	}
	return "other"
}
