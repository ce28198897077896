//go:build !linux

package process

// RSS is not available without /proc.
func RSS(pid int) (int64, error) { return 0, ErrUnsupported }
