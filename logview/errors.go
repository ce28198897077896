package logview

import "errors"

var (
	// ErrNoLogs means the service writes no log file daemonctl can name:
	// its output goes to /dev/null, or to something that is no file (a
	// pipe, a terminal), or it is not running and was not supervised, so
	// nothing records where its output went.
	ErrNoLogs = errors.New("no log files")
	// ErrNotLog means a log path names something that must not be read as
	// a log: a symbolic link, a FIFO, a device, a directory.
	ErrNotLog = errors.New("not a log file")
	// ErrGone means a followed log's directory was removed.
	ErrGone = errors.New("log directory removed")
)
