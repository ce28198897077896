//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package main

// terminalWidth cannot tell a terminal here: output is treated as a file.
func terminalWidth(fd int) (int, bool) { return 0, false }
