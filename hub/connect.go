package hub

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon"
)

// Authenticator verifies a presigned connect URL. host is the host:port
// the client was told to sign (the messaging session endpoint); skew is
// tolerated on both sides of the URL's validity.
type Authenticator interface {
	AuthenticatePresigned(r *http.Request, host string, skew time.Duration) (carillon.Caller, error)
}

// Source gives the hub what it needs from the store when a user connects.
type Source interface {
	// Snapshot returns the channels user is a member of and the outbox
	// position (the Seq of the last committed event) the answer reflects.
	// ErrUnknownUser when user is not an existing user or bot.
	Snapshot(ctx context.Context, user string) (channels []string, seq int64, err error)
	// Prefetch returns the CHANNEL_DETAILS payloads of prefetch-on=connect,
	// sorted by sortBy ("unread" or "last-message-timestamp").
	Prefetch(ctx context.Context, user, sortBy string) ([][]byte, error)
}

// ErrUnknownUser is returned by Source.Snapshot for a userArn that names
// no user or bot.
var ErrUnknownUser = errors.New("unknown user")

var errShuttingDown = errors.New("hub: shutting down")

// Endpoint serves GET /connect.
type Endpoint struct {
	Hub    *Hub
	Auth   Authenticator
	Source Source
	// Host returns the host:port handed out as the messaging session
	// endpoint, which connect URLs are signed for.
	Host func() string
	// CheckOrigin, when set, says whether the Origin of the request (a
	// browser page's) may open a session; a refused one is closed with
	// 4003. Nil allows every origin.
	CheckOrigin func(*http.Request) bool
}

// upgrader answers the websocket handshake. Only the handshake: the
// session then reads and writes frames on the connection itself (see the
// package documentation). With no buffer sizes, it reuses the HTTP
// server's buffers for the handshake instead of allocating its own.
var upgrader = websocket.Upgrader{
	// Browsers connect from the application's origin, which is not this
	// server's; the presigned URL is the authentication, as on AWS.
	// Endpoint.CheckOrigin applies the allowed origins after the upgrade,
	// so that the client learns why with a close code.
	CheckOrigin: func(*http.Request) bool { return true },
}

// ServeHTTP upgrades the connection, then either closes it with 4401
// (bad signature) or 4003 (forbidden), or sends SESSION_ESTABLISHED once
// the session receives its channels' events, followed by the prefetch.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := e.Hub
	q := r.URL.Query()
	// Copies: a value the query did not escape is a slice of the request
	// line, which the session would otherwise keep for its whole life.
	user, sessionID := strings.Clone(q.Get("userArn")), strings.Clone(q.Get("sessionId"))
	host := ""
	if e.Host != nil {
		host = e.Host()
	}
	caller, authErr := e.Auth.AuthenticatePresigned(r, host, h.cfg.ConnectSkew)
	originOK := e.CheckOrigin == nil || e.CheckOrigin(r)

	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	// The websocket's connection (a *tls.Conn for wss). Nothing reads
	// from it yet: the upgrader has buffered nothing beyond the request.
	conn := ws.NetConn()
	reject := func(code int, text, result string, cause error) {
		h.metrics.connects.WithLabelValues(result).Inc()
		h.log.Info("connect refused", "user", user, "session_id", sessionID, "code", code, "cause", cause)
		_ = conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		_, _ = conn.Write(appendClose(nil, code, text))
		conn.Close()
	}
	if !h.enter(conn) {
		reject(CloseServiceRestart, "server restarting", "error", errShuttingDown)
		return
	}
	switch {
	case !originOK:
		reject(CloseForbidden, "Forbidden", "forbidden", errors.New("origin not allowed: "+r.Header.Get("Origin")))
		h.exit(conn)
		return
	case authErr != nil:
		reject(CloseUnauthorized, "Unauthorized", "unauthorized", authErr)
		h.exit(conn)
		return
	case user == "":
		reject(CloseForbidden, "userArn is required", "forbidden", nil)
		h.exit(conn)
		return
	case !caller.MayActAs(user):
		reject(CloseForbidden, "Forbidden", "forbidden", errors.New("the credentials may not act as this user"))
		h.exit(conn)
		return
	}

	ctx := r.Context()
	if !h.reserve() {
		reject(CloseTryAgainLater, "too many messaging sessions; try again later", "over_session_limit", nil)
		h.exit(conn)
		return
	}
	s := newSession(h, user, sessionID, conn, h.cfg.QueueBytes)
	rs, err := e.resumeRequest(ctx, user, sessionID, q.Get(paramResumeAfter))
	if err != nil {
		h.release()
		reject(websocket.CloseInternalServerErr, "internal error", "error", err)
		h.exit(conn)
		return
	}
	start, err := e.register(ctx, s, rs)
	if err != nil {
		h.release()
		switch {
		case errors.Is(err, errTooManySessions):
			reject(CloseTooManySessions, "too many messaging sessions for this user", "over_user_limit", err)
		case errors.Is(err, ErrUnknownUser):
			reject(CloseForbidden, "Forbidden", "forbidden", err)
		case errors.Is(err, errShuttingDown):
			reject(CloseServiceRestart, "server restarting", "error", err)
		default:
			reject(websocket.CloseInternalServerErr, "internal error", "error", err)
		}
		h.exit(conn)
		return
	}
	// The session is in the hub and receives events from its snapshot
	// on. Whatever happens now, its goroutines run: the writer sends the
	// close frame and closes the connection, which ends the reader, and
	// the last of them to end removes the session.
	var first [][]byte
	if s.replay == nil {
		first = append(first, wireFrame(eventSessionEstablished, "SYSTEM", "", start, nil))
	}
	result := "established"
	// A per-user key's sessions close when it expires or is deleted. The
	// key is looked up again once the session is watched: a deletion
	// committed since the first look closes the session here, and any
	// later one through the hub. When the session ends, it stops being
	// watched and counted (limits.go).
	unwatch := func() {}
	if !caller.Root {
		unwatch = h.watchKey(s, caller.AccessKeyID, caller.Expires)
		if _, err := e.Auth.AuthenticatePresigned(r, host, h.cfg.ConnectSkew); err != nil {
			h.log.Info("connect refused", "user", user, "session_id", sessionID, "code", CloseUnauthorized, "cause", err)
			s.close(CloseUnauthorized, "Unauthorized")
			result = "unauthorized"
		}
	}
	s.onEnd = func() {
		unwatch()
		h.release()
	}
	if q.Get("prefetch-on") == "connect" && result == "established" {
		// Taken after register, the prefetch reflects at least every
		// event the session does not receive.
		payloads, err := e.Source.Prefetch(ctx, user, q.Get("prefetch-sort-by"))
		if err != nil {
			result = "error"
			h.log.Error("prefetch", "user", user, "session_id", sessionID, "cause", err)
			s.close(websocket.CloseInternalServerErr, "prefetch failed")
		}
		for _, p := range payloads {
			first = append(first, wireFrame(eventChannelDetails, "SYSTEM", "", 0, p))
		}
	}
	h.metrics.connects.WithLabelValues(result).Inc()
	if result == "established" {
		h.recordLive(ctx, s)
	}
	if r := s.replay; r != nil {
		// The replay sends SESSION_ESTABLISHED, what the session missed,
		// the prefetch, then hands over to live delivery.
		r.prefetch = first
		h.log.Debug("session resuming", "user", user, "session_id", sessionID)
		s.start()
		h.watch(s)
		h.replays.Add(1)
		go r.run()
		return
	}
	s.begin(first)
	h.log.Debug("session established", "user", user, "session_id", sessionID)
	s.start()
	h.watch(s)
}

// resumeRequest is what a connection may resume from: nil when sessions
// do not resume and the client named no Seq (paramResumeAfter).
func (e *Endpoint) resumeRequest(ctx context.Context, user, sessionID, after string) (*resumeRequest, error) {
	h := e.Hub
	if h.cfg.Store == nil {
		return nil, nil
	}
	rs := &resumeRequest{}
	rs.after, rs.explicit = parseResumeAfter(after)
	if !rs.explicit && !h.tracking() {
		return nil, nil
	}
	var err error
	if h.tracking() {
		err = h.loadPosition(ctx, rs, user, sessionID)
		if err == nil && h.askHandover(ctx, rs, user, sessionID) {
			err = h.loadPosition(ctx, rs, user, sessionID)
		}
	}
	return rs, err
}

// register takes the user's membership snapshot and adds the session to
// the hub, taking a new snapshot if the hub's catch-up log no longer
// reaches back to the first one, or reading the session's stored
// position again if the hub wrote positions meanwhile. It returns the Seq after which the
// session receives every event addressed to it.
func (e *Endpoint) register(ctx context.Context, s *session, rs *resumeRequest) (int64, error) {
	for attempt := 0; ; attempt++ {
		channels, seq, err := e.Source.Snapshot(ctx, s.user)
		if err != nil {
			return 0, err
		}
		start, err := e.Hub.register(s, channels, seq, rs)
		if errors.Is(err, errStalePosition) && attempt < 10 {
			if err := e.Hub.loadPosition(ctx, rs, s.user, s.id); err != nil {
				return 0, err
			}
			continue
		}
		var stale errStaleSnapshot
		if !errors.As(err, &stale) || attempt == 3 {
			return start, err
		}
	}
}
