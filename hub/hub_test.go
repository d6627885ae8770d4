package hub

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
)

// testHub is a hub whose sessions have no connection: what the hub
// queues for them is inspected directly.
func testHub(t *testing.T, cfg Config) *Hub {
	t.Helper()
	return New(cfg, nil, prometheus.NewRegistry())
}

// connect registers a connectionless session of user.
func connect(t *testing.T, h *Hub, user, id string, channels []string, snapSeq int64) *session {
	t.Helper()
	s := newSession(h, user, id, nil, h.cfg.QueueBytes)
	if _, err := h.register(s, channels, snapSeq, nil); err != nil {
		t.Fatalf("register %s/%s: %v", user, id, err)
	}
	return s
}

type testFrame struct {
	Headers map[string]string
	Payload *string
}

func decodeFrame(t *testing.T, b []byte) testFrame {
	t.Helper()
	var f testFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

// framePayload returns the payload of a complete, unmasked text frame.
func framePayload(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 2 || b[0] != finBit|opText {
		t.Fatalf("not a final text frame: % x", b[:min(len(b), 10)])
	}
	n, hdr := int(b[1]), 2
	switch n {
	case 126:
		n, hdr = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		n, hdr = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	if len(b) != hdr+n {
		t.Fatalf("frame of %d bytes announces %d bytes of payload after %d of header", len(b), n, hdr)
	}
	return b[hdr:]
}

// drain takes the frames queued for s and returns, for each, its event
// type and payload.
func drain(t *testing.T, s *session) []string {
	t.Helper()
	s.mu.Lock()
	q := s.queue
	s.queue, s.bytes = nil, 0
	s.mu.Unlock()
	var out []string
	for _, f := range q {
		fr := decodeFrame(t, framePayload(t, f.frame))
		p := ""
		if fr.Payload != nil {
			p = *fr.Payload
		}
		out = append(out, fr.Headers[headerEventType]+":"+p)
	}
	return out
}

func wantFrames(t *testing.T, who string, s *session, want ...string) {
	t.Helper()
	got := drain(t, s)
	if !slices.Equal(got, want) {
		t.Errorf("%s received %q, want %q", who, got, want)
	}
}

// seqs hands out outbox positions.
type seqs struct{ n int64 }

func (q *seqs) next() int64 { q.n++; return q.n }

func (q *seqs) msg(channel, content string) carillon.Event {
	return carillon.Event{Seq: q.next(), At: time.Now(), Type: "CREATE_CHANNEL_MESSAGE", Channel: channel,
		ToMembers: true, MessageType: "STANDARD", Payload: []byte(content)}
}

func (q *seqs) targeted(channel, content string, recipients ...string) carillon.Event {
	return carillon.Event{Seq: q.next(), Type: "CREATE_CHANNEL_MESSAGE", Channel: channel,
		Recipients: recipients, MessageType: "STANDARD", Payload: []byte(content)}
}

func (q *seqs) join(channel, member string, hidden bool) carillon.Event {
	e := carillon.Event{Seq: q.next(), Type: "CREATE_CHANNEL_MEMBERSHIP", Channel: channel, Member: member,
		MemberChange: +1, Payload: []byte("join " + member)}
	if hidden {
		e.Recipients = []string{member}
	} else {
		e.ToMembers = true
	}
	return e
}

func (q *seqs) leave(channel, member string) carillon.Event {
	return carillon.Event{Seq: q.next(), Type: "DELETE_CHANNEL_MEMBERSHIP", Channel: channel, Member: member,
		MemberChange: -1, Recipients: []string{member}, ToMembers: true, Payload: []byte("leave " + member)}
}

func (q *seqs) batch(channel string, change int, members ...string) carillon.Event {
	return carillon.Event{Seq: q.next(), Type: "BATCH_CREATE_CHANNEL_MEMBERSHIP", Channel: channel,
		MemberChange: change, Recipients: members, ToMembers: true, Payload: []byte("batch")}
}

func (q *seqs) deleteChannel(channel string) carillon.Event {
	return carillon.Event{Seq: q.next(), Type: eventDeleteChannel, Channel: channel, ToMembers: true, Payload: []byte("deleted")}
}

func TestDeliverToMembersAndRecipients(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	alice := connect(t, h, "alice", "1", []string{"A", "B"}, 0)
	alice2 := connect(t, h, "alice", "2", nil, 0) // a second session shares the user's channels
	bob := connect(t, h, "bob", "1", []string{"A"}, 0)
	carol := connect(t, h, "carol", "1", []string{"B"}, 0)

	h.Deliver([]carillon.Event{q.msg("A", "a1"), q.msg("B", "b1"), q.targeted("A", "t1", "alice", "bob"), q.msg("C", "c1")})
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:a1", "CREATE_CHANNEL_MESSAGE:b1", "CREATE_CHANNEL_MESSAGE:t1")
	wantFrames(t, "alice's second session", alice2, "CREATE_CHANNEL_MESSAGE:a1", "CREATE_CHANNEL_MESSAGE:b1", "CREATE_CHANNEL_MESSAGE:t1")
	wantFrames(t, "bob", bob, "CREATE_CHANNEL_MESSAGE:a1", "CREATE_CHANNEL_MESSAGE:t1")
	wantFrames(t, "carol", carol, "CREATE_CHANNEL_MESSAGE:b1")

	// A targeted message goes to its recipients only, although carol is
	// a member of the channel.
	h.Deliver([]carillon.Event{q.targeted("B", "t2", "alice", "alice")})
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:t2")
	wantFrames(t, "carol", carol)

	// Events already delivered are skipped.
	h.Deliver([]carillon.Event{{Seq: 1, Type: "CREATE_CHANNEL_MESSAGE", Channel: "A", ToMembers: true, Payload: []byte("again")}})
	wantFrames(t, "bob", bob)
	if got := h.Seq(); got != q.n {
		t.Errorf("Seq = %d, want %d", got, q.n)
	}
	if got := metricValue(t, h.metrics.eventsDelivered); got != float64(q.n) {
		t.Errorf("events delivered = %v, want %d", got, q.n)
	}
}

func TestFrameEncodedOncePerEvent(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	var sessions []*session
	for _, u := range []string{"u1", "u2", "u3"} {
		sessions = append(sessions, connect(t, h, u, "s", []string{"A"}, 0))
	}
	h.Deliver([]carillon.Event{q.msg("A", "x")})
	var first *byte
	for i, s := range sessions {
		if len(s.queue) != 1 {
			t.Fatalf("session %d has %d frames", i, len(s.queue))
		}
		p := &s.queue[0].frame[0]
		if first == nil {
			first = p
		} else if p != first {
			t.Errorf("session %d has its own copy of the frame: it was encoded again", i)
		}
	}
}

func TestMembershipChangesApplyInCommitOrder(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	alice := connect(t, h, "alice", "1", []string{"A"}, 0)
	bob := connect(t, h, "bob", "1", nil, 0)
	carol := connect(t, h, "carol", "1", nil, 0)

	// bob joins: he receives his own CREATE_CHANNEL_MEMBERSHIP and the
	// next message, in the same batch as the join.
	h.Deliver([]carillon.Event{q.msg("A", "before"), q.join("A", "bob", false), q.msg("A", "after")})
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:before", "CREATE_CHANNEL_MEMBERSHIP:join bob", "CREATE_CHANNEL_MESSAGE:after")
	wantFrames(t, "bob", bob, "CREATE_CHANNEL_MEMBERSHIP:join bob", "CREATE_CHANNEL_MESSAGE:after")

	// carol joins HIDDEN: only she hears of it, and she receives messages.
	h.Deliver([]carillon.Event{q.join("A", "carol", true), q.msg("A", "m2")})
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:m2")
	wantFrames(t, "carol", carol, "CREATE_CHANNEL_MEMBERSHIP:join carol", "CREATE_CHANNEL_MESSAGE:m2")
	drain(t, bob)

	// bob is removed: he receives his removal and nothing after it.
	h.Deliver([]carillon.Event{q.leave("A", "bob"), q.msg("A", "m3")})
	wantFrames(t, "bob", bob, "DELETE_CHANNEL_MEMBERSHIP:leave bob")
	wantFrames(t, "alice", alice, "DELETE_CHANNEL_MEMBERSHIP:leave bob", "CREATE_CHANNEL_MESSAGE:m3")

	// A removed member that is not connected changes nothing here.
	h.Deliver([]carillon.Event{q.leave("A", "dave"), q.join("A", "erin", false)})
	if _, ok := h.userChannels["dave"]; ok {
		t.Error("a user with no session has hub state")
	}
	if _, ok := h.channelUsers["A"]["erin"]; ok {
		t.Error("a member with no session is in the channel's connected users")
	}
}

func TestBatchMembershipChangeAppliesToEveryRecipient(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	alice := connect(t, h, "alice", "1", []string{"A"}, 0)
	bob := connect(t, h, "bob", "1", nil, 0)
	carol := connect(t, h, "carol", "1", nil, 0)
	dave := connect(t, h, "dave", "1", nil, 0)

	h.Deliver([]carillon.Event{q.batch("A", +1, "bob", "carol"), q.msg("A", "m1")})
	for name, s := range map[string]*session{"alice": alice, "bob": bob, "carol": carol} {
		wantFrames(t, name, s, "BATCH_CREATE_CHANNEL_MEMBERSHIP:batch", "CREATE_CHANNEL_MESSAGE:m1")
	}
	wantFrames(t, "dave", dave)

	// The same reading holds for a removal: Member "" with MemberChange
	// -1 removes every recipient, after they received the event.
	h.Deliver([]carillon.Event{q.batch("A", -1, "bob", "carol"), q.msg("A", "m2")})
	wantFrames(t, "alice", alice, "BATCH_CREATE_CHANNEL_MEMBERSHIP:batch", "CREATE_CHANNEL_MESSAGE:m2")
	wantFrames(t, "bob", bob, "BATCH_CREATE_CHANNEL_MEMBERSHIP:batch")
	wantFrames(t, "carol", carol, "BATCH_CREATE_CHANNEL_MEMBERSHIP:batch")
}

func TestDeleteChannelClearsTheChannel(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	alice := connect(t, h, "alice", "1", []string{"A", "B"}, 0)
	bob := connect(t, h, "bob", "1", []string{"A"}, 0)

	h.Deliver([]carillon.Event{q.deleteChannel("A"), q.msg("A", "late"), q.msg("B", "b")})
	wantFrames(t, "alice", alice, "DELETE_CHANNEL:deleted", "CREATE_CHANNEL_MESSAGE:b")
	wantFrames(t, "bob", bob, "DELETE_CHANNEL:deleted")
	if _, ok := h.channelUsers["A"]; ok {
		t.Error("deleted channel still has connected users")
	}
	for _, u := range []string{"alice", "bob"} {
		if _, ok := h.userChannels[u]["A"]; ok {
			t.Errorf("%s is still in the deleted channel", u)
		}
	}
}

func TestRegisterReplaysChangesAfterSnapshot(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	bob := connect(t, h, "bob", "1", []string{"X", "C"}, 0)
	// Events 1..5 are delivered while alice is connecting; her snapshot
	// was taken at 1 (after the first), when she was in A and C.
	h.Deliver([]carillon.Event{
		q.msg("A", "m1"),            // 1, in her snapshot
		q.join("B", "alice", true),  // 2: she joins B
		q.leave("A", "alice"),       // 3: she leaves A
		q.deleteChannel("C"),        // 4: C is deleted
		q.join("X", "alice", false), // 5: she joins X
		q.leave("X", "alice"),       // 6: and leaves it
	})
	drain(t, bob)
	alice := connect(t, h, "alice", "1", []string{"A", "C"}, 1)
	if got := keys(h.userChannels["alice"]); !slices.Equal(got, []string{"B"}) {
		t.Errorf("alice's channels after catch-up = %v, want [B]", got)
	}
	// Catching alice up touched nobody else: bob is still in X, and only
	// him; C is gone.
	if got := keys(h.channelUsers["X"]); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("X's users = %v, want [bob]", got)
	}
	h.Deliver([]carillon.Event{q.msg("A", "a"), q.msg("B", "b"), q.msg("C", "c"), q.msg("X", "x")})
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:b")
	wantFrames(t, "bob", bob, "CREATE_CHANNEL_MESSAGE:x")
}

func TestRegisterSnapshotAheadOfTheHub(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	bob := connect(t, h, "bob", "1", []string{"A"}, 0)
	// alice's snapshot is at 3, before the hub delivered 1..3: she joined
	// A at 2. Events up to 3 predate her session; 4 does not.
	alice := connect(t, h, "alice", "1", []string{"A"}, 3)
	h.Deliver([]carillon.Event{q.msg("A", "m1"), q.join("A", "alice", false), q.msg("A", "m3"), q.msg("A", "m4")})
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:m4")
	wantFrames(t, "bob", bob, "CREATE_CHANNEL_MESSAGE:m1", "CREATE_CHANNEL_MEMBERSHIP:join alice", "CREATE_CHANNEL_MESSAGE:m3", "CREATE_CHANNEL_MESSAGE:m4")
	// Replaying her join, already in the snapshot, changed nothing.
	if got := keys(h.userChannels["alice"]); !slices.Equal(got, []string{"A"}) {
		t.Errorf("alice's channels = %v, want [A]", got)
	}
}

func TestRegisterStaleSnapshot(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	// Fill the catch-up log past its bound, so that it is trimmed.
	var events []carillon.Event
	for i := 0; i < maxChanges+10; i++ {
		events = append(events, q.join("A", "someone", false))
	}
	h.Deliver(events)
	if h.trimmedThrough == 0 || len(h.changes) > maxChanges {
		t.Fatalf("log not trimmed: trimmedThrough %d, %d changes", h.trimmedThrough, len(h.changes))
	}
	if h.changes[0].seq != h.trimmedThrough+1 {
		t.Errorf("oldest change %d, trimmed through %d: a change is neither kept nor trimmed", h.changes[0].seq, h.trimmedThrough)
	}
	s := newSession(h, "alice", "1", nil, 1<<20)
	_, err := h.register(s, []string{"A"}, h.trimmedThrough-1, nil)
	var stale errStaleSnapshot
	if !errors.As(err, &stale) {
		t.Fatalf("register with a snapshot older than the log: %v, want errStaleSnapshot", err)
	}
	if len(h.users) != 0 || metricValue(t, h.metrics.sessionsOpen) != 0 {
		t.Error("a refused session was added")
	}
	// A snapshot at the trim point needs only what the log holds.
	if _, err := h.register(s, []string{"A"}, h.trimmedThrough, nil); err != nil {
		t.Fatalf("register at the trim point: %v", err)
	}
}

func TestDuplicateSessionIDNewerWins(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	old := connect(t, h, "alice", "same", []string{"A"}, 0)
	other := connect(t, h, "alice", "other", nil, 0)
	newer := connect(t, h, "alice", "same", []string{"A"}, 0)
	if !old.closing || old.closeCode != CloseForbidden {
		t.Errorf("older session: closing %v code %d, want closed with %d", old.closing, old.closeCode, CloseForbidden)
	}
	if got := metricValue(t, h.metrics.sessionsOpen); got != 2 {
		t.Errorf("sessions open = %v, want 2", got)
	}
	h.Deliver([]carillon.Event{q.msg("A", "m")})
	wantFrames(t, "older", old)
	wantFrames(t, "newer", newer, "CREATE_CHANNEL_MESSAGE:m")
	wantFrames(t, "other", other, "CREATE_CHANNEL_MESSAGE:m")
	// The older session's handler unregisters it when its writer stops:
	// that must not remove the newer one.
	h.unregister(old)
	h.unregister(old)
	if got := metricValue(t, h.metrics.sessionsOpen); got != 2 {
		t.Errorf("sessions open = %v after the older unregistered, want 2", got)
	}
	if h.byID[sessionKey{"alice", "same"}] != newer {
		t.Error("the newer session lost its sessionId")
	}
	h.unregister(newer)
	h.unregister(other)
	if len(h.users) != 0 || len(h.userChannels) != 0 || len(h.channelUsers) != 0 || len(h.byID) != 0 {
		t.Errorf("state left after every session unregistered: %v %v %v %v", h.users, h.userChannels, h.channelUsers, h.byID)
	}
	if got := metricValue(t, h.metrics.sessionsOpen); got != 0 {
		t.Errorf("sessions open = %v, want 0", got)
	}
}

func TestLastSessionOfAUserReplacedKeepsChannels(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	connect(t, h, "alice", "same", []string{"A"}, 0)
	h.Deliver([]carillon.Event{q.join("B", "alice", false)})
	// The replacing session's snapshot, taken before the join was
	// delivered, is caught up from the log.
	newer := connect(t, h, "alice", "same", []string{"A"}, 0)
	h.Deliver([]carillon.Event{q.msg("A", "a"), q.msg("B", "b")})
	wantFrames(t, "newer", newer, "CREATE_CHANNEL_MESSAGE:a", "CREATE_CHANNEL_MESSAGE:b")
}

func TestShutdownRefusesAndClosesSessions(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	s := connect(t, h, "alice", "1", []string{"A"}, 0)
	h.Deliver([]carillon.Event{q.msg("A", "queued")})
	// Without a writer, the session never reports done; Shutdown returns
	// when its handlers (none here) have.
	h.Shutdown(t.Context())
	if !s.closing || !s.flush || s.closeCode != CloseServiceRestart {
		t.Errorf("session after Shutdown: closing %v flush %v code %d, want %d after the queue", s.closing, s.flush, s.closeCode, CloseServiceRestart)
	}
	if _, err := h.register(newSession(h, "bob", "1", nil, 1<<20), nil, 0, nil); !errors.Is(err, errShuttingDown) {
		t.Errorf("register after Shutdown: %v", err)
	}
	if h.enter(nil) {
		t.Error("enter after Shutdown succeeded")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v %v", mfs, err)
	}
	m := mfs[0].GetMetric()[0]
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("not a counter or gauge: %v", m)
	return 0
}

// The audiences of an elastic channel C: its sub-channels s1 and s2.
var (
	subC1 = carillon.SubChannelAudience("C", "s1")
	subC2 = carillon.SubChannelAudience("C", "s2")
)

// move is how a member moved from one sub-channel to another is
// announced: an event without audience that takes it out of the old
// sub-channel, then UPDATE_CHANNEL_MEMBERSHIP to the member alone, which
// puts it in the new one.
func (q *seqs) move(from, to, member string) []carillon.Event {
	return []carillon.Event{
		{Seq: q.next(), Type: "LEAVE_SUB_CHANNEL", Channel: from, Member: member, MemberChange: -1},
		{Seq: q.next(), Type: "UPDATE_CHANNEL_MEMBERSHIP", Channel: to, Member: member, MemberChange: +1,
			Recipients: []string{member}, Payload: []byte("moved " + member)},
	}
}

func TestSubChannelAudiences(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	alice := connect(t, h, "alice", "1", []string{subC1}, 0)
	bob := connect(t, h, "bob", "1", []string{subC2}, 0)
	// dave, a moderator, is in both sub-channels.
	dave := connect(t, h, "dave", "1", []string{subC1, subC2}, 0)
	// erin is in a channel whose ARN has C's as a prefix.
	erin := connect(t, h, "erin", "1", []string{carillon.SubChannelAudience("C-x", "s1")}, 0)

	// A sub-channel's events reach its members only; the channel's reach
	// the members of every sub-channel, once each.
	h.Deliver([]carillon.Event{q.msg(subC1, "in s1"), q.msg(subC2, "in s2"), q.msg("C", "channel")})
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:in s1", "CREATE_CHANNEL_MESSAGE:channel")
	wantFrames(t, "bob", bob, "CREATE_CHANNEL_MESSAGE:in s2", "CREATE_CHANNEL_MESSAGE:channel")
	wantFrames(t, "dave", dave, "CREATE_CHANNEL_MESSAGE:in s1", "CREATE_CHANNEL_MESSAGE:in s2", "CREATE_CHANNEL_MESSAGE:channel")
	wantFrames(t, "erin", erin)

	// bob moves to s1: only he hears of it, and from then on he is in s1
	// and not in s2.
	h.Deliver(q.move(subC2, subC1, "bob"))
	wantFrames(t, "bob", bob, "UPDATE_CHANNEL_MEMBERSHIP:moved bob")
	wantFrames(t, "alice", alice)
	wantFrames(t, "dave", dave)
	h.Deliver([]carillon.Event{q.msg(subC2, "s2 after"), q.msg(subC1, "s1 after")})
	wantFrames(t, "bob", bob, "CREATE_CHANNEL_MESSAGE:s1 after")
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:s1 after")
	wantFrames(t, "dave", dave, "CREATE_CHANNEL_MESSAGE:s2 after", "CREATE_CHANNEL_MESSAGE:s1 after")

	// dave leaves s2, the last one in it: the channel forgets it.
	h.Deliver([]carillon.Event{q.leave(subC2, "dave")})
	wantFrames(t, "dave", dave, "DELETE_CHANNEL_MEMBERSHIP:leave dave")
	if got := keys(h.subAudiences["C"]); !slices.Equal(got, []string{subC1}) {
		t.Errorf("C's sub-channel audiences = %v, want [%s]", got, subC1)
	}

	// Deleting the channel empties its sub-channels, not C-x's.
	h.Deliver([]carillon.Event{q.deleteChannel("C"), q.msg(subC1, "late"), q.msg("C", "late")})
	for _, s := range []*session{alice, bob, dave} {
		wantFrames(t, s.user, s, "DELETE_CHANNEL:deleted")
	}
	for _, u := range []string{"alice", "bob", "dave"} {
		if got := keys(h.userChannels[u]); len(got) != 0 {
			t.Errorf("%s is still in %v", u, got)
		}
	}
	if len(h.subAudiences["C"]) != 0 || len(h.channelUsers[subC1]) != 0 {
		t.Errorf("C still has audiences: %v, %v", h.subAudiences["C"], h.channelUsers[subC1])
	}
	h.Deliver([]carillon.Event{q.msg("C-x", "x")})
	wantFrames(t, "erin", erin, "CREATE_CHANNEL_MESSAGE:x")
}

func TestRegisterReplaysSubChannelChanges(t *testing.T) {
	h := testHub(t, Config{})
	var q seqs
	bob := connect(t, h, "bob", "1", []string{subC1}, 0)
	// alice's snapshot, at 1, has her in s1 of C and in D; then she moves
	// to s2, and D, an elastic channel too, is deleted.
	h.Deliver([]carillon.Event{q.msg(subC1, "m1")})
	h.Deliver(q.move(subC1, subC2, "alice"))
	h.Deliver([]carillon.Event{q.deleteChannel("D")})
	drain(t, bob)
	alice := connect(t, h, "alice", "1", []string{subC1, carillon.SubChannelAudience("D", "s1")}, 1)
	if got := keys(h.userChannels["alice"]); !slices.Equal(got, []string{subC2}) {
		t.Errorf("alice's audiences after catch-up = %v, want [%s]", got, subC2)
	}
	h.Deliver([]carillon.Event{q.msg(subC1, "s1"), q.msg(subC2, "s2"), q.msg("C", "all")})
	wantFrames(t, "alice", alice, "CREATE_CHANNEL_MESSAGE:s2", "CREATE_CHANNEL_MESSAGE:all")
	wantFrames(t, "bob", bob, "CREATE_CHANNEL_MESSAGE:s1", "CREATE_CHANNEL_MESSAGE:all")
}
