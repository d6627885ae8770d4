package storetest

// The conformance of the Messaging API's interfaces (ChannelTx,
// MembershipTx, ModeratorTx, BanTx, MessageTx). Beyond what channel.go,
// membership.go, moderator.go, ban.go and message.go at the module root
// document, the suite checks these choices, which services rely on:
//
//   - Creating a membership, moderator, ban or message in a missing
//     channel returns ErrNotFound; a channel of a missing AppInstance too.
//   - MemberName, ModeratorName and the banned MemberName are read from the
//     user or bot with that ARN ("" when there is none), so a rename shows
//     at once; SenderName is stored as given.
//   - UpdateChannel replaces every field but ARN, AppInstanceARN, CreatedBy
//     and Created. UpdateMessage replaces Content, Metadata, ContentType,
//     Attributes, Push, Status, StatusDetail, Redacted, Updated and
//     LastEdited; a message keeps its Created and Seq, so its place in
//     the order.
//   - Message Seq increases with each CreateMessage across the store.
//     ListMessages orders by (Created, Seq), filters on the sub-channel by
//     equality ("" is the channel's own messages), and resumes strictly
//     after the cursor, which need not be a stored message.
//   - SearchChannelsByMembers counts memberships of every type, and counts
//     an ARN given twice once.
//   - DeleteUser and DeleteBot delete the bearer's memberships, moderator
//     roles and bans in every channel, not its messages.

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/carillonhq/carillon"
)

// Fixtures.

func channelARN(app, id string) string { return app + "/channel/" + id }

func newChannel(app, id string) *carillon.Channel {
	return &carillon.Channel{
		ARN: channelARN(app, id), AppInstanceARN: app, Name: "channel " + id, Mode: "UNRESTRICTED",
		Privacy: "PUBLIC", Metadata: "m-" + id, CreatedBy: userARN(app, "creator"),
		Created: Start, Updated: Start,
	}
}

// newMembership returns a DEFAULT membership, without the MemberName the
// store fills on reads.
func newMembership(channel, member string) *carillon.Membership {
	return &carillon.Membership{
		ChannelARN: channel, MemberARN: member, Type: "DEFAULT", InvitedBy: member,
		Created: Start, Updated: Start,
	}
}

func newModerator(channel, moderator string) *carillon.Moderator {
	return &carillon.Moderator{ChannelARN: channel, ModeratorARN: moderator, CreatedBy: "creator of " + moderator, Created: Start}
}

func newBan(channel, member string) *carillon.Ban {
	return &carillon.Ban{ChannelARN: channel, MemberARN: member, CreatedBy: "banner of " + member, Created: Start}
}

func newMessage(channel, id string) *carillon.Message {
	return &carillon.Message{
		ChannelARN: channel, ID: id, Sender: "sender of " + id, SenderName: "name of the sender of " + id,
		Content: "content of " + id, Metadata: "metadata of " + id, ContentType: "text/plain",
		Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT",
		Created: Start, Updated: Start,
	}
}

// createMessaging creates a messaging resource for env.create, or a flow
// resource through createFlow.
func createMessaging(tx carillon.Tx, r any) error {
	switch r := r.(type) {
	case *carillon.Channel:
		return tx.CreateChannel(r)
	case *carillon.Membership:
		return tx.CreateMembership(r)
	case *carillon.Moderator:
		return tx.CreateModerator(r)
	case *carillon.Ban:
		return tx.CreateBan(r)
	case *carillon.Message:
		return tx.CreateMessage(r)
	}
	return createFlow(tx, r)
}

// named returns a copy of m with the MemberName the store reads.
func named(m *carillon.Membership, name string) *carillon.Membership {
	c := *m
	c.MemberName = name
	return &c
}

func channelKey(c carillon.Channel) string { return c.ARN }

func testChannel(e *env) {
	t := e.t
	e.create(newApp(appA))
	c := newChannel(appA, "c1")
	c.Mode, c.Privacy, c.FlowARN = "RESTRICTED", "PRIVATE", appA+"/channel-flow/f1"
	c.Elastic = &carillon.ElasticConfig{MaximumSubChannels: 100, TargetMembershipsPerSubChannel: 10, MinimumMembershipPercentage: 40}
	c.Expiration = &carillon.ExpirationSettings{Days: 30, Criterion: "LAST_MESSAGE_TIMESTAMP"}
	c.LastMessageAt = Start.Add(time.Minute)
	c2 := newChannel(appA, "c2") // not elastic, no expiration, no message yet
	// Zero settings are settings, unlike nil.
	c3 := newChannel(appA, "c3")
	c3.Elastic, c3.Expiration = &carillon.ElasticConfig{}, &carillon.ExpirationSettings{}
	e.create(c, c2, c3)
	get := func(arn string) *carillon.Channel {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.Channel, error) { return tx.GetChannel(arn) })
	}
	check(t, "GetChannel", get(c.ARN), c)
	check(t, "GetChannel of a plain channel", get(c2.ARN), c2)
	check(t, "GetChannel with zero settings", get(c3.ARN), c3)
	if got := get(c2.ARN); !got.LastMessageAt.IsZero() {
		t.Errorf("LastMessageAt of a channel without messages = %v, want the zero time", got.LastMessageAt)
	}

	wantErr(t, "CreateChannel twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateChannel(newChannel(appA, "c1"))
	}), carillon.ErrExists)
	wantErr(t, "CreateChannel of a missing AppInstance", e.write(func(tx carillon.Tx) error {
		return tx.CreateChannel(newChannel(appB, "c1"))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetChannel(channelARN(appA, "nope"))
		wantErr(t, "GetChannel of a missing one", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateChannel replaces every field but the ARN, the AppInstance, the
	// creator and the creation time.
	later := Start.Add(time.Hour)
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateChannel(&carillon.Channel{
			ARN: c.ARN, AppInstanceARN: appB, Name: "renamed", Mode: "UNRESTRICTED", Privacy: "PUBLIC",
			Metadata: "", CreatedBy: "someone else", FlowARN: "", Elastic: nil, Expiration: nil,
			Created: later, Updated: later, LastMessageAt: later,
		})
	})
	want := *c
	want.Name, want.Mode, want.Privacy, want.Metadata, want.FlowARN = "renamed", "UNRESTRICTED", "PUBLIC", "", ""
	want.Elastic, want.Expiration, want.Updated, want.LastMessageAt = nil, nil, later, later
	check(t, "GetChannel after UpdateChannel clearing the settings", get(c.ARN), &want)

	want.Elastic = &carillon.ElasticConfig{MaximumSubChannels: 2, TargetMembershipsPerSubChannel: 4, MinimumMembershipPercentage: 1}
	want.Expiration = &carillon.ExpirationSettings{Days: 1, Criterion: "CREATED_TIMESTAMP"}
	want.LastMessageAt = time.Time{}
	e.update(func(tx carillon.Tx) error { return tx.UpdateChannel(&want) })
	check(t, "GetChannel after UpdateChannel setting them", get(c.ARN), &want)

	// SetChannelLastMessageAt moves LastMessageAt alone.
	sent := Start.Add(2 * time.Hour)
	e.update(func(tx carillon.Tx) error { return tx.SetChannelLastMessageAt(c.ARN, sent) })
	want.LastMessageAt = sent
	check(t, "GetChannel after SetChannelLastMessageAt", get(c.ARN), &want)
	wantErr(t, "SetChannelLastMessageAt of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.SetChannelLastMessageAt(channelARN(appA, "nope"), sent)
	}), carillon.ErrNotFound)
	check(t, "GetChannel of another channel", get(c2.ARN), c2)

	wantErr(t, "UpdateChannel of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.UpdateChannel(newChannel(appA, "nope"))
	}), carillon.ErrNotFound)

	e.update(func(tx carillon.Tx) error { return tx.DeleteChannel(c.ARN) })
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetChannel(c.ARN)
		wantErr(t, "GetChannel after DeleteChannel", err, carillon.ErrNotFound)
		return nil
	})
	wantErr(t, "DeleteChannel of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.DeleteChannel(c.ARN)
	}), carillon.ErrNotFound)
	check(t, "GetChannel of another channel after DeleteChannel", get(c2.ARN), c2)

	// The ARN is free again.
	e.create(newChannel(appA, "c1"))
	check(t, "GetChannel of a recreated channel", get(c.ARN), newChannel(appA, "c1"))
}

func testChannelList(e *env) {
	t := e.t
	sibling := appA + "d"
	e.create(newApp(appA), newApp(sibling), newApp(appB))
	var public, private, all []string
	for i, id := range []string{"c3", "c1", "C2", "c10", "c-1", "c0", "c5"} {
		c := newChannel(appA, id)
		if i%3 == 1 {
			c.Privacy = "PRIVATE"
		}
		e.create(c, newChannel(sibling, id))
		all = append(all, c.ARN)
		if c.Privacy == "PUBLIC" {
			public = append(public, c.ARN)
		} else {
			private = append(private, c.ARN)
		}
	}
	slices.Sort(all)
	slices.Sort(public)
	slices.Sort(private)
	for _, c := range []struct {
		privacy string
		want    []string
	}{{"", all}, {"PUBLIC", public}, {"PRIVATE", private}} {
		checkPaging(e, fmt.Sprintf("ListChannels of privacy %q", c.privacy), c.want,
			func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
				return tx.ListChannels(appA, c.privacy, p)
			}, channelKey)
	}

	got := read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.ListChannels(appA, "PUBLIC", carillon.Page{Limit: 1})
	})
	check(t, "ListChannels rows", got, []carillon.Channel{*newChannel(appA, "C2")})
	got = read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.ListChannels(appB, "", carillon.Page{})
	})
	check(t, "ListChannels of an AppInstance without channels", got, []carillon.Channel{})
	got = read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.ListChannels(appA, "SECRET", carillon.Page{})
	})
	check(t, "ListChannels of a privacy no channel has", got, []carillon.Channel{})
}

func testSearchChannelsByMembers(e *env) {
	t := e.t
	sibling := appA + "d"
	u1, u2, u3, u4 := userARN(appA, "u1"), userARN(appA, "u2"), userARN(appA, "u3"), userARN(appA, "u4")
	b1 := botARN(appA, "b1")
	e.create(newApp(appA), newApp(sibling), newUser(appA, "u1"), newUser(appA, "u2"), newBot(appA, "b1"))
	channels := map[string][]string{
		"c1": {u1, u2},
		"c2": {u1, u2, u3},
		"c3": {u1},
		"c4": {u2, u3},
		"c5": {u1, u2}, // u2 HIDDEN: memberships of every type count
		"c6": {},
		"c7": {u1, b1},
		"c8": {u3, u1, u2, u4},
	}
	for id, members := range channels {
		e.create(newChannel(appA, id))
		for _, m := range members {
			ms := newMembership(channelARN(appA, id), m)
			if id == "c5" && m == u2 {
				ms.Type = "HIDDEN"
			}
			e.create(ms)
		}
	}
	// Another AppInstance's channel with the same members (the store does
	// not check where a member comes from).
	e.create(newChannel(sibling, "s1"), newMembership(channelARN(sibling, "s1"), u1), newMembership(channelARN(sibling, "s1"), u2))

	arns := func(ids ...string) []string {
		out := []string{}
		for _, id := range ids {
			out = append(out, channelARN(appA, id))
		}
		return out
	}
	for _, c := range []struct {
		members  []string
		exact    bool
		scopedTo string
		want     []string
	}{
		{[]string{u1, u2}, false, "", arns("c1", "c2", "c5", "c8")},
		{[]string{u2, u1}, true, "", arns("c1", "c5")},
		{[]string{u2, u1, u2}, true, "", arns("c1", "c5")},
		{[]string{u1}, false, "", arns("c1", "c2", "c3", "c5", "c7", "c8")},
		{[]string{u1}, true, "", arns("c3")},
		{[]string{u1, b1}, true, "", arns("c7")},
		{[]string{b1}, false, "", arns("c7")},
		{[]string{u2, u3}, false, "", arns("c2", "c4", "c8")},
		{[]string{u2, u3}, false, u1, arns("c2", "c8")},
		{[]string{u2, u3}, false, u4, arns("c8")},
		{[]string{u2, u3}, false, userARN(appA, "nobody"), arns()},
		{[]string{u2, u3}, true, u3, arns("c4")},
		{[]string{u2, u3}, true, u1, arns()}, // u1 is in no channel of just u2 and u3
		{[]string{u1, u2, u3}, true, u2, arns("c2")},
		{[]string{u3, u1, u2, u4}, true, "", arns("c8")},
		{[]string{}, false, u3, arns("c2", "c4", "c8")},
		{nil, false, "", arns("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8")},
		{nil, true, "", arns("c6")},
		{nil, true, u1, arns()},
		{[]string{userARN(appA, "nobody")}, false, "", arns()},
		{[]string{u1, userARN(appA, "nobody")}, false, "", arns()},
	} {
		checkPaging(e, fmt.Sprintf("SearchChannelsByMembers(%v, exact %v, scoped to %q)", c.members, c.exact, c.scopedTo), c.want,
			func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
				return tx.SearchChannelsByMembers(appA, c.members, c.exact, c.scopedTo, p)
			}, channelKey)
	}
	got := read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.SearchChannelsByMembers(appA, []string{u1, u2}, true, u1, carillon.Page{Limit: 1})
	})
	check(t, "SearchChannelsByMembers rows", got, []carillon.Channel{*newChannel(appA, "c1")})
	got = read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.SearchChannelsByMembers(sibling, []string{u1, u2}, true, "", carillon.Page{})
	})
	check(t, "SearchChannelsByMembers in another AppInstance", got, []carillon.Channel{*newChannel(sibling, "s1")})
}

func testMembership(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	u1, u2 := newUser(appA, "u1"), newUser(appA, "u2")
	b1 := newBot(appA, "b1")
	e.create(newApp(appA), u1, u2, b1, newChannel(appA, "c1"), newChannel(appA, "c2"))

	m1 := newMembership(ch, u1.ARN)
	m1.ReadMarker = Start.Add(time.Second)
	m1.Preferences = &carillon.MembershipPreferences{AllowNotifications: "FILTERED", FilterRule: `{"k":["v"]}`}
	m2 := newMembership(ch, u2.ARN) // no preferences, never read
	m2.Type, m2.InvitedBy = "HIDDEN", u1.ARN
	// Preferences without a rule are preferences, unlike nil.
	mb := newMembership(ch, b1.ARN)
	mb.SubChannelID = "sub"
	mb.Preferences = &carillon.MembershipPreferences{AllowNotifications: "ALL"}
	// A member that is neither a user nor a bot has no name.
	ghost := userARN(appA, "ghost")
	mg := newMembership(ch, ghost)
	e.create(m1, m2, mb, mg)

	get := func(channel, member string) *carillon.Membership {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.Membership, error) { return tx.GetMembership(channel, member) })
	}
	check(t, "GetMembership of a user", get(ch, u1.ARN), named(m1, u1.Name))
	check(t, "GetMembership without preferences", get(ch, u2.ARN), named(m2, u2.Name))
	check(t, "GetMembership of a bot", get(ch, b1.ARN), named(mb, b1.Name))
	check(t, "GetMembership of an unknown bearer", get(ch, ghost), named(mg, ""))
	if got := get(ch, u2.ARN); !got.ReadMarker.IsZero() || got.Preferences != nil {
		t.Errorf("GetMembership: ReadMarker %v, Preferences %v; want the zero time and nil", got.ReadMarker, got.Preferences)
	}

	// Names are read, not stored: a rename shows at once.
	e.update(func(tx carillon.Tx) error {
		u := *u1
		u.Name = "renamed user"
		if err := tx.UpdateUser(&u); err != nil {
			return err
		}
		b := *b1
		b.Name = "renamed bot"
		return tx.UpdateBot(&b)
	})
	check(t, "GetMembership after the user was renamed", get(ch, u1.ARN), named(m1, "renamed user"))
	check(t, "GetMembership after the bot was renamed", get(ch, b1.ARN), named(mb, "renamed bot"))

	wantErr(t, "CreateMembership twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateMembership(newMembership(ch, u1.ARN))
	}), carillon.ErrExists)
	wantErr(t, "CreateMembership in a missing channel", e.write(func(tx carillon.Tx) error {
		return tx.CreateMembership(newMembership(channelARN(appA, "nope"), u1.ARN))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetMembership(ch, userARN(appA, "nope"))
		wantErr(t, "GetMembership of a non-member", err, carillon.ErrNotFound)
		_, err = tx.GetMembership(channelARN(appA, "c2"), u1.ARN)
		wantErr(t, "GetMembership in another channel", err, carillon.ErrNotFound)
		_, err = tx.GetMembership(channelARN(appA, "nope"), u1.ARN)
		wantErr(t, "GetMembership in a missing channel", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateMembership replaces Type, SubChannelID, ReadMarker, Preferences
	// and Updated only.
	later := Start.Add(time.Hour)
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateMembership(&carillon.Membership{
			ChannelARN: ch, MemberARN: u1.ARN, MemberName: "ignored", Type: "HIDDEN", InvitedBy: "someone else",
			SubChannelID: "s2", ReadMarker: later, Preferences: nil, Created: later, Updated: later,
		})
	})
	want := named(m1, "renamed user")
	want.Type, want.SubChannelID, want.ReadMarker, want.Preferences, want.Updated = "HIDDEN", "s2", later, nil, later
	check(t, "GetMembership after UpdateMembership clearing the preferences", get(ch, u1.ARN), want)
	want.Preferences = &carillon.MembershipPreferences{AllowNotifications: "NONE"}
	want.ReadMarker, want.SubChannelID = time.Time{}, ""
	e.update(func(tx carillon.Tx) error { return tx.UpdateMembership(want) })
	check(t, "GetMembership after UpdateMembership setting them", get(ch, u1.ARN), want)

	wantErr(t, "UpdateMembership of a non-member", e.write(func(tx carillon.Tx) error {
		return tx.UpdateMembership(newMembership(ch, userARN(appA, "nope")))
	}), carillon.ErrNotFound)
	wantErr(t, "UpdateMembership in another channel", e.write(func(tx carillon.Tx) error {
		return tx.UpdateMembership(newMembership(channelARN(appA, "c2"), u1.ARN))
	}), carillon.ErrNotFound)

	count := func(channel string) int {
		t.Helper()
		return read(e, func(tx carillon.Tx) (int, error) { return tx.CountMemberships(channel) })
	}
	check(t, "CountMemberships, of every type", count(ch), 4)
	check(t, "CountMemberships of a channel without members", count(channelARN(appA, "c2")), 0)
	check(t, "CountMemberships of a missing channel", count(channelARN(appA, "nope")), 0)

	e.update(func(tx carillon.Tx) error { return tx.DeleteMembership(ch, u1.ARN) })
	wantErr(t, "DeleteMembership twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteMembership(ch, u1.ARN)
	}), carillon.ErrNotFound)
	wantErr(t, "DeleteMembership in another channel", e.write(func(tx carillon.Tx) error {
		return tx.DeleteMembership(channelARN(appA, "c2"), u2.ARN)
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetMembership(ch, u1.ARN)
		wantErr(t, "GetMembership after DeleteMembership", err, carillon.ErrNotFound)
		return nil
	})
	check(t, "CountMemberships after DeleteMembership", count(ch), 3)
	check(t, "GetMembership of another member after DeleteMembership", get(ch, u2.ARN), named(m2, u2.Name))
}

func testMembershipList(e *env) {
	t := e.t
	ch, other := channelARN(appA, "c1"), channelARN(appA, "c2")
	e.create(newApp(appA), newChannel(appA, "c1"), newChannel(appA, "c2"))
	// id, type, sub-channel
	rows := []struct{ id, typ, sub string }{
		{"u3", "DEFAULT", ""}, {"u1", "HIDDEN", ""}, {"u10", "DEFAULT", "s1"}, {"U2", "DEFAULT", "s2"},
		{"u-1", "HIDDEN", "s1"}, {"u5", "DEFAULT", "s1"}, {"u4", "DEFAULT", ""},
	}
	for _, r := range rows {
		m := newMembership(ch, userARN(appA, r.id))
		m.Type, m.SubChannelID = r.typ, r.sub
		e.create(m, newMembership(other, userARN(appA, r.id)))
		if r.id != "u1" {
			e.create(newUser(appA, r.id))
		}
	}
	for _, f := range []struct{ typ, sub string }{
		{"", ""}, {"DEFAULT", ""}, {"HIDDEN", ""}, {"", "s1"}, {"DEFAULT", "s1"}, {"HIDDEN", "s1"},
		{"", "s2"}, {"HIDDEN", "s2"}, {"", "s3"}, {"OTHER", ""},
	} {
		var want []string
		for _, r := range rows {
			if (f.typ == "" || r.typ == f.typ) && (f.sub == "" || r.sub == f.sub) {
				want = append(want, userARN(appA, r.id))
			}
		}
		slices.Sort(want)
		if want == nil {
			want = []string{}
		}
		checkPaging(e, fmt.Sprintf("ListMemberships of type %q in sub-channel %q", f.typ, f.sub), want,
			func(tx carillon.Tx, p carillon.Page) ([]carillon.Membership, error) {
				return tx.ListMemberships(ch, f.typ, f.sub, p)
			}, func(m carillon.Membership) string { return m.MemberARN })
	}

	got := read(e, func(tx carillon.Tx) ([]carillon.Membership, error) {
		return tx.ListMemberships(ch, "", "", carillon.Page{Limit: 2})
	})
	wantU2 := named(newMembership(ch, userARN(appA, "U2")), "user U2")
	wantU2.SubChannelID = "s2"
	wantU1 := named(newMembership(ch, userARN(appA, "u-1")), "user u-1")
	wantU1.Type, wantU1.SubChannelID = "HIDDEN", "s1"
	check(t, "ListMemberships rows, with names", got, []carillon.Membership{*wantU2, *wantU1})
	got = read(e, func(tx carillon.Tx) ([]carillon.Membership, error) {
		return tx.ListMemberships(ch, "HIDDEN", "", carillon.Page{After: userARN(appA, "u-1")})
	})
	check(t, "ListMemberships of a member without a user", got, []carillon.Membership{{
		ChannelARN: ch, MemberARN: userARN(appA, "u1"), Type: "HIDDEN", InvitedBy: userARN(appA, "u1"),
		Created: Start, Updated: Start,
	}})
	got = read(e, func(tx carillon.Tx) ([]carillon.Membership, error) {
		return tx.ListMemberships(channelARN(appA, "nope"), "", "", carillon.Page{})
	})
	check(t, "ListMemberships of a missing channel", got, []carillon.Membership{})
}

func testMembershipsOf(e *env) {
	t := e.t
	sibling := appA + "d"
	u := newUser(appA, "u1")
	e.create(newApp(appA), newApp(sibling), u)
	var want []string
	for _, id := range []string{"c3", "c1", "C2", "c10", "c-1"} {
		c := newChannel(appA, id)
		e.create(c, newMembership(c.ARN, u.ARN), newMembership(c.ARN, userARN(appA, "u2")))
		want = append(want, c.ARN)
	}
	// Its memberships elsewhere are listed too: the list is the member's.
	s := newChannel(sibling, "s1")
	e.create(s, newMembership(s.ARN, u.ARN))
	want = append(want, s.ARN)
	// Channels it is not in are not.
	e.create(newChannel(appA, "c4"), newMembership(channelARN(appA, "c4"), userARN(appA, "u2")))
	slices.Sort(want)
	checkPaging(e, "ListMembershipsOf", want, func(tx carillon.Tx, p carillon.Page) ([]carillon.ChannelMembershipOf, error) {
		return tx.ListMembershipsOf(u.ARN, p)
	}, func(m carillon.ChannelMembershipOf) string { return m.Channel.ARN })

	c := newChannel(appA, "C2") // the first, in byte order
	m := named(newMembership(c.ARN, u.ARN), u.Name)
	m.ReadMarker = Start.Add(time.Minute)
	m.Preferences = &carillon.MembershipPreferences{AllowNotifications: "ALL"}
	e.update(func(tx carillon.Tx) error { return tx.UpdateMembership(m) })
	got := read(e, func(tx carillon.Tx) ([]carillon.ChannelMembershipOf, error) {
		return tx.ListMembershipsOf(u.ARN, carillon.Page{Limit: 1})
	})
	check(t, "ListMembershipsOf rows", got, []carillon.ChannelMembershipOf{{Channel: *c, Membership: *m}})
	got = read(e, func(tx carillon.Tx) ([]carillon.ChannelMembershipOf, error) {
		return tx.ListMembershipsOf(userARN(appA, "nope"), carillon.Page{})
	})
	check(t, "ListMembershipsOf a non-member", got, []carillon.ChannelMembershipOf{})
}

func testModerator(e *env) {
	t := e.t
	ch, other := channelARN(appA, "c1"), channelARN(appA, "c2")
	u1, b1 := newUser(appA, "u1"), newBot(appA, "b1")
	ghost := userARN(appA, "ghost")
	e.create(newApp(appA), u1, b1, newChannel(appA, "c1"), newChannel(appA, "c2"))
	e.create(newModerator(ch, u1.ARN), newModerator(ch, b1.ARN), newModerator(ch, ghost), newModerator(other, u1.ARN))

	withName := func(m *carillon.Moderator, name string) *carillon.Moderator {
		m.ModeratorName = name
		return m
	}
	get := func(channel, arn string) *carillon.Moderator {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.Moderator, error) { return tx.GetModerator(channel, arn) })
	}
	check(t, "GetModerator of a user", get(ch, u1.ARN), withName(newModerator(ch, u1.ARN), u1.Name))
	check(t, "GetModerator of a bot", get(ch, b1.ARN), withName(newModerator(ch, b1.ARN), b1.Name))
	check(t, "GetModerator of an unknown bearer", get(ch, ghost), newModerator(ch, ghost))

	wantErr(t, "CreateModerator twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateModerator(newModerator(ch, u1.ARN))
	}), carillon.ErrExists)
	wantErr(t, "CreateModerator in a missing channel", e.write(func(tx carillon.Tx) error {
		return tx.CreateModerator(newModerator(channelARN(appA, "nope"), u1.ARN))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetModerator(ch, userARN(appA, "nope"))
		wantErr(t, "GetModerator of a non-moderator", err, carillon.ErrNotFound)
		_, err = tx.GetModerator(other, b1.ARN)
		wantErr(t, "GetModerator in another channel", err, carillon.ErrNotFound)
		return nil
	})

	checkPaging(e, "ListModerators", []string{b1.ARN, ghost, u1.ARN},
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Moderator, error) { return tx.ListModerators(ch, p) },
		func(m carillon.Moderator) string { return m.ModeratorARN })
	check(t, "ListModerators rows", read(e, func(tx carillon.Tx) ([]carillon.Moderator, error) {
		return tx.ListModerators(other, carillon.Page{})
	}), []carillon.Moderator{*withName(newModerator(other, u1.ARN), u1.Name)})

	count := func(channel string) int {
		t.Helper()
		return read(e, func(tx carillon.Tx) (int, error) { return tx.CountModerators(channel) })
	}
	check(t, "CountModerators", count(ch), 3)
	check(t, "CountModerators of another channel", count(other), 1)
	check(t, "CountModerators of a missing channel", count(channelARN(appA, "nope")), 0)

	// ListChannelsModeratedBy: the moderator's channels, whole rows.
	var want []string
	for _, id := range []string{"c3", "C0", "c10", "c-1"} {
		c := newChannel(appA, id)
		e.create(c, newModerator(c.ARN, u1.ARN), newModerator(c.ARN, b1.ARN))
	}
	e.create(newChannel(appA, "c4"), newModerator(channelARN(appA, "c4"), b1.ARN))
	for _, id := range []string{"c1", "c2", "c3", "C0", "c10", "c-1"} {
		want = append(want, channelARN(appA, id))
	}
	slices.Sort(want)
	checkPaging(e, "ListChannelsModeratedBy", want, func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
		return tx.ListChannelsModeratedBy(u1.ARN, p)
	}, channelKey)
	check(t, "ListChannelsModeratedBy rows", read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.ListChannelsModeratedBy(u1.ARN, carillon.Page{Limit: 1})
	}), []carillon.Channel{*newChannel(appA, "C0")})
	check(t, "ListChannelsModeratedBy of a non-moderator", read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.ListChannelsModeratedBy(ghost+"x", carillon.Page{})
	}), []carillon.Channel{})

	e.update(func(tx carillon.Tx) error { return tx.DeleteModerator(ch, u1.ARN) })
	wantErr(t, "DeleteModerator twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteModerator(ch, u1.ARN)
	}), carillon.ErrNotFound)
	wantErr(t, "DeleteModerator in another channel", e.write(func(tx carillon.Tx) error {
		return tx.DeleteModerator(other, b1.ARN)
	}), carillon.ErrNotFound)
	check(t, "CountModerators after DeleteModerator", count(ch), 2)
	check(t, "GetModerator in another channel after DeleteModerator", get(other, u1.ARN), withName(newModerator(other, u1.ARN), u1.Name))
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetModerator(ch, u1.ARN)
		wantErr(t, "GetModerator after DeleteModerator", err, carillon.ErrNotFound)
		return nil
	})
}

func testBan(e *env) {
	t := e.t
	ch, other := channelARN(appA, "c1"), channelARN(appA, "c2")
	u1, b1 := newUser(appA, "u1"), newBot(appA, "b1")
	ghost := userARN(appA, "ghost")
	e.create(newApp(appA), u1, b1, newChannel(appA, "c1"), newChannel(appA, "c2"))
	e.create(newBan(ch, u1.ARN), newBan(ch, b1.ARN), newBan(ch, ghost), newBan(other, u1.ARN))

	withName := func(b *carillon.Ban, name string) *carillon.Ban {
		b.MemberName = name
		return b
	}
	get := func(channel, arn string) *carillon.Ban {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.Ban, error) { return tx.GetBan(channel, arn) })
	}
	check(t, "GetBan of a user", get(ch, u1.ARN), withName(newBan(ch, u1.ARN), u1.Name))
	check(t, "GetBan of a bot", get(ch, b1.ARN), withName(newBan(ch, b1.ARN), b1.Name))
	check(t, "GetBan of an unknown bearer", get(ch, ghost), newBan(ch, ghost))

	wantErr(t, "CreateBan twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateBan(newBan(ch, u1.ARN))
	}), carillon.ErrExists)
	wantErr(t, "CreateBan in a missing channel", e.write(func(tx carillon.Tx) error {
		return tx.CreateBan(newBan(channelARN(appA, "nope"), u1.ARN))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetBan(ch, userARN(appA, "nope"))
		wantErr(t, "GetBan of someone not banned", err, carillon.ErrNotFound)
		_, err = tx.GetBan(other, b1.ARN)
		wantErr(t, "GetBan in another channel", err, carillon.ErrNotFound)
		return nil
	})

	checkPaging(e, "ListBans", []string{b1.ARN, ghost, u1.ARN},
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Ban, error) { return tx.ListBans(ch, p) },
		func(b carillon.Ban) string { return b.MemberARN })
	check(t, "ListBans rows", read(e, func(tx carillon.Tx) ([]carillon.Ban, error) {
		return tx.ListBans(other, carillon.Page{})
	}), []carillon.Ban{*withName(newBan(other, u1.ARN), u1.Name)})
	check(t, "ListBans of a missing channel", read(e, func(tx carillon.Tx) ([]carillon.Ban, error) {
		return tx.ListBans(channelARN(appA, "nope"), carillon.Page{})
	}), []carillon.Ban{})

	e.update(func(tx carillon.Tx) error { return tx.DeleteBan(ch, u1.ARN) })
	wantErr(t, "DeleteBan twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteBan(ch, u1.ARN)
	}), carillon.ErrNotFound)
	wantErr(t, "DeleteBan in another channel", e.write(func(tx carillon.Tx) error {
		return tx.DeleteBan(other, b1.ARN)
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetBan(ch, u1.ARN)
		wantErr(t, "GetBan after DeleteBan", err, carillon.ErrNotFound)
		return nil
	})
	check(t, "GetBan in another channel after DeleteBan", get(other, u1.ARN), withName(newBan(other, u1.ARN), u1.Name))
}

func testMessage(e *env) {
	t := e.t
	ch, other := channelARN(appA, "c1"), channelARN(appA, "c2")
	e.create(newApp(appA), newUser(appA, "u1"), newChannel(appA, "c1"), newChannel(appA, "c2"))

	m1 := newMessage(ch, "m1")
	m1.SubChannelID, m1.Target, m1.Redacted, m1.StatusDetail = "sub", userARN(appA, "u2"), true, "detail"
	m1.Attributes = map[string][]string{"CHIME.mentions": {"a", "b"}, "empty": {}, "k": {"hé \u0000"}}
	m1.Push = &carillon.PushNotification{Title: "title", Body: "body", Type: "VOIP"}
	m1.LastEdited = Start.Add(time.Second)
	m2 := newMessage(ch, "m2") // no attributes, no push, never edited
	m2.Type, m2.Content, m2.Metadata = "CONTROL", "", ""
	// The same id in another channel is another message.
	m3 := newMessage(other, "m1")
	// The zero time round-trips, also as Created, the sort key.
	m4 := newMessage(ch, "m4")
	m4.Created, m4.Updated = time.Time{}, time.Time{}
	e.create(m1, m2, m3, m4)
	if m1.Seq <= 0 || m2.Seq <= m1.Seq || m3.Seq <= m2.Seq || m4.Seq <= m3.Seq {
		t.Errorf("Seq of messages created in order: %d, %d, %d, %d; want positive and increasing", m1.Seq, m2.Seq, m3.Seq, m4.Seq)
	}
	// Seq keeps increasing in later transactions, across channels.
	m5 := newMessage(other, "m5")
	e.create(m5)
	if m5.Seq <= m4.Seq {
		t.Errorf("Seq of a later message: %d after %d", m5.Seq, m4.Seq)
	}

	get := func(channel, id string) *carillon.Message {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.Message, error) { return tx.GetMessage(channel, id) })
	}
	check(t, "GetMessage", get(ch, "m1"), m1)
	check(t, "GetMessage without attributes or push", get(ch, "m2"), m2)
	check(t, "GetMessage of the same id in another channel", get(other, "m1"), m3)
	got := get(ch, "m4")
	check(t, "GetMessage created at the zero time", got, m4)
	if !got.Created.IsZero() || !got.LastEdited.IsZero() || got.Push != nil || len(got.Attributes) != 0 {
		t.Errorf("GetMessage: Created %v, LastEdited %v, Push %v, Attributes %v; want zero values", got.Created, got.LastEdited, got.Push, got.Attributes)
	}

	wantErr(t, "CreateMessage twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateMessage(newMessage(ch, "m1"))
	}), carillon.ErrExists)
	wantErr(t, "CreateMessage in a missing channel", e.write(func(tx carillon.Tx) error {
		return tx.CreateMessage(newMessage(channelARN(appA, "nope"), "m1"))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetMessage(ch, "nope")
		wantErr(t, "GetMessage of a missing one", err, carillon.ErrNotFound)
		_, err = tx.GetMessage(other, "m2")
		wantErr(t, "GetMessage in another channel", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateMessage replaces the content, metadata, content type,
	// attributes, push, status, redaction and the Updated and LastEdited
	// times; the rest, Created and Seq included, stays.
	later := Start.Add(time.Hour)
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateMessage(&carillon.Message{
			ChannelARN: ch, ID: "m1", SubChannelID: "other", Sender: "other", SenderName: "other",
			Content: "edited", Metadata: "", ContentType: "application/json", Type: "CONTROL",
			Persistence: "NON_PERSISTENT", Status: "PENDING", StatusDetail: "", Redacted: false,
			Attributes: map[string][]string{"x": {"y"}}, Push: nil, Target: "",
			Created: later, Updated: later, LastEdited: later, Seq: 1 << 40,
		})
	})
	want := *m1
	want.Content, want.Metadata, want.ContentType, want.Status, want.StatusDetail, want.Redacted = "edited", "", "application/json", "PENDING", "", false
	want.Attributes, want.Push, want.Updated, want.LastEdited = map[string][]string{"x": {"y"}}, nil, later, later
	check(t, "GetMessage after UpdateMessage", get(ch, "m1"), &want)
	want.Attributes, want.Push = nil, &carillon.PushNotification{Title: "t"}
	e.update(func(tx carillon.Tx) error { return tx.UpdateMessage(&want) })
	check(t, "GetMessage after UpdateMessage setting a push", get(ch, "m1"), &want)
	check(t, "GetMessage of the same id in another channel", get(other, "m1"), m3)

	wantErr(t, "UpdateMessage of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.UpdateMessage(newMessage(ch, "nope"))
	}), carillon.ErrNotFound)
	wantErr(t, "UpdateMessage in another channel", e.write(func(tx carillon.Tx) error {
		return tx.UpdateMessage(newMessage(other, "m2"))
	}), carillon.ErrNotFound)

	e.update(func(tx carillon.Tx) error { return tx.DeleteMessage(ch, "m1") })
	wantErr(t, "DeleteMessage twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteMessage(ch, "m1")
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetMessage(ch, "m1")
		wantErr(t, "GetMessage after DeleteMessage", err, carillon.ErrNotFound)
		return nil
	})
	check(t, "GetMessage of the same id in another channel after DeleteMessage", get(other, "m1"), m3)

	// The id is free again; the new message comes after every other.
	again := newMessage(ch, "m1")
	e.create(again)
	if again.Seq <= m5.Seq {
		t.Errorf("Seq of a message recreated with a deleted one's id: %d, not after %d", again.Seq, m5.Seq)
	}
	// A seq is never handed out again, even once the latest message is
	// deleted.
	e.update(func(tx carillon.Tx) error { return tx.DeleteMessage(ch, "m1") })
	last := newMessage(ch, "m6")
	e.create(last)
	if last.Seq <= again.Seq {
		t.Errorf("Seq after the latest message was deleted: %d, not after %d", last.Seq, again.Seq)
	}
	// A message created at the zero time comes first, and a NotBefore
	// bound leaves it out.
	check(t, "ListMessages with a message of the zero time", messageIDs(read(e, func(tx carillon.Tx) ([]carillon.Message, error) {
		return tx.ListMessages(carillon.MessageQuery{Channel: ch})
	})), []string{"m4", "m2", "m6"})
	check(t, "ListMessages from NotBefore", messageIDs(read(e, func(tx carillon.Tx) ([]carillon.Message, error) {
		return tx.ListMessages(carillon.MessageQuery{Channel: ch, NotBefore: Start.Add(-time.Hour), Descending: true})
	})), []string{"m6", "m2"})
}

// messageIDs returns the ids of a list of messages.
func messageIDs(ms []carillon.Message) []string {
	return keys(ms, func(m carillon.Message) string { return m.ID })
}

// listAll pages through a channel's messages with pages of size, each
// resuming after the last message of the one before, and returns the ids
// in the order seen.
func listAll(e *env, q carillon.MessageQuery, size int) []string {
	e.t.Helper()
	var all []string
	q.Limit = size
	for pages := 0; ; pages++ {
		if pages > 1000 {
			e.t.Fatalf("ListMessages %+v: pages of %d do not end", q, size)
		}
		got := read(e, func(tx carillon.Tx) ([]carillon.Message, error) { return tx.ListMessages(q) })
		if len(got) > size {
			e.t.Errorf("ListMessages: page of %d rows with Limit %d", len(got), size)
		}
		if len(got) == 0 {
			return all
		}
		all = append(all, messageIDs(got)...)
		last := got[len(got)-1]
		q.After = &carillon.MessageCursor{Created: last.Created, Seq: last.Seq}
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func testMessageList(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	e.create(newApp(appA), newChannel(appA, "c1"), newChannel(appA, "c2"))
	// Messages created out of time order, several in the same millisecond:
	// the order is (Created, Seq), Seq breaking the ties.
	at := func(ms int) time.Time { return Start.Add(time.Duration(ms) * time.Millisecond) }
	created := []struct {
		id string
		ms int
	}{
		{"a", 5}, {"b", 0}, {"c", 5}, {"d", 2}, {"e", 0}, {"f", 5}, {"g", 9}, {"h", 2}, {"i", 5}, {"j", 1},
	}
	byID := map[string]*carillon.Message{}
	for _, c := range created {
		m := newMessage(ch, c.id)
		m.Created = at(c.ms)
		e.create(m, newMessage(channelARN(appA, "c2"), c.id))
		byID[c.id] = m
	}
	order := []string{"b", "e", "j", "d", "h", "a", "c", "f", "i", "g"}
	q := carillon.MessageQuery{Channel: ch}

	list := func(q carillon.MessageQuery) []carillon.Message {
		t.Helper()
		return read(e, func(tx carillon.Tx) ([]carillon.Message, error) { return tx.ListMessages(q) })
	}
	all := list(q)
	check(t, "ListMessages ascending", messageIDs(all), order)
	for i, m := range all {
		check(t, "ListMessages row "+m.ID, m, *byID[m.ID])
		if i > 0 && m.Created.Equal(all[i-1].Created) && m.Seq <= all[i-1].Seq {
			t.Errorf("ListMessages: %s (seq %d) after %s (seq %d) in the same millisecond", m.ID, m.Seq, all[i-1].ID, all[i-1].Seq)
		}
	}
	desc := q
	desc.Descending = true
	check(t, "ListMessages descending", messageIDs(list(desc)), reversed(order))
	for _, limit := range []int{0, -1, len(order) + 1} {
		q.Limit, desc.Limit = limit, limit
		check(t, fmt.Sprintf("ListMessages with Limit %d", limit), messageIDs(list(q)), order)
		check(t, fmt.Sprintf("ListMessages descending with Limit %d", limit), messageIDs(list(desc)), reversed(order))
	}
	q.Limit = 3
	check(t, "ListMessages with Limit 3", messageIDs(list(q)), order[:3])

	// Pages of every size, in both orders, with and without time bounds
	// (inclusive, falling on milliseconds that have several messages).
	for _, b := range []struct {
		name                string
		notBefore, notAfter time.Time
		want                []string
	}{
		{"unbounded", time.Time{}, time.Time{}, order},
		{"NotBefore", at(2), time.Time{}, order[3:]},
		{"NotAfter", time.Time{}, at(5), order[:9]},
		{"NotBefore and NotAfter", at(2), at(5), order[3:9]},
		{"a single millisecond", at(5), at(5), order[5:9]},
		{"between messages", at(3), at(4), []string{}},
		{"after every message", at(10), time.Time{}, []string{}},
		{"NotBefore after NotAfter", at(5), at(2), []string{}},
	} {
		for size := 1; size <= len(order)+1; size++ {
			q := carillon.MessageQuery{Channel: ch, NotBefore: b.notBefore, NotAfter: b.notAfter}
			check(t, fmt.Sprintf("ListMessages %s in pages of %d", b.name, size), listAll(e, q, size), b.want)
			q.Descending = true
			check(t, fmt.Sprintf("ListMessages %s descending in pages of %d", b.name, size), listAll(e, q, size), reversed(b.want))
		}
	}

	// A cursor need not be a message: it is a position in the order.
	five := byID["a"].Created
	for _, c := range []struct {
		name       string
		after      carillon.MessageCursor
		descending bool
		want       []string
	}{
		{"before a millisecond's messages", carillon.MessageCursor{Created: five, Seq: 0}, false, order[5:]},
		{"after a millisecond's messages", carillon.MessageCursor{Created: five, Seq: 1 << 62}, false, order[9:]},
		{"among a millisecond's messages", carillon.MessageCursor{Created: five, Seq: byID["c"].Seq}, false, order[7:]},
		{"before a millisecond's messages, descending", carillon.MessageCursor{Created: five, Seq: 1 << 62}, true, reversed(order[:9])},
		{"after a millisecond's messages, descending", carillon.MessageCursor{Created: five, Seq: 0}, true, reversed(order[:5])},
		{"among a millisecond's messages, descending", carillon.MessageCursor{Created: five, Seq: byID["f"].Seq}, true, reversed(order[:7])},
		{"after the last", carillon.MessageCursor{Created: at(9), Seq: byID["g"].Seq}, false, []string{}},
		{"after the first, descending", carillon.MessageCursor{Created: at(0), Seq: byID["b"].Seq}, true, []string{}},
	} {
		got := list(carillon.MessageQuery{Channel: ch, After: &c.after, Descending: c.descending})
		check(t, "ListMessages after a cursor "+c.name, messageIDs(got), c.want)
	}
	// The cursor and the time bounds together: the stricter wins.
	got := list(carillon.MessageQuery{Channel: ch, NotBefore: at(2), After: &carillon.MessageCursor{Created: at(0), Seq: byID["e"].Seq}})
	check(t, "ListMessages with a cursor before NotBefore", messageIDs(got), order[3:])
	got = list(carillon.MessageQuery{Channel: ch, NotAfter: at(2), Descending: true, After: &carillon.MessageCursor{Created: at(5), Seq: byID["a"].Seq}})
	check(t, "ListMessages descending with a cursor after NotAfter", messageIDs(got), reversed(order[:5]))

	// A deleted message leaves the list; an updated one keeps its place.
	e.update(func(tx carillon.Tx) error {
		if err := tx.DeleteMessage(ch, "d"); err != nil {
			return err
		}
		m := *byID["a"]
		m.Content, m.Updated, m.LastEdited = "edited", at(100), at(100)
		return tx.UpdateMessage(&m)
	})
	check(t, "ListMessages after a delete and an edit", messageIDs(list(carillon.MessageQuery{Channel: ch})),
		slices.DeleteFunc(slices.Clone(order), func(id string) bool { return id == "d" }))

	check(t, "ListMessages of a channel without messages", list(carillon.MessageQuery{Channel: channelARN(appA, "c3")}), []carillon.Message{})
}

func testMessageListFilters(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	u1, u2, u3 := userARN(appA, "u1"), userARN(appA, "u2"), userARN(appA, "u3")
	e.create(newApp(appA), newChannel(appA, "c1"))
	mk := func(id, sub, sender, target string, ms int) *carillon.Message {
		m := newMessage(ch, id)
		m.SubChannelID, m.Sender, m.Target = sub, sender, target
		m.Created = Start.Add(time.Duration(ms) * time.Millisecond)
		return m
	}
	e.create(
		mk("m1", "", u1, "", 1),
		mk("m2", "", u1, u2, 2), // targeted from u1 to u2
		mk("m3", "s1", u1, "", 3),
		mk("m4", "", u3, "", 4),
		mk("m5", "", u2, u3, 5),
		mk("m6", "s1", u2, u1, 6),
		mk("m7", "s2", u3, "", 7),
		mk("m8", "", u3, u1, 8),
	)
	for _, c := range []struct {
		sub, visibleTo string
		want           []string
	}{
		{"", "", []string{"m1", "m2", "m4", "m5", "m8"}},
		{"s1", "", []string{"m3", "m6"}},
		{"s2", "", []string{"m7"}},
		{"s3", "", []string{}},
		{"", u1, []string{"m1", "m2", "m4", "m8"}},
		{"", u2, []string{"m1", "m2", "m4", "m5"}},
		{"", u3, []string{"m1", "m4", "m5", "m8"}},
		{"", userARN(appA, "u4"), []string{"m1", "m4"}},
		{"s1", u1, []string{"m3", "m6"}},
		{"s1", u3, []string{"m3"}},
	} {
		q := carillon.MessageQuery{Channel: ch, SubChannel: c.sub, VisibleTo: c.visibleTo}
		for _, size := range []int{0, 1, 2, 3} {
			what := fmt.Sprintf("ListMessages of sub-channel %q visible to %q in pages of %d", c.sub, c.visibleTo, size)
			if size == 0 {
				got := read(e, func(tx carillon.Tx) ([]carillon.Message, error) { return tx.ListMessages(q) })
				check(t, what, messageIDs(got), c.want)
				continue
			}
			check(t, what, listAll(e, q, size), c.want)
			q.Descending = true
			check(t, what+", descending", listAll(e, q, size), reversed(c.want))
			q.Descending = false
		}
	}
}

// testMessageListStatus: with VisibleTo, a message whose status is not
// SENT (held by a channel flow, failed or denied) is listed for its sender
// only, targeted or not; without VisibleTo, every message is.
func testMessageListStatus(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	u1, u2, u3 := userARN(appA, "u1"), userARN(appA, "u2"), userARN(appA, "u3")
	e.create(newApp(appA), newChannel(appA, "c1"))
	mk := func(id, sender, target, status string, ms int) *carillon.Message {
		m := newMessage(ch, id)
		m.Sender, m.Target, m.Status = sender, target, status
		m.Created = Start.Add(time.Duration(ms) * time.Millisecond)
		return m
	}
	e.create(
		mk("m1", u1, "", "SENT", 1),
		mk("m2", u1, "", "PENDING", 2),
		mk("m3", u2, "", "FAILED", 3),
		mk("m4", u2, "", "SENT", 4),
		mk("m5", u2, u1, "PENDING", 5), // targeted at u1, not SENT yet
		mk("m6", u1, u2, "SENT", 6),
		mk("m7", u3, "", "DENIED", 7),
		mk("m8", u1, "", "PENDING", 8),
		mk("m9", u3, "", "SENT", 9),
	)
	// In a sub-channel, the same rule.
	sub := mk("s1", u1, "", "PENDING", 1)
	sub.SubChannelID = "sub"
	e.create(sub)
	for _, c := range []struct {
		sub, visibleTo string
		want           []string
	}{
		{"", "", []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}},
		{"", u1, []string{"m1", "m2", "m4", "m6", "m8", "m9"}},
		{"", u2, []string{"m1", "m3", "m4", "m5", "m6", "m9"}},
		{"", u3, []string{"m1", "m4", "m7", "m9"}},
		{"", userARN(appA, "u4"), []string{"m1", "m4", "m9"}},
		{"sub", "", []string{"s1"}},
		{"sub", u1, []string{"s1"}},
		{"sub", u2, []string{}},
	} {
		q := carillon.MessageQuery{Channel: ch, SubChannel: c.sub, VisibleTo: c.visibleTo}
		what := fmt.Sprintf("ListMessages of sub-channel %q visible to %q", c.sub, c.visibleTo)
		check(t, what, messageIDs(read(e, func(tx carillon.Tx) ([]carillon.Message, error) { return tx.ListMessages(q) })), c.want)
		for _, size := range []int{1, 2, 3} {
			check(t, fmt.Sprintf("%s in pages of %d", what, size), listAll(e, q, size), c.want)
			q.Descending = true
			check(t, fmt.Sprintf("%s descending in pages of %d", what, size), listAll(e, q, size), reversed(c.want))
			q.Descending = false
		}
	}
	// The Limit counts visible messages: a page is full when there are
	// enough, however many hidden ones lie between them.
	got := read(e, func(tx carillon.Tx) ([]carillon.Message, error) {
		return tx.ListMessages(carillon.MessageQuery{Channel: ch, VisibleTo: u3, Limit: 3})
	})
	check(t, "ListMessages visible to u3 with Limit 3", messageIDs(got), []string{"m1", "m4", "m7"})

	// Once SENT, a message is listed for everyone; once FAILED, for its
	// sender only again.
	e.update(func(tx carillon.Tx) error {
		m := mk("m2", u1, "", "SENT", 2)
		return tx.UpdateMessage(m)
	})
	list := func(visibleTo string) []string {
		t.Helper()
		return messageIDs(read(e, func(tx carillon.Tx) ([]carillon.Message, error) {
			return tx.ListMessages(carillon.MessageQuery{Channel: ch, VisibleTo: visibleTo})
		}))
	}
	check(t, "ListMessages visible to u3 once m2 is SENT", list(u3), []string{"m1", "m2", "m4", "m7", "m9"})
	e.update(func(tx carillon.Tx) error {
		m := mk("m4", u2, "", "FAILED", 4)
		return tx.UpdateMessage(m)
	})
	check(t, "ListMessages visible to u3 once m4 FAILED", list(u3), []string{"m1", "m2", "m7", "m9"})
	check(t, "ListMessages visible to u2 once m4 FAILED", list(u2), []string{"m1", "m2", "m3", "m4", "m5", "m6", "m9"})
}

// testMessagePagingWithConcurrentInserts pages through messages while other
// transactions add messages before the cursor, in its millisecond (so on
// either side of it, by Seq) and after it: every message that existed
// before the first page is seen once, and the pages are in order.
func testMessagePagingWithConcurrentInserts(e *env) {
	t := e.t
	e.create(newApp(appA))
	for _, descending := range []bool{false, true} {
		ch := channelARN(appA, fmt.Sprintf("descending-%v", descending))
		e.create(newChannel(appA, fmt.Sprintf("descending-%v", descending)))
		var original []string
		for i := range 12 {
			m := newMessage(ch, fmt.Sprintf("m%02d", i))
			m.Created = Start.Add(time.Duration(i/3) * time.Millisecond) // three per millisecond
			e.create(m)
			original = append(original, m.ID)
		}
		q := carillon.MessageQuery{Channel: ch, Descending: descending, Limit: 2}
		var seen []carillon.Message
		for page := 0; ; page++ {
			if page > 100 {
				t.Fatalf("descending %v: pages do not end", descending)
			}
			got := read(e, func(tx carillon.Tx) ([]carillon.Message, error) { return tx.ListMessages(q) })
			if len(got) == 0 {
				break
			}
			seen = append(seen, got...)
			last := got[len(got)-1]
			q.After = &carillon.MessageCursor{Created: last.Created, Seq: last.Seq}
			if page >= 6 {
				continue // let the pages catch up and end
			}
			// Between two pages: messages in the millisecond before the
			// cursor's, in its millisecond, and in the one after.
			prefix := fmt.Sprintf("new-%02d-", page)
			before, same, after := newMessage(ch, prefix+"before"), newMessage(ch, prefix+"same"), newMessage(ch, prefix+"after")
			before.Created = last.Created.Add(-time.Millisecond)
			same.Created = last.Created
			after.Created = last.Created.Add(time.Millisecond)
			e.create(before, same, after)
		}
		count := map[string]int{}
		for i, m := range seen {
			count[m.ID]++
			if i == 0 {
				continue
			}
			prev := seen[i-1]
			inOrder := prev.Created.Before(m.Created) || prev.Created.Equal(m.Created) && prev.Seq < m.Seq
			if descending {
				inOrder = m.Created.Before(prev.Created) || m.Created.Equal(prev.Created) && m.Seq < prev.Seq
			}
			if !inOrder {
				t.Errorf("descending %v: pages not in order: %s then %s", descending, prev.ID, m.ID)
			}
		}
		for id, n := range count {
			if n != 1 {
				t.Errorf("descending %v: message %s seen %d times across pages", descending, id, n)
			}
		}
		for _, id := range original {
			if count[id] != 1 {
				t.Errorf("descending %v: message %s seen %d times across pages", descending, id, count[id])
			}
		}
		// The new messages ahead of the cursor were seen: those in its
		// millisecond, after it by Seq, and those in the next millisecond.
		ahead := "after"
		if descending {
			ahead = "before"
		}
		if count["new-00-same"] != 0 && descending || count["new-00-same"] != 1 && !descending {
			t.Errorf("descending %v: a message added in the cursor's millisecond seen %d times", descending, count["new-00-same"])
		}
		if count["new-00-"+ahead] != 1 {
			t.Errorf("descending %v: a message added ahead of the cursor seen %d times", descending, count["new-00-"+ahead])
		}
	}
}

// channelWorld is everything in one channel, as the cascade tests build
// and compare it.
type channelWorld struct {
	Channel     *carillon.Channel
	Memberships []carillon.Membership
	Moderators  []carillon.Moderator
	Bans        []carillon.Ban
	Messages    []carillon.Message
	Tags        []carillon.Tag
}

// populateChannel creates a channel of app with two users' and a bot's
// memberships, moderator roles and bans (u1 and b1 of app, which need not
// exist), messages in two sub-channels and tags.
func populateChannel(e *env, app, id string) {
	e.t.Helper()
	c := newChannel(app, id)
	e.create(c)
	for _, arn := range []string{userARN(app, "u1"), userARN(app, "u2"), botARN(app, "b1")} {
		e.create(newMembership(c.ARN, arn), newModerator(c.ARN, arn), newBan(c.ARN, arn))
	}
	for i := range 3 {
		m := newMessage(c.ARN, fmt.Sprintf("m%d", i))
		m.Sender = userARN(app, "u1")
		e.create(m)
		s := newMessage(c.ARN, fmt.Sprintf("s%d", i))
		s.SubChannelID, s.Sender = "sub", botARN(app, "b1")
		e.create(s)
	}
	e.update(func(tx carillon.Tx) error {
		return tx.PutTags(c.ARN, []carillon.Tag{{Key: "k", Value: c.ARN}})
	})
}

// channelSnapshot reads what is stored in a channel; Channel is nil when
// the channel does not exist.
func channelSnapshot(e *env, arn string) channelWorld {
	e.t.Helper()
	var w channelWorld
	e.view(func(tx carillon.Tx) (err error) {
		w.Channel, err = tx.GetChannel(arn)
		if errors.Is(err, carillon.ErrNotFound) {
			err = nil
		}
		if err != nil {
			return err
		}
		if w.Memberships, err = tx.ListMemberships(arn, "", "", carillon.Page{}); err != nil {
			return err
		}
		if w.Moderators, err = tx.ListModerators(arn, carillon.Page{}); err != nil {
			return err
		}
		if w.Bans, err = tx.ListBans(arn, carillon.Page{}); err != nil {
			return err
		}
		for _, sub := range []string{"", "sub"} {
			ms, err := tx.ListMessages(carillon.MessageQuery{Channel: arn, SubChannel: sub})
			if err != nil {
				return err
			}
			w.Messages = append(w.Messages, ms...)
		}
		w.Tags, err = tx.Tags(arn)
		return err
	})
	return w
}

// checkChannelGone checks that nothing is left of a channel.
func checkChannelGone(e *env, what, arn string) {
	e.t.Helper()
	t := e.t
	check(t, what+": what is left", channelSnapshot(e, arn), channelWorld{})
	e.view(func(tx carillon.Tx) error {
		for _, count := range []func(string) (int, error){tx.CountMemberships, tx.CountModerators} {
			n, err := count(arn)
			noErr(t, what+": count", err)
			check(t, what+": count", n, 0)
		}
		_, err := tx.GetMessage(arn, "m0")
		wantErr(t, what+": GetMessage", err, carillon.ErrNotFound)
		return nil
	})
}

func testDeleteChannelCascade(e *env) {
	t := e.t
	e.create(newApp(appA), newUser(appA, "u1"))
	c1, c2 := channelARN(appA, "c1"), channelARN(appA, "c2")
	populateChannel(e, appA, "c1")
	populateChannel(e, appA, "c2")
	// A channel whose ARN has c1's as a prefix.
	populateChannel(e, appA, "c1-x")
	before2, beforeX := channelSnapshot(e, c2), channelSnapshot(e, c1+"-x")
	if len(before2.Memberships) != 3 || len(before2.Messages) != 6 || len(before2.Tags) != 1 {
		t.Fatalf("populateChannel made %d memberships, %d messages, %d tags", len(before2.Memberships), len(before2.Messages), len(before2.Tags))
	}

	e.update(func(tx carillon.Tx) error { return tx.DeleteChannel(c1) })
	checkChannelGone(e, "after DeleteChannel", c1)
	check(t, "another channel after DeleteChannel", channelSnapshot(e, c2), before2)
	check(t, "a channel with a longer ARN after DeleteChannel", channelSnapshot(e, c1+"-x"), beforeX)
	u1 := userARN(appA, "u1")
	e.view(func(tx carillon.Tx) error {
		of, err := tx.ListMembershipsOf(u1, carillon.Page{})
		noErr(t, "ListMembershipsOf", err)
		check(t, "ListMembershipsOf after DeleteChannel", keys(of, func(m carillon.ChannelMembershipOf) string { return m.Channel.ARN }),
			[]string{c1 + "-x", c2})
		mod, err := tx.ListChannelsModeratedBy(u1, carillon.Page{})
		noErr(t, "ListChannelsModeratedBy", err)
		check(t, "ListChannelsModeratedBy after DeleteChannel", keys(mod, channelKey), []string{c1 + "-x", c2})
		found, err := tx.SearchChannelsByMembers(appA, []string{u1}, false, "", carillon.Page{})
		noErr(t, "SearchChannelsByMembers", err)
		check(t, "SearchChannelsByMembers after DeleteChannel", keys(found, channelKey), []string{c1 + "-x", c2})
		return nil
	})

	// A new channel with the same ARN starts empty.
	e.create(newChannel(appA, "c1"))
	w := channelSnapshot(e, c1)
	check(t, "a recreated channel", w, channelWorld{Channel: newChannel(appA, "c1"), Memberships: []carillon.Membership{},
		Moderators: []carillon.Moderator{}, Bans: []carillon.Ban{}, Tags: []carillon.Tag{}})
}

// testDeleteMemberMessaging checks that DeleteUser or DeleteBot removes the
// bearer's memberships, moderator roles and bans in every channel, and
// nothing else of the channels: not the others', nor its messages.
func testDeleteMemberMessaging(e *env, member string, del func(tx carillon.Tx, arn string) error) {
	t := e.t
	sibling := appA + "d"
	e.create(newApp(appA), newApp(sibling), newUser(appA, "u1"), newUser(appA, "u2"), newBot(appA, "b1"), newBot(appA, "b2"))
	populateChannel(e, appA, "c1")
	populateChannel(e, appA, "c2")
	// A channel of another AppInstance the bearer is in too.
	populateChannel(e, sibling, "s1")
	s1 := channelARN(sibling, "s1")
	e.create(newMembership(s1, member), newModerator(s1, member), newBan(s1, member))
	arns := []string{channelARN(appA, "c1"), channelARN(appA, "c2"), s1}
	before := map[string]channelWorld{}
	for _, arn := range arns {
		before[arn] = channelSnapshot(e, arn)
	}

	e.update(func(tx carillon.Tx) error { return del(tx, member) })

	for _, arn := range arns {
		want := before[arn]
		want.Memberships = without(want.Memberships, func(m carillon.Membership) bool { return m.MemberARN == member })
		want.Moderators = without(want.Moderators, func(m carillon.Moderator) bool { return m.ModeratorARN == member })
		want.Bans = without(want.Bans, func(b carillon.Ban) bool { return b.MemberARN == member })
		if len(want.Memberships) != len(before[arn].Memberships)-1 {
			t.Fatalf("%s was not a member of %s", member, arn)
		}
		check(t, "channel "+arn+" after deleting "+member, channelSnapshot(e, arn), want)
		check(t, "CountMemberships of "+arn+" after deleting "+member,
			read(e, func(tx carillon.Tx) (int, error) { return tx.CountMemberships(arn) }), len(want.Memberships))
	}
	e.view(func(tx carillon.Tx) error {
		of, err := tx.ListMembershipsOf(member, carillon.Page{})
		noErr(t, "ListMembershipsOf", err)
		check(t, "ListMembershipsOf the deleted bearer", of, []carillon.ChannelMembershipOf{})
		mod, err := tx.ListChannelsModeratedBy(member, carillon.Page{})
		noErr(t, "ListChannelsModeratedBy", err)
		check(t, "ListChannelsModeratedBy the deleted bearer", mod, []carillon.Channel{})
		for _, arn := range arns {
			_, err := tx.GetBan(arn, member)
			wantErr(t, "GetBan of the deleted bearer", err, carillon.ErrNotFound)
		}
		return nil
	})
}

func testDeleteUserMessagingCascade(e *env) {
	u1 := userARN(appA, "u1")
	testDeleteMemberMessaging(e, u1, func(tx carillon.Tx, arn string) error { return tx.DeleteUser(arn) })
	// Recreated, the user is in no channel.
	e.create(newUser(appA, "u1"))
	check(e.t, "ListMembershipsOf a recreated user", read(e, func(tx carillon.Tx) ([]carillon.ChannelMembershipOf, error) {
		return tx.ListMembershipsOf(u1, carillon.Page{})
	}), []carillon.ChannelMembershipOf{})
}

func testDeleteBotMessagingCascade(e *env) {
	testDeleteMemberMessaging(e, botARN(appA, "b1"), func(tx carillon.Tx, arn string) error { return tx.DeleteBot(arn) })
}

func testDeleteAppInstanceMessagingCascade(e *env) {
	t := e.t
	siblings := []string{appA + "d", appA + "-d"}
	for _, app := range append([]string{appA}, siblings...) {
		e.create(newApp(app), newUser(app, "u1"))
		populateChannel(e, app, "c1")
		populateChannel(e, app, "c2")
	}
	before := map[string]channelWorld{}
	for _, app := range siblings {
		for _, id := range []string{"c1", "c2"} {
			before[channelARN(app, id)] = channelSnapshot(e, channelARN(app, id))
		}
	}

	e.update(func(tx carillon.Tx) error { return tx.DeleteAppInstance(appA) })

	for _, id := range []string{"c1", "c2"} {
		checkChannelGone(e, "after DeleteAppInstance", channelARN(appA, id))
	}
	for arn, w := range before {
		check(t, "channel "+arn+" of another AppInstance after DeleteAppInstance", channelSnapshot(e, arn), w)
	}
	u1 := userARN(appA, "u1")
	e.view(func(tx carillon.Tx) error {
		of, err := tx.ListMembershipsOf(u1, carillon.Page{})
		noErr(t, "ListMembershipsOf", err)
		check(t, "ListMembershipsOf after DeleteAppInstance", of, []carillon.ChannelMembershipOf{})
		mod, err := tx.ListChannelsModeratedBy(u1, carillon.Page{})
		noErr(t, "ListChannelsModeratedBy", err)
		check(t, "ListChannelsModeratedBy after DeleteAppInstance", mod, []carillon.Channel{})
		return nil
	})

	// A new AppInstance with the same ARN has no channels, and a channel
	// recreated in it has nothing of the old one.
	e.create(newApp(appA), newChannel(appA, "c1"))
	check(t, "channels of the new AppInstance", read(e, func(tx carillon.Tx) ([]carillon.Channel, error) {
		return tx.ListChannels(appA, "", carillon.Page{})
	}), []carillon.Channel{*newChannel(appA, "c1")})
	check(t, "a channel of the new AppInstance", channelSnapshot(e, channelARN(appA, "c1")), channelWorld{
		Channel: newChannel(appA, "c1"), Memberships: []carillon.Membership{}, Moderators: []carillon.Moderator{},
		Bans: []carillon.Ban{}, Tags: []carillon.Tag{},
	})
}

func testMessagingReadOnly(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	u1 := userARN(appA, "u1")
	e.create(newApp(appA), newUser(appA, "u1"))
	populateChannel(e, appA, "c1")
	before := channelSnapshot(e, ch)

	writes := map[string]func(tx carillon.Tx) error{
		"CreateChannel":    func(tx carillon.Tx) error { return tx.CreateChannel(newChannel(appA, "c2")) },
		"UpdateChannel":    func(tx carillon.Tx) error { return tx.UpdateChannel(newChannel(appA, "c1")) },
		"DeleteChannel":    func(tx carillon.Tx) error { return tx.DeleteChannel(ch) },
		"CreateMembership": func(tx carillon.Tx) error { return tx.CreateMembership(newMembership(ch, userARN(appA, "u9"))) },
		"UpdateMembership": func(tx carillon.Tx) error { return tx.UpdateMembership(newMembership(ch, u1)) },
		"DeleteMembership": func(tx carillon.Tx) error { return tx.DeleteMembership(ch, u1) },
		"CreateModerator":  func(tx carillon.Tx) error { return tx.CreateModerator(newModerator(ch, userARN(appA, "u9"))) },
		"DeleteModerator":  func(tx carillon.Tx) error { return tx.DeleteModerator(ch, u1) },
		"CreateBan":        func(tx carillon.Tx) error { return tx.CreateBan(newBan(ch, userARN(appA, "u9"))) },
		"DeleteBan":        func(tx carillon.Tx) error { return tx.DeleteBan(ch, u1) },
		"CreateMessage":    func(tx carillon.Tx) error { return tx.CreateMessage(newMessage(ch, "new")) },
		"UpdateMessage":    func(tx carillon.Tx) error { return tx.UpdateMessage(newMessage(ch, "m0")) },
		"DeleteMessage":    func(tx carillon.Tx) error { return tx.DeleteMessage(ch, "m0") },
		"DeleteUser":       func(tx carillon.Tx) error { return tx.DeleteUser(u1) },
	}
	e.view(func(tx carillon.Tx) error {
		for name, write := range writes {
			wantErr(t, name+" in a View", write(tx), carillon.ErrReadOnly)
		}
		return nil
	})
	check(t, "the channel after writes in a View", channelSnapshot(e, ch), before)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetChannel(channelARN(appA, "c2"))
		wantErr(t, "GetChannel of a channel created in a View", err, carillon.ErrNotFound)
		return nil
	})
}

// testMessagingGoesOnAfterError: ErrExists and ErrNotFound of the
// messaging methods leave the transaction usable too.
func testMessagingGoesOnAfterError(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	u1 := userARN(appA, "u1")
	e.create(newApp(appA), newChannel(appA, "c1"), newMembership(ch, u1), newMessage(ch, "m1"))
	m2 := newMessage(ch, "m2")
	e.update(func(tx carillon.Tx) error {
		if err := tx.CreateModerator(newModerator(ch, u1)); err != nil {
			return err
		}
		missing := channelARN(appA, "nope")
		wantErr(t, "CreateChannel of a taken ARN", tx.CreateChannel(newChannel(appA, "c1")), carillon.ErrExists)
		wantErr(t, "CreateMembership twice", tx.CreateMembership(newMembership(ch, u1)), carillon.ErrExists)
		wantErr(t, "CreateMessage of a taken id", tx.CreateMessage(newMessage(ch, "m1")), carillon.ErrExists)
		wantErr(t, "CreateMembership in a missing channel", tx.CreateMembership(newMembership(missing, u1)), carillon.ErrNotFound)
		wantErr(t, "CreateModerator in a missing channel", tx.CreateModerator(newModerator(missing, u1)), carillon.ErrNotFound)
		wantErr(t, "CreateBan in a missing channel", tx.CreateBan(newBan(missing, u1)), carillon.ErrNotFound)
		wantErr(t, "CreateMessage in a missing channel", tx.CreateMessage(newMessage(missing, "m1")), carillon.ErrNotFound)
		wantErr(t, "DeleteMessage of a missing one", tx.DeleteMessage(ch, "nope"), carillon.ErrNotFound)
		return tx.CreateMessage(m2)
	})
	got := read(e, func(tx carillon.Tx) ([]carillon.Message, error) {
		return tx.ListMessages(carillon.MessageQuery{Channel: ch})
	})
	check(t, "messages written around the errors", messageIDs(got), []string{"m1", "m2"})
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetModerator(ch, u1)
		noErr(t, "GetModerator written before the errors", err)
		return nil
	})
}

// testOutboxAudience: the audience and membership change of an event
// round-trip.
func testOutboxAudience(e *env) {
	t := e.t
	ch := channelARN(appA, "c1")
	u1, u2 := userARN(appA, "u1"), userARN(appA, "u2")
	evs := []*carillon.Event{
		{Type: "CREATE_CHANNEL_MEMBERSHIP", Channel: ch, ToMembers: true, Member: u1, MemberChange: +1,
			MessageType: "SYSTEM", Payload: []byte(`{"Member":{"Arn":"u1"}}`)},
		{Type: "DELETE_CHANNEL_MEMBERSHIP", Channel: ch, ToMembers: true, Recipients: []string{u2}, Member: u2, MemberChange: -1,
			MessageType: "SYSTEM", Reason: "subchannel_DELETED", Payload: []byte("{}")},
		{Type: "CREATE_CHANNEL_MESSAGE", Channel: ch, Recipients: []string{u1, u2}, MessageType: "STANDARD", Payload: []byte("{}")},
		{Type: "T"}, // every new field at its zero value
	}
	e.update(func(tx carillon.Tx) error {
		for _, ev := range evs {
			if err := tx.AppendEvent(ev); err != nil {
				return err
			}
		}
		return nil
	})
	want := make([]carillon.Event, 0, len(evs))
	for _, ev := range evs {
		want = append(want, *ev)
	}
	check(t, "Events with audiences", read(e, func(tx carillon.Tx) ([]carillon.Event, error) {
		return tx.Events(0, 0)
	}), want)
	check(t, "Events after the first, with audiences", read(e, func(tx carillon.Tx) ([]carillon.Event, error) {
		return tx.Events(evs[0].Seq, 1)
	}), want[1:2])
}
