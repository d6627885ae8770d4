package e2e

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
)

var mmMessageID = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestMessagingSendChannelMessage(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "bob")
	alice, bob := u[0], u[1]
	ch := e.newChannel(t, alice, mmChannelOpts{members: []string{bob}})

	// A persistent STANDARD message with everything, sent with a key of
	// alice's own.
	asAlice := chimesdkmessaging.NewFromConfig(e.srv.UserConfig(t, alice))
	in := mmMessage(alice, ch, "héllo")
	in.Metadata = aws.String(`{"k":1}`)
	in.ContentType = aws.String("text/markdown")
	in.MessageAttributes = map[string]mtypes.MessageAttributeValue{"mention": {StringValues: []string{bob}}}
	in.PushNotification = &mtypes.PushNotificationConfiguration{Title: aws.String("Alice"), Body: aws.String("héllo"), Type: mtypes.PushNotificationTypeDefault}
	var out *chimesdkmessaging.SendChannelMessageOutput
	ev := e.oneEvent(t, "CREATE_CHANNEL_MESSAGE", func() {
		var err error
		out, err = asAlice.SendChannelMessage(t.Context(), in)
		mustOK(t, err, "SendChannelMessage")
	})
	id := aws.ToString(out.MessageId)
	if aws.ToString(out.ChannelArn) != ch || !mmMessageID.MatchString(id) || out.Status == nil ||
		out.Status.Value != mtypes.ChannelMessageStatusSent || out.SubChannelId != nil {
		t.Errorf("SendChannelMessage answered %+v", out)
	}

	// The event: to the members, typed STANDARD, the message as payload.
	mmAudience(t, ev, true)
	if ev.MessageType != "STANDARD" || ev.Channel != ch || ev.Member != "" || ev.MemberChange != 0 {
		t.Errorf("event MessageType %q Channel %q Member %q", ev.MessageType, ev.Channel, ev.Member)
	}
	p := eventPayload(t, ev, "CreatedTimestamp", "LastUpdatedTimestamp")
	for k, want := range map[string]any{
		"ChannelArn": ch, "MessageId": id, "Content": "héllo", "Metadata": `{"k":1}`, "Type": "STANDARD",
		"Persistence": "PERSISTENT", "Redacted": false, "ContentType": "text/markdown",
	} {
		if p[k] != want {
			t.Errorf("payload %s = %v, want %v", k, p[k], want)
		}
	}
	if mmArn(p, "Sender") != alice || p["Sender"].(map[string]any)["Name"] != "User alice" {
		t.Errorf("payload Sender %v", p["Sender"])
	}
	if st, _ := p["Status"].(map[string]any); st["Value"] != "SENT" {
		t.Errorf("payload Status %v", p["Status"])
	}
	if attrs, _ := p["MessageAttributes"].(map[string]any); attrs["mention"] == nil {
		t.Errorf("payload MessageAttributes %v", p["MessageAttributes"])
	}
	if _, ok := p["LastEditedTimestamp"]; ok {
		t.Errorf("payload has a LastEditedTimestamp: %s", ev.Payload)
	}

	// Stored as sent, readable by the other member.
	m := e.get(t, bob, ch, id)
	if aws.ToString(m.Content) != "héllo" || aws.ToString(m.Metadata) != `{"k":1}` || aws.ToString(m.ContentType) != "text/markdown" ||
		m.Type != mtypes.ChannelMessageTypeStandard || m.Persistence != mtypes.ChannelMessagePersistenceTypePersistent ||
		m.Redacted || m.Status == nil || m.Status.Value != mtypes.ChannelMessageStatusSent ||
		aws.ToString(m.Sender.Arn) != alice || aws.ToString(m.Sender.Name) != "User alice" ||
		!slices.Equal(m.MessageAttributes["mention"].StringValues, []string{bob}) || m.LastEditedTimestamp != nil || m.Target != nil {
		t.Errorf("GetChannelMessage %+v", m)
	}
	e.wantRecent(t, "CreatedTimestamp", m.CreatedTimestamp)
	e.wantRecent(t, "LastUpdatedTimestamp", m.LastUpdatedTimestamp)
	// The channel's last message time moves with persistent messages.
	dc, err := e.msg.DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob)})
	mustOK(t, err, "DescribeChannel")
	if lm := dc.Channel.LastMessageTimestamp; lm == nil || !lm.Equal(*m.CreatedTimestamp) {
		t.Errorf("LastMessageTimestamp %v, want %v", lm, m.CreatedTimestamp)
	}

	// The sender's name is the one it had when it sent.
	_, err = e.id.UpdateAppInstanceUser(t.Context(), &chimesdkidentity.UpdateAppInstanceUserInput{
		AppInstanceUserArn: aws.String(alice), Name: aws.String("Alice Renamed"), Metadata: aws.String(""),
	})
	mustOK(t, err, "UpdateAppInstanceUser")
	if m := e.get(t, bob, ch, id); aws.ToString(m.Sender.Name) != "User alice" {
		t.Errorf("sender name %q after a rename, want the name at send time", aws.ToString(m.Sender.Name))
	}

	// CONTROL messages: the event's message type says so; content as
	// long as the limit, in bytes.
	ev = e.oneEvent(t, "CREATE_CHANNEL_MESSAGE", func() {
		e.send(t, bob, ch, strings.Repeat("é", 15), func(in *chimesdkmessaging.SendChannelMessageInput) { in.Type = mtypes.ChannelMessageTypeControl })
	})
	if ev.MessageType != "CONTROL" {
		t.Errorf("CONTROL message event MessageType %q", ev.MessageType)
	}
	// STANDARD content up to 4096 bytes and metadata up to 1024.
	e.send(t, bob, ch, strings.Repeat("x", 4096), func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Metadata = aws.String(strings.Repeat("é", 512))
	})
	// A message may target its sender.
	e.send(t, bob, ch, "note to self", mmTarget(bob))
}

func TestMessagingSendNonPersistentMessage(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "bob")
	alice, bob := u[0], u[1]
	ch := e.newChannel(t, alice, mmChannelOpts{members: []string{bob}})
	var id string
	ev := e.oneEvent(t, "CREATE_CHANNEL_MESSAGE", func() {
		id = e.send(t, alice, ch, "typing", func(in *chimesdkmessaging.SendChannelMessageInput) {
			in.Persistence = mtypes.ChannelMessagePersistenceTypeNonPersistent
		})
	})
	mmAudience(t, ev, true)
	if p := eventPayload(t, ev, "CreatedTimestamp"); p["MessageId"] != id || p["Persistence"] != "NON_PERSISTENT" || p["Content"] != "typing" {
		t.Errorf("payload %s", ev.Payload)
	}
	// Never stored: not found, not listed, no last message time.
	_, err := e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob), MessageId: aws.String(id),
	})
	mmNotFound(t, err, "does not exist")
	if ids := e.listIDs(t, bob, ch); len(ids) != 0 {
		t.Errorf("listed %v", ids)
	}
	dc, err := e.msg.DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob)})
	mustOK(t, err, "DescribeChannel")
	if dc.Channel.LastMessageTimestamp != nil {
		t.Errorf("LastMessageTimestamp %v after a NON_PERSISTENT message", dc.Channel.LastMessageTimestamp)
	}
}

func TestMessagingSendChannelMessageIdempotency(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "bob")
	alice, bob := u[0], u[1]
	ch := e.newChannel(t, alice, mmChannelOpts{members: []string{bob}})
	other := e.newChannel(t, alice, mmChannelOpts{})
	token := func(in *chimesdkmessaging.SendChannelMessageInput) { in.ClientRequestToken = aws.String("token-1") }

	first := e.send(t, alice, ch, "once", token)
	// A retry: the same id, and nothing sent again.
	e.noEvent(t, "a retry", func() {
		if again := e.send(t, alice, ch, "once", token); again != first {
			t.Errorf("retry answered %s, want %s", again, first)
		}
	})
	if ids := e.listIDs(t, alice, ch); !slices.Equal(ids, []string{first}) {
		t.Errorf("messages %v after a retry, want [%s]", ids, first)
	}
	// The token with another request: Conflict.
	in := mmMessage(alice, ch, "twice")
	token(in)
	_, err := e.msg.SendChannelMessage(t.Context(), in)
	wantErrorContaining(t, err, "ConflictException", "token-1")
	// Tokens are the bearer's, per channel.
	if id := e.send(t, bob, ch, "once", token); id == first {
		t.Errorf("another bearer's token answered the first message")
	}
	if id := e.send(t, alice, other, "once", token); id == first {
		t.Errorf("the token in another channel answered the first message")
	}
	// Without a token of its own, the SDK makes one for each call.
	if a, b := e.send(t, alice, ch, "same"), e.send(t, alice, ch, "same"); a == b {
		t.Errorf("two sends without a token share the id %s", a)
	}
}

func TestMessagingSendChannelMessageErrors(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "bob", "hidden", "mod", "stranger", "banned")
	alice, bob, hidden, mod, stranger, banned := u[0], u[1], u[2], u[3], u[4], u[5]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, alice, mmChannelOpts{members: []string{bob, banned}, moderators: []string{mod}})
	e.join(t, alice, ch, hidden, mmHidden)
	_, err := e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(banned),
	})
	mustOK(t, err, "CreateChannelBan")
	private := e.newChannel(t, alice, mmChannelOpts{private: true})
	send := func(bearer, ch string, opts ...func(*chimesdkmessaging.SendChannelMessageInput)) error {
		in := mmMessage(bearer, ch, "hi")
		for _, o := range opts {
			o(in)
		}
		_, err := e.msg.SendChannelMessage(t.Context(), in, skipMessagingValidation)
		return err
	}

	// Only DEFAULT members send: not strangers, HIDDEN members, the
	// banned, or admins and moderators without a membership of their own.
	mmForbidden(t, send(stranger, ch), "must be a member")
	mmForbidden(t, send(hidden, ch), "HIDDEN")
	mmForbidden(t, send(admin, ch), "must be a member")
	mmForbidden(t, send(mod, ch), "must be a member")
	mmForbidden(t, send(banned, ch), "banned")
	mmForbidden(t, send(stranger, private), "does not exist")
	mmForbidden(t, send(alice, ch+"x"), "does not exist")

	// Sizes, in bytes.
	content := func(s string) func(*chimesdkmessaging.SendChannelMessageInput) {
		return func(in *chimesdkmessaging.SendChannelMessageInput) { in.Content = aws.String(s) }
	}
	control := func(in *chimesdkmessaging.SendChannelMessageInput) { in.Type = mtypes.ChannelMessageTypeControl }
	mmBadRequest(t, send(alice, ch, content(strings.Repeat("x", 4097))), "4097 bytes")
	mmBadRequest(t, send(alice, ch, content(strings.Repeat("é", 2049))), "4098 bytes")
	mmBadRequest(t, send(alice, ch, func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Metadata = aws.String(strings.Repeat("é", 513))
	}), "Metadata is 1026 bytes")
	mmBadRequest(t, send(alice, ch, control, content(strings.Repeat("x", 31))), "CONTROL")
	mmBadRequest(t, send(alice, ch, control, func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Metadata = aws.String("m")
	}), "cannot have Metadata")
	mmBadRequest(t, send(alice, ch, func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.MessageAttributes = map[string]mtypes.MessageAttributeValue{
			"a": {StringValues: []string{strings.Repeat("v", 512), strings.Repeat("w", 500)}},
			"b": {StringValues: []string{strings.Repeat("v", 12)}},
		}
	}), "MessageAttributes are 1026 bytes")
	mmBadRequest(t, send(alice, ch, content("")), "Content")

	// The target must be a member (the model allows one).
	mmBadRequest(t, send(alice, ch, mmTarget(stranger)), "not a member")
	mmBadRequest(t, send(alice, ch, func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Target = []mtypes.Target{{MemberArn: aws.String(bob)}, {MemberArn: aws.String(alice)}}
	}), "Target")

	// No sub-channels outside elastic channels; in an elastic channel a
	// message goes to a sub-channel, which must be named.
	mmBadRequest(t, send(alice, ch, func(in *chimesdkmessaging.SendChannelMessageInput) { in.SubChannelId = aws.String("s") }), "SubChannelId")
	mmBadRequest(t, send(alice, e.elasticChannel(t, alice)), "SubChannelId is required")

	if ids := e.listIDs(t, alice, ch); len(ids) != 0 {
		t.Errorf("refused messages were stored: %v", ids)
	}
}

func TestMessagingTargetedMessages(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "bob", "carol")
	alice, bob, carol := u[0], u[1], u[2]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, alice, mmChannelOpts{members: []string{bob, carol, admin}})
	public := e.send(t, carol, ch, "for everyone")

	// Sent to bob: the event goes to sender and target only.
	var id string
	ev := e.oneEvent(t, "CREATE_CHANNEL_MESSAGE", func() { id = e.send(t, bob, ch, "psst", mmTarget(carol)) })
	mmAudience(t, ev, false, bob, carol)
	p := eventPayload(t, ev)
	if tg, _ := p["Target"].([]any); len(tg) != 1 || tg[0].(map[string]any)["MemberArn"] != carol {
		t.Errorf("payload Target %v", p["Target"])
	}

	// Sender and target see it; nobody else, not even admins or the
	// channel's moderator.
	for _, who := range []string{bob, carol} {
		if m := e.get(t, who, ch, id); len(m.Target) != 1 || aws.ToString(m.Target[0].MemberArn) != carol {
			t.Errorf("%s sees Target %+v", who, m.Target)
		}
		if ids := e.listIDs(t, who, ch); !slices.Equal(ids, []string{id, public}) {
			t.Errorf("%s lists %v", who, ids)
		}
	}
	for _, who := range []string{alice, admin} {
		_, err := e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(who), MessageId: aws.String(id),
		})
		mmNotFound(t, err, "does not exist")
		if ids := e.listIDs(t, who, ch); !slices.Equal(ids, []string{public}) {
			t.Errorf("%s lists %v", who, ids)
		}
	}
	// Only they act on it: the moderator cannot redact it...
	_, err := e.msg.RedactChannelMessage(t.Context(), &chimesdkmessaging.RedactChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MessageId: aws.String(id),
	})
	mmForbidden(t, err, "does not exist")
	// ...the sender edits it, for the two of them...
	ev = e.oneEvent(t, "UPDATE_CHANNEL_MESSAGE", func() {
		_, err := e.msg.UpdateChannelMessage(t.Context(), &chimesdkmessaging.UpdateChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob), MessageId: aws.String(id), Content: aws.String("psst!"),
		})
		mustOK(t, err, "UpdateChannelMessage")
	})
	mmAudience(t, ev, false, bob, carol)
	// ...but an admin may delete it, and only they hear of it.
	ev = e.oneEvent(t, "DELETE_CHANNEL_MESSAGE", func() {
		_, err := e.msg.DeleteChannelMessage(t.Context(), &chimesdkmessaging.DeleteChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(admin), MessageId: aws.String(id),
		})
		mustOK(t, err, "DeleteChannelMessage")
	})
	mmAudience(t, ev, false, bob, carol)
	if ids := e.listIDs(t, bob, ch); !slices.Equal(ids, []string{public}) {
		t.Errorf("bob lists %v after the delete", ids)
	}
}

func TestMessagingGetChannelMessage(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "stranger")
	alice, stranger := u[0], u[1]
	ch := e.newChannel(t, alice, mmChannelOpts{})
	private := e.newChannel(t, alice, mmChannelOpts{private: true})
	id := e.send(t, alice, ch, "public")
	secret := e.send(t, alice, private, "private")
	get := func(bearer, ch, id string, sub *string) error {
		_, err := e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id), SubChannelId: sub,
		})
		return err
	}
	// Non-members read PUBLIC channels, not PRIVATE ones.
	if m := e.get(t, stranger, ch, id); aws.ToString(m.Content) != "public" || aws.ToString(m.ChannelArn) != ch || aws.ToString(m.MessageId) != id {
		t.Errorf("stranger reads %+v", m)
	}
	mmForbidden(t, get(stranger, private, secret, nil), "does not exist")
	mmNotFound(t, get(alice, ch, "0123", nil), "does not exist")
	mmNotFound(t, get(alice, ch, secret, nil), "does not exist")
	mmBadRequest(t, get(alice, ch, id, aws.String("s")), "SubChannelId")
}

func TestMessagingListChannelMessages(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "stranger")
	alice, stranger := u[0], u[1]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, alice, mmChannelOpts{})

	// Five messages a second apart, then two in the same millisecond
	// order by when they were sent.
	var ids []string
	var times []time.Time
	for i := range 5 {
		id := e.send(t, alice, ch, "m"+string(rune('0'+i)))
		ids = append(ids, id)
		times = append(times, *e.get(t, alice, ch, id).CreatedTimestamp)
		e.clock.Advance(time.Second)
	}
	list := func(bearer string, mod func(*chimesdkmessaging.ListChannelMessagesInput)) (*chimesdkmessaging.ListChannelMessagesOutput, error) {
		in := &chimesdkmessaging.ListChannelMessagesInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer)}
		if mod != nil {
			mod(in)
		}
		return e.msg.ListChannelMessages(t.Context(), in)
	}
	idsOf := func(out *chimesdkmessaging.ListChannelMessagesOutput) []string {
		var got []string
		for _, m := range out.ChannelMessages {
			got = append(got, aws.ToString(m.MessageId))
		}
		return got
	}
	reversed := slices.Clone(ids)
	slices.Reverse(reversed)

	// Newest first by default; anyone may read a PUBLIC channel.
	out, err := list(stranger, nil)
	mustOK(t, err, "ListChannelMessages")
	if got := idsOf(out); !slices.Equal(got, reversed) || out.NextToken != nil || aws.ToString(out.ChannelArn) != ch || out.SubChannelId != nil {
		t.Errorf("default order %v (next %v), want %v", got, out.NextToken, reversed)
	}
	first := out.ChannelMessages[4]
	if aws.ToString(first.Content) != "m0" || aws.ToString(first.Sender.Arn) != alice || first.Type != mtypes.ChannelMessageTypeStandard ||
		first.Status == nil || first.Status.Value != mtypes.ChannelMessageStatusSent || first.CreatedTimestamp == nil || !first.CreatedTimestamp.Equal(times[0]) {
		t.Errorf("summary %+v", first)
	}
	out, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) { in.SortOrder = mtypes.SortOrderAscending })
	mustOK(t, err, "ListChannelMessages ASCENDING")
	if got := idsOf(out); !slices.Equal(got, ids) {
		t.Errorf("ASCENDING %v, want %v", got, ids)
	}

	// The time bounds are inclusive.
	out, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) {
		in.NotBefore, in.NotAfter = aws.Time(times[1]), aws.Time(times[3])
	})
	mustOK(t, err, "ListChannelMessages between")
	if got, want := idsOf(out), []string{ids[3], ids[2], ids[1]}; !slices.Equal(got, want) {
		t.Errorf("between %v and %v: %v, want %v", times[1], times[3], got, want)
	}
	out, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) {
		in.NotBefore, in.SortOrder = aws.Time(times[4].Add(time.Millisecond)), mtypes.SortOrderAscending
	})
	mustOK(t, err, "ListChannelMessages after the last")
	if len(out.ChannelMessages) != 0 {
		t.Errorf("after the last message: %v", idsOf(out))
	}

	// Pages of two, in both orders.
	for _, order := range []mtypes.SortOrder{mtypes.SortOrderDescending, mtypes.SortOrderAscending} {
		var got []string
		p := chimesdkmessaging.NewListChannelMessagesPaginator(e.msg, &chimesdkmessaging.ListChannelMessagesInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), SortOrder: order, MaxResults: aws.Int32(2),
		})
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(t.Context())
			mustOK(t, err, "page")
			got = append(got, idsOf(page)...)
			pages++
		}
		want := ids
		if order == mtypes.SortOrderDescending {
			want = reversed
		}
		if !slices.Equal(got, want) || pages != 3 {
			t.Errorf("%s in pages of 2: %v in %d pages, want %v in 3", order, got, pages, want)
		}
	}

	// Redacted messages stay, blank; deleted ones go.
	_, err = e.msg.RedactChannelMessage(t.Context(), &chimesdkmessaging.RedactChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MessageId: aws.String(ids[1]),
	})
	mustOK(t, err, "RedactChannelMessage")
	_, err = e.msg.DeleteChannelMessage(t.Context(), &chimesdkmessaging.DeleteChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(admin), MessageId: aws.String(ids[2]),
	})
	mustOK(t, err, "DeleteChannelMessage")
	out, err = list(alice, nil)
	mustOK(t, err, "ListChannelMessages")
	if got, want := idsOf(out), []string{ids[4], ids[3], ids[1], ids[0]}; !slices.Equal(got, want) {
		t.Errorf("after redact and delete: %v, want %v", got, want)
	}
	if r := out.ChannelMessages[2]; !r.Redacted || r.Content == nil || aws.ToString(r.Content) != "" {
		t.Errorf("redacted summary %+v", r)
	}

	// Errors: a token of the other order or of nothing, bounds the wrong
	// way round, a PRIVATE channel, a sub-channel.
	out, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) { in.MaxResults = aws.Int32(1) })
	mustOK(t, err, "ListChannelMessages")
	_, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) {
		in.NextToken, in.SortOrder = out.NextToken, mtypes.SortOrderAscending
	})
	mmBadRequest(t, err, "NextToken")
	_, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) { in.NextToken = aws.String("m1.AAAA") })
	mmBadRequest(t, err, "NextToken")
	_, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) {
		in.NotBefore, in.NotAfter = aws.Time(times[3]), aws.Time(times[1])
	})
	mmBadRequest(t, err, "NotAfter")
	_, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) { in.MaxResults = aws.Int32(51) })
	mmBadRequest(t, err, "MaxResults")
	_, err = list(alice, func(in *chimesdkmessaging.ListChannelMessagesInput) { in.SubChannelId = aws.String("s") })
	mmBadRequest(t, err, "SubChannelId")
	private := e.newChannel(t, alice, mmChannelOpts{private: true})
	_, err = e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(private), ChimeBearer: aws.String(stranger),
	})
	mmForbidden(t, err, "does not exist")
}

// TestMessagingListChannelMessagesPagingStable pages through a channel
// while messages keep arriving: every message sent before the first page
// is seen exactly once, in order, whatever arrives meanwhile.
func TestMessagingListChannelMessagesPagingStable(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	alice := e.user(t, "alice")
	ch := e.newChannel(t, alice, mmChannelOpts{})
	var before []string
	for range 40 {
		before = append(before, e.send(t, alice, ch, "before"))
	}

	for _, order := range []mtypes.SortOrder{mtypes.SortOrderDescending, mtypes.SortOrderAscending} {
		stop := make(chan struct{})
		var (
			wg     sync.WaitGroup
			during atomic.Int64
		)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.msg.SendChannelMessage(t.Context(), mmMessage(alice, ch, "during")); err != nil {
					t.Errorf("sending during the listing: %v", err)
					return
				}
				during.Add(1)
			}
		})
		// Each page is read after at least one more message arrived.
		waitForMore := func() {
			n := during.Load()
			for deadline := time.Now().Add(10 * time.Second); during.Load() == n && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
		var got []string
		p := chimesdkmessaging.NewListChannelMessagesPaginator(e.msg, &chimesdkmessaging.ListChannelMessagesInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), SortOrder: order, MaxResults: aws.Int32(7),
		})
		pages := 0
		for p.HasMorePages() && len(got) < 1000 {
			waitForMore()
			pages++
			page, err := p.NextPage(t.Context())
			if err != nil {
				t.Errorf("page: %v", err)
				break
			}
			if len(page.ChannelMessages) > 7 {
				t.Errorf("a page of %d messages", len(page.ChannelMessages))
			}
			for _, m := range page.ChannelMessages {
				got = append(got, aws.ToString(m.MessageId))
			}
			if order == mtypes.SortOrderAscending && len(got) >= len(before)+14 {
				break // new messages keep the ascending list going
			}
		}
		close(stop)
		wg.Wait()
		if pages < len(before)/7 {
			t.Errorf("%s: %d pages for %d messages", order, pages, len(before))
		}

		seen := map[string]int{}
		for _, id := range got {
			seen[id]++
			if seen[id] == 2 {
				t.Errorf("%s: message %s listed twice", order, id)
			}
		}
		// The messages from before the listing, in the listing's order.
		var old []string
		isOld := map[string]bool{}
		for _, id := range before {
			isOld[id] = true
		}
		for _, id := range got {
			if isOld[id] {
				old = append(old, id)
			}
		}
		want := slices.Clone(before)
		if order == mtypes.SortOrderDescending {
			slices.Reverse(want)
		}
		if !slices.Equal(old, want) {
			t.Errorf("%s: %d of the %d earlier messages listed, or out of order", order, len(old), len(before))
		}
	}
}

func TestMessagingUpdateChannelMessage(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "bob", "carol")
	alice, bob, carol := u[0], u[1], u[2]
	ch := e.newChannel(t, alice, mmChannelOpts{members: []string{bob, carol}})
	id := e.send(t, bob, ch, "draft", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Metadata, in.ContentType = aws.String("meta"), aws.String("text/plain")
	})
	sent := e.get(t, bob, ch, id)
	e.clock.Advance(2 * time.Second)
	update := func(bearer, id, content string, mod func(*chimesdkmessaging.UpdateChannelMessageInput)) (*chimesdkmessaging.UpdateChannelMessageOutput, error) {
		in := &chimesdkmessaging.UpdateChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id), Content: aws.String(content),
		}
		if mod != nil {
			mod(in)
		}
		return e.msg.UpdateChannelMessage(t.Context(), in, skipMessagingValidation)
	}

	// The sender edits: content replaced, metadata and content type
	// replaced too (cleared when omitted), edit time set.
	ev := e.oneEvent(t, "UPDATE_CHANNEL_MESSAGE", func() {
		out, err := update(bob, id, "final", nil)
		mustOK(t, err, "UpdateChannelMessage")
		if aws.ToString(out.ChannelArn) != ch || aws.ToString(out.MessageId) != id || out.Status == nil || out.Status.Value != mtypes.ChannelMessageStatusSent {
			t.Errorf("UpdateChannelMessage answered %+v", out)
		}
	})
	mmAudience(t, ev, true)
	if p := eventPayload(t, ev, "CreatedTimestamp", "LastEditedTimestamp", "LastUpdatedTimestamp"); p["Content"] != "final" || p["MessageId"] != id || ev.MessageType != "STANDARD" {
		t.Errorf("payload %s, MessageType %q", ev.Payload, ev.MessageType)
	}
	m := e.get(t, carol, ch, id)
	if aws.ToString(m.Content) != "final" || m.Metadata != nil || m.ContentType != nil || !m.CreatedTimestamp.Equal(*sent.CreatedTimestamp) {
		t.Errorf("edited message %+v", m)
	}
	e.wantRecent(t, "LastEditedTimestamp", m.LastEditedTimestamp)
	if m.LastEditedTimestamp == nil || !m.LastEditedTimestamp.After(*sent.CreatedTimestamp) || !m.LastUpdatedTimestamp.Equal(*m.LastEditedTimestamp) {
		t.Errorf("edit times: edited %v updated %v, created %v", m.LastEditedTimestamp, m.LastUpdatedTimestamp, sent.CreatedTimestamp)
	}
	_, err := update(bob, id, "with meta", func(in *chimesdkmessaging.UpdateChannelMessageInput) {
		in.Metadata, in.ContentType = aws.String("m2"), aws.String("text/x")
	})
	mustOK(t, err, "UpdateChannelMessage with metadata")
	if m := e.get(t, carol, ch, id); aws.ToString(m.Metadata) != "m2" || aws.ToString(m.ContentType) != "text/x" {
		t.Errorf("metadata %q content type %q", aws.ToString(m.Metadata), aws.ToString(m.ContentType))
	}

	// Only the sender, only while a member.
	_, err = update(carol, id, "hijack", nil)
	mmForbidden(t, err, "Only the sender")
	_, err = update(alice, id, "moderator", nil)
	mmForbidden(t, err, "Only the sender")
	_, err = update(bob, "0123", "x", nil)
	mmForbidden(t, err, "does not exist")

	// The sizes of the message's type.
	_, err = update(bob, id, strings.Repeat("x", 4097), nil)
	mmBadRequest(t, err, "4097 bytes")
	ctl := e.send(t, bob, ch, "ctl", func(in *chimesdkmessaging.SendChannelMessageInput) { in.Type = mtypes.ChannelMessageTypeControl })
	_, err = update(bob, ctl, strings.Repeat("x", 31), nil)
	mmBadRequest(t, err, "CONTROL")
	ev = e.oneEvent(t, "UPDATE_CHANNEL_MESSAGE", func() {
		_, err := update(bob, ctl, strings.Repeat("x", 30), nil)
		mustOK(t, err, "updating a CONTROL message")
	})
	if ev.MessageType != "CONTROL" {
		t.Errorf("CONTROL update MessageType %q", ev.MessageType)
	}
	_, err = update(bob, id, "", nil)
	mmBadRequest(t, err, "Content")

	// A redacted message stays redacted.
	_, err = e.msg.RedactChannelMessage(t.Context(), &chimesdkmessaging.RedactChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob), MessageId: aws.String(ctl),
	})
	mustOK(t, err, "RedactChannelMessage")
	_, err = update(bob, ctl, "back", nil)
	wantErrorContaining(t, err, "ConflictException", "redacted")

	mustOK(t, mmDeleteMembership(e, t, bob, ch, bob), "bob leaves")
	_, err = update(bob, id, "after leaving", nil)
	mmForbidden(t, err, "must be a member")
}

func TestMessagingRedactChannelMessage(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "alice", "bob")
	mod, alice, bob := u[0], u[1], u[2]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, mod, mmChannelOpts{members: []string{alice, bob}})
	withAll := func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Metadata = aws.String("meta")
		in.MessageAttributes = map[string]mtypes.MessageAttributeValue{"k": {StringValues: []string{"v"}}}
	}
	redact := func(bearer, id string) error {
		out, err := e.msg.RedactChannelMessage(t.Context(), &chimesdkmessaging.RedactChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id),
		})
		if err == nil && (aws.ToString(out.ChannelArn) != ch || aws.ToString(out.MessageId) != id) {
			t.Errorf("RedactChannelMessage answered %+v", out)
		}
		return err
	}

	// The sender redacts: the message stays, blank, and the event says so
	// with its Content present but empty.
	id := e.send(t, alice, ch, "oops", withAll)
	ev := e.oneEvent(t, "REDACT_CHANNEL_MESSAGE", func() { mustOK(t, redact(alice, id), "sender redacts") })
	mmAudience(t, ev, true)
	p := eventPayload(t, ev, "CreatedTimestamp", "LastUpdatedTimestamp")
	if c, ok := p["Content"]; !ok || c != "" || p["Redacted"] != true || p["Metadata"] != nil || p["MessageAttributes"] != nil || p["MessageId"] != id {
		t.Errorf("payload %s", ev.Payload)
	}
	if ev.MessageType != "STANDARD" {
		t.Errorf("MessageType %q", ev.MessageType)
	}
	m := e.get(t, bob, ch, id)
	if !m.Redacted || aws.ToString(m.Content) != "" || m.Metadata != nil || m.MessageAttributes != nil {
		t.Errorf("redacted message %+v", m)
	}
	// Again: nothing to do, nothing announced.
	e.noEvent(t, "redacting again", func() { mustOK(t, redact(alice, id), "redacting again") })

	// Moderators and admins redact anyone's; other members cannot.
	mustOK(t, redact(mod, e.send(t, alice, ch, "1")), "moderator redacts")
	mustOK(t, redact(admin, e.send(t, alice, ch, "2")), "admin redacts")
	mmForbidden(t, redact(bob, e.send(t, alice, ch, "3")), "Only the sender")
	mmForbidden(t, redact(alice, "0123"), "does not exist")
	_, err := e.msg.RedactChannelMessage(t.Context(), &chimesdkmessaging.RedactChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MessageId: aws.String(id), SubChannelId: aws.String("s"),
	})
	mmBadRequest(t, err, "SubChannelId")
}

func TestMessagingDeleteChannelMessage(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "mod", "alice")
	mod, alice := u[0], u[1]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, mod, mmChannelOpts{members: []string{alice}})
	id := e.send(t, alice, ch, "delete me", func(in *chimesdkmessaging.SendChannelMessageInput) { in.Metadata = aws.String("meta") })
	del := func(bearer, id string) error {
		_, err := e.msg.DeleteChannelMessage(t.Context(), &chimesdkmessaging.DeleteChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id),
		})
		return err
	}

	// Not for senders or moderators (docs/compatibility.md, ruling 12).
	mmForbidden(t, del(alice, id), "AppInstanceAdmin")
	mmForbidden(t, del(mod, id), "AppInstanceAdmin")

	// An admin, not a member, deletes: the event carries the message as
	// it was.
	ev := e.oneEvent(t, "DELETE_CHANNEL_MESSAGE", func() { mustOK(t, del(admin, id), "admin deletes") })
	mmAudience(t, ev, true)
	if p := eventPayload(t, ev, "CreatedTimestamp"); p["Content"] != "delete me" || p["Metadata"] != "meta" || p["MessageId"] != id || mmArn(p, "Sender") != alice {
		t.Errorf("payload %s", ev.Payload)
	}
	if ev.MessageType != "STANDARD" {
		t.Errorf("MessageType %q", ev.MessageType)
	}
	_, err := e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MessageId: aws.String(id),
	})
	mmNotFound(t, err, "does not exist")
	// Gone: deleting again is refused (no NotFound is modelled).
	mmForbidden(t, del(admin, id), "does not exist")
	_, err = e.msg.DeleteChannelMessage(t.Context(), &chimesdkmessaging.DeleteChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(admin), MessageId: aws.String(id), SubChannelId: aws.String("s"),
	})
	mmBadRequest(t, err, "SubChannelId")
}

func TestMessagingGetChannelMessageStatus(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "bob")
	alice, bob := u[0], u[1]
	admin := e.user(t, "admin")
	e.makeAdmin(t, admin)
	ch := e.newChannel(t, alice, mmChannelOpts{members: []string{bob}})
	id := e.send(t, alice, ch, "hi")
	status := func(bearer, id string) (*chimesdkmessaging.GetChannelMessageStatusOutput, error) {
		return e.msg.GetChannelMessageStatus(t.Context(), &chimesdkmessaging.GetChannelMessageStatusInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id),
		})
	}
	out, err := status(alice, id)
	mustOK(t, err, "GetChannelMessageStatus")
	if out.Status == nil || out.Status.Value != mtypes.ChannelMessageStatusSent {
		t.Errorf("status %+v", out.Status)
	}
	// Only the sender; a missing message is Forbidden (no NotFound is
	// modelled).
	for _, who := range []string{bob, admin} {
		_, err = status(who, id)
		mmForbidden(t, err, "Only the sender")
	}
	_, err = status(alice, "0123")
	mmForbidden(t, err, "does not exist")
}

func TestMessagingUpdateChannelReadMarker(t *testing.T) {
	t.Parallel()
	e := mmNew(t)
	u := e.users(t, "alice", "stranger")
	alice, stranger := u[0], u[1]
	ch := e.newChannel(t, alice, mmChannelOpts{})
	mark := func(bearer, ch string) error {
		out, err := e.msg.UpdateChannelReadMarker(t.Context(), &chimesdkmessaging.UpdateChannelReadMarkerInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer),
		})
		if err == nil && aws.ToString(out.ChannelArn) != ch {
			t.Errorf("UpdateChannelReadMarker answered %+v", out)
		}
		return err
	}
	readMarker := func() *time.Time {
		out, err := e.msg.DescribeChannelMembershipForAppInstanceUser(t.Context(), &chimesdkmessaging.DescribeChannelMembershipForAppInstanceUserInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), AppInstanceUserArn: aws.String(alice),
		})
		mustOK(t, err, "DescribeChannelMembershipForAppInstanceUser")
		return out.ChannelMembership.AppInstanceUserMembershipSummary.ReadMarkerTimestamp
	}
	before := e.get(t, alice, ch, e.send(t, alice, ch, "x")).CreatedTimestamp
	e.clock.Advance(time.Second)
	e.noEvent(t, "UpdateChannelReadMarker", func() { mustOK(t, mark(alice, ch), "UpdateChannelReadMarker") })
	if rm := readMarker(); rm == nil || !rm.After(*before) {
		t.Errorf("ReadMarkerTimestamp %v, want after %v", rm, before)
	} else {
		e.wantRecent(t, "ReadMarkerTimestamp", rm)
	}
	mmForbidden(t, mark(stranger, ch), "not a member")
	mmBadRequest(t, mark(alice, e.elasticChannel(t, alice)), "elastic")
}
