package messaging

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// TestElasticChannelRandomJoinsAndLeaves runs random joins and leaves,
// and a moderator joining and leaving sub-channels, through the service
// and its store, and checks after each: the store's sub-channels keep the
// balancing's invariants and their counts, every membership names an
// open sub-channel, and the events emitted so far, replayed as the hub
// replays them, put every member in the audience of its sub-channel and
// no other.
func TestElasticChannelRandomJoinsAndLeaves(t *testing.T) {
	t.Parallel()
	ids := []string{"mod"}
	for i := range 24 {
		ids = append(ids, fmt.Sprintf("u%02d", i))
	}
	s, app, users := newTestService(t, DefaultLimits, ids...)
	mod, people := users[0], users[1:]
	ctx := context.Background()
	cfg := &messagingapi.ElasticChannelConfiguration{
		MaximumSubChannels: api.Int32(4), TargetMembershipsPerSubChannel: api.Int32(3), MinimumMembershipPercentage: api.Int32(40),
	}
	out, err := s.CreateChannel(ctx, &messagingapi.CreateChannelRequest{
		AppInstanceArn: &app, Name: api.String("Elastic"), ChimeBearer: &mod, ChannelId: api.String("e"),
		Mode: new(messagingapi.ChannelModeRestricted), ElasticChannelConfiguration: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := *out.ChannelArn
	subs := func() []carillon.SubChannel {
		var rows []carillon.SubChannel
		if err := s.store.View(ctx, func(tx carillon.Tx) (err error) {
			rows, err = tx.ListSubChannels(ch, carillon.Page{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return rows
	}

	rnd := rand.New(rand.NewPCG(7, 7))
	in := map[string]bool{}
	stats := map[string]int{}
	for op := range 600 {
		// Phases of mostly joins, up to the channel's capacity, and of
		// mostly leaves, down to a few members.
		joins := 7
		if op/100%2 == 1 {
			joins = 3
		}
		switch x := rnd.IntN(10); {
		case x < joins: // someone joins, added by the moderator
			u := people[rnd.IntN(len(people))]
			_, err := s.CreateChannelMembership(ctx, &messagingapi.CreateChannelMembershipRequest{
				ChannelArn: &ch, ChimeBearer: &mod, MemberArn: &u, Type: new(messagingapi.ChannelMembershipTypeDefault),
			})
			switch {
			case carillon.IsKind(err, carillon.ResourceLimitExceeded):
				if len(in) != 4*3 || in[u] {
					t.Fatalf("op %d: join refused with %d members (%v in): %v", op, len(in), in[u], err)
				}
				stats["refused"]++
			case err != nil:
				t.Fatalf("op %d: join: %v", op, err)
			default:
				in[u] = true
			}
		case x < 9 && len(in) > 0: // a member leaves
			var members []string
			for u := range in {
				members = append(members, u)
			}
			slices.Sort(members)
			u := members[rnd.IntN(len(members))]
			if err := s.DeleteChannelMembership(ctx, &messagingapi.DeleteChannelMembershipRequest{
				ChannelArn: &ch, ChimeBearer: &u, MemberArn: &u,
			}); err != nil {
				t.Fatalf("op %d: leave: %v", op, err)
			}
			delete(in, u)
			stats["left"]++
		default: // the moderator joins a sub-channel, or leaves one
			open := subs()
			sub := open[rnd.IntN(len(open))].ID
			_, err := s.CreateChannelMembership(ctx, &messagingapi.CreateChannelMembershipRequest{
				ChannelArn: &ch, ChimeBearer: &mod, MemberArn: &mod, Type: new(messagingapi.ChannelMembershipTypeDefault), SubChannelId: &sub,
			})
			if err != nil {
				t.Fatalf("op %d: moderator joins %s: %v", op, sub, err)
			}
			if rnd.IntN(3) == 0 {
				err = s.DeleteChannelMembership(ctx, &messagingapi.DeleteChannelMembershipRequest{
					ChannelArn: &ch, ChimeBearer: &mod, MemberArn: &mod, SubChannelId: &sub,
				})
				if err != nil {
					t.Fatalf("op %d: moderator leaves %s: %v", op, sub, err)
				}
			}
		}
		checkElasticStore(t, s, ch, mod, in, op)
	}
	evs := elasticEvents(t, s)
	for _, e := range evs {
		switch {
		case e.Type == EventUpdateChannelMembership:
			stats["moved"]++
		case e.Reason == reasonSubChannelDeleted:
			stats["moderator dropped"]++
		case e.Type == EventDeleteSubChannel:
			stats["deleted"]++
		case e.Type == EventCreateSubChannel:
			stats["opened"]++
		}
	}
	for _, k := range []string{"refused", "moved", "moderator dropped", "deleted", "opened"} {
		if stats[k] == 0 {
			t.Errorf("no %s in the run: %v", k, stats)
		}
	}
	t.Logf("%v", stats)
}

func elasticEvents(t *testing.T, s *Service) []carillon.Event {
	t.Helper()
	var evs []carillon.Event
	if err := s.store.View(context.Background(), func(tx carillon.Tx) (err error) {
		evs, err = tx.Events(0, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// checkElasticStore checks the store and the events against who is in the
// channel: the members in, and mod, the moderator.
func checkElasticStore(t *testing.T, s *Service, ch, mod string, in map[string]bool, op int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("op %d: "+format, append([]any{op}, args...)...)
	}
	// where is the audience each member should be in.
	where := map[string][]string{}
	err := s.store.View(context.Background(), func(tx carillon.Tx) error {
		subs, err := tx.ListSubChannels(ch, carillon.Page{})
		if err != nil {
			return err
		}
		if len(subs) < 1 || len(subs) > 4 {
			fail("%d sub-channels", len(subs))
		}
		total := 0
		for _, sc := range subs {
			if sc.Memberships > 3 {
				fail("%s has %d members, over the target", sc.ID, sc.Memberships)
			}
			ms, err := tx.ListMemberships(ch, "", sc.ID, carillon.Page{})
			if err != nil {
				return err
			}
			if len(ms) != sc.Memberships {
				fail("%s counts %d members and has %d", sc.ID, sc.Memberships, len(ms))
			}
			for _, m := range ms {
				if !in[m.MemberARN] {
					fail("%s is in %s and should not be in the channel", m.MemberARN, sc.ID)
				}
				where[m.MemberARN] = append(where[m.MemberARN], audience(ch, sc.ID))
			}
			total += sc.Memberships
			joined, err := tx.ListSubChannelMemberships(ch, sc.ID, carillon.Page{})
			if err != nil {
				return err
			}
			for _, m := range joined {
				if m.MemberARN != mod {
					fail("%s joined %s as a moderator", m.MemberARN, sc.ID)
				}
				where[mod] = append(where[mod], audience(ch, sc.ID))
			}
		}
		if total != len(in) {
			fail("%d members in the sub-channels, %d in the channel", total, len(in))
		}
		all, err := tx.ListMemberships(ch, "", "", carillon.Page{})
		if err != nil {
			return err
		}
		want := len(in)
		if len(where[mod]) > 0 {
			want++ // the moderator's membership of the channel
		}
		if len(all) != want {
			fail("%d memberships, want %d", len(all), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Replay the events' membership changes, as the hub does.
	got := map[string]map[string]bool{}
	for _, e := range elasticEvents(t, s) {
		if e.MemberChange == 0 {
			continue
		}
		if got[e.Member] == nil {
			got[e.Member] = map[string]bool{}
		}
		got[e.Member][e.Channel] = e.MemberChange > 0
		if e.Type == EventUpdateChannelMembership && (e.ToMembers || !slices.Equal(e.Recipients, []string{e.Member})) {
			fail("UPDATE_CHANNEL_MEMBERSHIP to members %v and %v, want the moved member only", e.ToMembers, e.Recipients)
		}
		if e.Reason == reasonSubChannelDeleted && (e.Member != mod || e.ToMembers || e.Type != EventDeleteChannelMembership) {
			fail("subchannel_DELETED event %s about %s, to members %v", e.Type, e.Member, e.ToMembers)
		}
	}
	for member, audiences := range got {
		var now []string
		for a, inIt := range audiences {
			if inIt {
				now = append(now, a)
			}
		}
		slices.Sort(now)
		want := slices.Clone(where[member])
		slices.Sort(want)
		if !slices.Equal(now, want) {
			fail("the events put %s in %v, the store in %v", member, now, want)
		}
	}
}
