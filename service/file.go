package service

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

// file is a definition file as TOML decodes it. Values that need more than
// a type check (umask, durations, signals, the stop schedule) have types
// of their own whose UnmarshalText rejects bad values, so the decoder
// reports them with their line. go-toml hands them the raw text of a
// number or boolean too: umask = 27 is read as octal, as umask(1) would.
type file struct {
	Description   string            `toml:"description"`
	Program       *string           `toml:"program"`
	Args          []string          `toml:"args"`
	PIDFile       *string           `toml:"pidfile"`
	User          string            `toml:"user"`
	Group         string            `toml:"group"`
	Chdir         string            `toml:"chdir"`
	Umask         *umaskValue       `toml:"umask"`
	Nice          *int              `toml:"nice"`
	Env           map[string]string `toml:"env"`
	ClearEnv      bool              `toml:"clear-env"`
	Stdout        string            `toml:"stdout"`
	Stderr        string            `toml:"stderr"`
	StopSchedule  *scheduleValue    `toml:"stop-schedule"`
	ReloadSignal  *signalValue      `toml:"reload-signal"`
	Wait          *durationValue    `toml:"wait"`
	Notify        bool              `toml:"notify"`
	Timeout       *durationValue    `toml:"timeout"`
	KeepOnTimeout *bool             `toml:"keep-on-timeout"`
	NotifySocket  string            `toml:"notify-socket"`
	// Supervision (start --supervise).
	Supervise       bool           `toml:"supervise"`
	Respawn         *respawnValue  `toml:"respawn"`
	RespawnDelay    *delayValue    `toml:"respawn-delay"`
	RespawnDelayMax *durationValue `toml:"respawn-delay-max"`
	RespawnLimit    *limitValue    `toml:"respawn-limit"`
	Watchdog        *durationValue `toml:"watchdog"`
	LogMaxSize      *sizeValue     `toml:"log-max-size"`
	LogKeep         *int           `toml:"log-keep"`
	Forking         *bool          `toml:"forking"`
	ProgramPIDFile  string         `toml:"program-pidfile"`
	Init            initFile       `toml:"init"`
}

// strings maps each key holding a plain string (args and env aside) to
// its value, "" when it is not set.
func (f *file) strings() map[string]string {
	return map[string]string{
		"description": f.Description, "program": deref(f.Program), "pidfile": deref(f.PIDFile),
		"user": f.User, "group": f.Group, "chdir": f.Chdir,
		"stdout": f.Stdout, "stderr": f.Stderr, "notify-socket": f.NotifySocket, "program-pidfile": f.ProgramPIDFile,
		"init.required-start": deref(f.Init.RequiredStart), "init.required-stop": deref(f.Init.RequiredStop),
		"init.default-start": deref(f.Init.DefaultStart), "init.default-stop": deref(f.Init.DefaultStop),
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type initFile struct {
	RequiredStart *string `toml:"required-start"`
	RequiredStop  *string `toml:"required-stop"`
	DefaultStart  *string `toml:"default-start"`
	DefaultStop   *string `toml:"default-stop"`
}

type umaskValue struct{ mask uint32 }

func (u *umaskValue) UnmarshalText(b []byte) error {
	n, err := strconv.ParseUint(strings.TrimPrefix(string(b), "0o"), 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("%q is not an octal mask: write it like \"022\" or \"027\"", b)
	}
	u.mask = uint32(n)
	return nil
}

type durationValue struct{ d time.Duration }

func (v *durationValue) UnmarshalText(b []byte) error {
	d, err := time.ParseDuration(string(b))
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a positive duration: write it like \"500ms\", \"2s\" or \"1m30s\"", b)
	}
	v.d = d
	return nil
}

// delayValue is a duration that may be 0 (respawn-delay: at once).
type delayValue struct{ d time.Duration }

func (v *delayValue) UnmarshalText(b []byte) error {
	d, err := time.ParseDuration(string(b))
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration: write it like \"0s\", \"100ms\" or \"2s\"", b)
	}
	v.d = d
	return nil
}

type respawnValue struct{ when supervise.When }

func (v *respawnValue) UnmarshalText(b []byte) error {
	when, err := supervise.ParseWhen(string(b))
	if err != nil {
		return fmt.Errorf("%q: write \"on-failure\" or \"always\"", b)
	}
	v.when = when
	return nil
}

type limitValue struct{ limit supervise.Limit }

func (v *limitValue) UnmarshalText(b []byte) error {
	limit, err := supervise.ParseLimit(string(b))
	if err != nil {
		return err
	}
	v.limit = limit
	return nil
}

type sizeValue struct{ size int64 }

func (v *sizeValue) UnmarshalText(b []byte) error {
	size, err := supervise.ParseSize(string(b))
	if err != nil {
		return err
	}
	v.size = size
	return nil
}

type signalValue struct{ sig unix.Signal }

func (v *signalValue) UnmarshalText(b []byte) error {
	sig, err := signals.Parse(string(b))
	if err != nil {
		return err
	}
	v.sig = sig
	return nil
}

type scheduleValue struct{ sched signals.Schedule }

func (v *scheduleValue) UnmarshalText(b []byte) error {
	sched, err := signals.ParseSchedule(string(b), unix.SIGTERM)
	if err != nil {
		return err
	}
	v.sched = sched
	return nil
}
