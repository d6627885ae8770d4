package hub

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carillonhq/carillon"
)

// Resuming sessions (docs/sessions.md has the guarantee).
//
// A session knows which event frames its client received: it ends every
// batch, at most once per ConfirmInterval, with a ping whose payload
// numbers it, and the pong that comes back confirms every frame written
// before the ping; the client's answer to the server's close frame
// confirms them all. Bytes the TCP connection acknowledged would say less:
// a proxy or load balancer acknowledges what it has not delivered yet,
// and a client that dies or resets its connection discards what its
// kernel acknowledged. A pong comes from the client's websocket stack,
// after the frames before the ping.
//
// When a session ends (but for a clean close by the client, 4003, or a
// newer connection taking it over), the hub keeps its position
// (carillon.SessionPosition): the hub's outbox position, the user's
// audiences there, and the Seqs of the frames addressed to it that were
// not confirmed, not written, or dropped. Run writes positions to the
// store in batches, and checkpoints those of open sessions.
//
// A connection with the same user and sessionId within ResumeWindow
// registers in replay: live events skip it while a goroutine sends, after
// SESSION_ESTABLISHED, the pending frames, then every event after the
// position that its audiences (kept in step, event by event, by view:
// the rules of deliverLocked for one user) make it a recipient of, read
// from the outbox; then the prefetch; then, under the hub's lock once it
// has read every event the hub delivered, it hands over to live delivery.

// paramResumeAfter is the /connect query parameter of the explicit
// resume: the x-carillon-seq of the last frame the client processed. It
// is signed like every other parameter of the presigned URL.
const paramResumeAfter = "carillon-resume-after"

// resumeRequest is a connection that may resume.
type resumeRequest struct {
	// stored is the store's position for the session, if any; loaded:
	// it was read, after flushes flushes of the hub had ended.
	stored  *carillon.SessionPosition
	loaded  bool
	flushes uint64
	// explicit: the client named the last Seq it processed, after.
	explicit bool
	after    int64
}

// parseResumeAfter reads the explicit resume parameter: a positive Seq.
func parseResumeAfter(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// tracking reports whether sessions resume from what they were sent.
func (h *Hub) tracking() bool { return h.cfg.ResumeWindow > 0 && h.cfg.Store != nil }

// loadPosition reads the stored position of (user, id) into rs (nil
// when none), noting how many flushes had ended before.
func (h *Hub) loadPosition(ctx context.Context, rs *resumeRequest, user, id string) error {
	h.mu.Lock()
	flushes := h.flushes
	h.mu.Unlock()
	var p *carillon.SessionPosition
	err := h.cfg.Store.View(ctx, func(tx carillon.Tx) error {
		var err error
		p, err = tx.GetSessionPosition(user, id)
		if errors.Is(err, carillon.ErrNotFound) {
			p, err = nil, nil
		}
		return err
	})
	rs.stored, rs.loaded, rs.flushes = p, err == nil, flushes
	return err
}

// recentPositionLocked returns the position of key that ended here and
// is not in the store yet (nil when it was forgotten).
func (h *Hub) recentPositionLocked(key sessionKey) (*carillon.SessionPosition, bool) {
	if p, ok := h.positions[key]; ok {
		return p, true
	}
	p, ok := h.flushing[key]
	return p, ok
}

// forgetsPosition reports whether a client's close frame, sent before
// the server closed, ends the session for good: a normal close (1000),
// none (1005: amazon-chime-sdk-js's stop()), or 4002, which the SDK
// documents as closed by the client.
func forgetsPosition(code int) bool {
	return code == 1000 || code == closeNoStatus || code == 4002
}

// retireLocked records what a session leaving the hub leaves for the
// next connection with its user and sessionId: its position, or nothing.
func (h *Hub) retireLocked(s *session) {
	key := sessionKey{s.user, s.id}
	if h.byID[key] == s {
		delete(h.liveSaved, key)
	}
	if !h.tracking() || s.handedOver || h.byID[key] != s {
		return
	}
	s.mu.Lock()
	forget := s.forget || forgetsPosition(s.clientClose)
	s.mu.Unlock()
	if forget {
		h.positions[key] = nil
	} else {
		p := h.positionLocked(s, false)
		p.Saved = h.cfg.Now()
		h.positions[key] = p
	}
	h.kickFlush()
}

func (h *Hub) kickFlush() {
	select {
	case h.flushKick <- struct{}{}:
	default:
	}
}

// positionLocked is where s is: during its replay, what the replay has
// gone through; then the hub's position and the user's audiences. Every
// frame of it not confirmed, still queued or dropped is pending.
func (h *Hub) positionLocked(s *session, live bool) *carillon.SessionPosition {
	p := &carillon.SessionPosition{UserARN: s.user, SessionID: s.id, Live: live}
	s.mu.Lock()
	defer s.mu.Unlock()
	var pending []int64
	if r := s.replay; s.replaying && r != nil {
		p.Seq, p.Audiences = r.cursor, r.aud
		pending = append(pending, r.pending...)
	} else {
		p.Seq = max(h.seq, s.after)
		for a := range h.userChannels[s.user] {
			p.Audiences = append(p.Audiences, a)
		}
		slices.Sort(p.Audiences)
	}
	pending = append(pending, s.sent...)
	for i := range s.queue {
		if seq := s.queue[i].seq; seq > 0 {
			pending = append(pending, seq)
		}
	}
	pending = append(pending, s.dropped...)
	// A frame after Seq is an event the resume reads again anyway.
	pending = slices.DeleteFunc(pending, func(seq int64) bool { return seq > p.Seq })
	slices.Sort(pending)
	p.Pending = slices.Compact(pending)
	if len(p.Pending) == 0 {
		p.Pending = nil
	}
	return p
}

// audiencesChangedLocked notes that user's audiences changed, for the
// checkpoints of its sessions.
func (h *Hub) audiencesChangedLocked(user string) {
	if us := h.users[user]; us != nil {
		for _, s := range us.list {
			s.audVersion++
		}
	}
}

// planReplayLocked decides how s resumes from from (the position found,
// nil if none) or the explicit request, given that the hub registered it
// at start with the user's audiences in h.userChannels. Nil: it does not
// resume.
func (h *Hub) planReplayLocked(s *session, rs *resumeRequest, from *carillon.SessionPosition, start int64) *replay {
	r := &replay{s: s, regSeq: start, done: make(chan struct{})}
	for a := range h.userChannels[s.user] {
		r.regAud = append(r.regAud, a)
	}
	slices.Sort(r.regAud)
	switch {
	case rs.explicit:
		r.explicit, r.after = true, rs.after
		r.from = from // the best known state, if any
	case from == nil || !h.tracking():
		return nil
	case !h.withinWindow(from):
		h.metrics.resumeGaps.WithLabelValues("window").Inc()
		return nil
	default:
		r.from = from
	}
	// Until the replay has gone further, the session is where it resumes
	// from.
	if r.from != nil {
		r.cursor, r.aud, r.pending = r.from.Seq, r.from.Audiences, r.from.Pending
	} else {
		r.cursor, r.aud = r.regSeq, r.regAud
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// replay is the catch-up of a resumed session.
type replay struct {
	s *session
	// regSeq and regAud are where the hub registered the session: the
	// start of a session that does not resume after all.
	regSeq int64
	regAud []string
	// from is the position resumed from; explicit and after the client's
	// own, when it named one.
	from     *carillon.SessionPosition
	explicit bool
	after    int64
	// prefetch are the CHANNEL_DETAILS frames, sent after the replay.
	prefetch [][]byte

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// What the replay has gone through, under s.mu: every event up to
	// cursor is queued or was not addressed to the session, with its
	// audiences then aud (never modified: replaced), but pending.
	cursor  int64
	aud     []string
	pending []int64
}

// replayBatch is how many outbox events one read of a replay takes.
const replayBatch = 512

// run replays, then hands the session over to live delivery. The session
// may end at any moment: its position is then what was published.
func (r *replay) run() {
	s, h := r.s, r.s.hub
	defer h.replays.Done()
	defer close(r.done)
	defer r.cancel()
	start, aud, pending, skip, err := r.base()
	if err == nil {
		var ok bool
		ok, err = h.fillable(r.ctx, min(start, holdOf(pending, start)))
		if err == nil && !ok {
			h.metrics.resumeGaps.WithLabelValues("trimmed").Inc()
			h.log.Info("session resumed without replay: the outbox no longer holds its gap", "user", s.user, "session_id", s.id)
			start, aud, pending, skip = r.regSeq, r.regAud, nil, 0
		}
	}
	if err != nil {
		if r.ctx.Err() == nil {
			h.log.Error("session replay", "user", s.user, "session_id", s.id, "cause", err)
			s.close(closeInternalError, "replay failed")
		}
		return
	}
	established := max(start, skip)
	s.mu.Lock()
	r.cursor, r.aud, r.pending = start, aud, pending
	s.mu.Unlock()
	s.begin([][]byte{wireFrame(eventSessionEstablished, "SYSTEM", "", established, nil)})

	v := newView(s.user, aud)
	replayed := 0
	if len(pending) > 0 {
		n, err := r.sendPending(pending)
		replayed += n
		if err != nil {
			r.failed(err)
			return
		}
	}
	for {
		n, done, err := r.forward(v, skip)
		replayed += n
		if err != nil {
			r.failed(err)
			return
		}
		if done || r.handOver(skip) {
			break
		}
	}
	h.metrics.eventsReplayed.Add(float64(replayed))
	h.metrics.resumed.Inc()
	h.log.Debug("session resumed", "user", s.user, "session_id", s.id, "from", start, "replayed", replayed)
}

func (r *replay) failed(err error) {
	s := r.s
	if r.ctx.Err() == nil && !errors.Is(err, errSessionClosed) {
		s.hub.log.Error("session replay", "user", s.user, "session_id", s.id, "cause", err)
		s.close(closeInternalError, "replay failed")
	}
}

// holdOf is the position before the first pending Seq, or seq.
func holdOf(pending []int64, seq int64) int64 {
	if len(pending) > 0 {
		return min(seq, pending[0]-1)
	}
	return seq
}

// base is where the replay starts: the outbox position, the audiences
// there, the pending frames, and the Seq through which the client
// already has every event (the explicit form's).
func (r *replay) base() (start int64, aud []string, pending []int64, skip int64, err error) {
	switch {
	case !r.explicit:
		return r.from.Seq, r.from.Audiences, r.from.Pending, 0, nil
	case r.from != nil && r.from.Seq <= r.after:
		// The stored position is before the client's: go forward from
		// it, sending only what follows the client's.
		return r.from.Seq, r.from.Audiences, nil, r.after, nil
	}
	// The client's position is before what the hub knows of the session
	// (the stored position, or where it registered): its audiences there
	// come from undoing the user's membership changes since.
	seq, known := r.regSeq, r.regAud
	if r.from != nil {
		seq, known = r.from.Seq, r.from.Audiences
	}
	if r.after >= seq {
		return seq, known, nil, r.after, nil
	}
	var events []carillon.Event
	after := r.after
	for after < seq {
		batch, err := r.s.hub.events(r.ctx, after, replayBatch)
		if err != nil {
			return 0, nil, nil, 0, err
		}
		for _, e := range batch {
			if e.Seq <= seq && (e.MemberChange != 0 || e.Type == eventDeleteChannel) {
				events = append(events, e)
			}
		}
		if len(batch) < replayBatch {
			break
		}
		after = batch[len(batch)-1].Seq
	}
	return r.after, rewind(r.s.user, known, events), nil, r.after, nil
}

// sendPending queues the frames of the pending events, in order.
func (r *replay) sendPending(pending []int64) (int, error) {
	s := r.s
	sent := 0
	for after := pending[0] - 1; len(pending) > 0; {
		batch, err := s.hub.events(r.ctx, after, replayBatch)
		if err != nil {
			return sent, err
		}
		if len(batch) == 0 {
			// Trimmed since fillable looked: what is left cannot be sent.
			s.hub.metrics.resumeGaps.WithLabelValues("trimmed").Inc()
			break
		}
		for i := range batch {
			e := &batch[i]
			for len(pending) > 0 && pending[0] < e.Seq {
				pending = pending[1:] // gone: trimmed, or never written (PostgreSQL's sequences have holes)
			}
			if len(pending) == 0 || pending[0] != e.Seq {
				continue
			}
			if !s.enqueueReplay(r.ctx, eventFrame(e), e.Seq) {
				return sent, errSessionClosed
			}
			sent++
			pending = pending[1:]
			s.mu.Lock()
			r.pending = pending
			s.mu.Unlock()
		}
		after = batch[len(batch)-1].Seq
	}
	s.mu.Lock()
	r.pending = nil
	s.mu.Unlock()
	return sent, nil
}

// forward reads the events after the cursor that the hub has delivered,
// and queues those addressed to the session (after skip). done: the user
// was deleted, and the session closes.
func (r *replay) forward(v *view, skip int64) (sent int, done bool, err error) {
	s, h := r.s, r.s.hub
	limit := h.Seq()
	for {
		s.mu.Lock()
		cursor := r.cursor
		s.mu.Unlock()
		if cursor >= limit {
			return sent, false, nil
		}
		batch, err := h.events(r.ctx, cursor, replayBatch)
		if err != nil {
			return sent, false, err
		}
		if len(batch) == 0 {
			return sent, false, nil
		}
		for i := range batch {
			e := &batch[i]
			if e.Seq > limit {
				return sent, false, nil
			}
			if v.bearerDeleted(e) {
				s.mu.Lock()
				s.forget = true
				s.mu.Unlock()
				s.closeAfterQueue(CloseForbidden, "the AppInstanceUser, AppInstanceBot or AppInstance was deleted")
				return sent, true, nil
			}
			to, changed := v.deliver(e)
			if to && e.Seq > skip {
				if !s.enqueueReplay(r.ctx, eventFrame(e), e.Seq) {
					return sent, false, errSessionClosed
				}
				sent++
			}
			s.mu.Lock()
			r.cursor = e.Seq
			if changed {
				r.aud = v.list()
			}
			s.mu.Unlock()
		}
		if len(batch) < replayBatch {
			return sent, false, nil
		}
	}
}

// handOver switches the session to live delivery once the replay has
// read every event the hub delivered: false when the hub went further
// meanwhile. The prefetch goes between the two.
func (r *replay) handOver(skip int64) bool {
	s, h := r.s, r.s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	cursor := r.cursor
	if h.seq > cursor {
		s.mu.Unlock()
		return false
	}
	if !s.closing {
		for _, f := range r.prefetch {
			s.queue = append(s.queue, queued{frame: f})
		}
		s.writeLocked()
	}
	s.mu.Unlock()
	if h.users[s.user].has(s) {
		s.replaying = false
		s.after = max(cursor, skip)
	}
	return true
}

// startSeq is the Seq SESSION_ESTABLISHED names for a resumed session: a
// guess until the replay knows (it queues the frame itself).
func (r *replay) startSeq() int64 { return r.cursor }

var errSessionClosed = errors.New("session closed")

// closeInternalError is the close code of a server failure (1011); the
// client reconnects.
const closeInternalError = 1011

// enqueueReplay queues a replayed frame, waiting while the backlog is
// above half of maxBytes: a replay is not a reason to close the session
// as a slow consumer. False once the session is closing.
func (s *session) enqueueReplay(ctx context.Context, frame []byte, seq int64) bool {
	for {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			return false
		}
		if s.bytes == 0 || s.bytes+len(frame) <= s.maxBytes/2 {
			s.queue = append(s.queue, queued{frame: frame, seq: seq, counted: true})
			s.bytes += len(frame)
			s.enqueued++
			s.writeLocked()
			s.mu.Unlock()
			return true
		}
		wait := s.roomWait
		if wait == nil {
			wait = make(chan struct{})
			s.roomWait = wait
		}
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false
		}
	}
}

// events reads up to limit outbox events after seq.
func (h *Hub) events(ctx context.Context, after int64, limit int) ([]carillon.Event, error) {
	var events []carillon.Event
	err := h.cfg.Store.View(ctx, func(tx carillon.Tx) error {
		var err error
		events, err = tx.Events(after, limit)
		return err
	})
	return events, err
}

// fillable reports whether the outbox still holds every event after seq:
// the relay trims the oldest events first, so it does when the oldest it
// holds is at or before seq+1, or when there has been none after seq.
func (h *Hub) fillable(ctx context.Context, seq int64) (bool, error) {
	ok := false
	err := h.cfg.Store.View(ctx, func(tx carillon.Tx) error {
		next, err := tx.Events(seq, 1)
		if err != nil {
			return err
		}
		if len(next) == 0 {
			last, err := tx.LastEventSeq()
			ok = last <= seq
			return err
		}
		if next[0].Seq == seq+1 {
			ok = true
			return nil
		}
		oldest, err := tx.Events(0, 1)
		ok = err == nil && len(oldest) > 0 && oldest[0].Seq <= seq
		return err
	})
	return ok, err
}

// view is one user's audiences, kept in step with events as deliverLocked
// keeps the hub's: it decides, event by event, what the user receives.
type view struct {
	user string
	aud  map[string]struct{}
	// subs counts, per channel ARN, its sub-channel audiences in aud.
	subs map[string]int
}

func newView(user string, audiences []string) *view {
	v := &view{user: user, aud: map[string]struct{}{}, subs: map[string]int{}}
	for _, a := range audiences {
		v.add(a)
	}
	return v
}

func (v *view) add(a string) bool {
	if _, ok := v.aud[a]; ok {
		return false
	}
	v.aud[a] = struct{}{}
	if parent, sub := carillon.AudienceChannel(a); sub != "" {
		v.subs[parent]++
	}
	return true
}

func (v *view) remove(a string) bool {
	if _, ok := v.aud[a]; !ok {
		return false
	}
	delete(v.aud, a)
	if parent, sub := carillon.AudienceChannel(a); sub != "" {
		if v.subs[parent]--; v.subs[parent] == 0 {
			delete(v.subs, parent)
		}
	}
	return true
}

// changes reports whether e adds or removes a membership of the user.
func (v *view) changes(e *carillon.Event) bool {
	switch {
	case e.MemberChange == 0:
		return false
	case e.Member != "":
		return e.Member == v.user
	default:
		return slices.Contains(e.Recipients, v.user)
	}
}

// deliver applies e as deliverLocked does, and reports whether the user
// receives it and whether its audiences changed.
func (v *view) deliver(e *carillon.Event) (to, changed bool) {
	mine := v.changes(e)
	if mine && e.MemberChange > 0 {
		changed = v.add(e.Channel)
	}
	if e.ToMembers {
		if _, ok := v.aud[e.Channel]; ok {
			to = true
		} else if _, sub := carillon.AudienceChannel(e.Channel); sub == "" && v.subs[e.Channel] > 0 {
			to = true
		}
	}
	if !to && slices.Contains(e.Recipients, v.user) {
		to = true
	}
	if mine && e.MemberChange < 0 {
		changed = v.remove(e.Channel) || changed
	}
	if e.Type == eventDeleteChannel {
		for a := range v.aud {
			if parent, _ := carillon.AudienceChannel(a); parent == e.Channel {
				changed = v.remove(a) || changed
			}
		}
	}
	return to, changed
}

// bearerDeleted reports whether e deletes the user (or its AppInstance).
func (v *view) bearerDeleted(e *carillon.Event) bool {
	return e.Type == carillon.EventBearerDeleted && (v.user == e.Member || strings.HasPrefix(v.user, e.Member+"/"))
}

// list returns the audiences, sorted.
func (v *view) list() []string {
	out := make([]string, 0, len(v.aud))
	for a := range v.aud {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// rewind returns user's audiences before events (in Seq order, the
// user's membership changes and channel deletions among them) given its
// audiences after them: each change undone, the latest first. Whether the
// user was in a channel deleted among them is not known unless a change
// of its own in the channel tells; it is taken as not a member, so that
// nothing of a channel goes to whom may not have been in it.
func rewind(user string, after []string, events []carillon.Event) []string {
	member := map[string]bool{}
	for _, a := range after {
		member[a] = true
	}
	v := view{user: user}
	for i := len(events) - 1; i >= 0; i-- {
		e := &events[i]
		if e.Type == eventDeleteChannel {
			for a := range member {
				if parent, _ := carillon.AudienceChannel(a); parent == e.Channel {
					delete(member, a) // not known before the deletion
				}
			}
			continue
		}
		if v.changes(e) {
			member[e.Channel] = e.MemberChange < 0
		}
	}
	var out []string
	for a, in := range member {
		if in {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// Run writes session positions to the store until ctx ends: those of
// sessions that ended, in batches, as they come; every
// CheckpointInterval, those of open sessions that changed; and it
// deletes the positions older than twice the window. It returns at once
// when sessions do not resume.
func (h *Hub) Run(ctx context.Context) {
	if !h.tracking() {
		return
	}
	checkpoint := time.NewTicker(h.cfg.CheckpointInterval)
	defer checkpoint.Stop()
	expire := time.NewTicker(max(h.cfg.ResumeWindow/2, time.Second))
	defer expire.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			h.flush(final)
			cancel()
			return
		case <-h.flushKick:
			// Gather what a burst of closes (a restart, slow consumers)
			// leaves into one transaction.
			select {
			case <-ctx.Done():
			case <-time.After(flushDelay):
			}
			h.flush(ctx)
		case <-checkpoint.C:
			h.checkpoint()
			h.flush(ctx)
		case <-expire.C:
			h.expire(ctx)
		}
	}
}

// flushDelay is how long Run gathers positions before writing them.
const flushDelay = 50 * time.Millisecond

// flushChunk bounds the positions one transaction writes: the store has
// one writer.
const flushChunk = 256

// flush writes the positions waiting to be written, and every one
// queued before it was called, and returns the first error. Those it
// could not write wait for the next flush, unless a newer one replaced
// them.
func (h *Hub) flush(ctx context.Context) error {
	if h.cfg.Store == nil {
		return nil
	}
	h.flushMu.Lock()
	defer h.flushMu.Unlock()
	h.mu.Lock()
	if len(h.positions) == 0 {
		h.mu.Unlock()
		return nil
	}
	batch := h.positions
	h.positions, h.flushing = map[sessionKey]*carillon.SessionPosition{}, batch
	h.mu.Unlock()
	keys := make([]sessionKey, 0, len(batch))
	for k := range batch {
		keys = append(keys, k)
	}
	var failed []sessionKey
	var firstErr error
	for chunk := range slices.Chunk(keys, flushChunk) {
		err := h.cfg.Store.Update(ctx, func(tx carillon.Tx) error {
			for _, k := range chunk {
				var err error
				if p := batch[k]; p == nil {
					err = tx.DeleteSessionPosition(k.user, k.id)
				} else {
					err = tx.PutSessionPosition(p)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			failed = append(failed, chunk...)
			firstErr = cmp.Or(firstErr, err)
		}
	}
	h.mu.Lock()
	h.flushing = nil
	h.flushes++
	for _, k := range failed {
		if _, newer := h.positions[k]; !newer {
			h.positions[k] = batch[k]
		}
	}
	h.mu.Unlock()
	if firstErr != nil && ctx.Err() == nil {
		h.log.Warn("writing session positions", "positions", len(failed), "cause", firstErr)
	}
	return firstErr
}

// checkpoint queues the positions of the open sessions that changed since
// their last checkpoint, marked live.
func (h *Hub) checkpoint() {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.cfg.Now()
	for user, us := range h.users {
		for _, s := range us.list {
			key := sessionKey{user, s.id}
			if s.replaying || h.byID[key] != s {
				continue
			}
			s.mu.Lock()
			version := s.audVersion + s.enqueued + s.sentBase
			skip := s.closing || version == s.savedVersion && !h.refreshDueLocked(key, now)
			s.mu.Unlock()
			if skip {
				continue
			}
			p := h.positionLocked(s, true)
			p.Saved = now
			h.positions[key] = p
			s.savedVersion = version
			if h.clustered() {
				h.liveSaved[key] = now
			}
		}
	}
}

// expire deletes the positions older than twice the window: until then,
// a reconnection too late to resume is counted as a gap (resume_gaps_total
// with reason window) rather than taken for a new session.
func (h *Hub) expire(ctx context.Context) {
	before := h.cfg.Now().Add(-2 * h.cfg.ResumeWindow)
	for ctx.Err() == nil {
		n := 0
		err := h.cfg.Store.Update(ctx, func(tx carillon.Tx) (err error) {
			n, err = tx.DeleteSessionPositionsBefore(before, 1000)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("deleting old session positions", "cause", err)
			}
			return
		}
		if n < 1000 {
			return
		}
	}
}

// Hold is the outbox position the relay may trim through
// (bus.Relay.Hold): before every event a session that may still resume
// needs. MaxInt64 when there is none.
func (h *Hub) Hold() int64 {
	if !h.tracking() {
		return math.MaxInt64
	}
	hold := int64(math.MaxInt64)
	h.mu.Lock()
	for _, m := range []map[sessionKey]*carillon.SessionPosition{h.positions, h.flushing} {
		for _, p := range m {
			if p != nil && !p.Live {
				hold = min(hold, p.Hold())
			}
		}
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := h.cfg.Store.View(ctx, func(tx carillon.Tx) error {
		seq, ok, err := tx.SessionPositionsHold(h.cfg.Now().Add(-h.cfg.ResumeWindow))
		if ok {
			hold = min(hold, seq)
		}
		return err
	})
	if err != nil {
		h.log.Warn("reading the session positions' hold", "cause", err)
		return 0 // trim nothing this time
	}
	return hold
}
