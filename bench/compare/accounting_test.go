package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeSystem is a server in this process that loses, duplicates and
// fails on purpose, so that the tool's counting can be checked against
// what it did.
type fakeSystem struct {
	dropEvery int // the k-th messages do not reach session 0
	dupEvery  int // the k-th messages reach session 1 twice
	failEvery int // the k-th publishes answer an error, after delivering
	delay     time.Duration

	srv  *httptest.Server
	proc *process

	mu                    sync.Mutex
	conns                 []*websocket.Conn
	n                     int
	dropped, failed, dups int
	droppedAndFailed      int
}

func (f *fakeSystem) start(context.Context) error {
	up := websocket.Upgrader{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		_ = c.WriteMessage(websocket.TextMessage, []byte("ready"))
		f.mu.Unlock()
		readUntilClosed(c)
	}))
	// Its CPU and liveness are this process's.
	f.proc = &process{pid: os.Getpid(), exited: make(chan struct{})}
	return nil
}

func (f *fakeSystem) stop()                                   { f.srv.Close() }
func (f *fakeSystem) process() *process                       { return f.proc }
func (f *fakeSystem) prepare(context.Context, int, int) error { return nil }

func (f *fakeSystem) dial(ctx context.Context, i int) (*websocket.Conn, error) {
	c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http"), nil)
	if err != nil {
		return nil, err
	}
	_, _, err = c.ReadMessage() // "ready": the server has it
	return c, err
}

func (f *fakeSystem) publish(ctx context.Context, pub int, mark []byte) error {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	drop, dup, fail := f.n%f.dropEvery == 0, f.n%f.dupEvery == 0, f.n%f.failEvery == 0
	frame := []byte(`{"data":"` + string(mark) + `"}`)
	for i, c := range f.conns {
		if i == 0 && drop {
			continue
		}
		_ = c.WriteMessage(websocket.TextMessage, frame)
		if i == 1 && dup {
			_ = c.WriteMessage(websocket.TextMessage, frame)
		}
	}
	if drop {
		f.dropped++
	}
	if dup {
		f.dups++
	}
	if fail {
		f.failed++
		if drop {
			f.droppedAndFailed++
		}
		return errors.New("failed on purpose")
	}
	return nil
}

func (f *fakeSystem) frame(b []byte, fn func(mark)) []byte {
	eachMark(b, fn)
	return nil
}

// TestAccounting checks every count of a load against what the fake
// server did: the acknowledged publishes, the deliveries missing, the
// duplicates, the deliveries of failed publishes, in each mode.
func TestAccounting(t *testing.T) {
	for _, c := range []struct {
		name string
		spec loadSpec
	}{
		{"closed", loadSpec{mode: closedLoop}},
		{"fanout", loadSpec{mode: fanoutLoop, fanoutWait: 50 * time.Millisecond}},
		{"open", loadSpec{mode: openLoop, rate: 400}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeSystem{dropEvery: 5, dupEvery: 7, failEvery: 11, delay: time.Millisecond}
			spec := c.spec
			spec.subscribers, spec.publishers, spec.duration = 3, 4, 300*time.Millisecond
			spec.drainQuiet, spec.drainMax = time.Second, 5*time.Second
			m, err := runLoad(context.Background(), f, spec, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			t.Logf("%d published: %d dropped, %d duplicated, %d failed; measured %+v", f.n, f.dropped, f.dups, f.failed, m)
			if f.n < 20 {
				t.Fatalf("only %d publishes", f.n)
			}
			acked := int64(f.n - f.failed)
			if m.Acked != acked || m.Errors != int64(f.failed) || m.Sessions != 3 {
				t.Errorf("acked %d, errors %d, sessions %d; want %d, %d, 3", m.Acked, m.Errors, m.Sessions, acked, f.failed)
			}
			if want := 3 * acked; m.Expected != want {
				t.Errorf("expected %d deliveries, want %d", m.Expected, want)
			}
			// Session 0 misses the dropped messages that were acknowledged.
			if want := int64(f.dropped - f.droppedAndFailed); m.Missing() != want {
				t.Errorf("missing %d, want %d", m.Missing(), want)
			}
			if want := int64(3*f.failed - f.droppedAndFailed); m.Unacked != want {
				t.Errorf("deliveries of failed publishes %d, want %d", m.Unacked, want)
			}
			if m.Duplicates != int64(f.dups) {
				t.Errorf("duplicates %d, want %d", m.Duplicates, f.dups)
			}
			if spec.mode == fanoutLoop && m.FanoutTimeouts == 0 {
				t.Error("no fan-out wait gave up, though session 0 missed messages")
			}
			if m.P50 <= 0 || m.P99 < m.P50 || m.P999 < m.P99 {
				t.Errorf("latencies p50 %v, p99 %v, p99.9 %v", m.P50, m.P99, m.P999)
			}
			if len(m.Closes) != 0 {
				t.Errorf("closes: %v", m.Closes)
			}
		})
	}
}

// resumingSystem is a server in this process that closes session 0 with
// 4429 once, at its closeAt-th publish, and, when the session dials
// again with the same index, sends it what was published meanwhile
// before what follows: a server that resumes sessions.
type resumingSystem struct {
	closeAt int

	srv  *httptest.Server
	proc *process

	mu      sync.Mutex
	conns   map[int]*websocket.Conn // nil: closed
	missed  map[int][][]byte
	n       int
	closed  bool
	redials int
}

func (f *resumingSystem) start(context.Context) error {
	f.conns, f.missed = map[int]*websocket.Conn{}, map[int][][]byte{}
	up := websocket.Upgrader{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		i, _ := strconv.Atoi(r.URL.Query().Get("i"))
		f.mu.Lock()
		if _, again := f.conns[i]; again {
			f.redials++
		}
		f.conns[i] = c
		_ = c.WriteMessage(websocket.TextMessage, []byte("ready"))
		for _, frame := range f.missed[i] {
			_ = c.WriteMessage(websocket.TextMessage, frame)
		}
		delete(f.missed, i)
		f.mu.Unlock()
		readUntilClosed(c)
	}))
	f.proc = &process{pid: os.Getpid(), exited: make(chan struct{})}
	return nil
}

func (f *resumingSystem) stop()                                   { f.srv.Close() }
func (f *resumingSystem) process() *process                       { return f.proc }
func (f *resumingSystem) prepare(context.Context, int, int) error { return nil }

func (f *resumingSystem) dial(ctx context.Context, i int) (*websocket.Conn, error) {
	c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"?i="+strconv.Itoa(i), nil)
	if err != nil {
		return nil, err
	}
	_, _, err = c.ReadMessage() // "ready": the server has it
	return c, err
}

func (f *resumingSystem) publish(ctx context.Context, pub int, mark []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.n == f.closeAt {
		c := f.conns[0]
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4429, "too slow"), time.Now().Add(time.Second))
		c.Close()
		f.conns[0], f.closed = nil, true
	}
	frame := []byte(`{"data":"` + string(mark) + `"}`)
	for i, c := range f.conns {
		if c == nil {
			f.missed[i] = append(f.missed[i], frame)
			continue
		}
		_ = c.WriteMessage(websocket.TextMessage, frame)
	}
	return nil
}

func (f *resumingSystem) frame(b []byte, fn func(mark)) []byte {
	eachMark(b, fn)
	return nil
}

// TestReconnectCountsAcrossConnections: a session the server closed
// dials again with the same sessionId, and what it receives on either
// connection counts; without reconnecting, what followed the close is
// missing.
func TestReconnectCountsAcrossConnections(t *testing.T) {
	for _, reconnect := range []bool{true, false} {
		t.Run(fmt.Sprint("reconnect=", reconnect), func(t *testing.T) {
			f := &resumingSystem{closeAt: 30}
			spec := loadSpec{mode: openLoop, rate: 400, subscribers: 3, publishers: 4, duration: 300 * time.Millisecond,
				drainQuiet: time.Second, drainMax: 5 * time.Second, reconnect: reconnect}
			m, err := runLoad(context.Background(), f, spec, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if !f.closed || f.n < 60 {
				t.Fatalf("%d publishes, session 0 closed: %v", f.n, f.closed)
			}
			if len(m.Closes) != 1 || m.Closes["4429 too slow"] != 1 {
				t.Errorf("closes %v, want one 4429", m.Closes)
			}
			if reconnect {
				if m.Reconnects != 1 || f.redials != 1 || m.Missing() != 0 || m.Duplicates != 0 {
					t.Errorf("reconnects %d (server saw %d), missing %d, duplicates %d; want 1, 1, 0, 0", m.Reconnects, f.redials, m.Missing(), m.Duplicates)
				}
			} else if m.Reconnects != 0 || m.Missing() != int64(f.n-f.closeAt+1) {
				t.Errorf("reconnects %d, missing %d; want 0 and the %d published from the close on", m.Reconnects, m.Missing(), f.n-f.closeAt+1)
			}
		})
	}
}

// readUntilClosed reads and drops what the client sends until the
// connection ends.
func readUntilClosed(c *websocket.Conn) {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}
