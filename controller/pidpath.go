package controller

import (
	"fmt"
	"path/filepath"
	"strings"
)

// How every operation names its service and finds its pidfile.

// ServiceName is how messages call the service whose pidfile is path:
// name when given, else the pidfile's base name without ".pid".
func ServiceName(name, path string) string {
	if name != "" {
		return name
	}
	return strings.TrimSuffix(filepath.Base(path), ".pid")
}

// AbsPIDFile makes a pidfile path absolute and checks it names a file.
func AbsPIDFile(path string) (string, error) {
	if path == "" {
		return "", withKind(ErrUsage, "no pidfile given: use -p FILE")
	}
	if strings.HasSuffix(path, "/") {
		return "", withKind(ErrUsage, "pidfile %s names a directory: give a file, like %s", path, filepath.Join(path, "NAME.pid"))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("pidfile %s: %w", shortPath(path), err)
	}
	if len(abs) > maxPath {
		return "", withKind(ErrUsage, "pidfile %s: the path is %d bytes long, more than the %d the system allows: choose a shorter one", shortPath(abs), len(abs), maxPath)
	}
	for _, part := range strings.Split(abs, "/") {
		if len(part) > maxName {
			return "", withKind(ErrUsage, "pidfile %s: a name in the path is %d bytes long, more than the %d the system allows: choose a shorter one", shortPath(abs), len(part), maxName)
		}
	}
	return abs, nil
}

// maxPath and maxName are Linux's PATH_MAX less the terminating NUL, and
// NAME_MAX.
const (
	maxPath = 4095
	maxName = 255
)
