// Package hub is the messaging session: the websocket endpoint that
// amazon-chime-sdk-js's DefaultMessagingSession (and the mobile samples)
// connect to, and the fan-out of committed events to the sessions of
// their recipients.
//
// The hub keeps, for the users connected to it, which channels they are
// members of. It learns memberships from the store when a user connects
// and from membership events afterwards, applying each change in the
// commit order of the events it delivers: a user added to a channel
// receives the channel's next event without reconnecting, and a user
// removed receives its removal and nothing after it.
//
// An audience is a channel ARN or, for the sub-channels of an elastic
// channel, a sub-channel audience (carillon.SubChannelAudience): members
// are in the audiences their membership events name. An event to the
// members of a channel ARN reaches the members of its sub-channel
// audiences too, and DELETE_CHANNEL empties them with the channel.
//
// # Reading and writing frames
//
// gorilla/websocket answers the handshake; the session then reads and
// writes frames on the connection itself (the *tls.Conn for wss), for two
// reasons the library's Conn could not serve:
//
//   - Fan-out. Server frames are not masked, so an event's complete frame
//     (header and payload) is the same for every recipient: the hub builds
//     it once (wireFrame) and queues the same bytes to each session. A
//     session's writer copies everything queued into one buffer and writes
//     it with one call, its deadline set once: a session that fell behind
//     by a hundred events catches up with one system call, not a hundred
//     (WriteMessage writes each frame on its own). Each event is still its
//     own frame: clients parse one event per frame.
//   - Idle sessions, which are most of them. A Conn holds its read buffer
//     for the connection's life, and the goroutine blocked in its reader
//     holds a stack as deep as crypto/tls's read path. Here an idle
//     session is the session struct and its socket, parked in the poller
//     on Linux (below): no reader goroutine, no writer goroutine (one starts when
//     there is something to write and ends when the queue is empty), no
//     ticker (one ping schedule serves the hub), no buffer (read and write
//     buffers come from pools while in use), and not the HTTP handler's
//     goroutine (it returns after the handshake).
//
// Clients send only control frames (pongs, pings, close; a data frame is
// read and dropped), so the reader is short: frameReader parses what RFC
// 6455 allows a client and closes with 1002 or 1009 otherwise.
//
// On Linux an idle session has no reading goroutine: its socket waits in
// the poller (poller_linux.go), an epoll set that starts a
// goroutine only when the socket has something to read. Elsewhere the
// reader is a goroutine per connection, parked by waitReadable.
// docs/benchmarks.md and docs/performance.md have the measurements, and
// what is left per session.
package hub

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/carillonhq/carillon"
)

// Config tunes the hub. Zero values take the defaults.
type Config struct {
	// QueueBytes bounds each session's backlog of event frames, queued
	// or being written (default 1 MiB); a session that would exceed it is
	// closed with 4429. SESSION_ESTABLISHED and the prefetch do not count.
	QueueBytes int
	// PingInterval is how often the server pings each session (default
	// 30s). One schedule serves every session: it runs PingInterval/4
	// apart, and pings the sessions due.
	PingInterval time.Duration
	// PongTimeout closes a session that answered no ping for this long
	// (default 75s: two missed pings).
	PongTimeout time.Duration
	// WriteTimeout bounds one write to a session: a batch of frames, at
	// most 16 KiB unless one frame is bigger (default 10s). A write is
	// given between WriteTimeout and a quarter more: the deadline is
	// renewed only when less than WriteTimeout is left.
	WriteTimeout time.Duration
	// ConnectSkew is tolerated beyond X-Amz-Expires and before
	// X-Amz-Date on connect URLs (default 5m): the JS client signs with
	// the device clock and a 10-second expiry.
	ConnectSkew time.Duration

	// Store keeps session positions and serves the outbox events a
	// resumed session is replayed (docs/sessions.md). Without it no
	// session resumes.
	Store carillon.Store
	// ResumeWindow is how long after a session ends a new connection
	// with the same user and sessionId resumes it. Unlike the fields
	// above, zero turns resume off: the server's default is
	// DefaultResumeWindow.
	ResumeWindow time.Duration
	// ConfirmInterval is the most often a session asks its client, with a
	// ping after the frames written, to confirm them (default 250ms):
	// what a session resumes from is what its client confirmed, so a
	// connection cut abruptly sends again the frames of at most the last
	// interval (and round trip).
	ConfirmInterval time.Duration
	// CheckpointInterval is how often the positions of open sessions are
	// written to the store (default 15s), those that changed, so that
	// they resume after the server stopped without closing them.
	CheckpointInterval time.Duration
	// Handover, in a cluster, asks the other servers for a session that
	// connects here while one of them may hold it; HandoverWait bounds
	// the wait for an answer (default 1s). See handover.go.
	Handover     Handover
	HandoverWait time.Duration
	// MaxSessions bounds the sessions open at once (default 100,000);
	// MaxSessionsPerUser those of one user (DefaultMaxSessionsPerUser).
	// A session over either is closed at once (limits.go).
	MaxSessions, MaxSessionsPerUser int
	// Now tells the time session positions are saved and judged at, and
	// credentials expire by (default time.Now); the server gives its
	// store's clock.
	Now func() time.Time
}

// DefaultResumeWindow is the server's default Config.ResumeWindow.
const DefaultResumeWindow = 2 * time.Minute

func (c *Config) defaults() {
	if c.QueueBytes <= 0 {
		c.QueueBytes = 1 << 20
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = 75 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.ConnectSkew <= 0 {
		c.ConnectSkew = 5 * time.Minute
	}
	if c.ResumeWindow < 0 {
		c.ResumeWindow = 0
	}
	if c.ConfirmInterval <= 0 {
		c.ConfirmInterval = 250 * time.Millisecond
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = 15 * time.Second
	}
	if c.HandoverWait <= 0 {
		c.HandoverWait = time.Second
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 100000
	}
	if c.MaxSessionsPerUser <= 0 {
		c.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Hub fans events out to sessions.
type Hub struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	mu sync.Mutex
	// byID finds a user's session by the client's sessionId.
	byID map[sessionKey]*session
	// users holds the sessions of each connected user as a slice, for
	// the fan-out: the audiences of channelUsers point at it, so that
	// delivering an event to a thousand members walks a thousand slices
	// instead of hashing a thousand ARNs and iterating a thousand maps.
	// It has an entry exactly when sessions has one.
	users map[string]*userSessions
	// channels each connected user is a member of, and its inverse.
	userChannels map[string]map[string]struct{}
	channelUsers map[string]map[string]*userSessions
	// subAudiences are, for each channel ARN, its sub-channel audiences
	// that have users in channelUsers.
	subAudiences map[string]map[string]struct{}
	// seq is the Seq of the last event delivered.
	seq int64
	// changes remembers recent membership changes, so a session whose
	// membership snapshot is older than seq can catch up (see register).
	changes []memberChange
	// trimmedThrough is the Seq of the newest change dropped from changes.
	trimmedThrough int64
	closed         bool
	// conns are the websocket connections, from the upgrade to the end of
	// the session, so that Shutdown can wait for them
	// (http.Server.Shutdown does not see hijacked connections) and, when
	// its deadline passes, close them.
	conns    map[net.Conn]struct{}
	handlers sync.WaitGroup
	// replays are the replays of resumed sessions running.
	replays sync.WaitGroup
	// live are the sessions whose goroutines run, for the ping schedule;
	// pingStop stops the schedule's goroutine, which runs while live is
	// not empty.
	live     []*session
	pingStop chan struct{}

	// positions are the session positions to write to the store (nil:
	// delete it), flushing those being written: a reconnect reads them
	// before the store. See resume.go.
	positions, flushing map[sessionKey]*carillon.SessionPosition
	// flushes counts the flushes that ended: a position read from the
	// store before one ended may be older than what it wrote.
	flushes uint64
	// flushKick wakes Run to write positions.
	flushKick chan struct{}
	// flushMu serializes flushes: a position written at once (handover.go)
	// is not overwritten by an older one an earlier flush was writing.
	flushMu sync.Mutex
	// liveSaved is when the Live position of each open session was last
	// written, in a cluster (handover.go).
	liveSaved map[sessionKey]time.Time

	lim limits
}

type sessionKey struct{ user, id string }

// userSessions are the sessions of a connected user, in registration
// order: a handful at most (MaxSessionsPerUser), so that a slice serves
// lookups as well as a map would, in less memory per connected user.
type userSessions struct{ list []*session }

// has reports whether s is one of the sessions; us may be nil.
func (us *userSessions) has(s *session) bool {
	return us != nil && slices.Contains(us.list, s)
}

// count is the number of sessions; us may be nil.
func (us *userSessions) count() int {
	if us == nil {
		return 0
	}
	return len(us.list)
}

type memberChange struct {
	seq              int64
	channel, member  string
	change           int
	channelDeleteAll bool
}

// maxChanges bounds the catch-up log. A snapshot older than the log
// makes register take a new snapshot.
const maxChanges = 8192

// New returns a hub; deliver committed events to it with Deliver.
func New(cfg Config, log *slog.Logger, reg Registerer) *Hub {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		cfg:          cfg,
		log:          log,
		metrics:      newMetrics(reg),
		byID:         map[sessionKey]*session{},
		users:        map[string]*userSessions{},
		userChannels: map[string]map[string]struct{}{},
		channelUsers: map[string]map[string]*userSessions{},
		subAudiences: map[string]map[string]struct{}{},
		conns:        map[net.Conn]struct{}{},
		positions:    map[sessionKey]*carillon.SessionPosition{},
		flushKick:    make(chan struct{}, 1),
		liveSaved:    map[sessionKey]time.Time{},
	}
}

// enter records a websocket connection; false once the hub is shutting
// down. Every enter that returns true is paired with exit, when the
// connect handler refuses the session or when the session ends.
func (h *Hub) enter(c net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	// Add happens under mu before closed is set, so never concurrently
	// with Shutdown's Wait.
	h.handlers.Add(1)
	h.conns[c] = struct{}{}
	return true
}

func (h *Hub) exit(c net.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.handlers.Done()
}

// errStaleSnapshot asks the caller of register to take a new snapshot.
type errStaleSnapshot struct{}

func (errStaleSnapshot) Error() string { return "membership snapshot older than the catch-up log" }

// errStalePosition asks the caller of register to read the session's
// stored position again.
var errStalePosition = errors.New("session position read before a flush")

// register adds a session whose user is a member of channels as of the
// outbox position snapSeq. Events after snapSeq that the hub has already
// delivered may have changed the user's memberships; they are replayed
// from the catch-up log. Events up to snapSeq that the hub has not
// delivered yet predate the session: it does not receive them (their
// membership changes, already in the snapshot, apply again harmlessly:
// each sets a membership to the state the snapshot shows). A session
// with the same (user, sessionId) as a live one replaces it; the older
// is closed with 4003 (decisions.md #8).
//
// With rs, the session may resume (resume.go): register finds the
// position to resume from (the live session it replaces, one that ended
// here lately, or rs.stored, the store's) and the session starts in
// replay, receiving no live event until its replay hands over. It
// returns the Seq after which the session receives every event addressed
// to it.
func (h *Hub) register(s *session, channels []string, snapSeq int64, rs *resumeRequest) (int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, errShuttingDown
	}
	if snapSeq < h.trimmedThrough {
		return 0, errStaleSnapshot{}
	}
	if err := h.admitLocked(s); err != nil {
		return 0, err
	}
	key := sessionKey{s.user, s.id}
	var from *carillon.SessionPosition
	if rs != nil {
		from = rs.stored
		if p, ok := h.recentPositionLocked(key); ok {
			from = p // newer than the store's, or forgotten (nil)
		} else if rs.loaded && rs.flushes != h.flushes {
			// The store may have changed since rs.stored was read: a
			// flush took the position from memory to the store.
			return 0, errStalePosition
		}
	}
	if old := h.byID[key]; old != nil {
		if rs != nil {
			from = h.positionLocked(old, false)
			from.Saved = h.cfg.Now()
		}
		old.handedOver = true
		h.removeLocked(old)
		old.close(CloseForbidden, "replaced by a newer connection with the same sessionId")
	}
	if h.users[s.user] == nil {
		h.users[s.user] = &userSessions{}
		// First session of the user: its channels come from the snapshot.
		for _, c := range channels {
			h.joinLocked(s.user, c)
		}
		h.catchUpLocked(s.user, snapSeq)
	}
	start := max(snapSeq, h.seq)
	s.after = snapSeq
	us := h.users[s.user]
	us.list = append(us.list, s)
	h.byID[key] = s
	h.metrics.sessionsOpen.Inc()
	if rs != nil {
		if r := h.planReplayLocked(s, rs, from, start); r != nil {
			s.replay, s.replaying = r, true
			start = r.startSeq()
		}
	}
	return start, nil
}

// unregister removes a closed session.
func (h *Hub) unregister(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s)
}

func (h *Hub) removeLocked(s *session) {
	us := h.users[s.user]
	if !us.has(s) {
		return
	}
	h.retireLocked(s)
	us.list = slices.DeleteFunc(us.list, func(x *session) bool { return x == s })
	h.unwatchLocked(s)
	h.metrics.sessionsOpen.Dec()
	if h.byID[sessionKey{s.user, s.id}] == s {
		delete(h.byID, sessionKey{s.user, s.id})
	}
	if len(us.list) == 0 {
		delete(h.users, s.user)
		for c := range h.userChannels[s.user] {
			h.leaveLocked(s.user, c)
		}
		delete(h.userChannels, s.user)
	}
}

func (h *Hub) joinLocked(user, channel string) {
	h.audiencesChangedLocked(user)
	if h.userChannels[user] == nil {
		h.userChannels[user] = map[string]struct{}{}
	}
	h.userChannels[user][channel] = struct{}{}
	if h.channelUsers[channel] == nil {
		h.channelUsers[channel] = map[string]*userSessions{}
		if parent, sub := carillon.AudienceChannel(channel); sub != "" {
			if h.subAudiences[parent] == nil {
				h.subAudiences[parent] = map[string]struct{}{}
			}
			h.subAudiences[parent][channel] = struct{}{}
		}
	}
	h.channelUsers[channel][user] = h.users[user]
}

func (h *Hub) leaveLocked(user, channel string) {
	h.audiencesChangedLocked(user)
	delete(h.userChannels[user], channel)
	if users := h.channelUsers[channel]; users != nil {
		delete(users, user)
		if len(users) == 0 {
			delete(h.channelUsers, channel)
			h.dropSubAudienceLocked(channel)
		}
	}
}

// dropSubAudienceLocked forgets an audience left without users.
func (h *Hub) dropSubAudienceLocked(audience string) {
	parent, sub := carillon.AudienceChannel(audience)
	if subs := h.subAudiences[parent]; sub != "" && subs != nil {
		delete(subs, audience)
		if len(subs) == 0 {
			delete(h.subAudiences, parent)
		}
	}
}

// audiencesLocked returns an audience and, for a channel ARN, the
// sub-channel audiences of the channel that have users.
func (h *Hub) audiencesLocked(channel string) []string {
	out := []string{channel}
	if _, sub := carillon.AudienceChannel(channel); sub == "" {
		for a := range h.subAudiences[channel] {
			out = append(out, a)
		}
	}
	return out
}

// catchUpLocked replays, for a user whose channels come from a snapshot
// taken at snapSeq, the user's membership changes that the hub delivered
// after snapSeq.
func (h *Hub) catchUpLocked(user string, snapSeq int64) {
	for _, c := range h.changes {
		switch {
		case c.seq <= snapSeq:
		case c.channelDeleteAll:
			for a := range h.userChannels[user] {
				if parent, _ := carillon.AudienceChannel(a); parent == c.channel {
					h.leaveLocked(user, a)
				}
			}
		case c.member != user:
		case c.change > 0:
			h.joinLocked(user, c.channel)
		case c.change < 0:
			h.leaveLocked(user, c.channel)
		}
	}
}

// applyLocked applies a membership change to connected users.
func (h *Hub) applyLocked(c memberChange) {
	switch {
	case c.channelDeleteAll:
		for _, a := range h.audiencesLocked(c.channel) {
			for u := range h.channelUsers[a] {
				h.audiencesChangedLocked(u)
				delete(h.userChannels[u], a)
			}
			delete(h.channelUsers, a)
		}
		delete(h.subAudiences, c.channel)
	case h.users[c.member] == nil:
		// Not connected here: nothing to keep in step.
	case c.change > 0:
		h.joinLocked(c.member, c.channel)
	case c.change < 0:
		h.leaveLocked(c.member, c.channel)
	}
}

func (h *Hub) recordLocked(c memberChange) {
	if len(h.changes) >= maxChanges {
		half := len(h.changes) / 2
		h.trimmedThrough = h.changes[half-1].seq
		n := copy(h.changes, h.changes[half:])
		h.changes = h.changes[:n]
	}
	h.changes = append(h.changes, c)
}

// Deliver fans committed events out to the sessions of their recipients,
// in order. The bus calls it from one goroutine.
func (h *Hub) Deliver(events []carillon.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range events {
		e := &events[i]
		if e.Seq <= h.seq {
			continue // already delivered
		}
		h.deliverLocked(e)
		h.seq = e.Seq
	}
}

const eventDeleteChannel = "DELETE_CHANNEL"

func (h *Hub) deliverLocked(e *carillon.Event) {
	// The members this event adds or removes: Member, or, for a batch
	// (Member ""), every explicit recipient.
	var changed []string
	if e.MemberChange != 0 {
		if e.Member != "" {
			changed = []string{e.Member}
		} else {
			changed = e.Recipients
		}
	}
	// A member added by this event receives it: apply the change first.
	// A member removed receives it too, as an explicit recipient, and the
	// change applies after.
	if e.MemberChange > 0 {
		for _, m := range changed {
			h.applyLocked(memberChange{seq: e.Seq, channel: e.Channel, member: m, change: +1})
		}
	}
	// The frame is encoded once, for every session, when the first
	// session needs it. A session reached twice (a member who is also an
	// explicit recipient, or in two audiences of the channel) is marked
	// with the event's Seq the first time.
	var frame []byte
	send := func(us *userSessions) {
		if us == nil {
			return // not connected here
		}
		for _, s := range us.list {
			if s.delivered == e.Seq || e.Seq <= s.after || s.replaying {
				// A session in replay reads this event from the outbox.
				continue
			}
			s.delivered = e.Seq
			if frame == nil {
				frame = eventFrame(e)
			}
			s.enqueue(frame, e.Seq, e.At)
		}
	}
	if e.ToMembers {
		for _, a := range h.audiencesLocked(e.Channel) {
			for _, us := range h.channelUsers[a] {
				send(us)
			}
		}
	}
	for _, u := range e.Recipients {
		send(h.users[u])
	}
	for _, m := range changed {
		c := memberChange{seq: e.Seq, channel: e.Channel, member: m, change: e.MemberChange}
		if e.MemberChange < 0 {
			h.applyLocked(c)
		}
		h.recordLocked(c)
	}
	if e.Type == carillon.EventBearerDeleted {
		// Its sessions (of every bearer under it, for an AppInstance) get
		// what was queued before, then close: the bearer no longer
		// exists, and the client must not reconnect.
		for user, us := range h.users {
			if user != e.Member && !strings.HasPrefix(user, e.Member+"/") {
				continue
			}
			// A copy: removeLocked takes each out of us.list.
			for _, s := range slices.Clone(us.list) {
				s.mu.Lock()
				s.forget = true
				s.mu.Unlock()
				h.removeLocked(s)
				s.closeAfterQueue(CloseForbidden, "the AppInstanceUser, AppInstanceBot or AppInstance was deleted")
			}
		}
	}
	if e.Type == carillon.EventAccessKeyDeleted {
		h.closeKeyLocked(e.Member)
	}
	if e.Type == eventDeleteChannel {
		c := memberChange{seq: e.Seq, channel: e.Channel, channelDeleteAll: true}
		h.applyLocked(c)
		h.recordLocked(c)
	}
	h.metrics.eventsDelivered.Inc()
}

// watch puts a registered session on the ping schedule, which starts
// with the first session. Its first ping comes after between half an
// interval and one, so that sessions opened together (after a restart,
// all of them) are not pinged together ever after.
func (h *Hub) watch(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.users[s.user].has(s) {
		return // replaced or removed already
	}
	half := int64(h.cfg.PingInterval / 2)
	s.nextPing = time.Now().UnixNano() + half + rand.Int64N(half+1)
	s.live = len(h.live)
	h.live = append(h.live, s)
	if h.pingStop == nil {
		h.pingStop = make(chan struct{})
		go h.pingLoop(h.pingStop)
	}
}

func (h *Hub) unwatchLocked(s *session) {
	i := s.live
	if i < 0 {
		return
	}
	last := len(h.live) - 1
	h.live[i] = h.live[last]
	h.live[i].live = i
	h.live[last] = nil
	h.live = h.live[:last]
	s.live = -1
	if len(h.live) == 0 && h.pingStop != nil {
		close(h.pingStop)
		h.pingStop = nil
	}
}

// pingLoop is the ping schedule: one goroutine and one ticker for every
// session of the hub, rather than a ticker per session.
func (h *Hub) pingLoop(stop chan struct{}) {
	t := time.NewTicker(h.cfg.PingInterval / 4)
	defer t.Stop()
	var due []pingDue
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			due = h.pingDue(now, due)
		}
	}
}

// pingDue pings the sessions whose ping is due, and closes those that
// sent nothing, pongs included, for PongTimeout. It returns due emptied,
// to be used again.
func (h *Hub) pingDue(now time.Time, due []pingDue) []pingDue {
	n := now.UnixNano()
	interval, timeout := int64(h.cfg.PingInterval), int64(h.cfg.PongTimeout)
	h.mu.Lock()
	for _, s := range h.live {
		switch {
		case n-s.lastSeen.Load() > timeout:
			due = append(due, pingDue{s, true})
		case s.nextPing <= n:
			s.nextPing = n + interval
			due = append(due, pingDue{s, false})
		}
	}
	h.mu.Unlock()
	for i, d := range due {
		if d.mute {
			d.s.close(CloseGoingAway, "missed pongs")
		} else {
			d.s.sendPing()
		}
		due[i] = pingDue{}
	}
	return due[:0]
}

type pingDue struct {
	s *session
	// mute: the session missed its pongs.
	mute bool
}

// Shutdown closes every session with 1012, after the frames already
// queued for it, so clients reconnect (to another node, or to this one
// when it is back), and refuses new ones. It returns when every connect
// handler has returned; when ctx ends first, it closes the remaining
// connections without a close frame and waits a little more.
func (h *Hub) Shutdown(ctx context.Context) {
	h.mu.Lock()
	h.closed = true
	var all []*session
	for _, us := range h.users {
		all = append(all, us.list...)
	}
	h.mu.Unlock()
	for _, s := range all {
		s.closeAfterQueue(CloseServiceRestart, "server restarting")
	}
	done := make(chan struct{})
	go func() {
		h.handlers.Wait()
		close(done)
	}()
	defer func() {
		// The sessions' positions go to the store before the server
		// stops: a client that reconnects to the next run resumes.
		h.replays.Wait()
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		h.flush(flushCtx)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	h.mu.Lock()
	for c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
	t := time.NewTimer(h.cfg.WriteTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		h.log.Warn("messaging sessions still closing after shutdown")
	}
}

// Start positions the hub at the outbox position the bus publishes after
// (bus.Relay.Start): the events up to it are not delivered, and a session
// resumes from a position before it by reading them from the store. It
// also turns the checkpoints of sessions a previous run left open (it
// stopped without closing them) into positions to resume from; in a
// cluster, where the other servers' sessions are open, it leaves them:
// a connection finding one asks for it, and resumes from it when no
// server answers (handover.go).
func (h *Hub) Start(ctx context.Context, seq int64) error {
	h.mu.Lock()
	h.seq = max(h.seq, seq)
	h.mu.Unlock()
	if h.cfg.Store == nil || h.cfg.Handover != nil {
		return nil
	}
	return h.cfg.Store.Update(ctx, func(tx carillon.Tx) error {
		n, err := tx.EndLiveSessionPositions()
		if n > 0 {
			h.log.Info("sessions left open by the last run may resume", "sessions", n)
		}
		return err
	})
}

// Seq is the Seq of the last event delivered.
func (h *Hub) Seq() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}
