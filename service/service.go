// Package service reads named service definitions: one TOML file per
// service in a directory (/etc/daemonctl.d/web.toml defines "web"), and
// turns them into the controller's start and stop specifications.
//
// Root runs the programs these files name, so the files, the directory
// and every directory above it must be writable by nobody but their
// owner, who must be root or the caller (see trust.go). Every problem is reported as FILE:LINE: KEY: what to fix, and a
// broken file never stops the others from being used.
package service

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
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

// Ext is the extension of definition files; other files are ignored.
const Ext = ".toml"

// maxFileSize bounds a definition file: anything larger is not one.
const maxFileSize = 1 << 20

// Definition is one usable service: how it starts, as the controller
// takes it (a file's key sets the StartSpec field its command-line flag
// sets), and what only a definition says.
type Definition struct {
	// StartSpec's PIDFile is absolute, its Env sorted by key, and its
	// StopSchedule's zero value means the default, TERM/10/KILL/5.
	controller.StartSpec
	// File is the definition file's path.
	File        string
	Description string
	// DefaultPIDFile is set when the file gave no pidfile: its directory
	// is then daemonctl's to create.
	DefaultPIDFile bool
	ReloadSignal   unix.Signal
	Init           InitInfo
	// doc is the file's text, parsed again for key lines only when a
	// problem needs one (most loads find none: the table loads every file).
	doc   []byte
	lines map[string]int
}

// InitInfo is what an LSB init script's header says of the service.
type InitInfo struct {
	RequiredStart, RequiredStop string
	DefaultStart, DefaultStop   string
}

// Set is what a definition directory holds.
type Set struct {
	Dir string
	// Missing is set when the directory does not exist: no services.
	Missing bool
	// Services are the usable definitions, sorted by name.
	Services []*Definition
	// Problems are the broken files' problems, by file and line. A service
	// with problems is not in Services.
	Problems []*Problem
}

// namePattern is what a service name may be: it is a file name, a
// pidfile's default name, and a word in init scripts and completions.
// Compiled on first use: at package initialisation every daemonctl
// command would pay for it.
var namePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]*$`)
})

// ValidName reports whether name can name a service.
func ValidName(name string) bool { return namePattern().MatchString(name) }

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

// Lookup returns the usable definition of name. Otherwise the error
// matches ErrNotConfigured: it lists the file's problems, or, matching
// ErrNoService too, says there is no such file.
func (s *Set) Lookup(name string) (*Definition, error) {
	for _, d := range s.Services {
		if d.Name == name {
			return d, nil
		}
	}
	if problems := s.ProblemsOf(name); len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = p
		}
		return nil, errors.Join(errs...)
	}
	where := filepath.Join(s.Dir, name+Ext)
	if s.Missing {
		return nil, errkind.Errorf([]error{ErrNoService, ErrNotConfigured}, "%s: no such service: %s does not exist (nor does its directory); define it there, or use -p FILE", name, where)
	}
	return nil, errkind.Errorf([]error{ErrNoService, ErrNotConfigured}, "%s: no such service: %s does not exist; define it there, or use -p FILE", name, where)
}

// ProblemsOf lists the problems of the file defining name.
func (s *Set) ProblemsOf(name string) []*Problem {
	var out []*Problem
	for _, p := range s.Problems {
		if p.Service == name {
			out = append(out, p)
		}
	}
	return out
}

// Names lists every service defined, usable or not, sorted.
func (s *Set) Names() []string {
	names := map[string]bool{}
	for _, d := range s.Services {
		names[d.Name] = true
	}
	for _, p := range s.Problems {
		if p.Service != "" {
			names[p.Service] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
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

// problem makes a problem of d's file at key's line.
func (d *Definition) problem(key, format string, args ...any) *Problem {
	return &Problem{Service: d.Name, File: d.File, Line: d.line(key), Key: key, Msg: fmt.Sprintf(format, args...), Kind: ErrNotConfigured}
}

// line is the line key is set on, 0 when it is not.
func (d *Definition) line(key string) int {
	if d.lines == nil && d.doc != nil {
		d.lines, _ = keyLines(d.doc)
	}
	return d.lines[key]
}

// fill validates the decoded file and fills d from it.
func (d *Definition) fill(f *file, runDir string, runDirErr error) []*Problem {
	var problems []*Problem
	bad := func(key, format string, args ...any) {
		problems = append(problems, d.problem(key, format, args...))
	}
	// A NUL byte ends a C string: the kernel would refuse it in a path, an
	// argument or the environment ("invalid argument", at start), and an
	// init script would carry it. Refused here, so check catches it.
	strs := f.strings()
	for _, key := range slices.Sorted(maps.Keys(strs)) {
		if strings.Contains(strs[key], "\x00") {
			bad(key, "holds a NUL byte (\\u0000), which daemonctl cannot pass on: remove it")
		}
	}
	for i, a := range f.Args {
		if strings.Contains(a, "\x00") {
			bad("args", "element %d of %d holds a NUL byte (\\u0000), which no argument can carry: remove it", i+1, len(f.Args))
		}
	}
	switch {
	case f.Program == nil:
		bad("program", "missing: say what to run, like program = \"/usr/sbin/%s\"", d.Name)
	case *f.Program == "":
		bad("program", "is empty: say what to run, like program = \"/usr/sbin/%s\"", d.Name)
	case strings.Contains(*f.Program, "/") && !filepath.IsAbs(*f.Program):
		bad("program", "%q is a relative path: give an absolute path, or a bare name looked up on PATH", *f.Program)
	default:
		d.Program = *f.Program
	}
	d.Args = f.Args
	d.Description = f.Description
	if strings.ContainsAny(d.Description, "\n\r") {
		bad("description", "must be one line")
	}
	switch {
	case f.PIDFile != nil && !filepath.IsAbs(*f.PIDFile):
		bad("pidfile", "%q is a relative path: give an absolute one, like \"/run/%s.pid\"", *f.PIDFile, d.Name)
	case f.PIDFile != nil && strings.HasSuffix(*f.PIDFile, "/"):
		bad("pidfile", "%q names a directory: give a file, like %q", *f.PIDFile, filepath.Join(*f.PIDFile, d.Name+".pid"))
	case f.PIDFile != nil:
		d.PIDFile = filepath.Clean(*f.PIDFile)
	case runDirErr != nil:
		bad("pidfile", "not given, and there is no default: %v; set pidfile = \"/path/to/%s.pid\"", runDirErr, d.Name)
	default:
		d.PIDFile = filepath.Join(runDir, d.Name+".pid")
		d.DefaultPIDFile = true
	}
	for key, path := range map[string]string{"chdir": f.Chdir, "stdout": f.Stdout, "stderr": f.Stderr, "notify-socket": f.NotifySocket} {
		if path != "" && !filepath.IsAbs(path) {
			bad(key, "%q is a relative path: give an absolute one", path)
		}
	}
	d.User, d.Group, d.Dir = f.User, f.Group, f.Chdir
	d.Stdout, d.Stderr, d.NotifySocket = f.Stdout, f.Stderr, f.NotifySocket
	if f.Umask != nil {
		m := f.Umask.mask
		d.Umask = &m
	}
	if f.Nice != nil {
		if *f.Nice < -20 || *f.Nice > 19 {
			bad("nice", "%d is out of range: give -20 (highest priority) to 19 (lowest)", *f.Nice)
		}
		n := *f.Nice
		d.Nice = &n
	}
	for _, key := range slices.Sorted(maps.Keys(f.Env)) {
		if key == "" || strings.ContainsAny(key, "=\x00") {
			line := "env." + key
			if d.line(line) == 0 {
				line = "env"
			}
			bad(line, "%q is not an environment variable name", key)
			continue
		}
		if strings.Contains(f.Env[key], "\x00") {
			bad("env."+key, "the value holds a NUL byte (\\u0000), which no environment can carry: remove it")
			continue
		}
		d.Env = append(d.Env, key+"="+f.Env[key])
	}
	d.ClearEnv = f.ClearEnv
	if f.StopSchedule != nil {
		d.StopSchedule = f.StopSchedule.sched
	}
	d.ReloadSignal = unix.SIGHUP
	if f.ReloadSignal != nil {
		d.ReloadSignal = f.ReloadSignal.sig
	}
	if f.Wait != nil {
		d.Wait = f.Wait.d
	}
	d.Notify = f.Notify
	if f.Timeout != nil {
		d.NotifyTimeout = f.Timeout.d
	}
	if f.KeepOnTimeout != nil {
		d.KeepOnTimeout = *f.KeepOnTimeout
	}
	if !d.Notify {
		for key, set := range map[string]bool{"timeout": f.Timeout != nil, "keep-on-timeout": f.KeepOnTimeout != nil, "notify-socket": f.NotifySocket != ""} {
			if set {
				bad(key, "applies only with notify = true")
			}
		}
	}
	d.Init = InitInfo{
		RequiredStart: orDefault(f.Init.RequiredStart, "$remote_fs $syslog"),
		RequiredStop:  orDefault(f.Init.RequiredStop, "$remote_fs $syslog"),
		DefaultStart:  orDefault(f.Init.DefaultStart, "2 3 4 5"),
		DefaultStop:   orDefault(f.Init.DefaultStop, "0 1 6"),
	}
	for key, v := range map[string]string{"init.required-start": d.Init.RequiredStart, "init.required-stop": d.Init.RequiredStop, "init.default-start": d.Init.DefaultStart, "init.default-stop": d.Init.DefaultStop} {
		if strings.ContainsAny(v, "\n\r") {
			bad(key, "must be one line")
		}
	}
	slices.SortStableFunc(problems, func(a, b *Problem) int { return a.Line - b.Line })
	return problems
}

func orDefault(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// StopSpec is the controller's stop specification for d.
func (d *Definition) StopSpec() controller.StopSpec {
	return controller.StopSpec{PIDFile: d.PIDFile, Name: d.Name, Schedule: d.StopSchedule, Program: d.ProgramPath()}
}

// ProgramPath is the program's absolute path, looked up on PATH for a bare
// name (controller.LookProgram); "" when it is not installed. It tells a
// daemon that closed its lock descriptor from another process
// (pidfile.WithProgram).
func (d *Definition) ProgramPath() string {
	path, err := controller.LookProgram(d.Program)
	if err != nil {
		return ""
	}
	return path
}
