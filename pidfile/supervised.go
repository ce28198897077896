package pidfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A supervised service's pidfile names daemonctl's supervisor (the stage
// that stayed alive), and the supervisor publishes what it knows about the
// program (its PID, respawns, last exit) in a second extended attribute,
// "user.daemonctl.state", beside the record. Readers never signal the
// supervisor to ask, and anyone who may read the pidfile may read the
// state (a non-root user, root's service's). Like the record, the program
// cannot change it: it holds the file only through a read-only descriptor
// and, under --user, has no write permission on it.
//
// The attribute opens with a header naming the supervisor (its PID and
// start time), and a reader believes it only for the start the file's
// record describes, so a state left by an earlier supervisor is never
// taken for the current one. The body is the supervise package's.

// supervisionAttr is the extended attribute that holds the published state.
const supervisionAttr = "user.daemonctl.state"

// supervisionVersion starts the header of every published state.
const supervisionVersion = "daemonctl-state/1"

// maxSupervision bounds a published state: on ext4 every extended
// attribute of a file shares one 4 KiB block, the record included.
const maxSupervision = 3072

// Publisher replaces the state a supervisor publishes on its pidfile.
type Publisher struct {
	file *os.File
	path string
	head []byte
}

// Publisher returns a Publisher for the service's pidfile, for the
// supervisor that took its lock (the stage that will Commit its own PID).
// Call it before Commit, which closes the read-write descriptor: the
// Publisher keeps a duplicate of its own, close-on-exec, so the program
// never inherits it. It fails when the file is not open for writing (a
// File from Adopt, or one already committed).
func (f *File) Publisher() (*Publisher, error) {
	if f.write == nil {
		return nil, fmt.Errorf("%s: not open for writing", f.path)
	}
	fd, err := unix.FcntlInt(f.write.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	head := fmt.Appendf(nil, "%s stage=%d stagestart=%d\n", supervisionVersion, f.rec.Stage, f.rec.StageStart)
	return &Publisher{file: os.NewFile(uintptr(fd), f.path), path: f.path, head: head}, nil
}

// Publish replaces the published state with body, in one fsetxattr, so a
// reader sees the old state or the new one, never a mix. body is at most
// about 3 KiB (an error otherwise, and nothing is changed). Where the file
// system keeps no user attributes, and on systems other than Linux,
// nothing is published and the error is nil: readers then find no state.
func (p *Publisher) Publish(body []byte) error {
	if len(p.head)+len(body) > maxSupervision {
		return fmt.Errorf("%s: state of %d bytes is too large to publish", p.path, len(body))
	}
	data := make([]byte, 0, len(p.head)+len(body))
	data = append(append(data, p.head...), body...)
	if err := writeSupervision(int(p.file.Fd()), data); err != nil {
		return fmt.Errorf("%s: publishing the supervisor's state: %w", p.path, err)
	}
	return nil
}

// Close closes the Publisher's descriptor; what it published stays.
func (p *Publisher) Close() error { return p.file.Close() }

// Supervision is the state a supervisor published on a pidfile, as the
// service's State vouches for it.
type Supervision struct {
	// Body is what the supervisor published (the supervise package reads
	// it).
	Body []byte
	// Supervisor is the supervisor's PID: the stage the record names.
	Supervisor int
	// Live is set while the supervisor runs and holds the service's lock:
	// the body is its current word. Otherwise the supervisor is gone (the
	// service is dead, or orphaned) and the body was its last word.
	Live bool
}

// Supervision reads the state the supervisor of the service that s (from
// Inspect) describes published. It returns an error wrapping ErrNoRecord
// when there is none to believe: the file has no published state, it was
// published by another start than the one the file's record describes (an
// earlier supervisor), the file's record is not trustworthy (State.Record
// is nil), or the file at s.Path is no longer the one Inspect found. It
// returns other errors when the file cannot be read or the state does not
// parse.
func (s State) Supervision() (Supervision, error) {
	rec := s.Record
	if rec == nil || rec.PID != rec.Stage {
		return Supervision{}, fmt.Errorf("%s: %w of a supervisor", s.Path, ErrNoRecord)
	}
	file, err := openChecked(s.Path, os.O_RDONLY)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Supervision{}, fmt.Errorf("%s: %w of a supervisor", s.Path, ErrNoRecord)
		}
		return Supervision{}, err
	}
	defer file.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(file.Fd()), &st); err != nil {
		return Supervision{}, fmt.Errorf("%s: %w", s.Path, err)
	}
	if uint64(st.Dev) != s.ID.Dev || st.Ino != s.ID.Ino || distrustFile(&st) != "" {
		return Supervision{}, fmt.Errorf("%s: %w of a supervisor (the file changed)", s.Path, ErrNoRecord)
	}
	data, err := readSupervision(int(file.Fd()))
	if err != nil {
		return Supervision{}, fmt.Errorf("%s: %w", s.Path, err)
	}
	head, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return Supervision{}, fmt.Errorf("%s: %w: the supervisor's state has no header", s.Path, ErrRecord)
	}
	stage, start, err := parseSupervisionHead(head)
	if err != nil {
		return Supervision{}, fmt.Errorf("%s: %w", s.Path, err)
	}
	if stage != rec.Stage || start != rec.StageStart {
		return Supervision{}, fmt.Errorf("%s: %w of this start's supervisor (pid %d published it, the record names pid %d)", s.Path, ErrNoRecord, stage, rec.Stage)
	}
	live := s.Status == Running && !s.Unlocked && s.PID == rec.Stage
	return Supervision{Body: body, Supervisor: stage, Live: live}, nil
}

// parseSupervisionHead reads the header Publisher writes.
func parseSupervisionHead(head []byte) (stage int, start uint64, err error) {
	fields := strings.Fields(string(head))
	bad := fmt.Errorf("%w: the supervisor's state has a bad header %q", ErrRecord, head)
	if len(fields) != 3 || fields[0] != supervisionVersion {
		return 0, 0, bad
	}
	v, ok := strings.CutPrefix(fields[1], "stage=")
	if !ok {
		return 0, 0, bad
	}
	if stage, err = strconv.Atoi(v); err != nil || stage < 2 {
		return 0, 0, bad
	}
	if v, ok = strings.CutPrefix(fields[2], "stagestart="); !ok {
		return 0, 0, bad
	}
	if start, err = strconv.ParseUint(v, 10, 64); err != nil {
		return 0, 0, bad
	}
	return stage, start, nil
}
