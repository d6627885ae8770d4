package e2e

// Elastic channels through the Go SDK and the messaging session: members
// placed in sub-channels, SCALE_OUT and SCALE_IN, moderators in several
// sub-channels, SubChannelId on the message and membership operations,
// ListSubChannels, and events scoped to a sub-channel.

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/messaging"
)

// elEnv is a messaging-session env with elastic channel helpers.
type elEnv struct{ *wsEnv }

func elNew(t *testing.T) *elEnv { return &elEnv{wsNew(t)} }

// elastic creates an elastic channel of creator with the configuration
// and ModeratorArns given.
func (e *elEnv) elastic(t *testing.T, creator string, maxSubs, target, pct int32, moderators ...string) string {
	t.Helper()
	out, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("Elastic"), ChimeBearer: aws.String(creator),
		Mode: mtypes.ChannelModeRestricted, ModeratorArns: moderators,
		ElasticChannelConfiguration: &mtypes.ElasticChannelConfiguration{
			MaximumSubChannels: aws.Int32(maxSubs), TargetMembershipsPerSubChannel: aws.Int32(target), MinimumMembershipPercentage: aws.Int32(pct),
		},
	})
	mustOK(t, err, "CreateChannel elastic")
	return aws.ToString(out.ChannelArn)
}

// add adds member to ch as bearer, into sub when it is not nil.
func (e *elEnv) add(t *testing.T, bearer, ch, member string, sub *string) (*chimesdkmessaging.CreateChannelMembershipOutput, error) {
	t.Helper()
	return e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member),
		Type: mtypes.ChannelMembershipTypeDefault, SubChannelId: sub,
	})
}

// join adds a regular member and returns the sub-channel it was placed in.
func (e *elEnv) join(t *testing.T, bearer, ch, member string) string {
	t.Helper()
	out, err := e.add(t, bearer, ch, member, nil)
	mustOK(t, err, "CreateChannelMembership %s", member)
	sub := aws.ToString(out.SubChannelId)
	if sub == "" {
		t.Fatalf("CreateChannelMembership of %s in an elastic channel answered no SubChannelId", member)
	}
	return sub
}

// leave removes member from ch as bearer.
func (e *elEnv) leave(t *testing.T, bearer, ch, member string, sub *string) error {
	t.Helper()
	_, err := e.msg.DeleteChannelMembership(t.Context(), &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member), SubChannelId: sub,
	})
	return err
}

// subChannels lists every sub-channel of ch as bearer, a page of one at a
// time, so that paging is exercised.
func (e *elEnv) subChannels(t *testing.T, bearer, ch string) []mtypes.SubChannelSummary {
	t.Helper()
	var out []mtypes.SubChannelSummary
	p := chimesdkmessaging.NewListSubChannelsPaginator(e.msg, &chimesdkmessaging.ListSubChannelsInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MaxResults: aws.Int32(1),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		mustOK(t, err, "ListSubChannels")
		if aws.ToString(page.ChannelArn) != ch {
			t.Errorf("ListSubChannels ChannelArn %q", aws.ToString(page.ChannelArn))
		}
		out = append(out, page.SubChannels...)
	}
	return out
}

// counts returns the MembershipCount of each sub-channel, sorted.
func (e *elEnv) counts(t *testing.T, bearer, ch string) []int32 {
	t.Helper()
	var out []int32
	for _, s := range e.subChannels(t, bearer, ch) {
		out = append(out, aws.ToInt32(s.MembershipCount))
	}
	slices.Sort(out)
	return out
}

// subOf is the sub-channel member is in, as DescribeChannelMembership
// shows it.
func (e *elEnv) subOf(t *testing.T, ch, member string) string {
	t.Helper()
	out, err := e.msg.DescribeChannelMembership(t.Context(), &chimesdkmessaging.DescribeChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(member), MemberArn: aws.String(member),
	})
	mustOK(t, err, "DescribeChannelMembership %s", member)
	return aws.ToString(out.ChannelMembership.SubChannelId)
}

// elSub names the sub-channel of a message.
func elSub(sub string) func(*chimesdkmessaging.SendChannelMessageInput) {
	return func(in *chimesdkmessaging.SendChannelMessageInput) { in.SubChannelId = aws.String(sub) }
}

func elWantCounts(t *testing.T, what string, got []int32, want ...int32) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: sub-channel counts %v, want %v", what, got, want)
	}
}

// TestElasticBalancing fills an elastic channel (3 sub-channels of 3,
// minimum ceil(40% of 3) = 2), watching SCALE_OUT move members into new
// sub-channels, SCALE_IN merge an under-populated one and delete it with
// its messages, the events of both over the messaging session, and the
// join that finds the channel full.
func TestElasticBalancing(t *testing.T) {
	t.Parallel()
	e := elNew(t)
	mod := e.user(t, "mod")
	var m []string
	for _, id := range []string{"m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11"} {
		m = append(m, e.user(t, id))
	}
	ch := e.elastic(t, mod, 3, 3, 40)

	// The channel starts with one empty sub-channel, which the
	// moderator joins.
	subs := e.subChannels(t, mod, ch)
	if len(subs) != 1 || aws.ToInt32(subs[0].MembershipCount) != 0 || aws.ToString(subs[0].SubChannelId) == "" {
		t.Fatalf("sub-channels of a new elastic channel: %+v", subs)
	}
	a := aws.ToString(subs[0].SubChannelId)
	out, err := e.add(t, mod, ch, mod, aws.String(a))
	mustOK(t, err, "the moderator joins %s", a)
	if aws.ToString(out.SubChannelId) != a {
		t.Errorf("the moderator's CreateChannelMembership answered SubChannelId %q, want %q", aws.ToString(out.SubChannelId), a)
	}

	// Joins fill the sub-channel; the moderator does not count.
	for _, u := range m[:3] {
		if sub := e.join(t, mod, ch, u); sub != a {
			t.Errorf("%s placed in %s, want %s", u, sub, a)
		}
	}
	elWantCounts(t, "after 3 joins", e.counts(t, mod, ch), 3)

	m01, m02, modWS := e.connect(t, m[0], "m01"), e.connect(t, m[1], "m02"), e.connect(t, mod, "mod")

	// SCALE_OUT: the fourth join opens a sub-channel and moves a member
	// (the first by ARN) into it, with the joiner: 2 and 2.
	b := e.join(t, mod, ch, m[3])
	if b == a {
		t.Fatalf("the fourth member joined the full sub-channel %s", a)
	}
	elWantCounts(t, "after SCALE_OUT", e.counts(t, mod, ch), 2, 2)
	if got := e.subOf(t, ch, m[0]); got != b {
		t.Errorf("m01 is in %s after SCALE_OUT, want the new %s", got, b)
	}
	// The move is told to the moved member only, then the new member's
	// join to the new sub-channel's members.
	f := m01.expect(t, "UPDATE_CHANNEL_MEMBERSHIP")
	if f.str("SubChannelId") != b || f.str("ChannelArn") != ch {
		t.Errorf("UPDATE_CHANNEL_MEMBERSHIP payload %s", f.raw)
	}
	if arn, _ := wsMapStrs(f.Payload["Member"]); arn != m[0] {
		t.Errorf("UPDATE_CHANNEL_MEMBERSHIP names %s, want m01", arn)
	}
	f = m01.expect(t, "CREATE_CHANNEL_MEMBERSHIP")
	if f.str("SubChannelId") != b {
		t.Errorf("CREATE_CHANNEL_MEMBERSHIP payload %s", f.raw)
	}
	// Messages stay in their sub-channel: m02's in a reaches m02 and the
	// moderator, not m01; m01's in b reaches only m01.
	e.send(t, m[1], ch, "in a", elSub(a))
	e.send(t, m[0], ch, "in b", elSub(b))
	m01.expectMessage(t, "in b")
	m02.expectMessage(t, "in a")
	if f := modWS.expectMessage(t, "in a"); f.str("SubChannelId") != a {
		t.Errorf("message payload SubChannelId %q, want %q", f.str("SubChannelId"), a)
	}

	// The moderator joins b too, and gets b's messages as well.
	_, err = e.add(t, mod, ch, mod, aws.String(b))
	mustOK(t, err, "the moderator joins %s", b)
	modWS.expect(t, "CREATE_CHANNEL_MEMBERSHIP")
	m01.expect(t, "CREATE_CHANNEL_MEMBERSHIP")
	e.send(t, m[3], ch, "b again", elSub(b))
	modWS.expectMessage(t, "b again")
	m01.expectMessage(t, "b again")

	// SCALE_IN: m04 leaves b, which drops below 2 and merges into a
	// (2 + 1 <= 3); b is deleted with its messages.
	mustOK(t, e.leave(t, m[3], ch, m[3], nil), "m04 leaves")
	elWantCounts(t, "after SCALE_IN", e.counts(t, mod, ch), 3)
	if got := e.subOf(t, ch, m[0]); got != a {
		t.Errorf("m01 is in %s after SCALE_IN, want %s", got, a)
	}
	m01.expect(t, "DELETE_CHANNEL_MEMBERSHIP")
	if f := m01.expect(t, "UPDATE_CHANNEL_MEMBERSHIP"); f.str("SubChannelId") != a {
		t.Errorf("UPDATE_CHANNEL_MEMBERSHIP after SCALE_IN: %s", f.raw)
	}
	modWS.expect(t, "DELETE_CHANNEL_MEMBERSHIP") // m04's
	f = modWS.expect(t, "DELETE_CHANNEL_MEMBERSHIP")
	if f.Headers["x-amz-chime-event-reason"] != "subchannel_DELETED" || f.str("SubChannelId") != b {
		t.Errorf("the moderator's removal from the deleted sub-channel: %s", f.raw)
	}
	if arn, _ := wsMapStrs(f.Payload["Member"]); arn != mod {
		t.Errorf("subchannel_DELETED names %s, want the moderator", arn)
	}
	// m02 heard nothing of it: its next frame is the next message in a.
	e.send(t, m[2], ch, "a after", elSub(a))
	m02.expectMessage(t, "a after")
	m01.expectMessage(t, "a after")
	modWS.expectMessage(t, "a after")
	_, err = e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), SubChannelId: aws.String(b),
	})
	if msg := wantError(t, err, "ForbiddenException"); msg != "" && !strings.Contains(msg, "does not exist") {
		t.Errorf("listing a deleted sub-channel: %s", msg)
	}
	// The moderator is still in a, and only there.
	mo, err := e.msg.ListChannelMembershipsForAppInstanceUser(t.Context(), &chimesdkmessaging.ListChannelMembershipsForAppInstanceUserInput{
		ChimeBearer: aws.String(mod),
	})
	mustOK(t, err, "ListChannelMembershipsForAppInstanceUser")
	if len(mo.ChannelMemberships) != 1 {
		t.Errorf("the moderator's memberships: %+v", mo.ChannelMemberships)
	}

	// Fill the channel: 3 sub-channels of 3, then the next join is
	// refused.
	for _, u := range m[4:10] {
		e.join(t, mod, ch, u)
	}
	elWantCounts(t, "full", e.counts(t, mod, ch), 3, 3, 3)
	_, err = e.add(t, mod, ch, m[10], nil)
	if msg := wantError(t, err, "ResourceLimitExceededException"); msg != "" && !strings.Contains(msg, "MaximumSubChannels") {
		t.Errorf("ResourceLimitExceeded message %q", msg)
	}
	// A member already in is still a success, and moderators may still
	// join.
	if sub := e.join(t, mod, ch, m[4]); sub != e.subOf(t, ch, m[4]) {
		t.Errorf("joining again answered %s", sub)
	}
	for _, s := range e.subChannels(t, mod, ch) {
		_, err := e.add(t, mod, ch, mod, s.SubChannelId)
		mustOK(t, err, "the moderator joins %s", aws.ToString(s.SubChannelId))
	}
	elWantCounts(t, "moderators do not count", e.counts(t, mod, ch), 3, 3, 3)
	// Once someone leaves, the refused user gets in.
	mustOK(t, e.leave(t, mod, ch, m[9], nil), "removing m10")
	e.join(t, mod, ch, m[10])
	elWantCounts(t, "after a leave and a join", e.counts(t, mod, ch), 3, 3, 3)

	// The channel's own events reach every sub-channel's members, once
	// each: the moderator, in all three, gets UPDATE_CHANNEL once, then
	// DELETE_CHANNEL.
	conns := []*wsConn{e.connect(t, mod, "mod-2")}
	seen := map[string]bool{}
	for i, u := range m {
		if i == 3 || i == 9 { // m04 and m10 left
			continue
		}
		if sub := e.subOf(t, ch, u); !seen[sub] {
			seen[sub] = true
			conns = append(conns, e.connect(t, u, "last-"+sub))
		}
	}
	if len(conns) != 4 {
		t.Fatalf("members of %d sub-channels, want 3", len(conns)-1)
	}
	_, err = e.msg.UpdateChannel(t.Context(), &chimesdkmessaging.UpdateChannelInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), Name: aws.String("Renamed"), Mode: mtypes.ChannelModeRestricted,
	})
	mustOK(t, err, "UpdateChannel")
	_, err = e.msg.DeleteChannel(t.Context(), &chimesdkmessaging.DeleteChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod)})
	mustOK(t, err, "DeleteChannel")
	for _, c := range conns {
		if f := c.expect(t, "UPDATE_CHANNEL"); f.str("Name") != "Renamed" {
			t.Errorf("%s: UPDATE_CHANNEL %s", c.name, f.raw)
		}
		c.expect(t, "DELETE_CHANNEL")
	}
}

// wsMapStrs reads an {Arn, Name} object of a payload.
func wsMapStrs(v any) (arn, name string) {
	m, _ := v.(map[string]any)
	arn, _ = m["Arn"].(string)
	name, _ = m["Name"].(string)
	return arn, name
}

// TestElasticMessages: SubChannelId on SendChannelMessage,
// GetChannelMessage, ListChannelMessages, UpdateChannelMessage,
// RedactChannelMessage, DeleteChannelMessage and GetChannelMessageStatus;
// members act in their own sub-channel only, moderators read and redact
// in every one and send in those they joined.
func TestElasticMessages(t *testing.T) {
	t.Parallel()
	e := elNew(t)
	mod, carol, admin := e.user(t, "mod"), e.user(t, "carol"), e.admin(t, "admin")
	alice, bob, dan, erin := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "dan"), e.user(t, "erin")
	stranger, hid := e.user(t, "stranger"), e.user(t, "hid")
	// Sub-channels of 3; below 2 members one merges when it can.
	ch := e.elastic(t, mod, 4, 3, 40, carol)
	a := e.join(t, mod, ch, alice)
	e.join(t, mod, ch, bob)
	e.join(t, mod, ch, dan)
	aliceOld := e.send(t, alice, ch, "alice in a", elSub(a))
	b := e.join(t, mod, ch, erin) // SCALE_OUT: alice moves to b with erin
	if e.subOf(t, ch, alice) != b || e.subOf(t, ch, bob) != a || e.subOf(t, ch, dan) != a {
		t.Fatalf("alice in %s, bob in %s; want %s and %s", e.subOf(t, ch, alice), e.subOf(t, ch, bob), b, a)
	}
	_, err := e.add(t, mod, ch, mod, aws.String(a))
	mustOK(t, err, "the moderator joins a")
	ctx := t.Context()
	send := func(bearer string, sub *string, content string) (*chimesdkmessaging.SendChannelMessageOutput, error) {
		return e.msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), Content: aws.String(content), SubChannelId: sub,
			Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
		})
	}

	// SubChannelId is required, must exist, and must be the sender's.
	_, err = send(bob, nil, "nowhere")
	mxBadRequest(t, err, "SubChannelId")
	_, err = send(bob, aws.String("nope"), "nowhere")
	mxForbidden(t, err)
	_, err = send(bob, aws.String(b), "elsewhere")
	mxForbidden(t, err)
	_, err = send(carol, aws.String(a), "a moderator not in a")
	mxForbidden(t, err)
	_, err = send(stranger, aws.String(a), "a stranger")
	mxForbidden(t, err)
	out, err := send(bob, aws.String(a), "bob in a")
	mustOK(t, err, "bob sends in a")
	if aws.ToString(out.SubChannelId) != a {
		t.Errorf("SendChannelMessage answered SubChannelId %q", aws.ToString(out.SubChannelId))
	}
	bobMsg := aws.ToString(out.MessageId)
	out, err = send(mod, aws.String(a), "mod in a")
	mustOK(t, err, "the moderator sends in a, which it joined")
	modMsg := aws.ToString(out.MessageId)
	erinMsg := e.send(t, erin, ch, "erin in b", elSub(b))
	// A Target must be in the message's sub-channel.
	_, err = e.msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob), Content: aws.String("to alice"), SubChannelId: aws.String(a),
		Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypeNonPersistent,
		Target: []mtypes.Target{{MemberArn: aws.String(alice)}},
	})
	mxBadRequest(t, err, "not a member")
	e.send(t, bob, ch, "to dan", elSub(a), wsTarget(dan), func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Persistence = mtypes.ChannelMessagePersistenceTypeNonPersistent
	})

	// Reading: members read their own sub-channel; moderators and admins
	// every one; nobody without SubChannelId.
	list := func(bearer string, sub *string) ([]string, error) {
		out, err := e.msg.ListChannelMessages(ctx, &chimesdkmessaging.ListChannelMessagesInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), SubChannelId: sub, SortOrder: mtypes.SortOrderAscending,
		})
		if err != nil {
			return nil, err
		}
		if sub != nil && aws.ToString(out.SubChannelId) != *sub {
			t.Errorf("ListChannelMessages answered SubChannelId %q", aws.ToString(out.SubChannelId))
		}
		var contents []string
		for _, m := range out.ChannelMessages {
			contents = append(contents, aws.ToString(m.Content))
		}
		return contents, nil
	}
	for _, c := range []struct {
		bearer string
		sub    string
		want   []string
	}{
		{bob, a, []string{"alice in a", "bob in a", "mod in a"}},
		{alice, b, []string{"erin in b"}},
		{carol, a, []string{"alice in a", "bob in a", "mod in a"}},
		{carol, b, []string{"erin in b"}},
		{admin, b, []string{"erin in b"}},
	} {
		got, err := list(c.bearer, aws.String(c.sub))
		mustOK(t, err, "ListChannelMessages")
		if !slices.Equal(got, c.want) {
			t.Errorf("messages of %s: %v, want %v", c.sub, got, c.want)
		}
	}
	_, err = list(bob, aws.String(b))
	mxForbidden(t, err)
	_, err = list(stranger, aws.String(a))
	mxForbidden(t, err)
	_, err = list(mod, nil)
	mxBadRequest(t, err, "SubChannelId")

	get := func(bearer, id string, sub *string) (*mtypes.ChannelMessage, error) {
		out, err := e.msg.GetChannelMessage(ctx, &chimesdkmessaging.GetChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id), SubChannelId: sub,
		})
		if err != nil {
			return nil, err
		}
		return out.ChannelMessage, nil
	}
	got, err := get(bob, bobMsg, aws.String(a))
	mustOK(t, err, "GetChannelMessage")
	if aws.ToString(got.SubChannelId) != a || aws.ToString(got.Content) != "bob in a" {
		t.Errorf("GetChannelMessage: %+v", got)
	}
	_, err = get(bob, bobMsg, nil)
	mxBadRequest(t, err, "SubChannelId")
	_, err = get(bob, erinMsg, aws.String(b))
	mxForbidden(t, err)
	_, err = get(carol, erinMsg, aws.String(a)) // the wrong sub-channel
	wantError(t, err, "NotFoundException")
	_, err = get(carol, erinMsg, aws.String(b))
	mustOK(t, err, "a moderator reads b")

	// Editing and redacting: the sender in its current sub-channel;
	// moderators redact in any.
	update := func(bearer, id string, sub *string, content string) error {
		out, err := e.msg.UpdateChannelMessage(ctx, &chimesdkmessaging.UpdateChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id), SubChannelId: sub, Content: aws.String(content),
		})
		if err == nil && aws.ToString(out.SubChannelId) != aws.ToString(sub) {
			t.Errorf("UpdateChannelMessage answered SubChannelId %q", aws.ToString(out.SubChannelId))
		}
		return err
	}
	mustOK(t, update(bob, bobMsg, aws.String(a), "bob edited"), "bob edits in a")
	mxBadRequest(t, update(bob, bobMsg, nil, "x"), "SubChannelId")
	mxForbidden(t, update(bob, bobMsg, aws.String(b), "x"))
	redact := func(bearer, id string, sub *string) error {
		out, err := e.msg.RedactChannelMessage(ctx, &chimesdkmessaging.RedactChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id), SubChannelId: sub,
		})
		if err == nil && aws.ToString(out.SubChannelId) != aws.ToString(sub) {
			t.Errorf("RedactChannelMessage answered SubChannelId %q", aws.ToString(out.SubChannelId))
		}
		return err
	}
	mxForbidden(t, redact(alice, bobMsg, aws.String(a)))
	mxBadRequest(t, redact(carol, erinMsg, nil), "SubChannelId")
	mustOK(t, redact(carol, erinMsg, aws.String(b)), "a moderator redacts in b")
	got, err = get(erin, erinMsg, aws.String(b))
	mustOK(t, err, "GetChannelMessage")
	if !got.Redacted {
		t.Error("the message was not redacted")
	}

	// A member moved to another sub-channel can no longer edit what it
	// sent in the old one (DG: only in the sender's current sub-channel).
	mxForbidden(t, update(alice, aliceOld, aws.String(a), "x"))
	mxForbidden(t, update(alice, aliceOld, aws.String(b), "x"))
	mxForbidden(t, redact(alice, aliceOld, aws.String(a)))
	// erin leaves: b (1) merges into a (2), with its messages gone.
	aliceMsg := e.send(t, alice, ch, "alice in b", elSub(b))
	mustOK(t, e.leave(t, mod, ch, erin, nil), "removing erin")
	if e.subOf(t, ch, alice) != a {
		t.Fatalf("alice is in %s after the merge, want %s", e.subOf(t, ch, alice), a)
	}
	_, err = get(alice, aliceMsg, aws.String(b))
	if msg := wantError(t, err, "NotFoundException"); msg != "" && !strings.Contains(msg, "sub-channel") {
		t.Errorf("GetChannelMessage in a deleted sub-channel: %s", msg)
	}
	_, err = get(alice, aliceMsg, aws.String(a))
	wantError(t, err, "NotFoundException")
	// Back in a, alice edits what she sent there.
	mustOK(t, update(alice, aliceOld, aws.String(a), "alice edited"), "alice edits in a again")
	mustOK(t, update(mod, modMsg, aws.String(a), "mod edited"), "the moderator edits in a")

	// Status: SubChannelId required, the sender only.
	status := func(bearer, id string, sub *string) error {
		_, err := e.msg.GetChannelMessageStatus(ctx, &chimesdkmessaging.GetChannelMessageStatusInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id), SubChannelId: sub,
		})
		return err
	}
	mustOK(t, status(bob, bobMsg, aws.String(a)), "GetChannelMessageStatus")
	mxBadRequest(t, status(bob, bobMsg, nil), "SubChannelId")
	mxForbidden(t, status(alice, bobMsg, aws.String(a)))

	// DeleteChannelMessage (admins): SubChannelId optional, checked.
	del := func(id string, sub *string) error {
		_, err := e.msg.DeleteChannelMessage(ctx, &chimesdkmessaging.DeleteChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(admin), MessageId: aws.String(id), SubChannelId: sub,
		})
		return err
	}
	mxForbidden(t, del(bobMsg, aws.String("nope")))
	mustOK(t, del(bobMsg, aws.String(a)), "DeleteChannelMessage")
	mustOK(t, del(modMsg, nil), "DeleteChannelMessage without SubChannelId")

	// No sub-channels elsewhere, no read markers or HIDDEN members here.
	flat := e.channel(t, mod, "flat", alice)
	_, err = e.msg.ListChannelMessages(ctx, &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(flat), ChimeBearer: aws.String(alice), SubChannelId: aws.String(a),
	})
	mxBadRequest(t, err, "elastic")
	_, err = e.msg.UpdateChannelReadMarker(ctx, &chimesdkmessaging.UpdateChannelReadMarkerInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice),
	})
	mxBadRequest(t, err, "elastic")
	_, err = e.msg.CreateChannelMembership(ctx, &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArn: aws.String(hid), Type: mtypes.ChannelMembershipTypeHidden,
	})
	mxBadRequest(t, err, "HIDDEN")
}

// TestElasticMemberships: SubChannelId on CreateChannelMembership,
// BatchCreateChannelMembership, DeleteChannelMembership,
// DescribeChannelMembership and ListChannelMemberships; moderators in
// several sub-channels; promotion, demotion and bans.
func TestElasticMemberships(t *testing.T) {
	t.Parallel()
	e := elNew(t)
	mod, carol := e.user(t, "mod"), e.user(t, "carol")
	alice, bob, dan, erin, fay := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "dan"), e.user(t, "erin"), e.user(t, "fay")
	ch := e.elastic(t, mod, 5, 2, 40, carol)
	ctx := t.Context()
	a := aws.ToString(e.subChannels(t, mod, ch)[0].SubChannelId)

	// Moderators must name a sub-channel that exists; members must not
	// name one.
	_, err := e.add(t, mod, ch, carol, nil)
	mxBadRequest(t, err, "SubChannelId")
	_, err = e.add(t, mod, ch, carol, aws.String("nope"))
	wantError(t, err, "NotFoundException")
	_, err = e.add(t, mod, ch, alice, aws.String(a))
	mxBadRequest(t, err, "SubChannelId")

	// A batch places each member and announces each on its own.
	bout, err := e.msg.BatchCreateChannelMembership(ctx, &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArns: []string{alice, bob, dan},
	})
	mustOK(t, err, "BatchCreateChannelMembership")
	if len(bout.Errors) != 0 || len(bout.BatchChannelMemberships.Members) != 3 {
		t.Fatalf("BatchCreateChannelMembership: %+v", bout)
	}
	_, err = e.msg.BatchCreateChannelMembership(ctx, &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArns: []string{erin}, SubChannelId: aws.String(a),
	})
	mustOK(t, err, "BatchCreateChannelMembership with SubChannelId")
	var evs []carillon.Event
	mustOK(t, e.srv.Server.Store().View(ctx, func(tx carillon.Tx) (err error) {
		evs, err = tx.Events(0, 0)
		return err
	}), "reading the outbox")
	creates := 0
	for _, ev := range evs {
		if c, _ := carillon.AudienceChannel(ev.Channel); c != ch {
			continue
		}
		switch ev.Type {
		case messaging.EventBatchCreateChannelMembership:
			t.Errorf("a batch on an elastic channel announced %s", ev.Type)
		case messaging.EventCreateChannelMembership:
			creates++
		}
	}
	if creates != 3 {
		t.Errorf("%d CREATE_CHANNEL_MEMBERSHIP events for a batch of 3", creates)
	}
	// erin, no moderator, was refused in the batch.
	if sub := e.subOf(t, ch, alice); sub == "" {
		t.Error("alice has no sub-channel")
	}
	_, err = e.msg.DescribeChannelMembership(ctx, &chimesdkmessaging.DescribeChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArn: aws.String(erin),
	})
	wantError(t, err, "NotFoundException")

	// Target 2: the third join opened b and moved the first member by
	// ARN there with it; a keeps one.
	subs := e.subChannels(t, mod, ch)
	if len(subs) != 2 {
		t.Fatalf("sub-channels after 3 joins of target 2: %+v", subs)
	}
	b := aws.ToString(subs[1].SubChannelId)
	if b == a {
		b = aws.ToString(subs[0].SubChannelId)
	}
	inA := func(u string) bool { return e.subOf(t, ch, u) == a }
	var memberOfA, memberOfB string
	for _, u := range []string{alice, bob, dan} {
		if inA(u) {
			memberOfA = u
		} else {
			memberOfB = u
		}
	}

	// carol joins both sub-channels; the batch response names the
	// sub-channel for moderators.
	bout, err = e.msg.BatchCreateChannelMembership(ctx, &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArns: []string{carol}, SubChannelId: aws.String(a),
	})
	mustOK(t, err, "carol joins a in a batch")
	if len(bout.Errors) != 0 || aws.ToString(bout.BatchChannelMemberships.SubChannelId) != a {
		t.Errorf("BatchCreateChannelMembership for a moderator: %+v %+v", bout.BatchChannelMemberships, bout.Errors)
	}
	out, err := e.add(t, carol, ch, carol, aws.String(b))
	mustOK(t, err, "carol joins b")
	if aws.ToString(out.SubChannelId) != b {
		t.Errorf("carol's CreateChannelMembership answered %q", aws.ToString(out.SubChannelId))
	}
	_, err = e.add(t, carol, ch, carol, aws.String(b))
	mustOK(t, err, "carol joins b again")
	elWantCounts(t, "moderators do not count", e.counts(t, mod, ch), 1, 2)

	describe := func(bearer, member string, sub *string) (*mtypes.ChannelMembership, error) {
		out, err := e.msg.DescribeChannelMembership(ctx, &chimesdkmessaging.DescribeChannelMembershipInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member), SubChannelId: sub,
		})
		if err != nil {
			return nil, err
		}
		return out.ChannelMembership, nil
	}
	m, err := describe(memberOfA, carol, aws.String(b))
	mustOK(t, err, "DescribeChannelMembership of carol in b")
	if aws.ToString(m.SubChannelId) != b || aws.ToString(m.Member.Arn) != carol {
		t.Errorf("carol's membership of b: %+v", m)
	}
	m, err = describe(mod, memberOfA, aws.String(a))
	mustOK(t, err, "DescribeChannelMembership in a")
	if aws.ToString(m.SubChannelId) != a {
		t.Errorf("membership of a: %+v", m)
	}
	_, err = describe(mod, memberOfA, aws.String(b))
	wantError(t, err, "NotFoundException")
	_, err = describe(mod, memberOfA, aws.String("nope"))
	wantError(t, err, "NotFoundException")

	listMembers := func(bearer string, sub *string) ([]string, error) {
		out, err := e.msg.ListChannelMemberships(ctx, &chimesdkmessaging.ListChannelMembershipsInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), SubChannelId: sub,
		})
		if err != nil {
			return nil, err
		}
		var arns []string
		for _, m := range out.ChannelMemberships {
			arns = append(arns, aws.ToString(m.Member.Arn))
		}
		return arns, nil
	}
	got, err := listMembers(memberOfA, aws.String(a))
	mustOK(t, err, "ListChannelMemberships of a")
	if want := sortedCopy(memberOfA, carol); !slices.Equal(got, want) {
		t.Errorf("members of a: %v, want %v", got, want)
	}
	_, err = listMembers(memberOfA, aws.String(b))
	mxForbidden(t, err)
	_, err = listMembers(memberOfA, nil)
	mxForbidden(t, err)
	got, err = listMembers(mod, nil)
	mustOK(t, err, "ListChannelMemberships of the whole channel")
	if want := sortedCopy(alice, bob, dan, carol); !slices.Equal(got, want) {
		t.Errorf("members of the channel: %v, want %v", got, want)
	}

	// Members leave without naming a sub-channel; a moderator leaves one
	// or, without SubChannelId, all.
	mxBadRequest(t, e.leave(t, memberOfB, ch, memberOfB, aws.String(b)), "SubChannelId")
	mustOK(t, e.leave(t, carol, ch, carol, aws.String(b)), "carol leaves b")
	if _, err := describe(mod, carol, aws.String(b)); err == nil {
		t.Error("carol is still in b")
	}
	_, err = describe(mod, carol, aws.String(a))
	mustOK(t, err, "carol is still in a")
	mxForbidden(t, e.leave(t, carol, ch, carol, aws.String(b)))
	_, err = e.add(t, carol, ch, carol, aws.String(b))
	mustOK(t, err, "carol joins b again")
	mustOK(t, e.leave(t, mod, ch, carol, nil), "carol is removed from every sub-channel")
	for _, sub := range []string{a, b} {
		if _, err := describe(mod, carol, aws.String(sub)); err == nil {
			t.Errorf("carol is still in %s", sub)
		}
	}
	if _, err := describe(mod, carol, nil); err == nil {
		t.Error("carol is still a member of the channel")
	}

	// Promoting a member removes its membership; demoting a moderator
	// takes it out of its sub-channels.
	_, err = e.msg.CreateChannelModerator(ctx, &chimesdkmessaging.CreateChannelModeratorInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), ChannelModeratorArn: aws.String(memberOfB),
	})
	mustOK(t, err, "promoting the member of b")
	if _, err := describe(mod, memberOfB, nil); err == nil {
		t.Error("a promoted member keeps its membership")
	}
	// b keeps one member, the minimum (ceil(40% of 2) = 1): no merge.
	elWantCounts(t, "after the promotion", e.counts(t, mod, ch), 1, 1)
	_, err = e.add(t, mod, ch, memberOfB, aws.String(a))
	mustOK(t, err, "the new moderator joins a")
	_, err = e.msg.DeleteChannelModerator(ctx, &chimesdkmessaging.DeleteChannelModeratorInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), ChannelModeratorArn: aws.String(memberOfB),
	})
	mustOK(t, err, "demoting it")
	if _, err := describe(mod, memberOfB, nil); err == nil {
		t.Error("a demoted moderator keeps its membership")
	}

	// A ban removes the member; a, emptied, merges into b.
	_, err = e.msg.CreateChannelBan(ctx, &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MemberArn: aws.String(memberOfA),
	})
	mustOK(t, err, "CreateChannelBan")
	elWantCounts(t, "after the ban", e.counts(t, mod, ch), 1)
	_, err = e.add(t, mod, ch, memberOfA, nil)
	mxForbidden(t, err)

	// ListChannelMembershipsForAppInstanceUser shows the sub-channel.
	e.join(t, mod, ch, fay)
	lo, err := e.msg.ListChannelMembershipsForAppInstanceUser(ctx, &chimesdkmessaging.ListChannelMembershipsForAppInstanceUserInput{
		ChimeBearer: aws.String(fay),
	})
	mustOK(t, err, "ListChannelMembershipsForAppInstanceUser")
	if len(lo.ChannelMemberships) != 1 || aws.ToString(lo.ChannelMemberships[0].AppInstanceUserMembershipSummary.SubChannelId) != e.subOf(t, ch, fay) {
		t.Errorf("fay's memberships: %+v", lo.ChannelMemberships)
	}
}

// TestElasticListSubChannels: for moderators and AppInstanceAdmins only,
// of elastic channels only; paged.
func TestElasticListSubChannels(t *testing.T) {
	t.Parallel()
	e := elNew(t)
	mod, admin, member, other := e.user(t, "mod"), e.admin(t, "admin"), e.user(t, "member"), e.user(t, "other")
	ch := e.elastic(t, mod, 10, 2, 40)
	var users []string
	for _, id := range []string{"u1", "u2", "u3", "u4", "u5"} {
		users = append(users, e.user(t, id))
	}
	e.join(t, mod, ch, member)
	for _, u := range users {
		e.join(t, mod, ch, u)
	}
	// 6 members, target 2: 2, 2, 2 (or 2, 2, 1, 1 merged back: none
	// below the minimum of 1 merges).
	subs := e.subChannels(t, admin, ch)
	total := int32(0)
	for _, s := range subs {
		total += aws.ToInt32(s.MembershipCount)
		if aws.ToInt32(s.MembershipCount) > 2 {
			t.Errorf("sub-channel %s has %d members", aws.ToString(s.SubChannelId), aws.ToInt32(s.MembershipCount))
		}
	}
	if total != 6 || len(subs) < 3 {
		t.Errorf("sub-channels: %+v", subs)
	}
	if !slices.IsSortedFunc(subs, func(x, y mtypes.SubChannelSummary) int {
		return strings.Compare(aws.ToString(x.SubChannelId), aws.ToString(y.SubChannelId))
	}) {
		t.Errorf("sub-channels out of ID order: %+v", subs)
	}
	if got := e.subChannels(t, mod, ch); len(got) != len(subs) {
		t.Errorf("the moderator lists %d sub-channels, the admin %d", len(got), len(subs))
	}
	for _, bearer := range []string{member, other} {
		_, err := e.msg.ListSubChannels(t.Context(), &chimesdkmessaging.ListSubChannelsInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer),
		})
		mxForbidden(t, err)
	}
	// A per-user key acts as its user only.
	_, err := e.as(t, member).ListSubChannels(t.Context(), &chimesdkmessaging.ListSubChannelsInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(member),
	})
	mxForbidden(t, err)
	out, err := e.as(t, mod).ListSubChannels(t.Context(), &chimesdkmessaging.ListSubChannelsInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(mod), MaxResults: aws.Int32(2),
	})
	mustOK(t, err, "ListSubChannels with the moderator's key")
	if len(out.SubChannels) != 2 || out.NextToken == nil {
		t.Errorf("a page of 2: %+v", out)
	}
	flat := e.channel(t, mod, "flat")
	_, err = e.msg.ListSubChannels(t.Context(), &chimesdkmessaging.ListSubChannelsInput{
		ChannelArn: aws.String(flat), ChimeBearer: aws.String(mod),
	})
	mxBadRequest(t, err, "not elastic")
}

// as returns a messaging client whose key acts only as bearer.
func (e *elEnv) as(t *testing.T, bearer string) *chimesdkmessaging.Client {
	t.Helper()
	return chimesdkmessaging.NewFromConfig(e.srv.UserConfig(t, bearer))
}

// TestElasticPrefetch: a member's CHANNEL_DETAILS shows its sub-channel's
// messages and members.
func TestElasticPrefetch(t *testing.T) {
	t.Parallel()
	e := elNew(t)
	mod, alice, bob, dan := e.user(t, "mod"), e.user(t, "alice"), e.user(t, "bob"), e.user(t, "dan")
	ch := e.elastic(t, mod, 4, 2, 40)
	e.join(t, mod, ch, alice)
	e.join(t, mod, ch, bob)
	b := e.join(t, mod, ch, dan) // alice moves to b
	a := e.subOf(t, ch, bob)
	e.send(t, bob, ch, "in a", elSub(a))
	e.send(t, dan, ch, "in b", elSub(b))
	c := e.wsDial(t, "alice", e.srv.ConnectURL(t, e.srv.Config, alice, "p", url.Values{"prefetch-on": {"connect"}}))
	c.expect(t, "SESSION_ESTABLISHED")
	f := c.expect(t, "CHANNEL_DETAILS")
	msgs, _ := f.Payload["ChannelMessages"].([]any)
	members, _ := f.Payload["ChannelMemberships"].([]any)
	var contents, arns []string
	for _, m := range msgs {
		contents = append(contents, wsMapStr(m, "Content"))
	}
	for _, m := range members {
		arn, _ := wsMapStrs(m.(map[string]any)["Member"])
		arns = append(arns, arn)
	}
	if !slices.Equal(contents, []string{"in b"}) || !slices.Equal(arns, sortedCopy(alice, dan)) {
		t.Errorf("alice's CHANNEL_DETAILS: messages %v, members %v", contents, arns)
	}
}

// TestElasticDeletedMember deletes, with DeleteAppInstanceUser, a member
// whose departure leaves its sub-channel under-populated: the sub-channel
// is merged at once, as when a member leaves, not when the next one does.
// The deletion itself is silent, as it is in any channel; the merge is
// told to the member it moves.
func TestElasticDeletedMember(t *testing.T) {
	t.Parallel()
	e := elNew(t)
	mod := e.user(t, "mod")
	var m []string
	for _, id := range []string{"m1", "m2", "m3", "m4"} {
		m = append(m, e.user(t, id))
	}
	ch := e.elastic(t, mod, 3, 3, 40) // sub-channels of 3, merged below 2
	for _, u := range m {
		e.join(t, mod, ch, u)
	}
	elWantCounts(t, "after SCALE_OUT", e.counts(t, mod, ch), 2, 2)

	// Delete the member of m1's sub-channel that is not m1, from the
	// AppInstance: m1 is left alone there and moves into the other one.
	sub := e.subOf(t, ch, m[0])
	var gone string
	for _, u := range m[1:] {
		if e.subOf(t, ch, u) == sub {
			gone = u
		}
	}
	if gone == "" {
		t.Fatalf("m1 is alone in %s after SCALE_OUT", sub)
	}
	ws := e.connect(t, m[0], "m1")
	_, err := e.id.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: aws.String(gone)})
	mustOK(t, err, "DeleteAppInstanceUser")
	elWantCounts(t, "after the deletion", e.counts(t, mod, ch), 3)
	to := e.subOf(t, ch, m[0])
	if to == sub {
		t.Errorf("m1 is still in %s, which should have merged", sub)
	}
	if f := ws.expect(t, "UPDATE_CHANNEL_MEMBERSHIP"); f.str("SubChannelId") != to {
		t.Errorf("UPDATE_CHANNEL_MEMBERSHIP after the merge: %s", f.raw)
	}
}
