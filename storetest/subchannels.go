package storetest

// The conformance of the sub-channel methods of MessagingTx. Beyond what
// subchannel.go (at the module root) documents, the suite checks:
//
//   - SubChannel.Memberships counts the memberships naming the sub-channel
//     through CreateMembership, UpdateMembership (a move between two
//     sub-channels, into one, out of one) and DeleteMembership, and only
//     those: memberships of other sub-channels or channels, and
//     sub-channel memberships, do not count. A sub-channel created after
//     memberships named it counts them.
//   - DeleteSubChannel deletes the sub-channel's messages (not the
//     channel's own, nor another sub-channel's) and its sub-channel
//     memberships, and leaves the memberships naming it as they are.
//   - Sub-channel memberships are read with the member's name, go with the
//     member's membership (DeleteMembership, DeleteUser), with the
//     sub-channel and with the channel.

import (
	"fmt"
	"time"

	"github.com/carillonhq/carillon"
)

func subChannelKey(s carillon.SubChannel) string { return s.ID }

func membershipKey(m carillon.Membership) string { return m.MemberARN }

func subChannelIDKey(m carillon.Membership) string { return m.SubChannelID }

// elasticChannel creates an elastic channel c1 of appA.
func elasticChannel(e *env) string {
	e.t.Helper()
	c := newChannel(appA, "c1")
	c.Mode = "RESTRICTED"
	c.Elastic = &carillon.ElasticConfig{MaximumSubChannels: 10, TargetMembershipsPerSubChannel: 4, MinimumMembershipPercentage: 25}
	e.create(newApp(appA), c)
	return c.ARN
}

// subMembership is a membership of member in the sub-channel sub.
func subMembership(channel, sub, member string) *carillon.Membership {
	m := newMembership(channel, member)
	m.SubChannelID = sub
	return m
}

// counts returns the Memberships of each of the channel's sub-channels.
func counts(e *env, channel string) map[string]int {
	e.t.Helper()
	subs := read(e, func(tx carillon.Tx) ([]carillon.SubChannel, error) {
		return tx.ListSubChannels(channel, carillon.Page{})
	})
	out := map[string]int{}
	for _, s := range subs {
		out[s.ID] = s.Memberships
	}
	return out
}

func testSubChannel(e *env) {
	t := e.t
	ch := elasticChannel(e)
	s1 := &carillon.SubChannel{ChannelARN: ch, ID: "s1", Created: Start.Add(time.Second)}
	s2 := &carillon.SubChannel{ChannelARN: ch, ID: "s2", Created: Start.Add(2 * time.Second)}
	e.update(func(tx carillon.Tx) error {
		if err := tx.CreateSubChannel(s1); err != nil {
			return err
		}
		return tx.CreateSubChannel(s2)
	})
	got := read(e, func(tx carillon.Tx) (*carillon.SubChannel, error) { return tx.GetSubChannel(ch, "s1") })
	check(t, "GetSubChannel", got, s1)

	// Memberships is counted, not stored.
	wantErr(t, "CreateSubChannel twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: "s1", Memberships: 7})
	}), carillon.ErrExists)
	wantErr(t, "CreateSubChannel of a missing channel", e.write(func(tx carillon.Tx) error {
		return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: channelARN(appA, "nope"), ID: "s1"})
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetSubChannel(ch, "s3")
		wantErr(t, "GetSubChannel of a missing one", err, carillon.ErrNotFound)
		_, err = tx.GetSubChannel(channelARN(appA, "nope"), "s1")
		wantErr(t, "GetSubChannel of a missing channel", err, carillon.ErrNotFound)
		return nil
	})
	e.update(func(tx carillon.Tx) error {
		return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: "s0", Memberships: 3})
	})
	check(t, "counts of new sub-channels", counts(e, ch), map[string]int{"s0": 0, "s1": 0, "s2": 0})
	checkPaging(e, "ListSubChannels", []string{"s0", "s1", "s2"}, func(tx carillon.Tx, p carillon.Page) ([]carillon.SubChannel, error) {
		return tx.ListSubChannels(ch, p)
	}, subChannelKey)
	e.view(func(tx carillon.Tx) error {
		l, err := tx.ListSubChannels(channelARN(appA, "nope"), carillon.Page{})
		noErr(t, "ListSubChannels of a missing channel", err)
		check(t, "ListSubChannels of a missing channel", l, []carillon.SubChannel{})
		return nil
	})
}

func testSubChannelCounts(e *env) {
	t := e.t
	ch := elasticChannel(e)
	other := newChannel(appA, "c2")
	e.create(other)
	u := func(i int) string { return userARN(appA, fmt.Sprint("u", i)) }
	for i := range 6 {
		e.create(newUser(appA, fmt.Sprint("u", i)))
	}
	e.update(func(tx carillon.Tx) error {
		for _, id := range []string{"s1", "s2"} {
			if err := tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: id}); err != nil {
				return err
			}
		}
		// A sub-channel of the same name in another channel.
		return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: other.ARN, ID: "s1"})
	})
	e.create(
		subMembership(ch, "s1", u(0)), subMembership(ch, "s1", u(1)), subMembership(ch, "s1", u(2)),
		subMembership(ch, "s2", u(3)),
		newMembership(ch, u(4)),                 // in no sub-channel
		subMembership(other.ARN, "s1", u(0)),    // another channel's
		subMembership(ch, "s9", u(5)),           // a sub-channel that does not exist yet
		subMembership(ch, "s1", u(4)+"-nobody"), // a member without user or bot
	)
	// A sub-channel membership does not count.
	e.update(func(tx carillon.Tx) error { return tx.CreateSubChannelMembership(subMembership(ch, "s2", u(4))) })
	check(t, "counts after CreateMembership", counts(e, ch), map[string]int{"s1": 4, "s2": 1})
	check(t, "counts of the other channel", counts(e, other.ARN), map[string]int{"s1": 1})

	move := func(member, to string) {
		t.Helper()
		e.update(func(tx carillon.Tx) error {
			m, err := tx.GetMembership(ch, member)
			if err != nil {
				return err
			}
			m.SubChannelID, m.Updated = to, Start.Add(time.Hour)
			return tx.UpdateMembership(m)
		})
	}
	move(u(0), "s2")
	check(t, "counts after a move", counts(e, ch), map[string]int{"s1": 3, "s2": 2})
	move(u(1), "")
	check(t, "counts after a move out of the sub-channels", counts(e, ch), map[string]int{"s1": 2, "s2": 2})
	move(u(1), "s2")
	check(t, "counts after a move into a sub-channel", counts(e, ch), map[string]int{"s1": 2, "s2": 3})
	move(u(1), "s2")
	check(t, "counts after a move to the same sub-channel", counts(e, ch), map[string]int{"s1": 2, "s2": 3})
	e.update(func(tx carillon.Tx) error {
		// Other fields change, the sub-channel stays.
		m, err := tx.GetMembership(ch, u(2))
		if err != nil {
			return err
		}
		m.ReadMarker = Start.Add(time.Minute)
		return tx.UpdateMembership(m)
	})
	check(t, "counts after an update in place", counts(e, ch), map[string]int{"s1": 2, "s2": 3})
	e.update(func(tx carillon.Tx) error { return tx.DeleteMembership(ch, u(3)) })
	check(t, "counts after DeleteMembership", counts(e, ch), map[string]int{"s1": 2, "s2": 2})
	e.update(func(tx carillon.Tx) error { return tx.DeleteUser(u(2)) })
	check(t, "counts after DeleteUser", counts(e, ch), map[string]int{"s1": 1, "s2": 2})

	// A sub-channel counts the memberships that named it before it was.
	e.update(func(tx carillon.Tx) error {
		return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: "s9"})
	})
	check(t, "counts after creating a sub-channel already named", counts(e, ch), map[string]int{"s1": 1, "s2": 2, "s9": 1})
	check(t, "counts of the other channel at the end", counts(e, other.ARN), map[string]int{"s1": 1})
}

func testDeleteSubChannel(e *env) {
	t := e.t
	ch := elasticChannel(e)
	u1, u2, u3 := userARN(appA, "u1"), userARN(appA, "u2"), userARN(appA, "u3")
	e.create(newUser(appA, "u1"), newUser(appA, "u2"), newUser(appA, "u3"))
	e.update(func(tx carillon.Tx) error {
		for _, id := range []string{"s1", "s2"} {
			if err := tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	msg := func(id, sub string) *carillon.Message {
		m := newMessage(ch, id)
		m.SubChannelID = sub
		return m
	}
	e.create(subMembership(ch, "s1", u1), subMembership(ch, "s2", u2), newMembership(ch, u3),
		msg("a1", "s1"), msg("a2", "s1"), msg("b1", "s2"), msg("c1", ""))
	e.update(func(tx carillon.Tx) error {
		for _, sub := range []string{"s1", "s2"} {
			if err := tx.CreateSubChannelMembership(subMembership(ch, sub, u3)); err != nil {
				return err
			}
		}
		return nil
	})

	e.update(func(tx carillon.Tx) error { return tx.DeleteSubChannel(ch, "s1") })
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetSubChannel(ch, "s1")
		wantErr(t, "GetSubChannel after DeleteSubChannel", err, carillon.ErrNotFound)
		for sub, want := range map[string][]string{"s1": {}, "s2": {"b1"}, "": {"c1"}} {
			ms, err := tx.ListMessages(carillon.MessageQuery{Channel: ch, SubChannel: sub})
			noErr(t, "ListMessages", err)
			check(t, fmt.Sprintf("messages of sub-channel %q after DeleteSubChannel", sub),
				keys(ms, func(m carillon.Message) string { return m.ID }), want)
		}
		_, err = tx.GetMessage(ch, "a1")
		wantErr(t, "GetMessage of a deleted sub-channel's message", err, carillon.ErrNotFound)
		// The membership naming it is the service's to move.
		m, err := tx.GetMembership(ch, u1)
		noErr(t, "GetMembership of a member of the deleted sub-channel", err)
		if m != nil && m.SubChannelID != "s1" {
			t.Errorf("SubChannelID after DeleteSubChannel = %q, want s1", m.SubChannelID)
		}
		of, err := tx.ListSubChannelMembershipsOf(ch, u3, carillon.Page{})
		noErr(t, "ListSubChannelMembershipsOf", err)
		check(t, "sub-channel memberships after DeleteSubChannel", keys(of, subChannelIDKey), []string{"s2"})
		return nil
	})
	check(t, "counts after DeleteSubChannel", counts(e, ch), map[string]int{"s2": 1})
	wantErr(t, "DeleteSubChannel twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteSubChannel(ch, "s1")
	}), carillon.ErrNotFound)

	// Deleting the channel deletes its sub-channels and their
	// memberships.
	e.update(func(tx carillon.Tx) error { return tx.DeleteChannel(ch) })
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetSubChannel(ch, "s2")
		wantErr(t, "GetSubChannel after DeleteChannel", err, carillon.ErrNotFound)
		l, err := tx.ListSubChannelMemberships(ch, "s2", carillon.Page{})
		noErr(t, "ListSubChannelMemberships", err)
		check(t, "sub-channel memberships after DeleteChannel", l, []carillon.Membership{})
		return nil
	})
	// A channel of the same ARN starts without sub-channels.
	e.create(newChannel(appA, "c1"))
	check(t, "sub-channels of a new channel with the ARN", counts(e, ch), map[string]int{})
}

func testSubChannelMembership(e *env) {
	t := e.t
	ch := elasticChannel(e)
	u1, u2, b1 := userARN(appA, "u1"), userARN(appA, "u2"), botARN(appA, "b1")
	e.create(newUser(appA, "u1"), newUser(appA, "u2"), newBot(appA, "b1"))
	e.update(func(tx carillon.Tx) error {
		for _, id := range []string{"s1", "s2", "s3"} {
			if err := tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	e.create(newMembership(ch, u1), newMembership(ch, b1), subMembership(ch, "s1", u2))
	m := subMembership(ch, "s2", u1)
	m.InvitedBy, m.Created, m.Updated = u2, Start.Add(time.Second), Start.Add(2*time.Second)
	e.update(func(tx carillon.Tx) error {
		for _, sm := range []*carillon.Membership{
			m, subMembership(ch, "s1", u1), subMembership(ch, "s3", u1),
			subMembership(ch, "s2", b1),
			// u2 is in s1 by its membership, and in s2 this way.
			subMembership(ch, "s2", u2),
		} {
			if err := tx.CreateSubChannelMembership(sm); err != nil {
				return err
			}
		}
		return nil
	})
	got := read(e, func(tx carillon.Tx) (*carillon.Membership, error) { return tx.GetSubChannelMembership(ch, "s2", u1) })
	check(t, "GetSubChannelMembership", got, named(m, "user u1"))
	got = read(e, func(tx carillon.Tx) (*carillon.Membership, error) { return tx.GetSubChannelMembership(ch, "s2", b1) })
	check(t, "GetSubChannelMembership of a bot", got, named(subMembership(ch, "s2", b1), "bot b1"))

	wantErr(t, "CreateSubChannelMembership twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateSubChannelMembership(subMembership(ch, "s2", u1))
	}), carillon.ErrExists)
	wantErr(t, "CreateSubChannelMembership without a membership", e.write(func(tx carillon.Tx) error {
		return tx.CreateSubChannelMembership(subMembership(ch, "s2", userARN(appA, "u9")))
	}), carillon.ErrNotFound)
	wantErr(t, "CreateSubChannelMembership in a missing sub-channel", e.write(func(tx carillon.Tx) error {
		return tx.CreateSubChannelMembership(subMembership(ch, "s9", u1))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetSubChannelMembership(ch, "s3", u2)
		wantErr(t, "GetSubChannelMembership of a missing one", err, carillon.ErrNotFound)
		// u2's membership names s1: it is no sub-channel membership.
		_, err = tx.GetSubChannelMembership(ch, "s1", u2)
		wantErr(t, "GetSubChannelMembership of the membership's own sub-channel", err, carillon.ErrNotFound)
		return nil
	})
	// Sub-channel memberships do not count, and ListMemberships lists
	// only the memberships naming the sub-channel.
	check(t, "counts", counts(e, ch), map[string]int{"s1": 1, "s2": 0, "s3": 0})
	e.view(func(tx carillon.Tx) error {
		l, err := tx.ListMemberships(ch, "", "s2", carillon.Page{})
		noErr(t, "ListMemberships of a sub-channel", err)
		check(t, "ListMemberships of a sub-channel with only sub-channel memberships", l, []carillon.Membership{})
		return nil
	})

	checkPaging(e, "ListSubChannelMemberships", []string{b1, u1, u2}, func(tx carillon.Tx, p carillon.Page) ([]carillon.Membership, error) {
		return tx.ListSubChannelMemberships(ch, "s2", p)
	}, membershipKey)
	checkPaging(e, "ListSubChannelMembershipsOf", []string{"s1", "s2", "s3"}, func(tx carillon.Tx, p carillon.Page) ([]carillon.Membership, error) {
		return tx.ListSubChannelMembershipsOf(ch, u1, p)
	}, subChannelIDKey)
	e.view(func(tx carillon.Tx) error {
		l, err := tx.ListSubChannelMemberships(ch, "s2", carillon.Page{})
		noErr(t, "ListSubChannelMemberships", err)
		if len(l) == 3 {
			check(t, "ListSubChannelMemberships rows", l[1], *named(m, "user u1"))
		}
		l, err = tx.ListSubChannelMembershipsOf(ch, u2, carillon.Page{})
		noErr(t, "ListSubChannelMembershipsOf", err)
		check(t, "ListSubChannelMembershipsOf a member whose membership names a sub-channel",
			keys(l, subChannelIDKey), []string{"s2"})
		return nil
	})

	e.update(func(tx carillon.Tx) error { return tx.DeleteSubChannelMembership(ch, "s1", u1) })
	wantErr(t, "DeleteSubChannelMembership twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteSubChannelMembership(ch, "s1", u1)
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		l, err := tx.ListSubChannelMembershipsOf(ch, u1, carillon.Page{})
		noErr(t, "ListSubChannelMembershipsOf", err)
		check(t, "sub-channels after DeleteSubChannelMembership", keys(l, subChannelIDKey), []string{"s2", "s3"})
		_, err = tx.GetMembership(ch, u1)
		noErr(t, "the membership stays", err)
		return nil
	})

	// The sub-channel memberships go with the membership, the user or
	// the bot.
	e.update(func(tx carillon.Tx) error {
		if err := tx.DeleteMembership(ch, u1); err != nil {
			return err
		}
		return tx.DeleteBot(b1)
	})
	e.view(func(tx carillon.Tx) error {
		for _, arn := range []string{u1, b1} {
			l, err := tx.ListSubChannelMembershipsOf(ch, arn, carillon.Page{})
			noErr(t, "ListSubChannelMembershipsOf", err)
			check(t, "sub-channel memberships of "+arn+" after its membership went", l, []carillon.Membership{})
		}
		l, err := tx.ListSubChannelMemberships(ch, "s2", carillon.Page{})
		noErr(t, "ListSubChannelMemberships", err)
		check(t, "sub-channel memberships left", keys(l, membershipKey), []string{u2})
		return nil
	})
	// A new membership of u1 starts in no sub-channel.
	e.create(newMembership(ch, u1))
	e.view(func(tx carillon.Tx) error {
		l, err := tx.ListSubChannelMembershipsOf(ch, u1, carillon.Page{})
		noErr(t, "ListSubChannelMembershipsOf", err)
		check(t, "sub-channel memberships of a new membership", l, []carillon.Membership{})
		return nil
	})
}

func testSubChannelReadOnly(e *env) {
	t := e.t
	ch := elasticChannel(e)
	u1 := userARN(appA, "u1")
	e.create(newUser(appA, "u1"))
	e.update(func(tx carillon.Tx) error {
		if err := tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: "s1"}); err != nil {
			return err
		}
		if err := tx.CreateMembership(newMembership(ch, u1)); err != nil {
			return err
		}
		return tx.CreateSubChannelMembership(subMembership(ch, "s1", u1))
	})
	writes := map[string]func(tx carillon.Tx) error{
		"CreateSubChannel": func(tx carillon.Tx) error {
			return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: "s2"})
		},
		"DeleteSubChannel":           func(tx carillon.Tx) error { return tx.DeleteSubChannel(ch, "s1") },
		"CreateSubChannelMembership": func(tx carillon.Tx) error { return tx.CreateSubChannelMembership(subMembership(ch, "s1", u1)) },
		"DeleteSubChannelMembership": func(tx carillon.Tx) error { return tx.DeleteSubChannelMembership(ch, "s1", u1) },
	}
	e.view(func(tx carillon.Tx) error {
		for name, write := range writes {
			wantErr(t, name+" in a View", write(tx), carillon.ErrReadOnly)
		}
		return nil
	})
	check(t, "sub-channels after writes in a View", counts(e, ch), map[string]int{"s1": 0})
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetSubChannelMembership(ch, "s1", u1)
		noErr(t, "GetSubChannelMembership after writes in a View", err)
		return nil
	})
	// ErrExists and ErrNotFound leave the transaction usable.
	e.update(func(tx carillon.Tx) error {
		wantErr(t, "CreateSubChannel twice", tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: "s1"}), carillon.ErrExists)
		wantErr(t, "DeleteSubChannel of a missing one", tx.DeleteSubChannel(ch, "s9"), carillon.ErrNotFound)
		wantErr(t, "CreateSubChannelMembership twice", tx.CreateSubChannelMembership(subMembership(ch, "s1", u1)), carillon.ErrExists)
		return tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: "s2"})
	})
	check(t, "sub-channels after errors", counts(e, ch), map[string]int{"s1": 0, "s2": 0})
}
