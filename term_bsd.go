//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package main

import "golang.org/x/sys/unix"

// terminalWidth reports whether fd is a terminal, and its width in
// columns (0 when unknown).
func terminalWidth(fd int) (int, bool) {
	if _, err := unix.IoctlGetTermios(fd, unix.TIOCGETA); err != nil {
		return 0, false
	}
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return 0, true
	}
	return int(ws.Col), true
}
