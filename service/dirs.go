package service

import (
	"errors"
	"os"
	"path/filepath"
)

// DefaultDir is where definitions live: /etc/daemonctl.d for root,
// $XDG_CONFIG_HOME/daemonctl (~/.config/daemonctl) for anyone else.
func DefaultDir() (string, error) {
	if os.Geteuid() == 0 {
		return "/etc/daemonctl.d", nil
	}
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "daemonctl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || !filepath.IsAbs(home) {
		return "", errors.New("neither XDG_CONFIG_HOME nor HOME is set: give --config-dir")
	}
	return filepath.Join(home, ".config", "daemonctl"), nil
}

// DefaultRunDir holds the pidfiles of services whose definition names
// none: /run/daemonctl for root, $XDG_RUNTIME_DIR/daemonctl otherwise.
func DefaultRunDir() (string, error) {
	if os.Geteuid() == 0 {
		return "/run/daemonctl", nil
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "daemonctl"), nil
	}
	return "", errors.New("XDG_RUNTIME_DIR is not set")
}
