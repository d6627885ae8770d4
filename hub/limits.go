package hub

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// DefaultMaxSessionsPerUser is the default of Config.MaxSessionsPerUser:
// 10, the Amazon Chime SDK's quota of concurrent messaging-session
// connections per user ("Amazon Chime SDK endpoints and quotas", AWS
// General Reference).
const DefaultMaxSessionsPerUser = 10

// Close codes of the limits and of the credentials a session was opened
// with.
const (
	// CloseTooManySessions: the user has MaxSessionsPerUser sessions
	// open already; the client stops (it would be refused again until
	// one of them closes).
	CloseTooManySessions = websocket.ClosePolicyViolation
	// CloseTryAgainLater: the server has MaxSessions sessions open; the
	// client reconnects, with backoff.
	CloseTryAgainLater = websocket.CloseTryAgainLater
	// CloseCredentialsExpired: the key that opened the session expired;
	// the client reconnects, which makes it fetch fresh credentials. (A
	// deleted key closes its sessions with CloseUnauthorized: the client
	// stops.) 4440 echoes HTTP's 440 Login Time-out.
	CloseCredentialsExpired = 4440
)

var errTooManySessions = errors.New("the user has too many messaging sessions")

// limits are the hub's bounds on sessions, and the index of sessions by
// the access key that opened them.
type limits struct {
	open atomic.Int64 // sessions counted against MaxSessions

	mu    sync.Mutex
	byKey map[string]map[*session]struct{}
}

// reserve counts a session in, or reports that MaxSessions are open.
func (h *Hub) reserve() bool {
	if h.lim.open.Add(1) > int64(h.cfg.MaxSessions) {
		h.lim.open.Add(-1)
		return false
	}
	return true
}

func (h *Hub) release() { h.lim.open.Add(-1) }

// admitLocked refuses a session whose user has MaxSessionsPerUser others
// open; one it replaces (same sessionId) does not count.
func (h *Hub) admitLocked(s *session) error {
	n := h.users[s.user].count()
	if old := h.byID[sessionKey{s.user, s.id}]; old != nil {
		n--
	}
	if n >= h.cfg.MaxSessionsPerUser {
		return errTooManySessions
	}
	return nil
}

// watchKey records which per-user key opened s, so that the key's
// deletion closes it, and closes it when the key expires. The returned
// function undoes both; call it when the session ends.
func (h *Hub) watchKey(s *session, key string, expires time.Time) (stop func()) {
	if key == "" {
		return func() {}
	}
	h.lim.mu.Lock()
	if h.lim.byKey == nil {
		h.lim.byKey = map[string]map[*session]struct{}{}
	}
	if h.lim.byKey[key] == nil {
		h.lim.byKey[key] = map[*session]struct{}{}
	}
	h.lim.byKey[key][s] = struct{}{}
	h.lim.mu.Unlock()
	var timer *time.Timer
	if !expires.IsZero() {
		timer = time.AfterFunc(expires.Sub(h.cfg.Now()), func() {
			h.metrics.credentialCloses.WithLabelValues("expired").Inc()
			h.log.Info("session closed: credentials expired", "user", s.user, "session_id", s.id)
			s.close(CloseCredentialsExpired, "credentials expired")
		})
	}
	return func() {
		if timer != nil {
			timer.Stop()
		}
		h.lim.mu.Lock()
		delete(h.lim.byKey[key], s)
		if len(h.lim.byKey[key]) == 0 {
			delete(h.lim.byKey, key)
		}
		h.lim.mu.Unlock()
	}
}

// closeKeyLocked closes, with 4401, the sessions a deleted key opened;
// what was queued for them before the deletion is sent first.
func (h *Hub) closeKeyLocked(key string) {
	h.lim.mu.Lock()
	var closing []*session
	for s := range h.lim.byKey[key] {
		closing = append(closing, s)
	}
	h.lim.mu.Unlock()
	for _, s := range closing {
		h.removeLocked(s)
		s.closeAfterQueue(CloseUnauthorized, "the access key was deleted")
		h.metrics.credentialCloses.WithLabelValues("deleted").Inc()
	}
}
