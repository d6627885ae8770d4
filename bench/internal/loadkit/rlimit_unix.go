//go:build linux || darwin

package loadkit

import (
	"fmt"
	"syscall"
)

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit (every
// session is a socket) and describes the result.
func RaiseFileLimit() (limit uint64, desc string) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Sprintf("RLIMIT_NOFILE unknown: %v", err)
	}
	before := l.Cur
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return before, fmt.Sprintf("RLIMIT_NOFILE %d (raising it to the hard limit %d failed: %v)", before, l.Max, err)
		}
	}
	if before == l.Cur {
		return l.Cur, fmt.Sprintf("RLIMIT_NOFILE %d (the hard limit)", l.Cur)
	}
	return l.Cur, fmt.Sprintf("RLIMIT_NOFILE %d (raised from %d to the hard limit)", l.Cur, before)
}
