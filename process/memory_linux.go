package process

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// RSS is pid's resident set size in bytes, from /proc/PID/statm (one
// small read, cheaper than parsing /proc/PID/status).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return 0, err
	}
	// statm: size resident shared text lib data dt, in pages.
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return 0, fmt.Errorf("pid %d: malformed /proc statm", pid)
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("pid %d: malformed /proc statm", pid)
	}
	return pages * int64(os.Getpagesize()), nil
}
