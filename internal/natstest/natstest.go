// Package natstest runs a NATS server inside a test process (the
// embedded github.com/nats-io/nats-server/v2), on a loopback port of its
// own, for the tests of the cluster's bus and of clusters of servers.
package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is a running NATS server.
type Server struct {
	*server.Server
	port int
}

// Start runs a server until Stop; port 0 picks a free one. A server
// stopped and started again on the same port is how tests take NATS
// away from its clients and give it back.
func Start(port int) (*Server, error) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errNotReady{}
	}
	return &Server{Server: ns, port: ns.Addr().(*net.TCPAddr).Port}, nil
}

type errNotReady struct{}

func (errNotReady) Error() string { return "natstest: the NATS server did not start" }

// New starts a server for t, stopped when t ends.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's client URL, nats://127.0.0.1:port.
func (s *Server) URL() string { return s.ClientURL() }

// Port is the server's port, to start it again on after Stop.
func (s *Server) Port() int { return s.port }

// Stop shuts the server down and waits until it has.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}
