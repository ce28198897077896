//go:build !linux

package controller

import "golang.org/x/sys/unix"

// markCloseOnExec marks every descriptor above stderr close-on-exec.
func markCloseOnExec() {
	for fd := 3; fd < 1024; fd++ {
		unix.CloseOnExec(fd)
	}
}
