package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon/bench/internal/loadkit"
	"github.com/carillonhq/carillon/internal/stats"
)

// system is a server under comparison, as the generator sees it.
type system interface {
	// start starts the server's process (pinned to the server core) and
	// returns once it answers.
	start(ctx context.Context) error
	// stop ends the process and removes its data.
	stop()
	// process is the running server.
	process() *process
	// prepare creates what subscribers and publishers need: the
	// subscribers spread over channels of at most channelSessions, the
	// publishers publishing into the first channel.
	prepare(ctx context.Context, subscribers, publishers int) error
	// dial opens subscriber i's session and returns once the session
	// receives its channel's messages.
	dial(ctx context.Context, i int) (*websocket.Conn, error)
	// publish publishes a message carrying mark as publisher pub, and
	// returns once the server acknowledged it.
	publish(ctx context.Context, pub int, mark []byte) error
	// frame finds the marks of the messages delivered in a frame a
	// session read, and returns what to answer (a protocol-level pong),
	// or nil.
	frame(b []byte, f func(mark)) (reply []byte)
}

// openConnections is how many requests the open loop has in flight at
// most: a fleet of application servers with pooled connections, not a
// connection per message.
const openConnections = 64

// channelSessions is how many sessions one channel holds at most. A
// regular Chime channel holds at most 10,000 members; 5,000 leaves room
// for the publishers and the channel's creator.
const channelSessions = 5000

type loadMode int

const (
	closedLoop loadMode = iota // each publisher sends, waits for the acknowledgement, sends again
	fanoutLoop                 // each publisher also waits for every session to receive its message
	openLoop                   // messages leave on a fixed schedule, whatever the answers
)

// loadSpec is one load on one server.
type loadSpec struct {
	subscribers, publishers int
	mode                    loadMode
	rate                    float64 // open loop: messages per second, all publishers together
	duration                time.Duration
	// The drain after the last publish ends when every acknowledged
	// message has reached every session, when nothing arrived for
	// drainQuiet, or after drainMax.
	drainQuiet, drainMax time.Duration
	// fanoutWait is how long a fan-out publisher waits for its message
	// to reach every session before it gives up and sends the next.
	fanoutWait time.Duration
	// reconnect: a session the server closes (4429, or any cut) dials
	// again with the same sessionId, and its deliveries are counted
	// across its connections, as amazon-chime-sdk-js reconnects.
	reconnect bool
	// stall makes sessions stop reading for a while: slow consumers.
	stall stallSpec
}

// stallSpec makes the first sessions of a load stop reading, after
// the publishing started, for a while, once.
type stallSpec struct {
	sessions    int
	after, for_ time.Duration
}

// measurement is what one load (or one idle run) on one server measured.
type measurement struct {
	Sessions, OpenFailed int
	OpenErrors           map[string]int
	Closes               map[string]int // connections the server ended, by close code
	Reconnects           int            // connections opened again after a close
	RedialErrors         map[string]int // dials of a reconnection that failed (and were retried)
	Stalled              int            // sessions that stopped reading for a while (stallSpec)

	Acked, Errors  int64
	FirstError     string
	PublishWindow  time.Duration // first publish to the last acknowledgement
	Expected       int64         // acknowledged messages × sessions
	Delivered      int64         // acknowledged messages that reached a session, counted once per session
	Unacked        int64         // deliveries of messages whose publish failed
	Duplicates     int64         // the same message twice in one session
	DeliveryWindow time.Duration // first publish to the last delivery
	P50, P99, P999 time.Duration // publish→deliver
	FanoutTimeouts int64         // fan-out waits that gave up
	Unsent         int64         // open loop: messages still unsent when the time was up
	CPU            float64       // the server's CPU over the publishing and the drain, in cores
	CPUSeconds     float64       // the same, in seconds
	GeneratorCPU   float64       // this process's, over the same time

	// Idle: the server's resident memory before the sessions and with them.
	RSSBefore, RSSAfter int64
}

// Missing is how many deliveries of acknowledged messages never came.
func (m measurement) Missing() int64 { return m.Expected - m.Delivered }

// PublishRate is acknowledged publishes per second.
func (m measurement) PublishRate() float64 {
	if m.PublishWindow <= 0 {
		return 0
	}
	return float64(m.Acked) / m.PublishWindow.Seconds()
}

// DeliveryRate is delivered events per second, from the first publish to
// the last delivery.
func (m measurement) DeliveryRate() float64 {
	if m.DeliveryWindow <= 0 {
		return 0
	}
	return float64(m.Delivered) / m.DeliveryWindow.Seconds()
}

// PerSession is the resident memory each idle session added, in bytes.
func (m measurement) PerSession() float64 {
	if m.Sessions == 0 {
		return 0
	}
	return float64(m.RSSAfter-m.RSSBefore) / float64(m.Sessions)
}

// tally is what every session of a load shares.
type tally struct {
	delivered atomic.Int64 // distinct deliveries, all sessions
	lastAt    atomic.Int64 // UnixNano of the last one
	closing   atomic.Bool
	waits     []fanoutWait // fan-out only, one per publisher
	// ctx ends the reconnections; reconnect and stall are the load's.
	ctx       context.Context
	reconnect bool
	stall     stallSpec
	// start is when the publishing started (UnixNano; 0 before).
	start atomic.Int64
}

// fanoutWait is the message a fan-out publisher waits for.
type fanoutWait struct {
	seq       atomic.Int64
	remaining atomic.Int64 // sessions it has not reached yet
	done      chan struct{}
}

// subscriber is one session of a load: one connection, then another
// with the same sessionId each time the server closes it, when the load
// reconnects.
type subscriber struct {
	i   int // the index its sessionId is made of (system.dial)
	mu  sync.Mutex
	con *websocket.Conn // the current connection, under mu
	buf []byte
	// Written by the reader goroutine; read once done is closed.
	seen         []bitset // per publisher: the sequence numbers received
	latencies    []time.Duration
	duplicates   int64
	closes       map[string]int // by close code
	reconnects   int
	redialErrors map[string]int
	stalled      bool
	done         chan struct{}
}

// conn is the current connection.
func (s *subscriber) conn() *websocket.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.con
}

// read reads frames until the connection ends and, when the load
// reconnects, dials again with the same sessionId (with backoff while
// dials fail) until the load ends.
func (s *subscriber) read(sys system, t *tally) {
	defer close(s.done)
	for {
		err := s.readConn(sys, t)
		if t.closing.Load() {
			return
		}
		if s.closes == nil {
			s.closes = map[string]int{}
		}
		s.closes[loadkit.CloseClass(err)]++
		if !t.reconnect || !s.redial(sys, t) {
			return
		}
	}
}

// redial opens the session again; false when the load ended first.
func (s *subscriber) redial(sys system, t *tally) bool {
	wait := 50 * time.Millisecond
	for {
		if t.closing.Load() || t.ctx.Err() != nil {
			return false
		}
		conn, err := sys.dial(t.ctx, s.i)
		if err == nil {
			s.mu.Lock()
			defer s.mu.Unlock()
			if t.closing.Load() { // closeSessions may have missed it
				conn.Close()
				return false
			}
			s.con = conn
			s.reconnects++
			return true
		}
		if s.redialErrors == nil {
			s.redialErrors = map[string]int{}
		}
		s.redialErrors[loadkit.ErrorClass(err)]++
		select {
		case <-t.ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// stallReadBuffer is the receive buffer of the sessions that stall: the
// kernel's would hold megabytes of frames on loopback, and the server
// would see a consumer that stalls for seconds as one that keeps up.
const stallReadBuffer = 16 << 10

// shrinkReadBuffer sets the receive buffer of conn's TCP connection to
// stallReadBuffer.
func shrinkReadBuffer(conn *websocket.Conn) {
	nc := conn.NetConn()
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(stallReadBuffer)
	}
}

// readConn reads frames until the current connection ends.
func (s *subscriber) readConn(sys system, t *tally) error {
	conn := s.conn()
	var now time.Time
	deliver := func(m mark) {
		if m.pub >= len(s.seen) {
			return
		}
		if !s.seen[m.pub].add(m.seq) {
			s.duplicates++
			return
		}
		s.latencies = append(s.latencies, now.Sub(m.sent))
		t.delivered.Add(1)
		t.lastAt.Store(now.UnixNano())
		if t.waits != nil {
			w := &t.waits[m.pub]
			if w.seq.Load() == m.seq && w.remaining.Add(-1) == 0 {
				select {
				case w.done <- struct{}{}:
				default:
				}
			}
		}
	}
	for {
		if s.i < t.stall.sessions && !s.stalled {
			if start := t.start.Load(); start > 0 && time.Since(time.Unix(0, start)) >= t.stall.after {
				// A slow consumer: reads nothing for a while, and
				// answers no ping meanwhile.
				s.stalled = true
				select {
				case <-t.ctx.Done():
				case <-time.After(t.stall.for_):
				}
			}
		}
		_, r, err := conn.NextReader()
		if err == nil {
			s.buf, err = readInto(s.buf[:0], r)
		}
		now = time.Now()
		if err != nil {
			return err
		}
		if reply := sys.frame(s.buf, deliver); reply != nil {
			_ = conn.WriteMessage(websocket.TextMessage, reply)
		}
	}
}

// sessionReadBuffer is the read buffer of every session the generator
// opens: 16 KiB takes in one read call what a server writes at once (a
// batch of frames). With 1 KiB the generator spent its core in read calls
// and, at 88% of it, set the fanout load's pace itself: paired runs gave
// Carillon 1.27x the delivered events/s and Centrifugo 1.22x, each server
// then using its whole core.
const sessionReadBuffer = 16 << 10

// readInto appends all of r to buf, reusing its capacity: a session
// reads hundreds of thousands of frames, and the generator's one core
// should go to reading them, not to allocating.
func readInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// openSessions opens n sessions, 50 at a time, and starts their readers.
func openSessions(ctx context.Context, sys system, n, publishers int, t *tally, m *measurement, logf func(string, ...any)) []*subscriber {
	var (
		mu   sync.Mutex
		subs = make([]*subscriber, 0, n)
		next atomic.Int64
		wg   sync.WaitGroup
	)
	m.OpenErrors = map[string]int{}
	for range min(50, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				conn, err := sys.dial(ctx, i)
				mu.Lock()
				if err != nil {
					m.OpenFailed++
					m.OpenErrors[loadkit.ErrorClass(err)]++
					mu.Unlock()
					continue
				}
				if i < t.stall.sessions {
					shrinkReadBuffer(conn)
				}
				s := &subscriber{i: i, con: conn, seen: make([]bitset, publishers), done: make(chan struct{})}
				subs = append(subs, s)
				k := len(subs)
				mu.Unlock()
				go s.read(sys, t)
				if k%2000 == 0 {
					logf("    %d sessions open", k)
				}
			}
		})
	}
	wg.Wait()
	m.Sessions = len(subs)
	return subs
}

// closeSessions closes every session with 1000 and waits for its reader.
func closeSessions(subs []*subscriber, t *tally) {
	if t.closing.Swap(true) {
		return
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	for _, s := range subs {
		conn := s.conn()
		_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		conn.Close()
	}
	for _, s := range subs {
		<-s.done
	}
}

// runLoad starts sys, prepares it, opens the sessions, publishes as spec
// says, waits for the deliveries and stops sys.
func runLoad(ctx context.Context, sys system, spec loadSpec, logf func(string, ...any)) (measurement, error) {
	var m measurement
	if err := sys.start(ctx); err != nil {
		return m, err
	}
	defer sys.stop()
	if err := sys.prepare(ctx, spec.subscribers, spec.publishers); err != nil {
		return m, fmt.Errorf("prepare: %w", err)
	}
	t := &tally{ctx: ctx, reconnect: spec.reconnect, stall: spec.stall}
	if spec.mode == fanoutLoop {
		t.waits = make([]fanoutWait, spec.publishers)
		for i := range t.waits {
			t.waits[i].seq.Store(-1)
			t.waits[i].done = make(chan struct{}, 1)
		}
	}
	subs := openSessions(ctx, sys, spec.subscribers, spec.publishers, t, &m, logf)
	defer closeSessions(subs, t)
	if spec.subscribers > 0 && len(subs) == 0 {
		return m, fmt.Errorf("no session opened: %v", m.OpenErrors)
	}

	proc := sys.process()
	cpu0, cpuErr := proc.cpuSeconds()
	gen0, genErr := cpuSecondsOf(os.Getpid())
	start := time.Now()
	t.start.Store(start.UnixNano())
	acks := newAckSet(spec.publishers)
	var (
		errs       atomic.Int64
		timeouts   atomic.Int64
		unsent     atomic.Int64
		firstErr   error
		firstErrMu sync.Once
		lastAck    atomic.Int64
	)
	fail := func(err error) {
		errs.Add(1)
		firstErrMu.Do(func() { firstErr = err })
	}
	ack := func(pub int, seq int64) {
		acks.add(pub, seq)
		lastAck.Store(time.Now().UnixNano())
	}
	switch spec.mode {
	case closedLoop, fanoutLoop:
		var wg sync.WaitGroup
		for p := range spec.publishers {
			wg.Go(func() {
				buf := make([]byte, 0, 64)
				timer := time.NewTimer(time.Hour)
				defer timer.Stop()
				for seq := int64(0); time.Since(start) < spec.duration && ctx.Err() == nil; seq++ {
					var w *fanoutWait
					if t.waits != nil && len(subs) > 0 {
						w = &t.waits[p]
						select {
						case <-w.done:
						default:
						}
						w.remaining.Store(int64(len(subs)))
						w.seq.Store(seq)
					}
					buf = appendMark(buf[:0], time.Now(), p, seq)
					if err := sys.publish(ctx, p, buf); err != nil {
						if ctx.Err() != nil {
							return
						}
						fail(err)
						time.Sleep(10 * time.Millisecond) // a failing server is not hammered
						continue
					}
					ack(p, seq)
					if w != nil {
						timer.Reset(spec.fanoutWait)
						select {
						case <-w.done:
							if !timer.Stop() {
								<-timer.C
							}
						case <-timer.C:
							timeouts.Add(1)
						case <-ctx.Done():
							return
						}
					}
				}
			})
		}
		wg.Wait()
	case openLoop:
		// The schedule is fixed; openConnections workers send what is
		// due, each on its connection. A message sent late, because
		// every connection was busy, carries its scheduled time, so the
		// wait counts in its latency (as wrk2 counts it), and the
		// generator does not open a connection per late message. A
		// server that falls far behind is given until the schedule's end
		// plus drainMax to catch up; what is still unsent then is
		// counted, not sent.
		type due struct {
			at  time.Time
			pub int
			seq int64
		}
		total := int(spec.rate * spec.duration.Seconds())
		queue := make(chan due, total+1)
		var wg sync.WaitGroup
		for range openConnections {
			wg.Go(func() {
				var buf []byte
				for d := range queue {
					if time.Since(start) > spec.duration+spec.drainMax {
						unsent.Add(1)
						continue
					}
					buf = appendMark(buf[:0], d.at, d.pub, d.seq)
					if err := sys.publish(ctx, d.pub, buf); err != nil {
						if ctx.Err() == nil {
							fail(err)
						}
						continue
					}
					ack(d.pub, d.seq)
				}
			})
		}
		interval := time.Duration(float64(time.Second) / spec.rate)
		timer := time.NewTimer(0)
		<-timer.C
	schedule:
		for i := int64(0); i < int64(total); i++ {
			at := start.Add(time.Duration(i) * interval)
			if wait := time.Until(at); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					break schedule
				case <-timer.C:
				}
			}
			queue <- due{at: at, pub: int(i % int64(spec.publishers)), seq: i / int64(spec.publishers)}
		}
		close(queue)
		wg.Wait()
	}
	if last := lastAck.Load(); last > 0 {
		m.PublishWindow = max(time.Unix(0, last).Sub(start), spec.duration)
	}

	// Drain: wait for what is still on its way. The readers count every
	// distinct delivery, of acknowledged messages or not (a failed
	// publish may still have been delivered), so everything published
	// is waited for; when some of it never comes, the quiet time ends
	// the wait.
	expected := (acks.count() + errs.Load()) * int64(len(subs))
	drainStart, lastProgress, lastSeen := time.Now(), time.Now(), t.delivered.Load()
	for ctx.Err() == nil && len(subs) > 0 {
		d := t.delivered.Load()
		if d >= expected || time.Since(lastProgress) > spec.drainQuiet || time.Since(drainStart) > spec.drainMax {
			break
		}
		if d != lastSeen {
			lastSeen, lastProgress = d, time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	end := time.Now()
	if cpu1, err := proc.cpuSeconds(); err == nil && cpuErr == nil {
		m.CPUSeconds = cpu1 - cpu0
		m.CPU = m.CPUSeconds / end.Sub(start).Seconds()
	}
	if gen1, err := cpuSecondsOf(os.Getpid()); err == nil && genErr == nil {
		m.GeneratorCPU = (gen1 - gen0) / end.Sub(start).Seconds()
	}
	if err := proc.alive(); err != nil {
		return m, err
	}
	closeSessions(subs, t)

	m.Acked, m.Errors, m.FanoutTimeouts, m.Unsent = acks.count(), errs.Load(), timeouts.Load(), unsent.Load()
	if firstErr != nil {
		m.FirstError = firstErr.Error()
	}
	m.Expected = m.Acked * int64(len(subs))
	m.Closes, m.RedialErrors = map[string]int{}, map[string]int{}
	var latencies []time.Duration
	for _, s := range subs {
		for p, seen := range s.seen {
			got := seen.countAnd(acks.sets[p])
			m.Delivered += got
			m.Unacked += seen.count() - got
		}
		m.Duplicates += s.duplicates
		latencies = append(latencies, s.latencies...)
		s.count(&m)
	}
	slices.Sort(latencies)
	m.P50, m.P99, m.P999 = stats.Percentile(latencies, 50), stats.Percentile(latencies, 99), stats.Percentile(latencies, 99.9)
	if last := t.lastAt.Load(); last > 0 {
		m.DeliveryWindow = time.Unix(0, last).Sub(start)
	}
	return m, ctx.Err()
}

// runIdle starts sys, prepares n sessions, lets it settle, reads the
// server's resident memory, opens the sessions, holds them for hold and
// reads it again.
func runIdle(ctx context.Context, sys system, n int, settleFor, hold time.Duration, logf func(string, ...any)) (measurement, error) {
	var m measurement
	if err := sys.start(ctx); err != nil {
		return m, err
	}
	defer sys.stop()
	if err := sys.prepare(ctx, n, 0); err != nil {
		return m, fmt.Errorf("prepare: %w", err)
	}
	proc := sys.process()
	settle(ctx, settleFor)
	before, err := proc.rss()
	if err != nil {
		return m, err
	}
	t := &tally{ctx: ctx}
	subs := openSessions(ctx, sys, n, 0, t, &m, logf)
	defer closeSessions(subs, t)
	if len(subs) == 0 {
		return m, fmt.Errorf("no session opened: %v", m.OpenErrors)
	}
	settle(ctx, hold)
	after, err := proc.rss()
	if err != nil {
		return m, err
	}
	if err := proc.alive(); err != nil {
		return m, err
	}
	closeSessions(subs, t)
	m.RSSBefore, m.RSSAfter = before, after
	m.Closes, m.RedialErrors = map[string]int{}, map[string]int{}
	for _, s := range subs {
		s.count(&m)
	}
	return m, ctx.Err()
}

func settle(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// lines calls f with each line of a frame that may carry several
// newline-separated messages (Centrifugo's JSON protocol batches them).
func lines(b []byte, f func([]byte)) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			f(b)
			return
		}
		f(b[:i])
		b = b[i+1:]
	}
}

var errNoSessions = errors.New("this server has no sessions")

// count adds the session's closes and reconnections to m.
func (s *subscriber) count(m *measurement) {
	for k, v := range s.closes {
		m.Closes[k] += v
	}
	for k, v := range s.redialErrors {
		m.RedialErrors[k] += v
	}
	m.Reconnects += s.reconnects
	if s.stalled {
		m.Stalled++
	}
}
