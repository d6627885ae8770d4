package e2e

// The hostile-client suite, continued: timeouts and the limits on
// connections.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/server"
)

// rawConn is a connection that speaks HTTP/1.1 by hand.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func rawDial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

// get sends GET path and returns the status, 0 if the connection ended.
func (c *rawConn) get(path string) int {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: carillon\r\n\r\n", path); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// closed waits for the server to close the connection.
func (c *rawConn) closed(within time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(within))
	_, err := c.r.ReadByte()
	return err == io.EOF
}

// Finding 3: idle keep-alive connections are closed after the idle
// timeout, a body trickled slower than the read timeout is cut off, and
// messaging sessions (hijacked) outlive both.
func TestHostileTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	e := wsNew(t, func(c *server.Config) { c.ReadTimeout, c.IdleTimeout, c.WriteTimeout = timeout, timeout, timeout })
	addr := strings.TrimPrefix(e.srv.Endpoint, "http://")
	alice := e.user(t, "alice")
	ch := e.channel(t, alice, "c")
	ws := e.connect(t, alice, "ws")

	idle := rawDial(t, addr)
	if st := idle.get("/healthz"); st != 200 {
		t.Fatalf("/healthz: %d", st)
	}
	if !idle.closed(10 * time.Second) {
		t.Errorf("an idle keep-alive connection stayed open")
	}

	slow := rawDial(t, addr)
	fmt.Fprintf(slow, "POST /channels HTTP/1.1\r\nHost: carillon\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		if _, err := slow.Write([]byte(" ")); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if time.Since(start) >= 5*time.Second {
		t.Errorf("a body trickled for 5 s was still being read")
	}

	time.Sleep(2 * timeout)
	e.send(t, alice, ch, "still here")
	ws.expectMessage(t, "still here")
}

// Finding 3: connections that hold a slot without using it give it to
// new clients: with the budget spent by idle connections, /healthz and
// SDK calls are answered, and the evictions are counted.
func TestHostileIdleConnectionFlood(t *testing.T) {
	t.Parallel()
	const budget = 40
	e := wsNew(t, func(c *server.Config) { c.MaxConnections = budget })
	addr := strings.TrimPrefix(e.srv.Endpoint, "http://")
	// One after the other, so that each finds the ones before it idle:
	// every connection beyond the budget takes the slot of one of them.
	for i := range 2 * budget {
		if st := rawDial(t, addr).get("/healthz"); st != http.StatusOK {
			t.Fatalf("connection %d: /healthz %d", i, st)
		} // then idle, kept open by the client
	}
	healthy(t, e.srv)
	alice := e.user(t, "alice")
	e.channel(t, alice, "answered")
	m := e.wsMetrics(t)
	if n := m[`carillon_connections_evicted_total{listener="http",pool="api",state="idle"}`]; n < budget/2 {
		t.Errorf("%v idle connections evicted, want about %d", n, budget)
	}
	if open := m[`carillon_connections_open{listener="http",pool="api"}`]; open > budget {
		t.Errorf("%v connections open, over the budget of %d", open, budget)
	}
}

// Finding 8: with --metrics-listen, /metrics moves to its own address and
// leaves the API listeners; /healthz is on both.
func TestHostileMetricsListener(t *testing.T) {
	t.Parallel()
	srv := carillontest.New(t, func(c *server.Config) { c.MetricsListen = "127.0.0.1:0" })
	metrics := "http://" + srv.Server.MetricsAddr()
	for _, c := range []struct {
		url    string
		status int
	}{
		{metrics + "/metrics", 200},
		{metrics + "/healthz", 200},
		{srv.Endpoint + "/healthz", 200},
		{srv.Endpoint + "/metrics", http.StatusForbidden}, // an unsigned API request
		{srv.TLSEndpoint + "/metrics", http.StatusForbidden},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, c.url, nil)
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || (c.status == 200 && strings.HasSuffix(c.url, "/metrics") && !strings.Contains(string(b), "carillon_session_open")) {
			t.Errorf("GET %s: %d, want %d", c.url, resp.StatusCode, c.status)
		}
	}
}
