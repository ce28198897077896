package controller

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
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
)

// Tags of launchResult's fields.
const (
	tagResPID     byte = 'P'
	tagResRunning byte = 'R'
	tagResError   byte = 'X'
	tagResKind    byte = 'K'
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
	return w.buf
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
		default:
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
		default:
			return fmt.Errorf("%w: unknown field %q", errWire, tag)
		}
		return err
	})
	return r, err
}
