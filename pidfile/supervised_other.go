//go:build !linux

package pidfile

import "fmt"

// readSupervision: published states live in Linux extended attributes;
// elsewhere there are none.
func readSupervision(fd int) ([]byte, error) {
	return nil, fmt.Errorf("%w of a supervisor", ErrNoRecord)
}

// writeSupervision does nothing where states are not kept.
func writeSupervision(fd int, data []byte) error { return nil }
