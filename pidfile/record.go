package pidfile

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/daemonctl/daemonctl/process"
)

// Record is what daemonctl's launcher stage records about the daemon it
// started, beside the PID, in the pidfile's extended attribute
// "user.daemonctl". The daemon cannot change it: it holds the file only
// through a read-only descriptor, and an extended attribute, like the
// contents, needs write permission on the file. With it a reader can tell
// the service's lock from anyone else's (Stage) and the daemon from a
// process that reused its PID (Start, ProcID), and can see that the file
// was moved from another directory or name (Dir, Name).
type Record struct {
	// PID is the process the file names (the daemon, or the supervisor);
	// 0 while a start is in progress.
	PID int
	// Start is PID's start time in clock ticks since boot, and ProcID its
	// pidfd inode where the kernel has pidfs (0 otherwise): together they
	// name that process exactly, for this boot.
	Start  uint64
	ProcID uint64
	// Stage is the process that took the lock (the launcher stage, or the
	// supervisor), and StageStart its start time in ticks.
	Stage      int
	StageStart uint64
	// Boot is the kernel's boot ID when the record was made.
	Boot string
	// Dir and Name are the directory and the name the file was created
	// with.
	Dir  process.FileID
	Name string
}

// recordAttr is the extended attribute that holds the record.
const recordAttr = "user.daemonctl"

// recordVersion starts every record; a reader refuses other versions.
const recordVersion = "daemonctl/1"

// maxRecord bounds a record's size: a name is at most 255 bytes, twice
// that in hex.
const maxRecord = 1024

// encode renders r as one line of space-separated key=value fields; the
// name is hex, so that any bytes survive.
func (r Record) encode() []byte {
	return fmt.Appendf(nil, "%s pid=%d start=%d procid=%d stage=%d stagestart=%d boot=%s dir=%d:%d name=%s",
		recordVersion, r.PID, r.Start, r.ProcID, r.Stage, r.StageStart, r.Boot, r.Dir.Dev, r.Dir.Ino, hex.EncodeToString([]byte(r.Name)))
}

// parseRecord reads what encode wrote. Any other text is an error: a
// record that does not parse is no record.
func parseRecord(b []byte) (Record, error) {
	fields := strings.Fields(string(b))
	if len(fields) == 0 || fields[0] != recordVersion {
		return Record{}, fmt.Errorf("%w: not a %s record", ErrRecord, recordVersion)
	}
	var r Record
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		key, value, ok := strings.Cut(f, "=")
		if !ok || seen[key] {
			return Record{}, fmt.Errorf("%w: field %q", ErrRecord, f)
		}
		seen[key] = true
		var err error
		switch key {
		case "pid":
			r.PID, err = strconv.Atoi(value)
		case "start":
			r.Start, err = strconv.ParseUint(value, 10, 64)
		case "procid":
			r.ProcID, err = strconv.ParseUint(value, 10, 64)
		case "stage":
			r.Stage, err = strconv.Atoi(value)
		case "stagestart":
			r.StageStart, err = strconv.ParseUint(value, 10, 64)
		case "boot":
			r.Boot = value
		case "dir":
			dev, ino, _ := strings.Cut(value, ":")
			if r.Dir.Dev, err = strconv.ParseUint(dev, 10, 64); err == nil {
				r.Dir.Ino, err = strconv.ParseUint(ino, 10, 64)
			}
		case "name":
			var name []byte
			name, err = hex.DecodeString(value)
			r.Name = string(name)
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			return Record{}, fmt.Errorf("%w: field %q", ErrRecord, f)
		}
	}
	if len(seen) != 8 || r.PID < 0 || r.Stage < 2 || r.Name == "" {
		return Record{}, fmt.Errorf("%w: incomplete", ErrRecord)
	}
	return r, nil
}
