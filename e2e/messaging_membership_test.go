package e2e

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
)

const (
	mmDefault = mtypes.ChannelMembershipTypeDefault
	mmHidden  = mtypes.ChannelMembershipTypeHidden
)

func TestMessagingCreateChannelMembership(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "alice", "bob", "carol", "dave")
	mod, alice, bob, carol, dave := u[0], u[1], u[2], u[3], u[4]
	ch := e.newChannel(t, mod, mmChannelOpts{})

	// A moderator adds a DEFAULT member: the response, and one event to
	// the channel that the new member is part of.
	var out *chimesdkmessaging.CreateChannelMembershipOutput
	ev := e.oneEvent(t, "CREATE_CHANNEL_MEMBERSHIP", func() {
		var err error
		out, err = e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArn: aws.String(alice), Type: mmDefault,
		})
		mustOK(t, err, "CreateChannelMembership")
	})
	if aws.ToString(out.ChannelArn) != ch || out.Member == nil || aws.ToString(out.Member.Arn) != alice ||
		aws.ToString(out.Member.Name) != "User alice" || out.SubChannelId != nil {
		t.Errorf("CreateChannelMembership answered %+v", out)
	}
	mmAudience(t, ev, true)
	if ev.Member != alice || ev.MemberChange != +1 || ev.MessageType != "SYSTEM" || ev.Channel != ch {
		t.Errorf("event Member %q MemberChange %d MessageType %q Channel %q", ev.Member, ev.MemberChange, ev.MessageType, ev.Channel)
	}
	p := eventPayload(t, ev, "CreatedTimestamp", "LastUpdatedTimestamp")
	if p["Type"] != "DEFAULT" || p["ChannelArn"] != ch || mmArn(p, "Member") != alice || mmArn(p, "InvitedBy") != mod {
		t.Errorf("payload %s", ev.Payload)
	}

	// A member of an UNRESTRICTED channel adds another, with a key of
	// its own.
	asAlice := chimesdkmessaging.NewFromConfig(e.srv.UserConfig(t, alice))
	_, err := asAlice.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(bob), Type: mmDefault,
	})
	mustOK(t, err, "member adds bob")

	// Adding a member again succeeds and announces nothing.
	e.noEvent(t, "adding bob again", func() { e.join(t, alice, ch, bob, mmDefault) })

	// A non-member joins a PUBLIC channel by adding itself.
	e.join(t, carol, ch, carol, mmDefault)

	// A bot can be a member; a HIDDEN membership is announced to the
	// hidden member only.
	bot := e.createBot(t, e.app, "Helper")
	e.join(t, mod, ch, bot, mmDefault)
	ev = e.oneEvent(t, "CREATE_CHANNEL_MEMBERSHIP", func() { e.join(t, mod, ch, dave, mmHidden) })
	mmAudience(t, ev, false, dave)
	if p := eventPayload(t, ev); p["Type"] != "HIDDEN" || mmArn(p, "Member") != dave {
		t.Errorf("HIDDEN payload %s", ev.Payload)
	}

	if got, want := e.memberARNs(t, mod, ch, mmDefault), sortedCopy(mod, alice, bob, carol, bot); !slices.Equal(got, want) {
		t.Errorf("DEFAULT members %v, want %v", got, want)
	}
	if got := e.memberARNs(t, mod, ch, mmHidden); !slices.Equal(got, []string{dave}) {
		t.Errorf("HIDDEN members %v, want [%s]", got, dave)
	}
}

func TestMessagingCreateChannelMembershipErrors(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "alice", "bob", "carol", "dave", "eve", "hidden")
	mod, alice, bob, carol, dave, eve, hidden := u[0], u[1], u[2], u[3], u[4], u[5], u[6]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)

	open := e.newChannel(t, mod, mmChannelOpts{members: []string{alice}})
	restricted := e.newChannel(t, mod, mmChannelOpts{restricted: true, members: []string{alice}})
	private := e.newChannel(t, mod, mmChannelOpts{private: true, members: []string{alice}})
	add := func(bearer, ch, member string, typ mtypes.ChannelMembershipType) error {
		_, err := e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member), Type: typ,
		})
		return err
	}

	// RESTRICTED: members may not add others, but anyone may still join
	// a PUBLIC channel by itself (docs/compatibility.md, ruling 7); admins add anyone.
	mmForbidden(t, add(alice, restricted, bob, mmDefault), "RESTRICTED")
	mustOK(t, add(carol, restricted, carol, mmDefault), "self-join of a RESTRICTED PUBLIC channel")
	mustOK(t, add(admin, restricted, dave, mmDefault), "admin adds a member")

	// Non-members may add only themselves.
	mmForbidden(t, add(bob, open, dave, mmDefault), "Only members")
	// HIDDEN is for moderators and admins to give, even to oneself.
	mmForbidden(t, add(alice, open, bob, mmHidden), "HIDDEN")
	mmForbidden(t, add(bob, open, bob, mmHidden), "HIDDEN")
	mustOK(t, add(admin, open, hidden, mmHidden), "admin adds a HIDDEN member")
	// HIDDEN members observe: they may not add others.
	mmForbidden(t, add(hidden, open, eve, mmDefault), "Only members")

	// A PRIVATE channel is invisible to non-members, who cannot join it;
	// its members may still add others when it is UNRESTRICTED.
	mmForbidden(t, add(bob, private, bob, mmDefault), "does not exist")
	mustOK(t, add(alice, private, bob, mmDefault), "member adds to an UNRESTRICTED PRIVATE channel")
	mmForbidden(t, add(bob, open+"x", bob, mmDefault), "does not exist")

	// Banned: neither the bearer nor the member may be added.
	_, err := e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(open), ChimeBearer: aws.String(mod), MemberArn: aws.String(eve),
	})
	mustOK(t, err, "CreateChannelBan")
	mmForbidden(t, add(eve, open, eve, mmDefault), "banned")
	mmForbidden(t, add(mod, open, eve, mmDefault), "banned")

	// The member must be a user or bot of the channel's AppInstance;
	// one that does not exist is NotFound.
	mmNotFound(t, add(mod, open, userARN(e.app, "nobody"), mmDefault), "does not exist")
	mmBadRequest(t, add(mod, open, open, mmDefault), "is not an AppInstanceUser")
	other := e.createAppInstance(t, "Other")
	stranger := e.createUser(t, other, "stranger", "Stranger")
	mmBadRequest(t, add(mod, open, stranger, mmDefault), "is not an AppInstanceUser")

	// A membership keeps its type.
	wantErrorContaining(t, add(mod, open, alice, mmHidden), "ConflictException", "already a DEFAULT member")

	// Sub-channels exist only in elastic channels, which have no HIDDEN
	// members (elastic_test.go covers the rest).
	_, err = e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(open), ChimeBearer: aws.String(mod), MemberArn: aws.String(bob), Type: mmDefault,
		SubChannelId: aws.String("sub"),
	})
	mmBadRequest(t, err, "SubChannelId")
	elastic := e.elasticChannel(t, mod)
	mmBadRequest(t, add(mod, elastic, bob, mmHidden), "HIDDEN memberships are not supported on elastic channels")

	// The model's constraints are checked before anything else.
	_, err = e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(open), ChimeBearer: aws.String(mod), MemberArn: aws.String(bob), Type: "VISIBLE",
	})
	mmBadRequest(t, err, "Type")
}

// elasticChannel creates an elastic channel moderated by creator.
func (e *mmEnv) elasticChannel(t testing.TB, creator string) string {
	t.Helper()
	out, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("Elastic"), ChimeBearer: aws.String(creator),
		Mode: mtypes.ChannelModeRestricted,
		ElasticChannelConfiguration: &mtypes.ElasticChannelConfiguration{
			MaximumSubChannels: aws.Int32(4), TargetMembershipsPerSubChannel: aws.Int32(2), MinimumMembershipPercentage: aws.Int32(40),
		},
	})
	mustOK(t, err, "CreateChannel elastic")
	return aws.ToString(out.ChannelArn)
}

func TestMessagingBatchCreateChannelMembership(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "alice", "bob", "carol", "dave", "eve", "banned")
	mod, alice, bob, carol, dave, eve, banned := u[0], u[1], u[2], u[3], u[4], u[5], u[6]
	ch := e.newChannel(t, mod, mmChannelOpts{members: []string{carol}})
	_, err := e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArn: aws.String(banned),
	})
	mustOK(t, err, "CreateChannelBan")
	batch := func(bearer string, typ mtypes.ChannelMembershipType, members ...string) *chimesdkmessaging.BatchCreateChannelMembershipOutput {
		t.Helper()
		out, err := e.msg.BatchCreateChannelMembership(t.Context(), &chimesdkmessaging.BatchCreateChannelMembershipInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArns: members, Type: typ,
		})
		mustOK(t, err, "BatchCreateChannelMembership")
		return out
	}

	// Each member on its own: the good ones are added (an existing
	// member counts as added), the others reported.
	missing := userARN(e.app, "nobody")
	var out *chimesdkmessaging.BatchCreateChannelMembershipOutput
	ev := e.oneEvent(t, "BATCH_CREATE_CHANNEL_MEMBERSHIP", func() {
		out = batch(mod, "", alice, bob, alice, missing, ch, banned, carol)
	})
	b := out.BatchChannelMemberships
	if b == nil || aws.ToString(b.ChannelArn) != ch || b.Type != mmDefault || b.InvitedBy == nil ||
		aws.ToString(b.InvitedBy.Arn) != mod || aws.ToString(b.InvitedBy.Name) != "User mod" {
		t.Fatalf("BatchChannelMemberships %+v", b)
	}
	var added []string
	for _, m := range b.Members {
		added = append(added, aws.ToString(m.Arn))
		if aws.ToString(m.Name) == "" {
			t.Errorf("member %s has no name", aws.ToString(m.Arn))
		}
	}
	if want := []string{alice, bob, carol}; !slices.Equal(added, want) {
		t.Errorf("Members %v, want %v", added, want)
	}
	wantErrs := map[string]mtypes.ErrorCode{missing: mtypes.ErrorCodeNotFound, ch: mtypes.ErrorCodeBadRequest, banned: mtypes.ErrorCodeForbidden}
	if len(out.Errors) != len(wantErrs) {
		t.Errorf("Errors %+v, want one for each of %v", out.Errors, wantErrs)
	}
	for _, be := range out.Errors {
		if want, ok := wantErrs[aws.ToString(be.MemberArn)]; !ok || be.ErrorCode != want || aws.ToString(be.ErrorMessage) == "" {
			t.Errorf("Error %s %s %q", aws.ToString(be.MemberArn), be.ErrorCode, aws.ToString(be.ErrorMessage))
		}
	}
	// One event for the members it added, telling who joined.
	mmAudience(t, ev, true, alice, bob)
	if ev.Member != "" || ev.MemberChange != +1 || ev.MessageType != "SYSTEM" {
		t.Errorf("batch event Member %q MemberChange %d MessageType %q", ev.Member, ev.MemberChange, ev.MessageType)
	}
	p := eventPayload(t, ev)
	if p["Type"] != "DEFAULT" || p["ChannelArn"] != ch || mmArn(p, "InvitedBy") != mod {
		t.Errorf("batch payload %s", ev.Payload)
	}
	ms, _ := p["Members"].([]any)
	var inPayload []string
	for _, m := range ms {
		arn, _ := m.(map[string]any)["Arn"].(string)
		inPayload = append(inPayload, arn)
	}
	if !slices.Equal(inPayload, []string{alice, bob}) {
		t.Errorf("payload Members %v, want [%s %s]", inPayload, alice, bob)
	}

	// A member of an UNRESTRICTED channel may add others; nothing new,
	// nothing announced.
	e.noEvent(t, "a batch of existing members", func() { batch(alice, mmDefault, bob, carol) })
	out = batch(alice, mmDefault, dave)
	if len(out.BatchChannelMemberships.Members) != 1 || len(out.Errors) != 0 {
		t.Errorf("member's batch answered %+v", out)
	}
	// A member may not add HIDDEN members, nor may a non-member add
	// others: every member is refused, nothing is announced.
	e.noEvent(t, "refused batches", func() {
		out = batch(alice, mmHidden, eve)
		if len(out.BatchChannelMemberships.Members) != 0 || len(out.Errors) != 1 || out.Errors[0].ErrorCode != mtypes.ErrorCodeForbidden {
			t.Errorf("HIDDEN batch by a member answered %+v", out)
		}
		out = batch(eve, mmDefault, dave, banned)
		if len(out.BatchChannelMemberships.Members) != 0 || len(out.Errors) != 2 {
			t.Errorf("non-member's batch answered %+v", out)
		}
	})
	// A HIDDEN batch is announced to the hidden members only.
	ev = e.oneEvent(t, "BATCH_CREATE_CHANNEL_MEMBERSHIP", func() {
		batch(mod, mmHidden, e.user(t, "h1"), e.user(t, "h2"))
	})
	mmAudience(t, ev, false, userARN(e.app, "h1"), userARN(e.app, "h2"))

	// The batch as a whole: a PRIVATE channel invisible to the bearer,
	// a banned bearer, a SubChannelId.
	private := e.newChannel(t, mod, mmChannelOpts{private: true})
	_, err = e.msg.BatchCreateChannelMembership(t.Context(), &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(private), ChimeBearer: aws.String(alice), MemberArns: []string{alice},
	})
	mmForbidden(t, err, "does not exist")
	_, err = e.msg.BatchCreateChannelMembership(t.Context(), &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(banned), MemberArns: []string{banned},
	})
	mmForbidden(t, err, "banned")
	_, err = e.msg.BatchCreateChannelMembership(t.Context(), &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArns: []string{alice}, SubChannelId: aws.String("s"),
	})
	mmBadRequest(t, err, "SubChannelId")
	many := make([]string, 101)
	for i := range many {
		many[i] = alice
	}
	_, err = e.msg.BatchCreateChannelMembership(t.Context(), &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArns: many,
	})
	mmBadRequest(t, err, "MemberArns")
}

func TestMessagingDeleteChannelMembership(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "alice", "bob", "carol", "dave", "hidden")
	mod, alice, bob, carol, dave, hidden := u[0], u[1], u[2], u[3], u[4], u[5]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, mod, mmChannelOpts{members: []string{alice, bob, carol, dave}})
	e.join(t, mod, ch, hidden, mmHidden)
	del := func(bearer, member string) error {
		return mmDeleteMembership(e, t, bearer, ch, member)
	}

	// A member leaves: the event goes to the members and to the member
	// who left.
	ev := e.oneEvent(t, "DELETE_CHANNEL_MEMBERSHIP", func() { mustOK(t, del(alice, alice), "alice leaves") })
	mmAudience(t, ev, true, alice)
	if ev.Member != alice || ev.MemberChange != -1 || ev.MessageType != "SYSTEM" {
		t.Errorf("event Member %q MemberChange %d MessageType %q", ev.Member, ev.MemberChange, ev.MessageType)
	}
	if p := eventPayload(t, ev, "CreatedTimestamp"); mmArn(p, "Member") != alice || p["Type"] != "DEFAULT" || mmArn(p, "InvitedBy") != mod {
		t.Errorf("payload %s", ev.Payload)
	}
	// Moderators and admins remove others; a HIDDEN member's removal is
	// announced to it alone.
	mustOK(t, del(mod, bob), "moderator removes bob")
	mustOK(t, del(admin, carol), "admin removes carol")
	ev = e.oneEvent(t, "DELETE_CHANNEL_MEMBERSHIP", func() { mustOK(t, del(mod, hidden), "removing the hidden member") })
	mmAudience(t, ev, false, hidden)

	// Members may not remove others; no membership, nothing to remove
	// (no NotFound is modelled).
	mmForbidden(t, del(dave, mod), "Only a moderator")
	mmForbidden(t, del(alice, alice), "not a member")
	mmForbidden(t, del(mod, bob), "not a member")
	if got, want := e.memberARNs(t, mod, ch, mmDefault), sortedCopy(mod, dave); !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}

	private := e.newChannel(t, mod, mmChannelOpts{private: true, members: []string{dave}})
	mmForbidden(t, mmDeleteMembership(e, t, alice, private, dave), "does not exist")
	_, err := e.msg.DeleteChannelMembership(t.Context(), &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(dave), MemberArn: aws.String(dave), SubChannelId: aws.String("s"),
	})
	mmBadRequest(t, err, "SubChannelId")
}

func mmDeleteMembership(e *mmEnv, t testing.TB, bearer, ch, member string) error {
	_, err := e.msg.DeleteChannelMembership(t.Context(), &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member),
	})
	return err
}

func TestMessagingDescribeChannelMembership(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "alice", "bob", "hidden", "stranger")
	mod, alice, bob, hidden, stranger := u[0], u[1], u[2], u[3], u[4]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, mod, mmChannelOpts{members: []string{alice}})
	e.join(t, alice, ch, bob, mmDefault)
	e.join(t, mod, ch, hidden, mmHidden)
	describe := func(bearer, ch, member string) (*mtypes.ChannelMembership, error) {
		out, err := e.msg.DescribeChannelMembership(t.Context(), &chimesdkmessaging.DescribeChannelMembershipInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member),
		})
		if err != nil {
			return nil, err
		}
		return out.ChannelMembership, nil
	}

	// Anyone may describe the members of a PUBLIC channel.
	m, err := describe(stranger, ch, bob)
	mustOK(t, err, "DescribeChannelMembership")
	if aws.ToString(m.ChannelArn) != ch || m.Type != mmDefault || aws.ToString(m.Member.Arn) != bob ||
		aws.ToString(m.Member.Name) != "User bob" || m.InvitedBy == nil || aws.ToString(m.InvitedBy.Arn) != alice ||
		aws.ToString(m.InvitedBy.Name) != "User alice" || m.SubChannelId != nil {
		t.Errorf("membership %+v", m)
	}
	e.wantRecent(t, "CreatedTimestamp", m.CreatedTimestamp)
	e.wantRecent(t, "LastUpdatedTimestamp", m.LastUpdatedTimestamp)

	// Not a member: NotFound. HIDDEN members exist only for moderators,
	// admins and themselves.
	_, err = describe(alice, ch, stranger)
	mmNotFound(t, err, "not a member")
	for _, who := range []string{mod, admin, hidden} {
		m, err := describe(who, ch, hidden)
		mustOK(t, err, "describing the HIDDEN member as %s", who)
		if m != nil && m.Type != mmHidden {
			t.Errorf("HIDDEN member described as %s", m.Type)
		}
	}
	_, err = describe(alice, ch, hidden)
	mmNotFound(t, err, "not a member")

	private := e.newChannel(t, mod, mmChannelOpts{private: true, members: []string{alice}})
	_, err = describe(stranger, private, alice)
	mmForbidden(t, err, "does not exist")
	_, err = e.msg.DescribeChannelMembership(t.Context(), &chimesdkmessaging.DescribeChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(bob), SubChannelId: aws.String("s"),
	})
	mmBadRequest(t, err, "SubChannelId")
}

func TestMessagingListChannelMemberships(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "a", "b", "c", "d", "h1", "h2", "stranger")
	mod, hidden, stranger := u[0], u[5:7], u[7]
	ch := e.newChannel(t, mod, mmChannelOpts{members: u[1:5]})
	for _, h := range hidden {
		e.join(t, mod, ch, h, mmHidden)
	}

	// DEFAULT unless asked, paged (2 a page) without repeats; HIDDEN
	// members only when asked, and only to moderators.
	want := sortedCopy(u[:5]...)
	for _, typ := range []mtypes.ChannelMembershipType{"", mmDefault} {
		if got := e.memberARNs(t, stranger, ch, typ); !slices.Equal(got, want) {
			t.Errorf("members (type %q) %v, want %v", typ, got, want)
		}
	}
	if got := e.memberARNs(t, mod, ch, mmHidden); !slices.Equal(got, hidden) {
		t.Errorf("HIDDEN members %v, want %v", got, hidden)
	}
	out, err := e.msg.ListChannelMemberships(t.Context(), &chimesdkmessaging.ListChannelMembershipsInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod),
	})
	mustOK(t, err, "ListChannelMemberships")
	if aws.ToString(out.ChannelArn) != ch || out.NextToken != nil || len(out.ChannelMemberships) != 5 ||
		aws.ToString(out.ChannelMemberships[0].Member.Name) == "" {
		t.Errorf("ListChannelMemberships answered %+v", out)
	}

	list := func(bearer, ch string, typ mtypes.ChannelMembershipType, token *string) error {
		_, err := e.msg.ListChannelMemberships(t.Context(), &chimesdkmessaging.ListChannelMembershipsInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), Type: typ, NextToken: token,
		})
		return err
	}
	mmForbidden(t, list(u[1], ch, mmHidden, nil), "HIDDEN")
	mmForbidden(t, list(hidden[0], ch, mmHidden, nil), "HIDDEN")
	private := e.newChannel(t, mod, mmChannelOpts{private: true})
	mmForbidden(t, list(stranger, private, "", nil), "does not exist")
	mmBadRequest(t, list(mod, ch, "", aws.String("not-a-token")), "NextToken")
}

func TestMessagingChannelMembershipPreferences(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "alice", "bob", "stranger")
	mod, alice, bob, stranger := u[0], u[1], u[2], u[3]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, mod, mmChannelOpts{members: []string{alice, bob}})
	get := func(bearer, member string) (*chimesdkmessaging.GetChannelMembershipPreferencesOutput, error) {
		return e.msg.GetChannelMembershipPreferences(t.Context(), &chimesdkmessaging.GetChannelMembershipPreferencesInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member),
		})
	}
	put := func(bearer, member string, allow mtypes.AllowNotifications, rule *string) (*chimesdkmessaging.PutChannelMembershipPreferencesOutput, error) {
		return e.msg.PutChannelMembershipPreferences(t.Context(), &chimesdkmessaging.PutChannelMembershipPreferencesInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member),
			Preferences: &mtypes.ChannelMembershipPreferences{PushNotifications: &mtypes.PushNotificationPreferences{
				AllowNotifications: allow, FilterRule: rule,
			}},
		})
	}

	// Never set: an empty Preferences object.
	got, err := get(alice, alice)
	mustOK(t, err, "GetChannelMembershipPreferences")
	if aws.ToString(got.ChannelArn) != ch || aws.ToString(got.Member.Arn) != alice || aws.ToString(got.Member.Name) != "User alice" ||
		got.Preferences == nil || got.Preferences.PushNotifications != nil {
		t.Errorf("preferences never set: %+v", got)
	}

	// Put, then Get, FILTERED with its rule; no event.
	rule := `{"$or":[{"mention":["alice"]},{"type":[{"anything-but":["Room"]}]}]}`
	e.noEvent(t, "PutChannelMembershipPreferences", func() {
		out, err := put(alice, alice, mtypes.AllowNotificationsFiltered, aws.String(rule))
		mustOK(t, err, "PutChannelMembershipPreferences")
		if pn := out.Preferences.PushNotifications; aws.ToString(out.ChannelArn) != ch || aws.ToString(out.Member.Arn) != alice ||
			pn == nil || pn.AllowNotifications != mtypes.AllowNotificationsFiltered || aws.ToString(pn.FilterRule) != rule {
			t.Errorf("Put answered %+v", out)
		}
	})
	got, err = get(alice, alice)
	mustOK(t, err, "GetChannelMembershipPreferences")
	if pn := got.Preferences.PushNotifications; pn == nil || pn.AllowNotifications != mtypes.AllowNotificationsFiltered || aws.ToString(pn.FilterRule) != rule {
		t.Errorf("Get after Put: %+v", got.Preferences)
	}
	out, err := put(alice, alice, mtypes.AllowNotificationsNone, nil)
	mustOK(t, err, "PutChannelMembershipPreferences NONE")
	if pn := out.Preferences.PushNotifications; pn.AllowNotifications != mtypes.AllowNotificationsNone || pn.FilterRule != nil {
		t.Errorf("Put NONE answered %+v", pn)
	}

	// Only the member itself, not a moderator or admin, not for others.
	for _, bearer := range []string{bob, mod, admin} {
		_, err = get(bearer, alice)
		mmForbidden(t, err, "Only the member itself")
		_, err = put(bearer, alice, mtypes.AllowNotificationsAll, nil)
		mmForbidden(t, err, "Only the member itself")
	}
	_, err = get(stranger, stranger)
	mmForbidden(t, err, "not a member")
	_, err = e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArn: aws.String(bob),
	})
	mustOK(t, err, "CreateChannelBan")
	_, err = get(bob, bob)
	mmForbidden(t, err, "banned")
	_, err = put(bob, bob, mtypes.AllowNotificationsAll, nil)
	mmForbidden(t, err, "banned")

	// The rule: required by FILTERED, refused with ALL and NONE, and
	// checked (the unit tests go through the grammar).
	_, err = put(alice, alice, mtypes.AllowNotificationsFiltered, nil)
	mmBadRequest(t, err, "requires a FilterRule")
	_, err = put(alice, alice, mtypes.AllowNotificationsAll, aws.String(`{"a":["b"]}`))
	mmBadRequest(t, err, "only with AllowNotifications FILTERED")
	for _, bad := range []string{`not json`, `{"a":"b"}`, `{"a":[1]}`, `{"a":[{"prefix":"x"}]}`, `{"$or":[]}`} {
		_, err = put(alice, alice, mtypes.AllowNotificationsFiltered, aws.String(bad))
		mmBadRequest(t, err, "Invalid FilterRule")
	}
	_, err = put(alice, alice, "SOME", nil)
	mmBadRequest(t, err, "AllowNotifications")

	// Elastic channels have no membership preferences.
	_, err = e.msg.GetChannelMembershipPreferences(t.Context(), &chimesdkmessaging.GetChannelMembershipPreferencesInput{
		ChannelArn: aws.String(e.elasticChannel(t, mod)), ChimeBearer: aws.String(mod), MemberArn: aws.String(mod),
	})
	mmBadRequest(t, err, "elastic")
}
