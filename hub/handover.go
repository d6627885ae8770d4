package hub

import (
	"context"
	"time"

	"github.com/carillonhq/carillon"
)

// Handing sessions over between the servers of a cluster
// (docs/sessions.md, "Across the nodes of a cluster").
//
// Positions are in the shared store, but the server a session was on may
// not have written the latest yet: it writes the position of a session
// that ended a few tens of milliseconds later (Run's flush), and it may
// still hold the connection open, not knowing that the client has given
// up on it (a cut that sent it no reset, or one it has not read yet). So:
//
//   - In a cluster, a session's position is in the store, marked Live,
//     before its client is sent SESSION_ESTABLISHED (recordLive), and
//     stays there, refreshed, while the session is open. A Live position
//     says "open on some server", a final one "ended".
//   - A connection that finds its session's position Live asks the other
//     servers, over the bus, to give the session up (Handover). The one
//     holding it, open or ended but not written yet, closes it as it
//     would for a newer connection on itself (4003), writes its position
//     at once and answers (GiveUp). The new connection then reads the
//     position again, and resumes from it.
//   - No answer within HandoverWait means the server that held the
//     session is gone (killed, cut off): the connection resumes from the
//     Live position, its last checkpoint. What the dead server sent after
//     it is sent again (a duplicate), nothing is missed.
//
// A position that is not Live (or none) needs no question: no server
// holds the session, since every server writes a Live position before
// the session starts.

// Handover asks the other servers sharing the store for a session.
type Handover interface {
	// RequestHandover asks every other server to give the session up
	// (GiveUp), and reports whether one answered that it did, by the time
	// ctx ends.
	RequestHandover(ctx context.Context, user, sessionID string) (bool, error)
}

// clustered reports whether sessions are handed over between servers.
func (h *Hub) clustered() bool { return h.tracking() && h.cfg.Handover != nil }

// GiveUp is the answer to another server's RequestHandover: if the hub
// holds the session (user, sessionID), open or ended with its position
// not written yet, it closes it, writes its position to the store and
// reports true; otherwise false, at once.
func (h *Hub) GiveUp(ctx context.Context, user, sessionID string) bool {
	if !h.tracking() {
		return false
	}
	key := sessionKey{user, sessionID}
	h.mu.Lock()
	held := false
	if s := h.byID[key]; s != nil {
		// As for a newer connection on this server (register): the
		// position is taken now, and the session leaves without
		// writing another.
		p := h.positionLocked(s, false)
		p.Saved = h.cfg.Now()
		s.handedOver = true
		h.removeLocked(s)
		s.close(CloseForbidden, "replaced by a newer connection with the same sessionId")
		h.positions[key] = p
		held = true
	} else if _, ok := h.recentPositionLocked(key); ok {
		held = true
	}
	h.mu.Unlock()
	if !held {
		return false
	}
	h.metrics.handovers.WithLabelValues("given").Inc()
	return h.flush(ctx) == nil
}

// askHandover asks the other servers for the session (user, sessionID)
// when its stored position says a server may hold it, and this one does
// not: it reports whether it asked, and the position must be read again.
// Even without an answer: the server that held the session may have
// written its position between the first read and the question, and
// then has nothing left to give up.
func (h *Hub) askHandover(ctx context.Context, rs *resumeRequest, user, sessionID string) bool {
	if !h.clustered() || rs.stored == nil || !rs.stored.Live {
		return false
	}
	key := sessionKey{user, sessionID}
	h.mu.Lock()
	_, recent := h.recentPositionLocked(key)
	local := recent || h.byID[key] != nil
	h.mu.Unlock()
	if local {
		return false // register takes it over here
	}
	wait, cancel := context.WithTimeout(ctx, h.cfg.HandoverWait)
	defer cancel()
	ok, err := h.cfg.Handover.RequestHandover(wait, user, sessionID)
	switch {
	case ok:
		h.metrics.handovers.WithLabelValues("received").Inc()
		return true
	case err != nil && ctx.Err() == nil:
		h.log.Warn("asking the other servers for a session", "user", user, "session_id", sessionID, "cause", err)
	}
	// Nobody holds it: its server is gone, and the Live position is its
	// last checkpoint.
	h.metrics.handovers.WithLabelValues("unanswered").Inc()
	h.log.Info("no server answered for a session: it resumes from what the store has", "user", user, "session_id", sessionID)
	return true
}

// recordLive writes the position of s, just registered, to the store as
// Live before its client learns it is established: from then on, a
// connection of the same session on another server knows to ask this one
// for it (askHandover). A failure to write is logged; the session goes on
// (a reconnection elsewhere would then resume from an older position, or
// none).
func (h *Hub) recordLive(ctx context.Context, s *session) {
	if !h.clustered() {
		return
	}
	key := sessionKey{s.user, s.id}
	h.mu.Lock()
	if h.byID[key] != s {
		h.mu.Unlock()
		return
	}
	// It replaces a position of the session's previous connection still
	// waiting to be written: this one is where that one left off.
	p := h.positionLocked(s, true)
	p.Saved = h.cfg.Now()
	h.positions[key] = p
	h.liveSaved[key] = p.Saved
	h.mu.Unlock()
	if err := h.flush(ctx); err != nil && ctx.Err() == nil {
		h.log.Warn("writing a new session's position", "user", s.user, "session_id", s.id, "cause", err)
	}
}

// refreshDueLocked reports whether the Live position of an open session that
// has not changed must still be written again, so that it is not taken
// for one a dead server left (expire deletes those older than twice the
// window).
func (h *Hub) refreshDueLocked(key sessionKey, now time.Time) bool {
	if !h.clustered() {
		return false
	}
	saved, ok := h.liveSaved[key]
	return !ok || now.Sub(saved) >= h.cfg.ResumeWindow/2
}

// withinWindow reports whether a position may be resumed from now: one
// that ended within the window, or a Live one (the session was open when
// it was written, and its server is gone, or answered: it ended lately).
func (h *Hub) withinWindow(p *carillon.SessionPosition) bool {
	if p.Live && h.clustered() {
		return true
	}
	return h.cfg.Now().Sub(p.Saved) <= h.cfg.ResumeWindow
}
