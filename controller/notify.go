package controller

// notifyEvent is what woke a readiness wait.
type notifyEvent int

const (
	eventMessage notifyEvent = iota // datagrams are waiting
	eventExited                     // the daemon exited
	eventTimeout                    // the deadline passed
)
