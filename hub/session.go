package hub

import (
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

	mu       sync.Mutex
	queue    []queued
	bytes    int
	maxBytes int
	closing  bool
	// closeCode/closeText are sent by the writer when it stops.
	closeCode int
	closeText string

	wake chan struct{}
	done chan struct{} // closed when the writer has stopped
}

type queued struct {
	frame []byte
	// at is when the event committed, for the delivery latency metric;
	// zero for frames the hub makes itself.
	at time.Time
}

func newSession(h *Hub, user, id string, conn *websocket.Conn, maxBytes int) *session {
	return &session{user: user, id: id, conn: conn, hub: h, maxBytes: maxBytes,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// enqueue adds a frame; it never blocks. It reports false when the
// session is closing or has just been closed for falling behind.
func (s *session) enqueue(frame []byte, at time.Time) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return false
	}
	if s.bytes+len(frame) > s.maxBytes && len(s.queue) > 0 {
		s.queue, s.bytes = nil, 0
		s.closing, s.closeCode, s.closeText = true, CloseSlowConsumer, "slow consumer: too many pending events"
		s.mu.Unlock()
		s.hub.metrics.slowConsumerCloses.Inc()
		s.hub.metrics.queueDrops.Inc()
		s.signal()
		return false
	}
	s.queue = append(s.queue, queued{frame: frame, at: at})
	s.bytes += len(frame)
	s.mu.Unlock()
	s.signal()
	return true
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// close asks the writer to send a close frame and stop.
func (s *session) close(code int, text string) {
	s.mu.Lock()
	if !s.closing {
		s.closing, s.closeCode, s.closeText = true, code, text
	}
	s.mu.Unlock()
	s.signal()
}

// take returns the pending frames, or closing when the writer must stop.
func (s *session) take() (frames []queued, closing bool, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, true, s.closeCode, s.closeText
	}
	frames = s.queue
	s.queue, s.bytes = nil, 0
	return frames, false, 0, ""
}

// writeLoop is the only goroutine that writes to the connection.
func (s *session) writeLoop(cfg *Config) {
	defer close(s.done)
	defer s.conn.Close()
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	for {
		frames, closing, code, text := s.take()
		if closing {
			deadline := time.Now().Add(cfg.WriteTimeout)
			_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), deadline)
			return
		}
		for _, f := range frames {
			_ = s.conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
			if err := s.conn.WriteMessage(websocket.TextMessage, f.frame); err != nil {
				s.hub.metrics.writeErrors.Inc()
				return
			}
			s.hub.metrics.framesSent.Inc()
			s.hub.metrics.bytesSent.Add(float64(len(f.frame)))
			if !f.at.IsZero() {
				s.hub.metrics.deliveryLatency.Observe(time.Since(f.at).Seconds())
			}
		}
		if len(frames) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.WriteTimeout)); err != nil {
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
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				s.close(CloseGoingAway, "missed pongs")
			} else {
				s.close(websocket.CloseNormalClosure, "")
			}
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(cfg.PongTimeout))
	}
}
