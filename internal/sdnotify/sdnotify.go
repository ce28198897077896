// Package sdnotify is systemd's notify protocol (sd_notify(3)): one
// datagram of newline-separated assignments such as "READY=1",
// "WATCHDOG=1" or "STATUS=loading" to the unix socket that NOTIFY_SOCKET
// names. Send is the sending half, for daemons (and Go programs using
// daemonctl's library). Listen is the receiving half, for daemonctl's
// readiness wait (start --notify) and its supervisor (start --supervise),
// which listens for the service's whole life for READY=1 and watchdog
// pings: the kernel attaches each sender's credentials (SO_PASSCRED), so
// a listener keeps only the messages of the processes it accepts (the
// socket's name is visible to every local user in /proc/net/unix).
//
// It does what go-systemd's daemon.SdNotify does, on golang.org/x/sys/unix
// alone: importing package net for one datagram made every daemonctl
// command initialise net and net/netip at start-up.
package sdnotify

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Ready is the state that reports start-up finished.
const Ready = "READY=1"

// Send sends state as one datagram to the socket NOTIFY_SOCKET names: a
// file-system path ("/run/x.sock") or, with a leading "@", a name in
// Linux's abstract namespace. With unsetEnv it first removes NOTIFY_SOCKET
// from the environment, whatever happens next, so that neither a later
// call nor a child process sends there.
//
// It returns false and nil when NOTIFY_SOCKET is unset or empty (nobody
// listens; not an error), true and nil once the datagram is sent, and
// false and an error otherwise: ErrBadAddress for an address it cannot use,
// or the socket's error (no such socket, nobody listening on it, a state
// too large for one datagram).
func Send(unsetEnv bool, state string) (bool, error) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return false, nil
	}
	if unsetEnv {
		if err := os.Unsetenv("NOTIFY_SOCKET"); err != nil {
			return false, fmt.Errorf("sd_notify: unset NOTIFY_SOCKET: %w", err)
		}
	}
	if addr[0] != '/' && !(addr[0] == '@' && abstractNames) {
		return false, fmt.Errorf("sd_notify: NOTIFY_SOCKET=%s: %w", addr, ErrBadAddress)
	}
	fd, err := datagramSocket()
	if err != nil {
		return false, fmt.Errorf("sd_notify: socket: %w", err)
	}
	defer unix.Close(fd)
	// x/sys/unix turns a leading "@" into the abstract namespace's NUL.
	if err := unix.Sendto(fd, []byte(state), 0, &unix.SockaddrUnix{Name: addr}); err != nil {
		return false, fmt.Errorf("sd_notify: send to %s: %w", addr, err)
	}
	return true, nil
}
