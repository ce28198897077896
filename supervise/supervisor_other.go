//go:build !linux

package supervise

// Supervisor is a running supervisor; there is none off Linux.
type Supervisor struct{}

// Start fails with ErrUnsupported (ErrUsage for a bad cfg): supervision
// needs a child subreaper and pidfds. It releases cfg.PIDFile.
func Start(cfg Config) (*Supervisor, error) {
	err := cfg.check()
	if err == nil {
		err = ErrUnsupported
	}
	if cfg.PIDFile != nil {
		_ = cfg.PIDFile.Release()
	}
	return nil, err
}

// PID is 0: there is no program.
func (s *Supervisor) PID() int { return 0 }

// Wait returns at once: there is nothing to wait for.
func (s *Supervisor) Wait() Ending { return Stopped }
