//go:build linux || darwin

package loadkit

import (
	"fmt"
	"syscall"
)

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit (every
// session is a socket) and describes the result. It sets the limit even
// when the Go runtime has already raised it for this process: the runtime
// gives child processes back the soft limit it started with unless the
// program sets one itself, and the servers the tools start need the high
// one too.
func RaiseFileLimit() (limit uint64, desc string) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Sprintf("RLIMIT_NOFILE unknown: %v", err)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return l.Cur, fmt.Sprintf("RLIMIT_NOFILE: setting it to the hard limit %d failed: %v", l.Max, err)
	}
	return l.Cur, fmt.Sprintf("RLIMIT_NOFILE %d (the hard limit)", l.Cur)
}
