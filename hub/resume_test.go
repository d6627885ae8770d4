package hub

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/carillonhq/carillon"
)

// The replay decides recipients with a view; it must agree with the hub's
// own fan-out, event by event. Both see the same random events.
func TestViewAgreesWithDeliver(t *testing.T) {
	const user = "u"
	channels := []string{"A", "B", carillon.SubChannelAudience("C", "s1"), carillon.SubChannelAudience("C", "s2")}
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		h := New(Config{}, nil, nil)
		s := newSession(h, user, "1", nil, 1<<30)
		s.started, s.done = true, true // queue frames, write none
		if _, err := h.register(s, []string{"A"}, 0, nil); err != nil {
			t.Fatal(err)
		}
		v := newView(user, []string{"A"})
		for seq := int64(1); seq <= 200; seq++ {
			e := carillon.Event{Seq: seq, Type: "CREATE_CHANNEL_MESSAGE", Channel: channels[rng.IntN(len(channels))], ToMembers: true}
			switch r := rng.IntN(10); {
			case r < 2:
				e.Type, e.Member, e.MemberChange = "CREATE_CHANNEL_MEMBERSHIP", user, 1
			case r < 4:
				e.Type, e.Member, e.MemberChange, e.Recipients = "DELETE_CHANNEL_MEMBERSHIP", user, -1, []string{user}
			case r < 5:
				e.ToMembers, e.Recipients = false, []string{user} // targeted
			case r < 6:
				e.Channel = "C" // to every sub-channel
			}
			s.mu.Lock()
			before := len(s.queue)
			s.mu.Unlock()
			h.Deliver([]carillon.Event{e})
			s.mu.Lock()
			got := len(s.queue) > before
			s.mu.Unlock()
			want, _ := v.deliver(&e)
			if got != want {
				t.Fatalf("seed %d, event %d %+v: the hub delivered %v, the view %v", seed, seq, e, got, want)
			}
			h.mu.Lock()
			var aud []string
			for a := range h.userChannels[user] {
				aud = append(aud, a)
			}
			h.mu.Unlock()
			slices.Sort(aud)
			if !slices.Equal(aud, v.list()) {
				t.Fatalf("seed %d, after event %d: hub audiences %v, view %v", seed, seq, aud, v.list())
			}
		}
	}
}

// rewind undoes the user's membership changes, the latest first: from
// the audiences after them it finds those before. Changes are real ones,
// as the store writes them: an addition of a non-member, a removal of a
// member; others' changes are not the user's.
func TestRewindUndoesChanges(t *testing.T) {
	const user = "u"
	channels := []string{"A", "B", "C", carillon.SubChannelAudience("D", "s1")}
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 2))
		var start []string
		for _, c := range channels {
			if rng.IntN(2) == 0 {
				start = append(start, c)
			}
		}
		var events []carillon.Event
		v := newView(user, start)
		for seq := int64(1); seq <= 20; seq++ {
			c := channels[rng.IntN(len(channels))]
			e := carillon.Event{Seq: seq, Channel: c, Member: user, MemberChange: 1}
			if _, in := v.aud[c]; in {
				e.MemberChange = -1
			}
			if rng.IntN(4) == 0 {
				e.Member = "someone else"
			}
			v.deliver(&e)
			events = append(events, e)
		}
		if got := rewind(user, v.list(), events); !slices.Equal(got, start) {
			t.Fatalf("seed %d: from %v the events lead to %v; rewound, %v", seed, start, v.list(), got)
		}
	}
}

// A channel deleted in between: whether the user was in it is not known,
// and rewind takes it as not a member; its other memberships are undone.
func TestRewindAcrossChannelDeletion(t *testing.T) {
	const user = "u"
	events := []carillon.Event{
		{Seq: 1, Channel: "B", Member: user, MemberChange: 1},
		{Seq: 2, Channel: "D", Type: eventDeleteChannel, ToMembers: true},
		{Seq: 3, Channel: "C", Member: user, MemberChange: -1},
	}
	got := rewind(user, []string{"A", "B"}, events)
	if want := []string{"A", "C"}; !slices.Equal(got, want) {
		t.Errorf("rewind gives %v, want %v", got, want)
	}
	// A deletion of a channel the user is still in after it (a channel of
	// the same ARN created again cannot be: ARNs are unique) drops it.
	got = rewind(user, []string{"A", carillon.SubChannelAudience("D", "s")}, events)
	if want := []string{"A", "C"}; !slices.Equal(got, want) {
		t.Errorf("rewind gives %v, want %v", got, want)
	}
}

func TestParseResumeAfter(t *testing.T) {
	for _, c := range []struct {
		in   string
		seq  int64
		want bool
	}{
		{"", 0, false}, {"0", 0, true}, {"42", 42, true}, {"-1", 0, false}, {"x", 0, false},
		{"9223372036854775807", 9223372036854775807, true}, {"9223372036854775808", 0, false}, {" 1", 0, false},
	} {
		seq, ok := parseResumeAfter(c.in)
		if seq != c.seq || ok != c.want {
			t.Errorf("parseResumeAfter(%q) = %d, %v; want %d, %v", c.in, seq, ok, c.seq, c.want)
		}
	}
}
