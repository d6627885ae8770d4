package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
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
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
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
