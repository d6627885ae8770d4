package hub

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Close codes. amazon-chime-sdk-js reconnects on 1001, 1006, 1011–1014
// and on any code above 4000 except 4002, 4003 and 4401
// (DefaultMessagingSession.canReconnect).
const (
	// CloseUnauthorized: the signature is invalid; the client stops.
	CloseUnauthorized = 4401
	// CloseForbidden: the credentials may not act as the user, or a newer
	// connection replaced this one; the client stops.
	CloseForbidden = 4003
	// CloseSlowConsumer: the client did not read fast enough and its
	// backlog was dropped; the client reconnects.
	CloseSlowConsumer = 4429
	// CloseServiceRestart: the server is shutting down; the client
	// reconnects (elsewhere, behind a load balancer).
	CloseServiceRestart = websocket.CloseServiceRestart
	// CloseGoingAway: the client missed its pongs; it reconnects.
	CloseGoingAway = websocket.CloseGoingAway
)

// maxBatch bounds the bytes of frames one write takes from a queue (a
// single frame may be bigger). A batch, with the control frames that may
// precede or follow it, fits one TLS record (16 KiB of plaintext), which
// crypto/tls writes with one system call. A ping or a pong waits for at
// most the batch being written: a client that reads slowly still gets
// its pings, and answers them, in time.
const maxBatch = 16<<10 - 512

// session is one websocket connection of a user. The hub enqueues frames
// without ever blocking. A writer goroutine runs only while there is
// something to write: it takes everything queued (up to maxBatch bytes),
// copies it into one buffer and writes it with one call, so a session
// that fell behind by a hundred events catches up with one system call
// rather than a hundred, and a slow socket delays only itself. A session
// whose backlog exceeds maxBytes is closed rather than allowed to grow
// without bound.
//
// The writer is the only goroutine that writes to conn: the pongs the
// reader owes the client, the hub's pings and the close frame all go
// through the queue's flags, in the writer's next batch.
type session struct {
	user, id string
	conn     net.Conn
	hub      *Hub
	// raw waits for the connection to be readable without reading it;
	// nil where that is not possible (see readable_unix.go).
	raw syscall.RawConn
	// pollID is the session's id in the poller while it is registered
	// there, 0 otherwise. Guarded by the poller's mutex.
	pollID uint32
	// fr parses the client's frames; only the goroutine reading uses it.
	fr frameReader
	// after is the outbox position of the session's membership snapshot:
	// events up to it predate the session. Guarded by hub.mu.
	after int64
	// nextPing is when the hub pings the session next (Unix nanoseconds),
	// and live its index in hub.live, or -1. Guarded by hub.mu.
	nextPing int64
	live     int
	// delivered is the Seq of the last event the hub queued to the
	// session, so that an event reaching it twice is queued once.
	// Guarded by hub.mu.
	delivered int64
	// lastSeen is when the client last sent a frame (Unix nanoseconds):
	// a session that sent nothing, pongs included, for PongTimeout is
	// closed.
	lastSeen atomic.Int64

	mu    sync.Mutex
	queue []queued
	// bytes counts the event frames queued or being written.
	bytes    int
	maxBytes int
	closing  bool
	// flush: the writer sends what is queued before the close frame.
	flush bool
	// closeCode/closeText are sent by the writer when it stops.
	closeCode int
	closeText string
	// ping: a ping is due. pong: a pong is due, with pongData.
	ping, pong bool
	pongData   []byte
	// started: the session's goroutines may run (the connect handler has
	// queued its first frames). writing: a writer goroutine runs. done:
	// the writer has finished. readerDone: the reader returned.
	started, writing, done, readerDone bool
	// parked: no goroutine reads; the poller starts one when the socket
	// becomes readable (poller_linux.go).
	parked bool
	// writeDeadline is the write deadline set last (Unix nanoseconds);
	// only the writer uses it.
	writeDeadline int64
	// lingerUntil bounds the reader's wait for the client's close frame,
	// once the writer has sent the server's.
	lingerUntil time.Time

	// What the client has received, for resuming the session (see
	// resume.go); kept only when track is set.
	track bool
	// sent are the Seqs of the event frames written, or being written,
	// that no pong has confirmed yet, in order; sentBase counts the frames
	// confirmed before them, so that frame i of the session is
	// sent[i-sentBase].
	sent     []int64
	sentBase int64
	// pings are the pings sent, each with the number of event frames
	// written before it: its pong confirms them. pingID numbers them;
	// pingMark is the mark of the latest, lastPing its time (Unix
	// nanoseconds), confirmTimer the pending confirmation ping.
	pings        [maxPings]pingMark
	pingID       uint64
	pingMark     int64
	lastPing     int64
	confirmTimer *time.Timer
	// dropped are the Seqs of event frames that were queued or addressed
	// to the session but will never be written: the backlog of a slow
	// consumer, what was queued when the session closed, and what came
	// while it was closing.
	dropped []int64
	// closeMark is the number of event frames written before the close
	// frame (-1 until it is written), closeSent its code: the client's
	// answer with the same code confirms every one of them.
	closeMark int64
	closeSent int
	// clientClose is the code of the client's close frame when the client
	// closed first, 0 otherwise.
	clientClose int
	// forget: the session ends without a position to resume from.
	forget bool
	// handedOver: a newer connection took its position over. Guarded by
	// hub.mu.
	handedOver bool
	// enqueued counts the event frames queued, for checkpoints.
	enqueued int64
	// replay is the catch-up of a resumed session, until it hands over to
	// live delivery; replaying is read and written under hub.mu.
	replay    *replay
	replaying bool
	// audVersion counts the changes of the user's audiences the hub
	// applied while the session was registered, and saved what the last
	// checkpoint wrote (-1: none yet): a checkpoint is written only when
	// something changed. Guarded by hub.mu.
	audVersion, savedVersion int64
	// roomWait, when set, is closed once the backlog is below half of
	// maxBytes: the replay waits on it.
	roomWait chan struct{}
	// onEnd, set by the connect handler before the session starts, runs
	// once it has ended: it gives back what the limits counted for it
	// (limits.go).
	onEnd func()
}

// maxPings is how many pings a session remembers: a pong for an older one
// confirms nothing (a later pong will).
const maxPings = 8

type pingMark struct {
	id   uint64
	mark int64
}

type queued struct {
	// frame is the complete websocket frame, header included, shared by
	// every session the event goes to.
	frame []byte
	// seq is the event's outbox position; zero for the frames the hub
	// makes itself.
	seq int64
	// at is when the event committed, for the delivery latency metric;
	// zero for frames the hub makes itself.
	at time.Time
	// counted is whether the frame counts against maxBytes: event frames
	// do, the frames a session starts with (SESSION_ESTABLISHED, the
	// prefetch) do not.
	counted bool
}

func newSession(h *Hub, user, id string, conn net.Conn, maxBytes int) *session {
	return &session{user: user, id: id, conn: conn, hub: h, maxBytes: maxBytes, live: -1,
		track: h.tracking(), closeMark: -1, savedVersion: -1}
}

// enqueue adds the frame of the event at outbox position seq; it never
// blocks. When the frame would take the backlog (queued and being
// written) beyond maxBytes, the backlog is dropped and the session is
// closed with 4429; a frame bigger than maxBytes is still sent when
// nothing else is pending. It reports false when the frame will not be
// sent.
func (s *session) enqueue(frame []byte, seq int64, at time.Time) bool {
	s.mu.Lock()
	if s.closing {
		s.dropLocked(seq)
		s.mu.Unlock()
		return false
	}
	if s.bytes > 0 && s.bytes+len(frame) > s.maxBytes {
		dropped := len(s.queue) + 1
		s.dropQueueLocked()
		s.dropLocked(seq)
		s.queue, s.bytes = nil, 0
		s.closing, s.flush = true, false
		s.closeCode, s.closeText = CloseSlowConsumer, "slow consumer: too many pending events"
		s.writeLocked()
		s.mu.Unlock()
		s.hub.metrics.slowConsumerCloses.Inc()
		s.hub.metrics.queueDrops.Add(float64(dropped))
		s.hub.log.Info("slow consumer closed", "user", s.user, "session_id", s.id)
		return false
	}
	if s.queue == nil {
		s.queue = getQueue()
	}
	s.queue = append(s.queue, queued{frame: frame, seq: seq, at: at, counted: true})
	s.bytes += len(frame)
	s.enqueued++
	s.writeLocked()
	s.mu.Unlock()
	return true
}

// dropLocked records that the event frame at seq will not be written.
func (s *session) dropLocked(seq int64) {
	if s.track && seq > 0 {
		s.dropped = append(s.dropped, seq)
	}
}

// dropQueueLocked records that nothing queued will be written.
func (s *session) dropQueueLocked() {
	for i := range s.queue {
		s.dropLocked(s.queue[i].seq)
	}
}

// begin puts the frames the session starts with ahead of any event
// queued since it registered. They do not count against maxBytes: a
// prefetch may be larger than the bound.
func (s *session) begin(frames [][]byte) {
	s.mu.Lock()
	first := make([]queued, 0, len(frames)+len(s.queue))
	for _, f := range frames {
		first = append(first, queued{frame: f})
	}
	s.queue = append(first, s.queue...)
	s.writeLocked()
	s.mu.Unlock()
}

// start lets the writer run (with what begin queued), and starts the
// reader: the connect handler then returns, and its goroutine, with the
// deep stack and the buffers of the HTTP request, ends.
func (s *session) start() {
	s.raw = rawConn(s.conn)
	s.lastSeen.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.started = true
	s.writeLocked()
	// Parked in the poller, an idle session holds no goroutine; without
	// one, it has a reader goroutine for its whole life.
	if p := sharedPoller(); p != nil && s.raw != nil && p.add(s) {
		s.parked = true
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	go s.readLoop()
}

// pollReady starts a goroutine to read what arrived on the socket of a
// parked session.
func (s *session) pollReady() {
	s.mu.Lock()
	parked := s.parked
	s.parked = false
	s.mu.Unlock()
	if parked {
		go s.readPolled()
	}
}

// readPolled reads what arrived, then parks the session again, unless it
// is ending: then it goes on as the reading goroutine of readLoop, which
// waits for the client's close frame until the linger ends.
func (s *session) readPolled() {
	p := sharedPoller()
	if err := s.readAvailable(&s.fr); err != nil {
		p.remove(s)
		s.readerEnded(closeFor(err))
		return
	}
	s.mu.Lock()
	if !s.done {
		if p.arm(s) {
			s.parked = true
			s.mu.Unlock()
			return
		}
	}
	s.mu.Unlock()
	p.remove(s)
	s.readLoop()
}

// writeLocked starts a writer if the session has something to write and
// none runs.
func (s *session) writeLocked() {
	if !s.started || s.writing || s.done {
		return
	}
	if len(s.queue) == 0 && !s.ping && !s.pong && !s.closing {
		return
	}
	s.writing = true
	go s.writeLoop()
}

// close asks the writer to send a close frame and stop; what is queued
// is dropped.
func (s *session) close(code int, text string) {
	s.mu.Lock()
	if !s.closing {
		s.closing, s.closeCode, s.closeText = true, code, text
	}
	s.flush = false
	s.writeLocked()
	s.mu.Unlock()
}

// closeAfterQueue asks the writer to send what is queued, then a close
// frame, and stop.
func (s *session) closeAfterQueue(code int, text string) {
	s.mu.Lock()
	if !s.closing {
		s.closing, s.flush, s.closeCode, s.closeText = true, true, code, text
	}
	s.writeLocked()
	s.mu.Unlock()
}

// sendPing asks the writer for a ping.
func (s *session) sendPing() {
	s.mu.Lock()
	if !s.closing {
		s.ping = true
		s.writeLocked()
	}
	s.mu.Unlock()
}

// sendPong asks the writer to answer the client's ping. Only the latest
// ping is answered when several arrive before the writer runs, which RFC
// 6455 (section 5.5.3) allows.
func (s *session) sendPong(data []byte) {
	s.mu.Lock()
	if !s.closing {
		s.pong, s.pongData = true, data
		s.writeLocked()
	}
	s.mu.Unlock()
}

// batch is what one write sends: the control frames due, the frames
// taken from the queue, and the close frame when the session ends with
// this write.
type batch struct {
	ping, pong bool
	pingID     uint64
	pongData   []byte
	frames     []queued
	// recycle, when not nil, is the rest of the queue's array from
	// frames on, which nothing else holds: putQueue takes it back once
	// the frames are written.
	recycle []queued
	// closing: the close frame ends the batch.
	closing bool
	code    int
	text    string
	empty   bool
}

// take returns the next batch. When there is nothing to write it
// returns an empty batch, and the writer ends: the next
// frame queued starts another.
func (s *session) take() (b batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		s.writing = false
		return batch{empty: true}
	}
	if !s.closing {
		// Once closing, pings and pongs are moot, and a ping would have
		// the client answer while the server closes.
		b.ping, b.pong, b.pongData = s.ping, s.pong, s.pongData
	}
	s.ping, s.pong, s.pongData = false, false, nil
	if s.closing && !s.flush {
		s.dropQueueLocked()
		s.queue = nil // dropped: only the close frame goes
	} else {
		n, size := 0, 0
		for n < len(s.queue) && (n == 0 || size+len(s.queue[n].frame) <= maxBatch) {
			size += len(s.queue[n].frame)
			n++
		}
		b.frames = s.queue[:n:n]
		if n == len(s.queue) {
			// The batch holds the last of the array: the writer
			// recycles it once written.
			b.recycle = s.queue[:0:cap(s.queue)]
			s.queue = nil
		} else {
			s.queue = s.queue[n:]
		}
	}
	if s.track {
		for i := range b.frames {
			if seq := b.frames[i].seq; seq > 0 {
				s.sent = append(s.sent, seq)
			}
		}
		if !s.closing {
			b.ping = s.confirmLocked(b.ping)
		}
	}
	if b.ping {
		b.pingID = s.pingLocked()
	}
	if s.closing && len(s.queue) == 0 {
		b.closing, b.code, b.text = true, s.closeCode, s.closeText
		if s.track {
			s.closeMark, s.closeSent = s.sentBase+int64(len(s.sent)), s.closeCode
		}
	}
	if !b.ping && !b.pong && len(b.frames) == 0 && !b.closing {
		s.writing = false
		b.empty = true
	}
	return b
}

// confirmLocked decides whether the batch ends with a ping that asks the
// client to confirm the frames written so far: when some are not covered
// by a ping yet and the last ping is at least ConfirmInterval old. When
// it is too early, a timer sends the ping later, so that the frames
// written last are confirmed too once the session is quiet.
func (s *session) confirmLocked(ping bool) bool {
	if ping || s.sentBase+int64(len(s.sent)) <= s.pingMark {
		return ping
	}
	interval := int64(s.hub.cfg.ConfirmInterval)
	wait := s.lastPing + interval - time.Now().UnixNano()
	if wait <= 0 {
		return true
	}
	if s.confirmTimer == nil {
		s.confirmTimer = time.AfterFunc(time.Duration(wait), s.confirmDue)
	}
	return false
}

// confirmDue asks the writer for the ping confirmLocked put off.
func (s *session) confirmDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.confirmTimer = nil
	if !s.closing && s.sentBase+int64(len(s.sent)) > s.pingMark {
		s.ping = true
		s.writeLocked()
	}
}

// pingLocked numbers a ping that follows the frames of the batch.
func (s *session) pingLocked() uint64 {
	s.pingID++
	mark := s.sentBase + int64(len(s.sent))
	s.pings[s.pingID%maxPings] = pingMark{s.pingID, mark}
	s.pingMark, s.lastPing = mark, time.Now().UnixNano()
	return s.pingID
}

// pongReceived confirms the event frames written before the ping the
// client answers. Pongs whose payload is not one of the session's pings
// (a client may send them unasked, RFC 6455 section 5.5.3) confirm
// nothing.
func (s *session) pongReceived(payload []byte) {
	if len(payload) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pings[id%maxPings]; p.id == id && id != 0 {
		s.confirmedLocked(p.mark)
	}
}

// confirmedLocked records that the client received the first mark event
// frames of the session.
func (s *session) confirmedLocked(mark int64) {
	if n := mark - s.sentBase; n > 0 {
		n = min(n, int64(len(s.sent)))
		s.sent = s.sent[n:]
		s.sentBase += n
		if len(s.sent) == 0 {
			s.sent = nil // an idle session keeps no array
		}
	}
}

// closeReceived records the client's close frame: the answer to the
// server's, which confirms every frame written before it, or the client
// closing first.
func (s *session) closeReceived(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closeMark >= 0 && code == s.closeSent:
		s.confirmedLocked(s.closeMark)
	case s.closeMark < 0 && !s.closing:
		s.clientClose = code
	}
}

// unconfirmedLocked reports whether some event frames written may not
// have reached the client.
func (s *session) unconfirmedLocked() bool { return len(s.sent) > 0 }

// written accounts for the frames of a batch written.
func (s *session) written(frames []queued) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range frames {
		if frames[i].counted {
			s.bytes -= len(frames[i].frame)
		}
	}
	if s.roomWait != nil && s.bytes <= s.maxBytes/2 {
		close(s.roomWait)
		s.roomWait = nil
	}
}

// queues recycle the arrays of the sessions' queues. A queue is nil
// while its session is idle, so that an idle session holds none, and a
// burst of events makes one afresh: making them was 42% of the bytes the
// server allocated under the send load with 100 members, and the
// collections they caused cost more than the allocations
// (docs/performance.md, "Fewer bytes to collect").
var queues = sync.Pool{New: func() any { q := make([]queued, 0, 8); return &q }}

// maxRecycledQueue bounds the arrays kept: a backlog's big array goes.
const maxRecycledQueue = 256

func getQueue() []queued { return *queues.Get().(*[]queued) }

// putQueue takes back an empty queue whose elements are all zero.
func putQueue(q []queued) {
	if cap(q) == 0 || cap(q) > maxRecycledQueue {
		return
	}
	q = q[:0]
	queues.Put(&q)
}

// batchBuffers hold batches while they are written; a session holds
// none between writes.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeLoop writes batches until there is nothing left to write, or the
// session ends: after its close frame, or when a write fails, it closes
// the connection, which ends the reader too. The write deadline is set
// at most once per batch.
func (s *session) writeLoop() {
	m, cfg := s.hub.metrics, &s.hub.cfg
	// No yield before the first batch (runtime.Gosched): it made fan-out
	// writes bigger, but under a saturated core a writer that yields waits
	// behind every runnable request, its queue fills, and its session is
	// closed as a slow consumer (docs/performance.md, "The session hub").
	for {
		b := s.take()
		if b.empty {
			return
		}
		var out []byte
		var pooled *[]byte
		if len(b.frames) == 1 && !b.ping && !b.pong && !b.closing {
			// One frame alone is written as it is: no copy.
			out = b.frames[0].frame
		} else {
			pooled = batchBuffers.Get().(*[]byte)
			out = (*pooled)[:0]
			if b.pong {
				out = appendControl(out, opPong, b.pongData)
			}
			for i := range b.frames {
				out = append(out, b.frames[i].frame...)
			}
			if b.ping {
				// After the frames: its pong confirms them.
				out = binary.BigEndian.AppendUint64(appendHeader(out, opPing, 8), b.pingID)
			}
			if b.closing {
				out = appendClose(out, b.code, b.text)
			}
		}
		s.renewWriteDeadline(cfg.WriteTimeout)
		_, err := s.conn.Write(out)
		if pooled != nil {
			if cap(out) <= 4*maxBatch {
				*pooled = out[:0]
				batchBuffers.Put(pooled)
			}
		}
		if err != nil {
			m.writeErrors.Inc()
			s.finish(false)
			return
		}
		m.writes.Inc()
		if len(b.frames) > 0 {
			now := time.Now()
			bytes := 0
			for i := range b.frames {
				f := &b.frames[i]
				bytes += len(f.frame)
				if !f.at.IsZero() {
					m.deliveryLatency.Observe(now.Sub(f.at).Seconds())
				}
			}
			m.framesSent.Add(float64(len(b.frames)))
			m.bytesSent.Add(float64(bytes))
			s.written(b.frames)
			// Written: the array no longer holds the frames, whether it
			// is recycled now or with a later batch.
			clear(b.frames)
		}
		if b.recycle != nil {
			putQueue(b.recycle)
		}
		if b.closing {
			s.finish(true)
			return
		}
	}
}

// renewWriteDeadline gives the next write at least timeout. Setting a
// deadline updates a runtime timer, which costs about as much as the
// rest of a small write's bookkeeping: a session written to many times a
// second renews it only when less than timeout is left, for timeout and
// a quarter, so at most every quarter of timeout. Only the writer calls
// it.
func (s *session) renewWriteDeadline(timeout time.Duration) {
	now := time.Now().UnixNano()
	if s.writeDeadline-now >= int64(timeout) {
		return
	}
	s.writeDeadline = now + int64(timeout+timeout/4)
	_ = s.conn.SetWriteDeadline(time.Unix(0, s.writeDeadline))
}

// closeLinger is how long a session waits, after its close frame, for
// the client's (RFC 6455, section 5.5.1: each side sends one, then the
// server closes the TCP connection). Closing at once would make the
// kernel answer anything the client sends meanwhile (a pong, its own
// close frame) with a reset, which can discard what the client has not
// read yet: the last events and the close frame itself.
const closeLinger = time.Second

// resumeLinger is closeLinger for a session whose last frames the client
// has not confirmed: the client's close frame, or its pongs, tell which
// of them it received, so that a resumed session gets them again only if
// it may not have.
const resumeLinger = 5 * time.Second

// drainLinger is how long the reader goes on after a failed write, to
// read the confirmations that arrived before the failure.
const drainLinger = 200 * time.Millisecond

// stopTimersLocked stops the confirmation timer and wakes a replay
// waiting for room: nothing more is written.
func (s *session) stopTimersLocked() {
	if s.confirmTimer != nil {
		s.confirmTimer.Stop()
		s.confirmTimer = nil
	}
	if s.roomWait != nil {
		close(s.roomWait)
		s.roomWait = nil
	}
	if s.replay != nil {
		s.replay.cancel()
	}
}

// finish ends the writer: nothing more is queued nor written. After the
// close frame (closed), the reader goes on until the client's close
// frame, the end of the stream or closeLinger, then closes the
// connection; after a failed write, the connection is closed at once.
// Whichever of the reader and the writer ends last removes the session.
// While frames written are not confirmed, the linger is resumeLinger: a
// client that reads slowly still answers, and each pong it sends on the
// way confirms more.
func (s *session) finish(closed bool) {
	s.mu.Lock()
	if !s.closing {
		s.closing, s.closeCode = true, websocket.CloseAbnormalClosure
	}
	s.flush = false
	s.dropQueueLocked()
	s.queue, s.bytes = nil, 0
	s.ping, s.pong, s.pongData = false, false, nil
	s.done, s.writing = true, false
	s.stopTimersLocked()
	last := s.readerDone
	// After a failed write the reader still reads what has arrived (the
	// pongs of a client that reset the connection come before its reset),
	// briefly, when it matters: when frames are not confirmed.
	drain := !closed && s.unconfirmedLocked()
	if (closed || drain) && !last {
		linger := closeLinger
		switch {
		case drain:
			linger = drainLinger
		case s.unconfirmedLocked():
			linger = resumeLinger
		}
		s.lingerUntil = time.Now().Add(linger)
		_ = s.conn.SetReadDeadline(s.lingerUntil)
	}
	// A parked session has no reader to linger or to see the connection
	// close: one starts.
	takeOver := s.parked
	s.parked = false
	s.mu.Unlock()
	if takeOver {
		sharedPoller().remove(s)
		go s.readLoop()
	}
	if last || (!closed && !drain) {
		s.conn.Close()
	}
	if last {
		s.end()
	}
}

// setReadDeadline sets the reader's deadline, or the end of the linger
// after the close frame if that comes first.
func (s *session) setReadDeadline(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lingerUntil.IsZero() && (t.IsZero() || t.After(s.lingerUntil)) {
		t = s.lingerUntil
	}
	_ = s.conn.SetReadDeadline(t)
}

// readerEnded is the reader's last act: the writer sends a close frame
// (with code and text unless the session was already closing), then
// closes the connection; or, if the writer has finished, the reader
// closes it. Whichever of the two ends last removes the session.
func (s *session) readerEnded(code int, text string) {
	s.close(code, text)
	s.mu.Lock()
	s.readerDone = true
	last := s.done
	s.mu.Unlock()
	if last {
		s.conn.Close()
		s.end()
	}
}

// end removes the ended session from the hub.
func (s *session) end() {
	s.hub.unregister(s)
	s.hub.exit(s.conn)
	if s.onEnd != nil {
		s.onEnd()
	}
}
