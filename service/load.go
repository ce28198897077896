package service

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
	"golang.org/x/sys/unix"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/internal/errkind"
	"github.com/daemonctl/daemonctl/internal/parallel"
)

// Loading: the definition directory is checked (trust.go), every NAME.toml
// read safely and decoded, each validated (validate.go), and the usable
// ones kept; every problem is located as FILE:LINE: KEY.

// maxFileSize bounds a definition file: anything larger is not one.
const maxFileSize = 1 << 20

// Load reads every NAME.toml in dir. Its error is for the directory as a
// whole (unsafe, unreadable): then nothing in it may be used. A missing
// directory is an empty Set with Missing set. Problems with single files
// are in the Set; the other files are still loaded.
func Load(dir string) (*Set, error) {
	set := &Set{Dir: dir}
	if !filepath.IsAbs(dir) {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return set, fmt.Errorf("definition directory %s: %w", dir, err)
		}
		set.Dir = abs
	}
	_, st, bad, err := resolveTrusted(set.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		set.Missing = true
		return set, nil
	case err != nil:
		return set, errkind.Errorf([]error{ErrNotConfigured}, "definition directory %s: %w", set.Dir, err)
	case bad != nil:
		return set, errkind.Errorf([]error{ErrUnsafe, ErrNotConfigured}, "%s", set.distrusted(bad))
	case uint32(st.Mode)&unix.S_IFMT != unix.S_IFDIR:
		return set, errkind.Errorf([]error{ErrNotConfigured}, "definition directory %s is not a directory: point --config-dir at one", set.Dir)
	}
	entries, err := os.ReadDir(set.Dir)
	if err != nil {
		return set, errkind.Errorf([]error{ErrNotConfigured}, "definition directory %s: %w", set.Dir, err)
	}
	var files []string
	links := map[string]bool{} // the definitions that are symbolic links
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), Ext) && !strings.HasPrefix(e.Name(), ".") {
			path := filepath.Join(set.Dir, e.Name())
			files = append(files, path)
			if e.Type()&fs.ModeSymlink != 0 {
				links[path] = true
			}
		}
	}
	runDir, runDirErr := DefaultRunDir()
	type loaded struct {
		def      *Definition
		problems []*Problem
	}
	results := make([]loaded, len(files))
	// Files are read and parsed on every CPU: the status table loads them
	// all before it can inspect anything.
	parallel.For(len(files), runtime.GOMAXPROCS(0), func(i int) {
		results[i].def, results[i].problems = loadFile(files[i], links[files[i]], runDir, runDirErr)
	})
	for _, r := range results {
		if len(r.problems) > 0 {
			set.Problems = append(set.Problems, r.problems...)
			continue
		}
		set.Services = append(set.Services, r.def)
	}
	set.rejectSharedPIDFiles()
	slices.SortFunc(set.Services, func(a, b *Definition) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(set.Problems, func(a, b *Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return set, nil
}

// rejectSharedPIDFiles moves every service whose pidfile another service
// also uses from Services to Problems: either could stop the other's daemon.
func (s *Set) rejectSharedPIDFiles() {
	users := map[string][]*Definition{}
	for _, d := range s.Services {
		users[d.PIDFile] = append(users[d.PIDFile], d)
	}
	var kept []*Definition
	for _, d := range s.Services {
		sharing := users[d.PIDFile]
		if len(sharing) == 1 {
			kept = append(kept, d)
			continue
		}
		var others []string
		for _, o := range sharing {
			if o != d {
				others = append(others, o.File)
			}
		}
		slices.Sort(others)
		s.Problems = append(s.Problems, d.problem("pidfile", "%s is also the pidfile of %s: give each service its own", d.PIDFile, strings.Join(others, ", ")))
	}
	s.Services = kept
}

// loadFile reads, decodes and validates one definition file; link says
// it is a symbolic link, whose way to the file it names must be checked.
func loadFile(path string, link bool, runDir string, runDirErr error) (*Definition, []*Problem) {
	name := strings.TrimSuffix(filepath.Base(path), Ext)
	d := &Definition{StartSpec: controller.StartSpec{Name: name}, File: path}
	if !ValidName(name) {
		return nil, []*Problem{d.problem("", "%q is not a service name (letters, digits and . _ @ -, not starting with a symbol): rename the file", name)}
	}
	if link {
		// The directory is trusted; what the link leads through is not yet.
		_, _, bad, err := resolveTrusted(path)
		switch {
		case err != nil:
			return nil, []*Problem{d.problem("", "%v", err)}
		case bad != nil:
			fix := "fix it (" + bad.fix + ") or copy the file here"
			if bad.fix == "" {
				fix = "copy the file here"
			}
			return nil, []*Problem{d.problem("", "refused: it is a link, and %s %s, so others could change the definition and make %s run any program; %s", bad.path, bad.why, whoRuns(), fix)}
		}
	}
	doc, err := readSafely(path)
	if err != nil {
		return nil, []*Problem{d.problem("", "%v", err)}
	}
	var f file
	dec := toml.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		_, syntaxErr := keyLines(doc)
		return nil, d.decodeProblems(err, syntaxErr != nil)
	}
	d.doc = doc
	if problems := d.fill(&f, runDir, runDirErr); len(problems) > 0 {
		return nil, problems
	}
	return d, nil
}

// readSafely reads a definition file that only its owner, root or the
// caller, can write. It costs four system calls (the status table reads
// every file).
func readSafely(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
		return nil, errors.New("is not a regular file: remove it or rename it without " + Ext)
	}
	if why, fix := untrusted(path, &st, false); why != "" {
		if fix == "" {
			fix = "copy it to a file of your own"
		}
		return nil, fmt.Errorf("refused: the file %s, which would let others make %s run any program; fix it (%s)", why, whoRuns(), fix)
	}
	if st.Size > maxFileSize {
		return nil, fmt.Errorf("is larger than %d bytes: not a definition", maxFileSize)
	}
	doc := make([]byte, 0, st.Size+1)
	for {
		n, err := unix.Read(fd, doc[len(doc):cap(doc)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return doc, nil
		}
		if doc = doc[:len(doc)+n]; len(doc) > maxFileSize {
			return nil, fmt.Errorf("is larger than %d bytes: not a definition", maxFileSize)
		}
		if len(doc) == cap(doc) {
			doc = append(doc, 0)[:len(doc)]
		}
	}
}

// distrusted says why the definition directory cannot be used: bad, the
// directory itself or one on the way to it, can be changed by others.
func (s *Set) distrusted(bad *distrust) string {
	fix := "fix it (" + bad.fix + ") or use another --config-dir"
	if bad.fix == "" {
		fix = "use another --config-dir"
	}
	if bad.path == s.Dir {
		return fmt.Sprintf("definition directory %s %s: it would let others make %s run any program; %s", s.Dir, bad.why, whoRuns(), fix)
	}
	return fmt.Sprintf("definition directory %s: %s %s, so others could replace the definitions and make %s run any program; %s", s.Dir, bad.path, bad.why, whoRuns(), fix)
}

// decodeProblems turns the TOML decoder's error into problems, one per
// unknown key, or one for a syntax error, a wrong type or a bad value.
func (d *Definition) decodeProblems(err error, syntax bool) []*Problem {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		out := make([]*Problem, 0, len(strict.Errors))
		for _, e := range strict.Errors {
			row, _ := e.Position()
			key := strings.Join(e.Key(), ".")
			msg := fmt.Sprintf("unknown key %q", key)
			if near := nearestKey(key); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			} else {
				msg += " (see daemonctl.d(5) for the keys)"
			}
			out = append(out, &Problem{Service: d.Name, File: d.File, Line: row, Msg: msg, Kind: ErrNotConfigured})
		}
		return out
	}
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return []*Problem{d.problem("", "%v", err)}
	}
	row, _ := de.Position()
	key := strings.Join(de.Key(), ".")
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	if m := typeMismatch().FindStringSubmatch(msg); m != nil {
		want := "another type"
		if k, ok := keyDoc(key); ok {
			want = k.Type
		} else if strings.HasPrefix(key, "env.") || key == "env" {
			want = "a string, in an [env] table of KEY = \"value\""
		}
		msg = fmt.Sprintf("expected %s, not a TOML %s", want, m[1])
	} else if syntax {
		msg = "not valid TOML: " + msg
	}
	return []*Problem{{Service: d.Name, File: d.File, Line: row, Key: key, Msg: msg, Kind: ErrNotConfigured}}
}

// typeMismatch matches go-toml's wording of a type error; compiled on
// first use, like namePattern.
var typeMismatch = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^cannot decode TOML (\w+) into`)
})

// nearestKey suggests the known key closest to a mistyped one.
func nearestKey(key string) string {
	best, bestDist := "", 3
	for _, k := range Keys() {
		if dist := editDistance(key, k.Name); dist < bestDist {
			best, bestDist = k.Name, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
