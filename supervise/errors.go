package supervise

import (
	"errors"
	"fmt"
)

var (
	// ErrUsage means a configuration value is out of range or two settings
	// contradict each other; the message names the setting and the fix.
	ErrUsage = errors.New("invalid supervise setting")
	// ErrProgramNotFound means the program cannot be executed at the
	// first start (missing, not executable, not a program).
	ErrProgramNotFound = errors.New("program not found")
	// ErrNoPrivilege means the first start was refused a privilege: a user
	// or group change, or a nice value.
	ErrNoPrivilege = errors.New("not permitted")
	// ErrFailedStart means the first program died, or did not become
	// ready, before the first start counted as done; nothing was left
	// behind.
	ErrFailedStart = errors.New("failed to start")
	// ErrNotSupervised means a pidfile carries no state a supervisor
	// published for its current start.
	ErrNotSupervised = errors.New("not supervised")
	// ErrStale means the published state is not a supervisor's last word
	// and its supervisor no longer holds the lock: it died without saying
	// so (SIGKILL), and the state is not believed.
	ErrStale = errors.New("the supervisor is gone; its state is stale")
	// ErrBadState means a published state does not parse.
	ErrBadState = errors.New("unreadable supervisor state")
	// ErrUnsupported means supervision needs Linux (subreaper, pidfds).
	ErrUnsupported = errors.New("supervision is supported on Linux only")
)

// kindError is an error whose message stands alone (one line naming the
// setting, file or program) and which matches a sentinel.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// withKind makes a kindError.
func withKind(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
