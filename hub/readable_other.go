//go:build !unix

package hub

import (
	"net"
	"syscall"
)

// rawConn returns nil: without a way to wait for readiness, the reader
// blocks in Read, holding its buffer.
func rawConn(net.Conn) syscall.RawConn { return nil }

func waitReadable(syscall.RawConn) error { return nil }
