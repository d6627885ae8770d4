package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
)

// fakeAuth takes the query parameter "key" for the signature: "" is a
// bad one, "root" the root key, anything else a key of that user.
type fakeAuth struct{}

func (fakeAuth) AuthenticatePresigned(r *http.Request, _ string, _ time.Duration) (carillon.Caller, error) {
	switch k := r.URL.Query().Get("key"); k {
	case "":
		return carillon.Caller{}, errors.New("signature does not match")
	case "root":
		return carillon.Caller{Root: true}, nil
	default:
		return carillon.Caller{Bearer: k}, nil
	}
}

// fakeSource answers snapshots from a map of users to channels, at the
// hub's current position unless snapshot is set.
type fakeSource struct {
	h        *Hub
	users    map[string][]string
	snapshot func(user string, n int) ([]string, int64, error)
	prefetch func(user, sortBy string) ([][]byte, error)

	snapshots atomic.Int32
}

func (f *fakeSource) Snapshot(_ context.Context, user string) ([]string, int64, error) {
	n := int(f.snapshots.Add(1))
	if f.snapshot != nil {
		return f.snapshot(user, n)
	}
	channels, ok := f.users[user]
	if !ok {
		return nil, 0, ErrUnknownUser
	}
	return channels, f.h.Seq(), nil
}

func (f *fakeSource) Prefetch(_ context.Context, user, sortBy string) ([][]byte, error) {
	if f.prefetch != nil {
		return f.prefetch(user, sortBy)
	}
	return nil, nil
}

type endpointFixture struct {
	h   *Hub
	src *fakeSource
	srv *httptest.Server
}

func newEndpoint(t *testing.T, cfg Config) *endpointFixture {
	t.Helper()
	h := New(cfg, nil, prometheus.NewRegistry())
	src := &fakeSource{h: h, users: map[string][]string{"alice": {"A"}, "bob": {"A"}}}
	srv := httptest.NewServer(&Endpoint{Hub: h, Auth: fakeAuth{}, Source: src})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Close()
	})
	return &endpointFixture{h: h, src: src, srv: srv}
}

func (f *endpointFixture) dial(t *testing.T, q url.Values) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/connect?" + q.Encode()
	c, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// next reads the next data frame, or the close code (frame zero).
func next(t *testing.T, c *websocket.Conn) (testFrame, int) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, b, err := c.ReadMessage()
	if err != nil {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return testFrame{}, ce.Code
		}
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("frame of type %d, want text", typ)
	}
	return decodeFrame(t, b), 0
}

func wantClose(t *testing.T, c *websocket.Conn, code int) {
	t.Helper()
	f, got := next(t, c)
	if got != code {
		t.Fatalf("got frame %v / close %d, want close %d", f.Headers, got, code)
	}
}

func wantEvent(t *testing.T, c *websocket.Conn, typ string) testFrame {
	t.Helper()
	f, code := next(t, c)
	if code != 0 || f.Headers[headerEventType] != typ {
		t.Fatalf("got frame %v / close %d, want %s", f.Headers, code, typ)
	}
	return f
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *endpointFixture) open() int {
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	n := 0
	for _, us := range f.h.users {
		n += len(us.list)
	}
	return n
}

func TestConnectRefused(t *testing.T) {
	f := newEndpoint(t, Config{})
	f.src.users["broken"] = nil
	snapshot := f.src.snapshot
	f.src.snapshot = func(user string, n int) ([]string, int64, error) {
		if user == "broken" {
			return nil, 0, errors.New("store unavailable")
		}
		if snapshot != nil {
			return snapshot(user, n)
		}
		c, ok := f.src.users[user]
		if !ok {
			return nil, 0, ErrUnknownUser
		}
		return c, 0, nil
	}
	for _, tc := range []struct {
		name string
		q    url.Values
		code int
	}{
		{"bad signature", query("userArn", "alice", "sessionId", "1"), CloseUnauthorized},
		{"bad signature, no user", query("sessionId", "1"), CloseUnauthorized},
		{"no userArn", query("key", "alice", "sessionId", "1"), CloseForbidden},
		{"another user's key", query("key", "bob", "userArn", "alice", "sessionId", "1"), CloseForbidden},
		{"unknown user", query("key", "root", "userArn", "nobody", "sessionId", "1"), CloseForbidden},
		{"snapshot failure", query("key", "root", "userArn", "broken", "sessionId", "1"), websocket.CloseInternalServerErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantClose(t, f.dial(t, tc.q), tc.code)
		})
	}
	waitFor(t, "handlers to end", func() bool { return f.h.handlerCount() == 0 })
	for result, want := range map[string]float64{"unauthorized": 2, "forbidden": 3, "error": 1, "established": 0} {
		if got := metricValue(t, f.h.metrics.connects.WithLabelValues(result)); got != want {
			t.Errorf("connects{result=%q} = %v, want %v", result, got, want)
		}
	}
	if got := metricValue(t, f.h.metrics.sessionsOpen); got != 0 {
		t.Errorf("sessions open = %v", got)
	}
}

func TestConnectEstablishedPrefetchThenEvents(t *testing.T) {
	// The prefetch is bigger than the queue bound: it does not count.
	f := newEndpoint(t, Config{QueueBytes: 1024})
	var q seqs
	big := strings.Repeat("x", 900)
	f.src.prefetch = func(user, sortBy string) ([][]byte, error) {
		if sortBy != "last-message-timestamp" {
			t.Errorf("prefetch sort %q", sortBy)
		}
		// An event delivered while the prefetch is read comes after it.
		f.h.Deliver([]carillon.Event{q.msg("A", "during prefetch")})
		var out [][]byte
		for i := range 5 {
			out = append(out, fmt.Appendf(nil, `{"n":%d,"pad":%q}`, i, big))
		}
		return out, nil
	}
	c := f.dial(t, query("key", "alice", "userArn", "alice", "sessionId", "1", "prefetch-on", "connect", "prefetch-sort-by", "last-message-timestamp"))
	est := wantEvent(t, c, eventSessionEstablished)
	if est.Headers[headerMessageType] != "SYSTEM" || est.Payload != nil {
		t.Errorf("SESSION_ESTABLISHED %v %v", est.Headers, est.Payload)
	}
	for i := range 5 {
		d := wantEvent(t, c, eventChannelDetails)
		if d.Payload == nil || !strings.HasPrefix(*d.Payload, fmt.Sprintf(`{"n":%d,`, i)) || d.Headers[headerMessageType] != "SYSTEM" {
			t.Fatalf("CHANNEL_DETAILS %d: %v %.20v", i, d.Headers, d.Payload)
		}
	}
	if m := wantEvent(t, c, "CREATE_CHANNEL_MESSAGE"); *m.Payload != "during prefetch" {
		t.Errorf("payload %q", *m.Payload)
	}
	f.h.Deliver([]carillon.Event{q.msg("A", "after")})
	if m := wantEvent(t, c, "CREATE_CHANNEL_MESSAGE"); *m.Payload != "after" {
		t.Errorf("payload %q", *m.Payload)
	}
	// Without prefetch-on, no CHANNEL_DETAILS.
	c2 := f.dial(t, query("key", "root", "userArn", "bob", "sessionId", "1", "prefetch-sort-by", "unread"))
	wantEvent(t, c2, eventSessionEstablished)
	f.h.Deliver([]carillon.Event{q.msg("A", "m")})
	wantEvent(t, c2, "CREATE_CHANNEL_MESSAGE")
}

func TestConnectPrefetchFailure(t *testing.T) {
	f := newEndpoint(t, Config{})
	f.src.prefetch = func(string, string) ([][]byte, error) { return nil, errors.New("store unavailable") }
	c := f.dial(t, query("key", "alice", "userArn", "alice", "sessionId", "1", "prefetch-on", "connect"))
	wantClose(t, c, websocket.CloseInternalServerErr)
	waitFor(t, "the session to be unregistered", func() bool { return f.open() == 0 && f.h.handlerCount() == 0 })
	if got := metricValue(t, f.h.metrics.sessionsOpen); got != 0 {
		t.Errorf("sessions open = %v", got)
	}
}

func TestConnectRetriesStaleSnapshot(t *testing.T) {
	f := newEndpoint(t, Config{})
	var q seqs
	var events []carillon.Event
	for i := 0; i < maxChanges+10; i++ {
		events = append(events, q.join("B", "someone", false))
	}
	f.h.Deliver(events)
	f.src.snapshot = func(user string, n int) ([]string, int64, error) {
		if n == 1 {
			return []string{"A"}, 0, nil // older than the catch-up log
		}
		return []string{"A"}, f.h.Seq(), nil
	}
	c := f.dial(t, query("key", "alice", "userArn", "alice", "sessionId", "1"))
	wantEvent(t, c, eventSessionEstablished)
	if n := f.src.snapshots.Load(); n != 2 {
		t.Errorf("%d snapshots, want 2", n)
	}
	// A snapshot that stays stale ends the attempt.
	f.src.snapshot = func(string, int) ([]string, int64, error) { return nil, 0, nil }
	wantClose(t, f.dial(t, query("key", "alice", "userArn", "alice", "sessionId", "2")), websocket.CloseInternalServerErr)
}

func TestConnectDuplicateSessionID(t *testing.T) {
	f := newEndpoint(t, Config{})
	var q seqs
	old := f.dial(t, query("key", "alice", "userArn", "alice", "sessionId", "dup"))
	wantEvent(t, old, eventSessionEstablished)
	newer := f.dial(t, query("key", "alice", "userArn", "alice", "sessionId", "dup"))
	wantEvent(t, newer, eventSessionEstablished)
	wantClose(t, old, CloseForbidden)
	f.h.Deliver([]carillon.Event{q.msg("A", "m")})
	wantEvent(t, newer, "CREATE_CHANNEL_MESSAGE")
	waitFor(t, "one session", func() bool { return f.open() == 1 && metricValue(t, f.h.metrics.sessionsOpen) == 1 })
}

func TestSessionQueueBoundInBytes(t *testing.T) {
	h := testHub(t, Config{QueueBytes: 100})
	s := newSession(h, "alice", "1", nil, 100)
	// A frame bigger than the bound goes when nothing else is pending.
	if !s.enqueue(make([]byte, 150), 0, time.Time{}) {
		t.Fatal("a big frame on an empty queue was refused")
	}
	// The writer takes it; until written, it counts.
	b := s.take()
	frames, closing := b.frames, b.closing
	if len(frames) != 1 || closing {
		t.Fatalf("take: %d frames, closing %v", len(frames), closing)
	}
	if s.bytes != 150 {
		t.Errorf("bytes being written = %d, want 150", s.bytes)
	}
	s.written(frames)
	if s.bytes != 0 {
		t.Errorf("bytes after the write = %d", s.bytes)
	}
	// Frames that fit are queued.
	for i := range 4 {
		if !s.enqueue(make([]byte, 25), 0, time.Time{}) {
			t.Fatalf("frame %d refused", i)
		}
	}
	// Frames a session starts with do not count.
	s.begin([][]byte{make([]byte, 500)})
	if s.bytes != 100 || len(s.queue) != 5 || len(s.queue[0].frame) != 500 {
		t.Fatalf("after begin: %d bytes, %d frames", s.bytes, len(s.queue))
	}
	// One byte more closes the session with 4429 and drops its backlog.
	if s.enqueue(make([]byte, 1), 0, time.Time{}) {
		t.Fatal("a frame beyond the bound was queued")
	}
	if !s.closing || s.closeCode != CloseSlowConsumer || len(s.queue) != 0 || s.bytes != 0 {
		t.Errorf("after overflow: closing %v code %d, %d frames, %d bytes", s.closing, s.closeCode, len(s.queue), s.bytes)
	}
	if s.enqueue(make([]byte, 1), 0, time.Time{}) {
		t.Error("a closing session queued a frame")
	}
	if got := metricValue(t, h.metrics.slowConsumerCloses); got != 1 {
		t.Errorf("slow consumer closes = %v", got)
	}
	if got := metricValue(t, h.metrics.queueDrops); got != 6 {
		t.Errorf("frames dropped = %v, want 6 (5 queued and the one that overflowed)", got)
	}
	// The writer sends the close frame and nothing else.
	b = s.take()
	frames, closing, code := b.frames, b.closing, b.code
	if len(frames) != 0 || !closing || code != CloseSlowConsumer {
		t.Errorf("take after overflow: %d frames, closing %v, code %d", len(frames), closing, code)
	}
}

func TestSessionCloseAfterQueue(t *testing.T) {
	h := testHub(t, Config{})
	s := newSession(h, "alice", "1", nil, 1<<20)
	s.enqueue([]byte("a"), 0, time.Time{})
	s.closeAfterQueue(CloseServiceRestart, "restart")
	if s.enqueue([]byte("b"), 0, time.Time{}) {
		t.Error("a closing session queued a frame")
	}
	b := s.take()
	frames, closing, code := b.frames, b.closing, b.code
	if len(frames) != 1 || !closing || code != CloseServiceRestart {
		t.Errorf("take: %d frames, closing %v, code %d", len(frames), closing, code)
	}
	// A close that does not flush overrides, and stops the writer after
	// the batch it is writing.
	s.enqueue([]byte("c"), 0, time.Time{})
	s.close(CloseForbidden, "x")
	s.written(frames)
	if b := s.take(); len(b.frames) != 0 || b.code != CloseServiceRestart {
		t.Errorf("take: %d frames, code %d (the first close's code stays)", len(b.frames), b.code)
	}
}

func TestPingPong(t *testing.T) {
	f := newEndpoint(t, Config{PingInterval: 50 * time.Millisecond, PongTimeout: time.Second})
	// A client that answers pings (gorilla's default handler, while it
	// reads) stays connected across many ping intervals.
	good := f.dial(t, query("key", "alice", "userArn", "alice", "sessionId", "good"))
	wantEvent(t, good, eventSessionEstablished)
	pings := atomic.Int32{}
	good.SetPingHandler(func(data string) error {
		pings.Add(1)
		return good.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	goodErr := make(chan error, 1)
	go func() {
		_, _, err := good.ReadMessage()
		goodErr <- err
	}()
	// A client that does not answer is closed with 1001.
	mute := f.dial(t, query("key", "bob", "userArn", "bob", "sessionId", "mute"))
	mute.SetPingHandler(func(string) error { return nil })
	wantEvent(t, mute, eventSessionEstablished)
	start := time.Now()
	wantClose(t, mute, CloseGoingAway)
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("closed after %v, before the pong timeout", d)
	}
	time.Sleep(time.Second) // 20 more ping intervals
	select {
	case err := <-goodErr:
		t.Fatalf("answering client disconnected: %v", err)
	default:
	}
	if n := pings.Load(); n < 10 {
		t.Errorf("%d pings in 2s at a 50ms interval", n)
	}
}

// smallBuffers makes accepted connections buffer little, so that what a
// test writes reaches the client's reads (and the client's pongs come
// back) without seconds of socket backlog.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(64 << 10)
	}
	return c, err
}

func TestBusySessionStillPings(t *testing.T) {
	// The pong timeout is long enough for a loaded machine (the race
	// detector, other tests) to schedule the client's pong in time; the
	// writer stays busy for more than twice as long.
	const pongTimeout = 1500 * time.Millisecond
	h := New(Config{PingInterval: 30 * time.Millisecond, PongTimeout: pongTimeout, QueueBytes: 64 << 20}, nil, nil)
	src := &fakeSource{h: h, users: map[string][]string{"alice": {"A"}}}
	srv := httptest.NewUnstartedServer(&Endpoint{Hub: h, Auth: fakeAuth{}, Source: src})
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()
	defer h.Shutdown(context.Background())
	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(64 << 10)
		}
		return c, err
	}}
	c, _, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/connect?"+query("key", "alice", "userArn", "alice", "sessionId", "1").Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wantEvent(t, c, eventSessionEstablished)
	// 20,000 frames queued at once keep the writer busy for longer than
	// the pong timeout, since the client reads them slowly: it must ping
	// between frames, or the server's read deadline passes.
	var q seqs
	const n = 20000
	events := make([]carillon.Event, n)
	payload := strings.Repeat("y", 1000)
	for i := range events {
		events[i] = q.msg("A", payload)
	}
	start := time.Now()
	h.Deliver(events)
	for i := range n {
		if _, code := next(t, c); code != 0 {
			t.Fatalf("busy session closed with %d after %d frames", code, i)
		}
		if i%5 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if d := time.Since(start); d < 2*pongTimeout {
		t.Fatalf("the writer was busy for only %v: the test proves nothing", d)
	}
	h.Deliver([]carillon.Event{q.msg("A", "last")})
	if f := wantEvent(t, c, "CREATE_CHANNEL_MESSAGE"); *f.Payload != "last" {
		t.Fatalf("payload %.10q", *f.Payload)
	}
}

func TestShutdownDuringConnects(t *testing.T) {
	f := newEndpoint(t, Config{})
	var q seqs
	var wg sync.WaitGroup
	results := make(chan string, 100)
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qs := query("key", "alice", "userArn", "alice", "sessionId", fmt.Sprint(i))
			c, _, err := dialer.Dial("ws"+strings.TrimPrefix(f.srv.URL, "http")+"/connect?"+qs.Encode(), nil)
			if err != nil {
				results <- "dial: " + err.Error()
				return
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			got := ""
			for {
				_, b, err := c.ReadMessage()
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					results <- got + fmt.Sprint(ce.Code)
					return
				}
				if err != nil {
					results <- got + err.Error()
					return
				}
				var fr testFrame
				_ = json.Unmarshal(b, &fr)
				got += fr.Headers[headerEventType] + " "
			}
		}()
		if i == 25 {
			f.h.Deliver([]carillon.Event{q.msg("A", "m")})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			f.h.Shutdown(ctx)
			cancel()
			if n := f.h.handlerCount(); n != 0 {
				t.Errorf("%d handlers still running after Shutdown", n)
			}
		}
	}
	wg.Wait()
	close(results)
	for r := range results {
		// Each client was refused, or established (maybe with the message)
		// and then closed; always with 1012.
		switch r {
		case "1012", "SESSION_ESTABLISHED 1012", "SESSION_ESTABLISHED CREATE_CHANNEL_MESSAGE 1012":
		default:
			t.Errorf("client saw %q", r)
		}
	}
	if f.open() != 0 || metricValue(t, f.h.metrics.sessionsOpen) != 0 {
		t.Errorf("%d sessions open after Shutdown", f.open())
	}
}

// handlerCount is how many connect handlers are running.
func (h *Hub) handlerCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func TestShutdownClosesStalledSessionsAtItsDeadline(t *testing.T) {
	// A write timeout far beyond the test: only Shutdown's deadline can
	// free the writer.
	h := New(Config{WriteTimeout: time.Hour, QueueBytes: 64 << 20}, nil, nil)
	src := &fakeSource{h: h, users: map[string][]string{"alice": {"A"}}}
	srv := httptest.NewUnstartedServer(&Endpoint{Hub: h, Auth: fakeAuth{}, Source: src})
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/connect?"+query("key", "alice", "userArn", "alice", "sessionId", "1").Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wantEvent(t, c, eventSessionEstablished)
	// The client stops reading; 8 MB are more than the socket buffers
	// hold: the writer, asked to send them before the close frame, blocks.
	var q seqs
	payload := strings.Repeat("z", 8<<10)
	var events []carillon.Event
	for range 1024 {
		events = append(events, q.msg("A", payload))
	}
	h.Deliver(events)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		h.Shutdown(ctx)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		c.Close() // frees the writer, and Shutdown
		<-returned
		t.Fatal("Shutdown did not return after its deadline")
	}
	if n := h.handlerCount(); n != 0 {
		t.Errorf("%d handlers running after Shutdown", n)
	}
}

// failingStore fails every read: the store is down.
type failingStore struct{ carillon.Store }

func (failingStore) View(context.Context, func(carillon.Tx) error) error {
	return errors.New("store unavailable")
}

// A connection whose stored position cannot be read is refused with 1011
// and gives its reserved place back: as many such failures as MaxSessions
// do not make the hub refuse the next connections as full.
func TestConnectResumeLookupFailureReleasesItsPlace(t *testing.T) {
	f := newEndpoint(t, Config{Store: failingStore{}, ResumeWindow: time.Minute, MaxSessions: 2})
	for i := range 3 {
		wantClose(t, f.dial(t, query("key", "root", "userArn", "alice", "sessionId", fmt.Sprint(i))), websocket.CloseInternalServerErr)
	}
	waitFor(t, "handlers to end", func() bool { return f.h.handlerCount() == 0 })
	if n := f.h.lim.open.Load(); n != 0 {
		t.Fatalf("%d places still reserved after the failed connections", n)
	}
}
