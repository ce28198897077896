package ssd

import (
	"os"
	"os/exec"
	"testing"
)

// TestScanSession: a scan kept to a session finds that session's live
// processes and nothing else.
func TestScanSession(t *testing.T) {
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	st, ok := readStat(cmd.Process.Pid)
	if !ok || st.comm != "sleep" || st.ppid != os.Getpid() {
		t.Fatalf("readStat(sleep) = %+v, %v", st, ok)
	}
	found, err := scan(&target{session: st.session, name: "sleep", uid: -1, confine: -1, ppid: os.Getpid()})
	if err != nil || len(found) != 1 || found[0] != cmd.Process.Pid {
		t.Fatalf("scan of session %d for sleep = %v, %v; want [%d]", st.session, found, err, cmd.Process.Pid)
	}
	if found, _ := scan(&target{session: -2, uid: -1, confine: -1}); len(found) != 0 {
		t.Fatalf("scan of no session found %v", found)
	}
}

// BenchmarkScan is a scan of every process that matches none: what a
// stop pays to look for the rest of a dead main process's session.
func BenchmarkScan(b *testing.B) {
	t := &target{session: -2, uid: -1, confine: -1}
	for b.Loop() {
		if _, err := scan(t); err != nil {
			b.Fatal(err)
		}
	}
}
