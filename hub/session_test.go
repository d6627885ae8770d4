package hub

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/carillonhq/carillon"
)

// countingListener hands out countingConns.
type countingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*countingConn
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c}
	l.mu.Lock()
	l.conns = append(l.conns, cc)
	l.mu.Unlock()
	return cc, nil
}

func (l *countingListener) conn(t *testing.T, i int) *countingConn {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= len(l.conns) {
		t.Fatalf("%d connections accepted, want at least %d", len(l.conns), i+1)
	}
	return l.conns[i]
}

// countingConn counts the writes to a connection, and can hold them:
// after hold, the next write waits until release.
type countingConn struct {
	net.Conn
	writes atomic.Int32

	mu   sync.Mutex
	gate chan struct{}
	held chan struct{}
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	c.mu.Lock()
	gate, held := c.gate, c.held
	c.gate, c.held = nil, nil
	c.mu.Unlock()
	if gate != nil {
		close(held)
		<-gate
	}
	return c.Conn.Write(b)
}

// SyscallConn lets the session wait for readiness on the socket.
func (c *countingConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
}

// hold makes the next write wait; held is closed once it does.
func (c *countingConn) hold() (held chan struct{}, release func()) {
	gate, held := make(chan struct{}), make(chan struct{})
	c.mu.Lock()
	c.gate, c.held = gate, held
	c.mu.Unlock()
	return held, func() { close(gate) }
}

type countingFixture struct {
	h   *Hub
	ln  *countingListener
	srv *httptest.Server
}

func newCountingEndpoint(t *testing.T, cfg Config, useTLS bool) *countingFixture {
	t.Helper()
	h := New(cfg, nil, nil)
	src := &fakeSource{h: h, users: map[string][]string{"alice": {"A"}, "bob": {"A"}}}
	srv := httptest.NewUnstartedServer(&Endpoint{Hub: h, Auth: fakeAuth{}, Source: src})
	ln := &countingListener{Listener: srv.Listener}
	srv.Listener = ln
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Close()
	})
	return &countingFixture{h: h, ln: ln, srv: srv}
}

func (f *countingFixture) url(q string) string {
	return "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/connect?" + q
}

func (f *countingFixture) dial(t *testing.T, user, id string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{}
	if f.srv.TLS != nil {
		d.TLSClientConfig = &tls.Config{RootCAs: f.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	}
	c, _, err := d.Dial(f.url(query("key", user, "userArn", user, "sessionId", id).Encode()), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	wantEvent(t, c, eventSessionEstablished)
	return c
}

// The events queued while a write is under way go out together: one
// write for all of them, each still its own frame, in order.
func TestWritesBatchQueuedFrames(t *testing.T) {
	f := newCountingEndpoint(t, Config{}, false)
	c := f.dial(t, "alice", "1")
	cc := f.ln.conn(t, 0)
	before := cc.writes.Load() // the handshake's answer, SESSION_ESTABLISHED

	var q seqs
	held, release := cc.hold()
	f.h.Deliver([]carillon.Event{q.msg("A", "m0")})
	<-held // the writer is writing m0
	const n = 100
	var events []carillon.Event
	for i := 1; i < n; i++ {
		events = append(events, q.msg("A", fmt.Sprint("m", i)))
	}
	f.h.Deliver(events)
	release()
	for i := range n {
		m := wantEvent(t, c, "CREATE_CHANNEL_MESSAGE")
		if m.Payload == nil || *m.Payload != fmt.Sprint("m", i) {
			t.Fatalf("frame %d: payload %v", i, m.Payload)
		}
	}
	if got := cc.writes.Load() - before; got != 2 {
		t.Errorf("%d writes for %d frames queued behind one, want 2", got, n)
	}
	// The metric counts frames, not writes (once the write has returned).
	waitFor(t, "the frames to be counted", func() bool { return metricValue(t, f.h.metrics.framesSent) == n+1 })
}

// A backlog bigger than maxBatch goes in writes of at most maxBatch
// bytes, each a whole number of frames.
func TestWritesBatchBounded(t *testing.T) {
	f := newCountingEndpoint(t, Config{}, false)
	c := f.dial(t, "alice", "1")
	cc := f.ln.conn(t, 0)
	before := cc.writes.Load()
	var q seqs
	held, release := cc.hold()
	f.h.Deliver([]carillon.Event{q.msg("A", "first")})
	<-held
	payload := strings.Repeat("p", 1000)
	const n = 64
	var events []carillon.Event
	for range n {
		events = append(events, q.msg("A", payload))
	}
	f.h.Deliver(events)
	size := len(eventFrame(&events[0]))
	release()
	wantEvent(t, c, "CREATE_CHANNEL_MESSAGE")
	for i := range n {
		if m := wantEvent(t, c, "CREATE_CHANNEL_MESSAGE"); *m.Payload != payload {
			t.Fatalf("frame %d: payload %.20q", i, *m.Payload)
		}
	}
	perBatch := maxBatch / size
	want := 1 + (n+perBatch-1)/perBatch
	if got := int(cc.writes.Load() - before); got != want {
		t.Errorf("%d writes for %d frames of %d bytes, want %d", got, n+1, size, want)
	}
}

// A client's ping is read, and its pong queued, while the writer is
// blocked in a write; the pong goes first in the next one.
func TestPingAnsweredWhileWriterBusy(t *testing.T) {
	f := newCountingEndpoint(t, Config{}, false)
	c := f.dial(t, "alice", "1")
	cc := f.ln.conn(t, 0)
	var q seqs
	held, release := cc.hold()
	f.h.Deliver([]carillon.Event{q.msg("A", "m0")})
	<-held
	f.h.Deliver([]carillon.Event{q.msg("A", "m1")})
	if err := c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	s := f.session(t, "alice", "1")
	waitFor(t, "the pong to be queued", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.pong && string(s.pongData) == "are you there"
	})
	var order []string
	c.SetPongHandler(func(data string) error {
		order = append(order, "pong:"+data)
		return nil
	})
	release()
	for range 2 {
		order = append(order, *wantEvent(t, c, "CREATE_CHANNEL_MESSAGE").Payload)
	}
	if want := "m0 pong:are you there m1"; strings.Join(order, " ") != want {
		t.Errorf("the client saw %q, want %q", strings.Join(order, " "), want)
	}
}

func (f *countingFixture) session(t *testing.T, user, id string) *session {
	t.Helper()
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	s := f.h.byID[sessionKey{user, id}]
	if s == nil {
		t.Fatalf("no session %s/%s", user, id)
	}
	return s
}

// A client pinging all the time while events stream gets every pong and
// every frame intact, over ws and wss (run with -race: the reader and
// the writer share only the session's lock).
func TestClientPingsDuringBatches(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) {
			f := newCountingEndpoint(t, Config{QueueBytes: 64 << 20}, useTLS)
			c := f.dial(t, "alice", "1")
			var pongs atomic.Int32
			var lastPong atomic.Value
			c.SetPongHandler(func(data string) error {
				pongs.Add(1)
				lastPong.Store(data)
				return nil
			})
			const n = 3000
			stop := make(chan struct{})
			pinged := make(chan int)
			go func() {
				i := 0
				defer func() { pinged <- i }()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := c.WriteControl(websocket.PingMessage, fmt.Appendf(nil, "p%d", i), time.Now().Add(5*time.Second)); err != nil {
						t.Errorf("ping: %v", err)
						return
					}
					i++
					time.Sleep(100 * time.Microsecond)
				}
			}()
			go func() {
				var q seqs
				for i := 0; i < n; i += 100 {
					var events []carillon.Event
					for j := i; j < i+100; j++ {
						events = append(events, q.msg("A", fmt.Sprintf("event %d %s", j, strings.Repeat("x", j%300))))
					}
					f.h.Deliver(events)
				}
			}()
			for i := range n {
				m := wantEvent(t, c, "CREATE_CHANNEL_MESSAGE")
				if want := fmt.Sprintf("event %d %s", i, strings.Repeat("x", i%300)); *m.Payload != want {
					t.Fatalf("frame %d: %.30q, want %.30q", i, *m.Payload, want)
				}
			}
			close(stop)
			sent := <-pinged
			// The last ping is answered: more frames make the client read
			// on until its pong.
			last := fmt.Sprintf("p%d", sent-1)
			for i := 0; lastPong.Load() != last; i++ {
				if i == 500 {
					t.Fatalf("the last ping %s got no pong (last pong %v)", last, lastPong.Load())
				}
				f.h.Deliver([]carillon.Event{{Seq: 1<<40 + int64(i), Type: "CREATE_CHANNEL_MESSAGE", Channel: "A", ToMembers: true, Payload: []byte("tick")}})
				wantEvent(t, c, "CREATE_CHANNEL_MESSAGE")
				time.Sleep(10 * time.Millisecond)
			}
			if pongs.Load() == 0 || sent == 0 {
				t.Errorf("%d pongs for %d pings", pongs.Load(), sent)
			}
		})
	}
}

// A client that stops reading is closed with 4429 once its backlog
// passes QueueBytes; it reads what the sockets held, then the close.
func TestSlowConsumerClosedWhileWriteBlocked(t *testing.T) {
	const queueBytes = 64 << 10
	f := newCountingEndpoint(t, Config{QueueBytes: queueBytes, WriteTimeout: time.Minute}, false)
	c := f.dial(t, "alice", "1")
	other := f.dial(t, "bob", "1")
	var q seqs
	payload := strings.Repeat("s", 8000)
	for i := 0; metricValue(t, f.h.metrics.slowConsumerCloses) == 0; i++ {
		if i == 10000 {
			t.Fatal("the stalled session was never closed")
		}
		f.h.Deliver([]carillon.Event{q.msg("A", payload)})
		// The other session reads all along.
		wantEvent(t, other, "CREATE_CHANNEL_MESSAGE")
	}
	frames := 0
	for {
		if _, code := next(t, c); code != 0 {
			if code != CloseSlowConsumer {
				t.Fatalf("closed with %d after %d frames", code, frames)
			}
			break
		}
		frames++
	}
	if frames == 0 || frames >= int(q.n) {
		t.Errorf("%d frames of %d read before the close", frames, q.n)
	}
	// The other session goes on.
	f.h.Deliver([]carillon.Event{q.msg("A", "after")})
	if m := wantEvent(t, other, "CREATE_CHANNEL_MESSAGE"); *m.Payload != "after" {
		t.Errorf("payload %.10q", *m.Payload)
	}
}

// An idle session holds no queue, no buffer and no writer goroutine,
// and, where the poller parks it, no reader goroutine either; one ping
// schedule serves the hub. When the sessions end, nothing is left.
func TestIdleSessionsHoldLittle(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Run("sessions", func(t *testing.T) {
		const n = 20
		// One user's sessions: beyond DefaultMaxSessionsPerUser.
		f := newCountingEndpoint(t, Config{PingInterval: 20 * time.Millisecond, MaxSessionsPerUser: n}, true)
		base := runtime.NumGoroutine()
		var conns []*websocket.Conn
		for i := range n {
			c := f.dial(t, "alice", fmt.Sprint(i))
			// The clients read, so pings are answered.
			go func() {
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
			conns = append(conns, c)
		}
		var q seqs
		f.h.Deliver([]carillon.Event{q.msg("A", "one event")})
		time.Sleep(100 * time.Millisecond) // five ping intervals
		idle := func() error {
			f.h.mu.Lock()
			sessions := append([]*session(nil), f.h.live...)
			f.h.mu.Unlock()
			if len(sessions) != n {
				return fmt.Errorf("%d sessions live, want %d", len(sessions), n)
			}
			for _, s := range sessions {
				s.mu.Lock()
				busy := s.writing || s.queue != nil || s.pongData != nil || s.bytes != 0
				s.mu.Unlock()
				if busy {
					return fmt.Errorf("session %s holds a writer or frames", s.id)
				}
			}
			// The server's: a reader per session at most, and the ping
			// schedule; the clients' own readers are the other n.
			if g := runtime.NumGoroutine() - base; g > 2*n+1 {
				return fmt.Errorf("%d goroutines for %d idle sessions", g, n)
			}
			// Where the poller parks idle sessions, none of them has a
			// reading goroutine.
			readers := 0
			if sharedPoller() == nil {
				readers = n
			}
			if g := goroutinesIn("hub.(*session).read"); g > readers {
				return fmt.Errorf("%d reading goroutines for %d idle sessions, want at most %d", g, n, readers)
			}
			return nil
		}
		var err error
		waitFor(t, "the sessions to be idle", func() bool { err = idle(); return err == nil })
		for _, c := range conns {
			c.Close()
		}
		waitFor(t, "the sessions to end", func() bool { return f.open() == 0 && f.h.handlerCount() == 0 })
		f.h.mu.Lock()
		stopped := f.h.pingStop == nil && len(f.h.live) == 0
		f.h.mu.Unlock()
		if !stopped {
			t.Error("the ping schedule still runs without sessions")
		}
	})
	goleak.VerifyNone(t, ignore)
}

// goroutinesIn counts the goroutines whose stack has a function whose
// name contains fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			count++
		}
	}
	return count
}

func (f *countingFixture) open() int {
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	n := 0
	for _, us := range f.h.users {
		n += len(us.list)
	}
	return n
}

// rawClient speaks the websocket protocol by hand, to send what a
// library would not.
type rawClient struct {
	conn net.Conn
	br   *bufio.Reader
}

func rawDial(t *testing.T, f *countingFixture, user, id string, wrap func(net.Conn) net.Conn) *rawClient {
	t.Helper()
	addr := f.srv.Listener.Addr().String()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var conn net.Conn = nc
	if wrap != nil {
		conn = wrap(nc)
	}
	if f.srv.TLS != nil {
		conn = tls.Client(conn, &tls.Config{RootCAs: f.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, ServerName: "example.com"})
	}
	t.Cleanup(func() { conn.Close() })
	req := "GET /connect?" + query("key", user, "userArn", user, "sessionId", id).Encode() + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	rc := &rawClient{conn: conn, br: bufio.NewReader(conn)}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	if op, p := rc.read(t); op != opText || !bytes.Contains(p, []byte(eventSessionEstablished)) {
		t.Fatalf("first frame %d %q", op, p)
	}
	return rc
}

// maskedFrame is a frame as a client sends it.
func maskedFrame(b0 byte, payload []byte) []byte {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	var out []byte
	switch n := len(payload); {
	case n < 126:
		out = []byte{b0, 0x80 | byte(n)}
	case n <= 0xffff:
		out = binary.BigEndian.AppendUint16([]byte{b0, 0x80 | 126}, uint16(n))
	default:
		out = binary.BigEndian.AppendUint64([]byte{b0, 0x80 | 127}, uint64(n))
	}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i&3])
	}
	return out
}

func (rc *rawClient) send(t *testing.T, b []byte) {
	t.Helper()
	_ = rc.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.conn.Write(b); err != nil {
		t.Fatal(err)
	}
}

// read reads a frame from the server: unmasked and final.
func (rc *rawClient) read(t *testing.T) (op byte, payload []byte) {
	t.Helper()
	_ = rc.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(rc.br, h[:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	if h[0]&finBit == 0 || h[1]&0x80 != 0 {
		t.Fatalf("frame header % x: not final, or masked", h)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, _ = io.ReadFull(rc.br, b[:])
		n = int(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, _ = io.ReadFull(rc.br, b[:])
		n = int(binary.BigEndian.Uint64(b[:]))
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(rc.br, payload); err != nil {
		t.Fatalf("read: %v", err)
	}
	return h[0] & 0x0f, payload
}

// readClose reads frames up to the close frame and returns its code.
func (rc *rawClient) readClose(t *testing.T) int {
	t.Helper()
	for {
		op, p := rc.read(t)
		if op != opClose {
			continue
		}
		if len(p) < 2 {
			return closeNoStatus
		}
		return int(binary.BigEndian.Uint16(p))
	}
}

// wantEOF reads until the server closes the connection.
func (rc *rawClient) wantEOF(t *testing.T) {
	t.Helper()
	_ = rc.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, rc.br); err != nil && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server did not close the connection")
		}
	}
}

// coalescingConn sends, for the TLS client above it, the records of
// several writes in one TCP segment when asked to.
type coalescingConn struct {
	net.Conn
	mu      sync.Mutex
	holding bool
	buf     []byte
}

func (c *coalescingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		c.buf = append(c.buf, b...)
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *coalescingConn) holdWrites() {
	c.mu.Lock()
	c.holding = true
	c.mu.Unlock()
}

func (c *coalescingConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = false
	_, err := c.Conn.Write(c.buf)
	c.buf = nil
	return err
}

// Over wss, two frames in two TLS records that arrive together are both
// read: the socket's readiness shows the first only, crypto/tls holds
// the second.
func TestTLSRecordsArrivingTogether(t *testing.T) {
	f := newCountingEndpoint(t, Config{}, true)
	var cc *coalescingConn
	rc := rawDial(t, f, "alice", "1", func(c net.Conn) net.Conn {
		cc = &coalescingConn{Conn: c}
		return cc
	})
	cc.holdWrites()
	rc.send(t, maskedFrame(finBit|opPing, []byte("first")))
	rc.send(t, maskedFrame(finBit|opPing, []byte("second")))
	if err := cc.flush(); err != nil {
		t.Fatal(err)
	}
	// The latest ping is answered (maybe the first too).
	for {
		op, p := rc.read(t)
		if op != opPong {
			t.Fatalf("frame %d %q, want a pong", op, p)
		}
		if string(p) == "second" {
			break
		}
	}
}

// Frames from a client, byte by byte or many at once, are parsed as
// RFC 6455 says, and a client that breaks the protocol is closed with
// the code it says.
func TestClientFrames(t *testing.T) {
	ping := maskedFrame(finBit|opPing, []byte("hello"))
	pong := maskedFrame(finBit|opPong, []byte("x"))
	text := maskedFrame(finBit|opText, []byte("ignored"))
	for _, tc := range []struct {
		name string
		send []byte
		// code is the close code the server answers with; 0: the
		// session goes on, and answers ping with a pong.
		code int
	}{
		{"pong, text, then ping", concat(pong, text, ping), 0},
		{"fragmented text around a ping", concat(maskedFrame(opText, []byte("a")), ping, maskedFrame(finBit|opContinuation, []byte("b"))), 0},
		{"binary of 4096 bytes", maskedFrame(finBit|opBinary, make([]byte, 4096)), 0},
		{"text of 4097 bytes", maskedFrame(finBit|opText, make([]byte, 4097)), websocket.CloseMessageTooBig},
		{"fragments adding up to 4097 bytes", concat(maskedFrame(opText, make([]byte, 4000)), maskedFrame(finBit|opContinuation, make([]byte, 97))), websocket.CloseMessageTooBig},
		{"a length of 2^63", append([]byte{finBit | opText, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, 1, 2, 3, 4), websocket.CloseProtocolError},
		{"unmasked", []byte{finBit | opPing, 0}, websocket.CloseProtocolError},
		{"reserved bit", maskedFrame(finBit|0x40|opText, nil), websocket.CloseProtocolError},
		{"unknown opcode", maskedFrame(finBit|0x3, nil), websocket.CloseProtocolError},
		{"fragmented ping", maskedFrame(opPing, nil), websocket.CloseProtocolError},
		{"ping of 126 bytes", maskedFrame(finBit|opPing, make([]byte, 126)), websocket.CloseProtocolError},
		{"continuation first", maskedFrame(finBit|opContinuation, nil), websocket.CloseProtocolError},
		{"text inside a fragmented text", concat(maskedFrame(opText, nil), maskedFrame(finBit|opText, nil)), websocket.CloseProtocolError},
		{"close without code", maskedFrame(finBit|opClose, nil), closeNoStatus},
		{"close 1000", maskedFrame(finBit|opClose, []byte{0x03, 0xe8}), 1000},
		{"close 4000 with a reason", maskedFrame(finBit|opClose, []byte{0x0f, 0xa0, 'b', 'y', 'e'}), 4000},
		{"close of one byte", maskedFrame(finBit|opClose, []byte{3}), websocket.CloseProtocolError},
		{"close 1005", maskedFrame(finBit|opClose, []byte{0x03, 0xed}), websocket.CloseProtocolError},
		{"close with invalid UTF-8", maskedFrame(finBit|opClose, []byte{0x03, 0xe8, 0xff}), websocket.CloseInvalidFramePayloadData},
	} {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bytewise=%v", tc.name, split), func(t *testing.T) {
				f := newCountingEndpoint(t, Config{}, false)
				rc := rawDial(t, f, "alice", "1", nil)
				b := tc.send
				if tc.code == 0 {
					b = concat(b, ping)
				}
				if split {
					// Headers and control frames arrive a byte at a time.
					k := min(len(b), 40)
					for i := range k {
						rc.send(t, b[i:i+1])
						time.Sleep(time.Millisecond)
					}
					b = b[k:]
				}
				if len(b) > 0 {
					rc.send(t, b)
				}
				if tc.code == 0 {
					if op, p := rc.read(t); op != opPong || string(p) != "hello" {
						t.Fatalf("got %d %q, want the pong", op, p)
					}
					// Still open: an event arrives (maybe after a second
					// pong: the pings are answered one by one or together).
					var q seqs
					f.h.Deliver([]carillon.Event{q.msg("A", "still")})
					op, p := rc.read(t)
					if op == opPong {
						op, p = rc.read(t)
					}
					if op != opText || !bytes.Contains(p, []byte("still")) {
						t.Fatalf("got %d %q", op, p)
					}
					return
				}
				if got := rc.readClose(t); got != tc.code {
					t.Fatalf("closed with %d, want %d", got, tc.code)
				}
				// The client closes its side; the server then closes the
				// connection.
				if err := rc.conn.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
				rc.wantEOF(t)
				waitFor(t, "the session to end", func() bool { return f.open() == 0 })
			})
		}
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// The server waits for the client's close frame before closing the
// connection: a pong the client sends before it has read the server's
// close frame does not reset the connection.
func TestCloseWaitsForTheClient(t *testing.T) {
	f := newCountingEndpoint(t, Config{}, false)
	rc := rawDial(t, f, "alice", "1", nil)
	s := f.session(t, "alice", "1")
	s.close(CloseForbidden, "go away")
	if got := rc.readClose(t); got != CloseForbidden {
		t.Fatalf("close %d", got)
	}
	// The client sends more, then its own close frame.
	rc.send(t, maskedFrame(finBit|opPong, nil))
	time.Sleep(10 * time.Millisecond)
	if f.open() != 1 {
		t.Fatal("the session ended before the client's close frame")
	}
	rc.send(t, maskedFrame(finBit|opClose, []byte{0x0f, 0xa3}))
	rc.wantEOF(t)
	waitFor(t, "the session to end", func() bool { return f.open() == 0 && f.h.handlerCount() == 0 })

	// A client that never answers is closed after closeLinger.
	rc = rawDial(t, f, "alice", "2", nil)
	start := time.Now()
	f.session(t, "alice", "2").close(CloseForbidden, "go away")
	rc.readClose(t)
	rc.wantEOF(t)
	if d := time.Since(start); d < closeLinger-100*time.Millisecond {
		t.Errorf("closed %v after the close frame, before closeLinger", d)
	}
}

// The frame of an event is built once, complete, and keeps the event's
// outbox position in the queue.
func TestQueuedFramesKeepTheirSeq(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	a := connect(t, h, "alice", "1", []string{"A"}, 0)
	b := connect(t, h, "bob", "1", []string{"A"}, 0)
	h.Deliver([]carillon.Event{q.msg("A", "x"), q.msg("A", "y")})
	for _, s := range []*session{a, b} {
		if len(s.queue) != 2 || s.queue[0].seq != 1 || s.queue[1].seq != 2 {
			t.Fatalf("queue %+v", s.queue)
		}
	}
	if &a.queue[1].frame[0] != &b.queue[1].frame[0] {
		t.Error("each session has its own copy of the frame")
	}
	if p := framePayload(t, a.queue[1].frame); !bytes.Equal(p, encodeFrame("CREATE_CHANNEL_MESSAGE", "STANDARD", "", 2, []byte("y"))) {
		t.Errorf("frame payload %s", p)
	}
}

// Frame headers take 2, 4 or 10 bytes, by payload length.
func TestWireFrameHeader(t *testing.T) {
	base := len(encodeFrame("X", "SYSTEM", "", 0, []byte{}))
	for _, n := range []int{0, 125, 126, 127, 0xffff, 0x10000, 100000} {
		p := bytes.Repeat([]byte("a"), max(0, n-base))
		json := encodeFrame("X", "SYSTEM", "", 0, p)
		frame := wireFrame("X", "SYSTEM", "", 0, p)
		if got := framePayload(t, frame); !bytes.Equal(got, json) {
			t.Fatalf("payload of %d bytes differs", len(json))
		}
		want := 2
		switch {
		case len(json) > 0xffff:
			want = 10
		case len(json) > 125:
			want = 4
		}
		if hdr := len(frame) - len(json); hdr != want {
			t.Errorf("%d bytes of payload: header of %d bytes, want %d", len(json), hdr, want)
		}
	}
}

// Sessions whose queues come and go with every burst (their arrays
// recycled between sessions) each get exactly their own events, in
// order: no frame of another session, none twice, none missing.
func TestRecycledQueuesKeepSessionsApart(t *testing.T) {
	f := newCountingEndpoint(t, Config{}, false)
	users := []string{"alice", "bob"}
	conns := map[string]*websocket.Conn{}
	for _, u := range users {
		conns[u] = f.dial(t, u, "1")
	}
	const n = 600
	errs := make(chan error, len(users))
	for _, u := range users {
		go func() {
			c := conns[u]
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for i := range n {
				var m testFrame
				_, b, err := c.ReadMessage()
				if err == nil {
					err = json.Unmarshal(b, &m)
				}
				want := fmt.Sprintf("%s %d", u, i)
				if err != nil || m.Payload == nil || *m.Payload != want {
					errs <- fmt.Errorf("%s's event %d: %v %v %v, want %q", u, i, err, m.Headers, m.Payload, want)
					return
				}
			}
			errs <- nil
		}()
	}
	var q seqs
	for i := 0; i < n; {
		// Bursts of 1 to 5 events for each, interleaved.
		burst := []carillon.Event{}
		for k := 0; k < 1+i%5 && i < n; k++ {
			for _, u := range users {
				burst = append(burst, q.targeted("A", fmt.Sprintf("%s %d", u, i), u))
			}
			i++
		}
		f.h.Deliver(burst)
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let the writers drain, so queues end and start again
		}
	}
	for range users {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
