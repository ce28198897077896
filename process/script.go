package process

import (
	"bufio"
	"bytes"
	"os"
)

// Interpreter is the program the kernel runs for the #! script at path,
// as its first line names it, and the first word after it: for
// "#!/usr/bin/env python3 -u", /usr/bin/env and python3. Both are "" for
// a file that is not such a script, or cannot be read.
func Interpreter(path string) (interp, arg string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	line, _ := bufio.NewReaderSize(f, 256).ReadSlice('\n')
	rest, ok := bytes.CutPrefix(line, []byte("#!"))
	if !ok {
		return "", ""
	}
	fields := bytes.Fields(rest)
	switch len(fields) {
	case 0:
		return "", ""
	case 1:
		return string(fields[0]), ""
	}
	return string(fields[0]), string(fields[1])
}
