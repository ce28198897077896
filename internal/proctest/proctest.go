// Package proctest starts child processes for unit tests that read what
// the kernel says about them.
package proctest

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
)

// Cat starts `cat -` (through name, which may be another path to cat, a
// symbolic link with an odd name, say), inheriting files as descriptors 3,
// 4, ..., and returns once it has echoed a line: its exec is then
// complete, so /proc shows its command line and executable. (exec.Cmd's
// Start returns when the old program is gone, before the kernel has set
// up the new one's arguments: /proc/PID/cmdline can still read empty.)
// The child is killed and reaped when the test ends.
func Cat(t testing.TB, files []*os.File, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, "-")
	cmd.ExtraFiles = files
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if _, err := in.Write([]byte("up\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "up\n" {
		t.Fatalf("%s echoed %q, %v", name, line, err)
	}
	return cmd
}
