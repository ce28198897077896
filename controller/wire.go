package controller

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/signals"
	"github.com/daemonctl/daemonctl/supervise"
)

// The launcher stage's spec and report cross a pipe as a list of fields:
// a one-byte tag, the value's length as a uvarint, the value's bytes. Paths,
// arguments and environment entries are bytes to the kernel, not UTF-8
// text, and pass unchanged (JSON turned invalid UTF-8 into U+FFFD, so a
// pidfile named $'\xff.pid' became another file). A list is its field
// repeated; numbers are decimal.

// Tags of launchSpec's fields.
const (
	tagPIDFile byte = 'p'
	tagPath    byte = 'x'
	tagArg     byte = 'a'
	tagEnv     byte = 'e'
	tagEnvSet  byte = 'E' // the environment is given (possibly empty)
	tagDir     byte = 'd'
	tagUmask   byte = 'm'
	tagUID     byte = 'u'
	tagGID     byte = 'g'
	tagGroup   byte = 'G'
	tagStdout  byte = 'o'
	tagStderr  byte = 'r'
	tagNice    byte = 'n'
	tagLockEnv byte = 'l'
	// A supervised start (tagSupervise first, then its settings).
	tagSupervise     byte = 'S'
	tagRespawn       byte = 'W'
	tagDelay         byte = 'y'
	tagDelayMax      byte = 'Y'
	tagLimit         byte = 'L'
	tagLogMaxSize    byte = 'z'
	tagLogKeep       byte = 'k'
	tagWatchdog      byte = 'D'
	tagForking       byte = 'f'
	tagProgramPID    byte = 'F'
	tagWait          byte = 'w'
	tagNotify        byte = 'N'
	tagNotifyTimeout byte = 't'
	tagNotifySocket  byte = 's'
	tagSchedule      byte = 'T'
	tagName          byte = 'M'
)

// Tags of launchResult's fields.
const (
	tagResPID     byte = 'P'
	tagResRunning byte = 'R'
	tagResError   byte = 'X'
	tagResKind    byte = 'K'
	tagResSuper   byte = 'V'
)

// maxWire bounds a message: an argument vector and environment of this
// size would not pass execve anyway.
const maxWire = 64 << 20

// errWire means a message does not decode.
var errWire = errors.New("malformed message")

// wireWriter builds a message.
type wireWriter struct{ buf []byte }

func (w *wireWriter) put(tag byte, value string) {
	w.buf = append(w.buf, tag)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(value)))
	w.buf = append(w.buf, value...)
}

func (w *wireWriter) putInt(tag byte, n int64) { w.put(tag, strconv.FormatInt(n, 10)) }

// readWire calls field for each field of msg, in order.
func readWire(msg []byte, field func(tag byte, value string) error) error {
	for len(msg) > 0 {
		tag := msg[0]
		n, k := binary.Uvarint(msg[1:])
		if k <= 0 || n > uint64(len(msg)-1-k) {
			return errWire
		}
		value := string(msg[1+k : 1+k+int(n)])
		msg = msg[1+k+int(n):]
		if err := field(tag, value); err != nil {
			return err
		}
	}
	return nil
}

func wireInt(value string, bits int) (int64, error) {
	n, err := strconv.ParseInt(value, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a number", errWire, value)
	}
	return n, nil
}

// wireUint reads an unsigned 32-bit field (a umask, user or group ID).
func wireUint(value string) (uint32, error) {
	n, err := strconv.ParseUint(value, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not an unsigned number", errWire, value)
	}
	return uint32(n), nil
}

func (w *wireWriter) putUint(tag byte, n uint32) { w.put(tag, strconv.FormatUint(uint64(n), 10)) }

// encode renders ls for the stage.
func (ls *launchSpec) encode() []byte {
	var w wireWriter
	w.put(tagPIDFile, ls.PIDFile)
	w.put(tagPath, ls.Path)
	for _, a := range ls.Argv {
		w.put(tagArg, a)
	}
	w.put(tagEnvSet, "")
	for _, e := range ls.Env {
		w.put(tagEnv, e)
	}
	w.put(tagDir, ls.Dir)
	w.putUint(tagUmask, ls.Umask)
	if ls.Cred != nil {
		w.putUint(tagUID, ls.Cred.UID)
		w.putUint(tagGID, ls.Cred.GID)
		for _, g := range ls.Cred.Groups {
			w.putUint(tagGroup, g)
		}
	}
	if ls.Stdout != "" {
		w.put(tagStdout, ls.Stdout)
	}
	if ls.Stderr != "" {
		w.put(tagStderr, ls.Stderr)
	}
	if ls.Nice != nil {
		w.putInt(tagNice, int64(*ls.Nice))
	}
	if ls.LockEnv {
		w.put(tagLockEnv, "")
	}
	if sv := ls.Supervise; sv != nil {
		w.put(tagSupervise, "")
		w.put(tagName, ls.Name)
		w.put(tagRespawn, sv.Respawn.When.String())
		w.putInt(tagDelay, int64(sv.Respawn.Delay))
		w.putInt(tagDelayMax, int64(sv.Respawn.DelayMax))
		w.put(tagLimit, sv.Respawn.Limit.String())
		w.putInt(tagLogMaxSize, sv.LogMaxSize)
		w.putInt(tagLogKeep, int64(sv.LogKeep))
		w.putInt(tagWatchdog, int64(sv.Watchdog))
		if sv.Forking {
			w.put(tagForking, "")
		}
		if sv.ProgramPIDFile != "" {
			w.put(tagProgramPID, sv.ProgramPIDFile)
		}
		w.putInt(tagWait, int64(ls.Wait))
		if ls.Notify {
			w.put(tagNotify, "")
		}
		w.putInt(tagNotifyTimeout, int64(ls.NotifyTimeout))
		if ls.NotifySocket != "" {
			w.put(tagNotifySocket, ls.NotifySocket)
		}
		if len(ls.StopSchedule.Steps) > 0 {
			w.put(tagSchedule, ls.StopSchedule.String())
		}
	}
	return w.buf
}

// supervisionField decodes one of a supervised start's fields into ls,
// which tagSupervise has given a Supervision. It reports false for a tag
// that is not one of them.
func supervisionField(ls *launchSpec, tag byte, v string) (bool, error) {
	sv := ls.Supervise
	if sv == nil {
		return false, nil
	}
	var err error
	duration := func(dst *time.Duration) {
		var n int64
		n, err = wireInt(v, 64)
		*dst = time.Duration(n)
	}
	switch tag {
	case tagName:
		ls.Name = v
	case tagRespawn:
		sv.Respawn.When, err = supervise.ParseWhen(v)
	case tagDelay:
		duration(&sv.Respawn.Delay)
	case tagDelayMax:
		duration(&sv.Respawn.DelayMax)
	case tagLimit:
		sv.Respawn.Limit, err = supervise.ParseLimit(v)
	case tagLogMaxSize:
		sv.LogMaxSize, err = wireInt(v, 64)
	case tagLogKeep:
		var n int64
		n, err = wireInt(v, 32)
		sv.LogKeep = int(n)
	case tagWatchdog:
		duration(&sv.Watchdog)
	case tagForking:
		sv.Forking = true
	case tagProgramPID:
		sv.ProgramPIDFile = v
	case tagWait:
		duration(&ls.Wait)
	case tagNotify:
		ls.Notify = true
	case tagNotifyTimeout:
		duration(&ls.NotifyTimeout)
	case tagNotifySocket:
		ls.NotifySocket = v
	case tagSchedule:
		ls.StopSchedule, err = signals.ParseSchedule(v, unix.SIGTERM)
	default:
		return false, nil
	}
	if err != nil {
		err = fmt.Errorf("%w: field %q: %v", errWire, tag, err)
	}
	return true, err
}

// decodeLaunchSpec reads what encode wrote.
func decodeLaunchSpec(msg []byte) (*launchSpec, error) {
	ls := &launchSpec{}
	cred := &cred{}
	hasCred := false
	err := readWire(msg, func(tag byte, v string) error {
		var n int64
		var err error
		switch tag {
		case tagPIDFile:
			ls.PIDFile = v
		case tagPath:
			ls.Path = v
		case tagArg:
			ls.Argv = append(ls.Argv, v)
		case tagEnvSet:
			ls.Env = []string{}
		case tagEnv:
			ls.Env = append(ls.Env, v)
		case tagDir:
			ls.Dir = v
		case tagUmask:
			ls.Umask, err = wireUint(v)
		case tagUID:
			cred.UID, err = wireUint(v)
			hasCred = true
		case tagGID:
			cred.GID, err = wireUint(v)
			hasCred = true
		case tagGroup:
			var g uint32
			g, err = wireUint(v)
			cred.Groups = append(cred.Groups, g)
		case tagStdout:
			ls.Stdout = v
		case tagStderr:
			ls.Stderr = v
		case tagNice:
			n, err = wireInt(v, 32)
			nice := int(n)
			ls.Nice = &nice
		case tagLockEnv:
			ls.LockEnv = true
		case tagSupervise:
			ls.Supervise = &Supervision{}
		default:
			if ok, err := supervisionField(ls, tag, v); ok {
				return err
			}
			return fmt.Errorf("%w: unknown field %q", errWire, tag)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if hasCred {
		ls.Cred = cred
	}
	if ls.PIDFile == "" || ls.Path == "" || len(ls.Argv) == 0 {
		return nil, fmt.Errorf("%w: incomplete start spec", errWire)
	}
	return ls, nil
}

// encode renders r for the caller.
func (r launchResult) encode() []byte {
	var w wireWriter
	if r.PID != 0 {
		w.putInt(tagResPID, int64(r.PID))
	}
	if r.Running != 0 {
		w.putInt(tagResRunning, int64(r.Running))
	}
	if r.Error != "" {
		w.put(tagResError, r.Error)
	}
	if r.Kind != kindNone {
		w.putInt(tagResKind, int64(r.Kind))
	}
	if r.Supervisor != 0 {
		w.putInt(tagResSuper, int64(r.Supervisor))
	}
	return w.buf
}

// decodeLaunchResult reads what encode wrote.
func decodeLaunchResult(msg []byte) (launchResult, error) {
	var r launchResult
	err := readWire(msg, func(tag byte, v string) error {
		var n int64
		var err error
		switch tag {
		case tagResPID:
			n, err = wireInt(v, 32)
			r.PID = int(n)
		case tagResRunning:
			n, err = wireInt(v, 32)
			r.Running = int(n)
		case tagResError:
			r.Error = v
		case tagResKind:
			n, err = wireInt(v, 8)
			r.Kind = launchKind(n)
		case tagResSuper:
			n, err = wireInt(v, 32)
			r.Supervisor = int(n)
		default:
			return fmt.Errorf("%w: unknown field %q", errWire, tag)
		}
		return err
	})
	return r, err
}
