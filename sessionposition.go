package carillon

import "time"

// SessionPosition is where a messaging session stopped: what a new
// connection with the same AppInstanceUser (or bot) and sessionId needs
// to receive every event it would have received in between
// (docs/sessions.md). Package hub writes one when a session ends, and
// checkpoints open sessions; storing it, rather than keeping it in one
// server's memory, lets a session resume after a restart, and on another
// node of a cluster.
type SessionPosition struct {
	UserARN, SessionID string
	// Seq is the outbox position the rest is as of: every event up to Seq
	// addressed to the session reached it, except those in Pending.
	Seq int64
	// Pending are the Seqs, ascending and at most Seq, of the events
	// addressed to the session that it may not have received.
	Pending []int64
	// Audiences are the session's audiences as of Seq: the Event.Channel
	// values (channel ARNs, or sub-channel audiences of elastic channels)
	// whose ToMembers events reach its user.
	Audiences []string
	// Saved is when the position was written (the transaction's time); a
	// session resumes from it only within the resume window after it.
	Saved time.Time
	// Live: a checkpoint of a session that was still open.
	Live bool
}

// Hold is the highest outbox position through which a resume from p
// needs no event: Seq, or the Seq before its first pending event.
func (p *SessionPosition) Hold() int64 {
	if len(p.Pending) > 0 && p.Pending[0]-1 < p.Seq {
		return p.Pending[0] - 1
	}
	return p.Seq
}

// SessionPositionTx stores session positions, one per (UserARN,
// SessionID). They belong to no resource: a position whose user was
// deleted is never read again, and expires with the others.
type SessionPositionTx interface {
	// PutSessionPosition inserts or replaces the position of (p.UserARN,
	// p.SessionID), saved at the transaction's time (Saved is ignored).
	PutSessionPosition(p *SessionPosition) error
	// GetSessionPosition returns the position of (userARN, sessionID), or
	// ErrNotFound.
	GetSessionPosition(userARN, sessionID string) (*SessionPosition, error)
	// DeleteSessionPosition deletes the position of (userARN, sessionID),
	// if there is one.
	DeleteSessionPosition(userARN, sessionID string) error
	// DeleteSessionPositionsBefore deletes up to limit positions saved
	// before t (strictly), the oldest first, and returns how many it
	// deleted.
	DeleteSessionPositionsBefore(t time.Time, limit int) (int, error)
	// SessionPositionsHold returns the lowest Hold of the positions saved
	// at or after since and not Live; ok is false when there is none.
	// The outbox keeps the events after it (bus.Relay.Hold).
	SessionPositionsHold(since time.Time) (seq int64, ok bool, err error)
	// EndLiveSessionPositions marks every Live position as no longer
	// live, saved at the transaction's time, and returns how many it
	// changed: after a server stopped without closing its sessions, their
	// last checkpoints become positions to resume from.
	EndLiveSessionPositions() (int, error)
}
