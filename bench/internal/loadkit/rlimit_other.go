//go:build !(linux || darwin)

package loadkit

// RaiseFileLimit leaves the limit alone where there is no RLIMIT_NOFILE
// to raise.
func RaiseFileLimit() (limit uint64, desc string) {
	return 0, "RLIMIT_NOFILE: not raised on this system"
}
