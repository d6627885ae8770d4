//go:build unix

package server

import "syscall"

// fileLimit is the soft RLIMIT_NOFILE (which the Go runtime raises to the
// hard limit at start), 0 when unknown.
func fileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return l.Cur
}
