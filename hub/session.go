package hub

import (
	"errors"
	"net"
	"sync"
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

// session is one websocket connection of a user. The hub enqueues frames
// without ever blocking; one writer goroutine per session drains the
// queue, so a slow socket delays only itself, and a socket whose backlog
// exceeds maxBytes is closed rather than allowed to grow without bound.
type session struct {
	user, id string
	conn     *websocket.Conn
	hub      *Hub
	// after is the outbox position of the session's membership snapshot:
	// events up to it predate the session. Guarded by hub.mu.
	after int64

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

	wake chan struct{}
}

type queued struct {
	frame []byte
	// at is when the event committed, for the delivery latency metric;
	// zero for frames the hub makes itself.
	at time.Time
	// counted is whether the frame counts against maxBytes: event frames
	// do, the frames a session starts with (SESSION_ESTABLISHED, the
	// prefetch) do not.
	counted bool
}

func newSession(h *Hub, user, id string, conn *websocket.Conn, maxBytes int) *session {
	return &session{user: user, id: id, conn: conn, hub: h, maxBytes: maxBytes,
		wake: make(chan struct{}, 1)}
}

// enqueue adds an event frame; it never blocks. When the frame would
// take the backlog (queued and being written) beyond maxBytes, the
// backlog is dropped and the session is closed with 4429; a frame bigger
// than maxBytes is still sent when nothing else is pending. It reports
// false when the frame will not be sent.
func (s *session) enqueue(frame []byte, at time.Time) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return false
	}
	if s.bytes > 0 && s.bytes+len(frame) > s.maxBytes {
		dropped := len(s.queue) + 1
		s.queue, s.bytes = nil, 0
		s.closing, s.flush = true, false
		s.closeCode, s.closeText = CloseSlowConsumer, "slow consumer: too many pending events"
		s.mu.Unlock()
		s.hub.metrics.slowConsumerCloses.Inc()
		s.hub.metrics.queueDrops.Add(float64(dropped))
		s.hub.log.Info("slow consumer closed", "user", s.user, "session_id", s.id)
		s.signal()
		return false
	}
	s.queue = append(s.queue, queued{frame: frame, at: at, counted: true})
	s.bytes += len(frame)
	s.mu.Unlock()
	s.signal()
	return true
}

// begin puts the frames the session starts with ahead of any event
// queued since it registered. They do not count against maxBytes: a
// prefetch may be larger than the bound.
func (s *session) begin(frames [][]byte) {
	first := make([]queued, 0, len(frames))
	for _, f := range frames {
		first = append(first, queued{frame: f})
	}
	s.mu.Lock()
	s.queue = append(first, s.queue...)
	s.mu.Unlock()
	s.signal()
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// close asks the writer to send a close frame and stop; what is queued
// is dropped.
func (s *session) close(code int, text string) {
	s.mu.Lock()
	if !s.closing {
		s.closing, s.closeCode, s.closeText = true, code, text
	}
	s.flush = false
	s.mu.Unlock()
	s.signal()
}

// closeAfterQueue asks the writer to send what is queued, then a close
// frame, and stop.
func (s *session) closeAfterQueue(code int, text string) {
	s.mu.Lock()
	if !s.closing {
		s.closing, s.flush, s.closeCode, s.closeText = true, true, code, text
	}
	s.mu.Unlock()
	s.signal()
}

// take returns the pending frames, and closing when the writer must stop
// after writing them.
func (s *session) take() (frames []queued, closing bool, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing || s.flush {
		frames, s.queue = s.queue, nil
	}
	return frames, s.closing, s.closeCode, s.closeText
}

// written accounts for a frame written, and reports whether the writer
// must stop at once (the session was closed without flushing).
func (s *session) written(f *queued) (stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.counted {
		s.bytes -= len(f.frame)
	}
	return s.closing && !s.flush
}

// stopped marks a session whose writer has ended, so that the hub stops
// queueing for it until it is unregistered.
func (s *session) stopped() {
	s.mu.Lock()
	if !s.closing {
		s.closing, s.closeCode = true, websocket.CloseAbnormalClosure
	}
	s.flush = false
	s.queue, s.bytes = nil, 0
	s.mu.Unlock()
}

// writeLoop is the only goroutine that writes data frames to the
// connection, and the one that closes it when it stops: the read loop
// then ends too.
func (s *session) writeLoop(cfg *Config) {
	defer s.conn.Close()
	defer s.stopped()
	m := s.hub.metrics
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	sendPing := func() error {
		return s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.WriteTimeout))
	}
	for {
		frames, closing, code, text := s.take()
		if closing && len(frames) == 0 {
			_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(cfg.WriteTimeout))
			return
		}
		for i := range frames {
			f := &frames[i]
			_ = s.conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
			if err := s.conn.WriteMessage(websocket.TextMessage, f.frame); err != nil {
				m.writeErrors.Inc()
				return
			}
			m.framesSent.Inc()
			m.bytesSent.Add(float64(len(f.frame)))
			if !f.at.IsZero() {
				m.deliveryLatency.Observe(time.Since(f.at).Seconds())
			}
			if s.written(f) {
				break // closed meanwhile: the close frame comes next
			}
			// A session that always has frames to write still pings, so
			// that the client's pongs keep the read deadline moving.
			select {
			case <-ping.C:
				if err := sendPing(); err != nil {
					return
				}
			default:
			}
		}
		if len(frames) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-ping.C:
			if err := sendPing(); err != nil {
				return
			}
		}
	}
}

// readLoop reads until the connection fails. Clients send no data frames;
// reading is how pongs and the client's close frame are seen. A client
// that misses its pongs for PongTimeout is closed.
func (s *session) readLoop(cfg *Config) {
	s.conn.SetReadLimit(4096)
	_ = s.conn.SetReadDeadline(time.Now().Add(cfg.PongTimeout))
	s.conn.SetPongHandler(func(string) error {
		return s.conn.SetReadDeadline(time.Now().Add(cfg.PongTimeout))
	})
	for {
		if _, _, err := s.conn.ReadMessage(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				s.close(CloseGoingAway, "missed pongs")
			} else {
				s.close(websocket.CloseNormalClosure, "")
			}
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(cfg.PongTimeout))
	}
}
