//go:build !linux

package sdnotify

// Socket is a bound notify socket; elsewhere than Linux there is none.
type Socket struct{}

// Owner is the user and group a file-system socket is given to.
type Owner struct {
	UID, GID uint32
}

// Listen fails with ErrUnsupported: credential passing (SO_PASSCRED) is
// Linux's.
func Listen(path string, owner *Owner) (*Socket, error) { return nil, ErrUnsupported }

// Name is empty: there is no socket.
func (s *Socket) Name() string { return "" }

// Fd is -1: there is no socket.
func (s *Socket) Fd() int { return -1 }

// Close does nothing.
func (s *Socket) Close() error { return nil }

// Receive returns nothing.
func (s *Socket) Receive(accept func(pid int) bool) []Message { return nil }

// Next fails with ErrUnsupported.
func (s *Socket) Next(accept func(pid int) bool) ([]Message, error) { return nil, ErrUnsupported }
