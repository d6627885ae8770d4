//go:build !linux

package hub

// poller is Linux's (poller_linux.go); elsewhere each session keeps a
// goroutine waiting for its socket to become readable.
type poller struct{}

func sharedPoller() *poller { return nil }

func (*poller) add(*session) bool { return false }
func (*poller) arm(*session) bool { return false }
func (*poller) remove(*session)   {}
