//go:build unix

package hub

import (
	"crypto/tls"
	"net"
	"syscall"
)

// rawConn returns the socket under conn (under TLS for wss), to wait on
// its readiness; nil if conn is not a socket.
func rawConn(conn net.Conn) syscall.RawConn {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// waitReadable blocks until the socket has bytes to read (or its peer
// closed it), without reading them: the runtime's network poller parks
// the goroutine, with a stack a few frames deep and no buffer, and wakes
// it when the socket becomes readable. RawConn.Read calls the function
// again after every wake-up until it returns true; a peek (MSG_PEEK)
// tells a readable socket from a spurious wake-up.
func waitReadable(raw syscall.RawConn) error {
	var peekErr error
	err := raw.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		switch err {
		case nil:
			return true // data, or the end of the stream
		case syscall.EAGAIN, syscall.EINTR:
			return false
		default:
			peekErr = err
			return true
		}
	})
	if err != nil {
		return err
	}
	return peekErr
}
