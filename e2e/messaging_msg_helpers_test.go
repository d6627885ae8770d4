package e2e

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
)

// mmEnv is a test server with one AppInstance and a root messaging
// client, for the membership and message tests. The root key may act as
// any bearer.
type mmEnv struct {
	*env
	msg *chimesdkmessaging.Client
	app string
}

func mmNew(t testing.TB) *mmEnv {
	t.Helper()
	e := newEnv(t)
	return &mmEnv{env: e, msg: chimesdkmessaging.NewFromConfig(e.srv.Config), app: e.createAppInstance(t, "Chat")}
}

// user creates a user named "User <id>".
func (e *mmEnv) user(t testing.TB, id string) string {
	t.Helper()
	return e.createUser(t, e.app, id, "User "+id)
}

// users creates one user per id.
func (e *mmEnv) users(t testing.TB, ids ...string) []string {
	t.Helper()
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = e.user(t, id)
	}
	return out
}

// makeAdmin makes arn an AppInstanceAdmin.
func (e *mmEnv) makeAdmin(t testing.TB, arn string) {
	t.Helper()
	_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
		AppInstanceArn: aws.String(e.app), AppInstanceAdminArn: aws.String(arn),
	})
	mustOK(t, err, "CreateAppInstanceAdmin %s", arn)
}

// mmChannelOpts describe a channel for newChannel.
type mmChannelOpts struct {
	restricted, private bool
	members, moderators []string
}

// newChannel creates a channel as creator, who becomes its member and
// moderator.
func (e *mmEnv) newChannel(t testing.TB, creator string, o mmChannelOpts) string {
	t.Helper()
	in := &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app),
		Name:           aws.String("Channel"),
		ChimeBearer:    aws.String(creator),
		Mode:           mtypes.ChannelModeUnrestricted,
		Privacy:        mtypes.ChannelPrivacyPublic,
		MemberArns:     o.members,
		ModeratorArns:  o.moderators,
	}
	if o.restricted {
		in.Mode = mtypes.ChannelModeRestricted
	}
	if o.private {
		in.Privacy = mtypes.ChannelPrivacyPrivate
	}
	out, err := e.msg.CreateChannel(t.Context(), in)
	mustOK(t, err, "CreateChannel")
	return aws.ToString(out.ChannelArn)
}

// join makes member a member of ch, acting as bearer.
func (e *mmEnv) join(t testing.TB, bearer, ch, member string, typ mtypes.ChannelMembershipType) {
	t.Helper()
	_, err := e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member), Type: typ,
	})
	mustOK(t, err, "CreateChannelMembership %s by %s", member, bearer)
}

// send sends a persistent STANDARD message as bearer; opts change the
// request.
func (e *mmEnv) send(t testing.TB, bearer, ch, content string, opts ...func(*chimesdkmessaging.SendChannelMessageInput)) string {
	t.Helper()
	in := mmMessage(bearer, ch, content)
	for _, o := range opts {
		o(in)
	}
	out, err := e.msg.SendChannelMessage(t.Context(), in)
	mustOK(t, err, "SendChannelMessage %q by %s", content, bearer)
	if out.Status == nil || out.Status.Value != mtypes.ChannelMessageStatusSent {
		t.Errorf("SendChannelMessage status %+v, want SENT", out.Status)
	}
	return aws.ToString(out.MessageId)
}

// mmMessage is a persistent STANDARD message request.
func mmMessage(bearer, ch, content string) *chimesdkmessaging.SendChannelMessageInput {
	return &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn:  aws.String(ch),
		ChimeBearer: aws.String(bearer),
		Content:     aws.String(content),
		Type:        mtypes.ChannelMessageTypeStandard,
		Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
	}
}

// mmTarget targets a message at member.
func mmTarget(member string) func(*chimesdkmessaging.SendChannelMessageInput) {
	return func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Target = []mtypes.Target{{MemberArn: aws.String(member)}}
	}
}

// get returns a message as bearer sees it.
func (e *mmEnv) get(t testing.TB, bearer, ch, id string) *mtypes.ChannelMessage {
	t.Helper()
	out, err := e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), MessageId: aws.String(id),
	})
	mustOK(t, err, "GetChannelMessage %s as %s", id, bearer)
	return out.ChannelMessage
}

// listIDs lists the ids of every message bearer sees, in the default
// order, one page.
func (e *mmEnv) listIDs(t testing.TB, bearer, ch string) []string {
	t.Helper()
	out, err := e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer),
	})
	mustOK(t, err, "ListChannelMessages as %s", bearer)
	ids := make([]string, len(out.ChannelMessages))
	for i, m := range out.ChannelMessages {
		ids[i] = aws.ToString(m.MessageId)
	}
	return ids
}

// memberARNs lists a channel's members of one type as bearer sees them,
// through every page, sorted.
func (e *mmEnv) memberARNs(t testing.TB, bearer, ch string, typ mtypes.ChannelMembershipType) []string {
	t.Helper()
	var out []string
	p := chimesdkmessaging.NewListChannelMembershipsPaginator(e.msg, &chimesdkmessaging.ListChannelMembershipsInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), Type: typ, MaxResults: aws.Int32(2),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		mustOK(t, err, "ListChannelMemberships as %s", bearer)
		for _, m := range page.ChannelMemberships {
			out = append(out, aws.ToString(m.Member.Arn))
		}
	}
	slices.Sort(out)
	return out
}

// outboxSeq is the Seq of the newest outbox event.
func (e *mmEnv) outboxSeq(t testing.TB) int64 {
	t.Helper()
	evs := e.eventsAfter(t, 0)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

// eventsAfter returns the outbox events after seq that clients are sent
// (not those for the streaming export only), in order.
func (e *mmEnv) eventsAfter(t testing.TB, seq int64) []carillon.Event {
	t.Helper()
	var evs []carillon.Event
	err := e.srv.Server.Store().View(t.Context(), func(tx carillon.Tx) error {
		var err error
		evs, err = tx.Events(seq, 0)
		return err
	})
	mustOK(t, err, "reading the outbox")
	return slices.DeleteFunc(evs, func(ev carillon.Event) bool { return !announced(ev) })
}

// oneEvent runs fn and returns the one event it appended, of type typ.
func (e *mmEnv) oneEvent(t testing.TB, typ string, fn func()) carillon.Event {
	t.Helper()
	seq := e.outboxSeq(t)
	fn()
	evs := e.eventsAfter(t, seq)
	if len(evs) != 1 || evs[0].Type != typ {
		var types []string
		for _, ev := range evs {
			types = append(types, ev.Type)
		}
		t.Fatalf("events %v, want exactly one %s", types, typ)
	}
	return evs[0]
}

// noEvent runs fn and checks that it appended no event.
func (e *mmEnv) noEvent(t testing.TB, what string, fn func()) {
	t.Helper()
	seq := e.outboxSeq(t)
	fn()
	if evs := e.eventsAfter(t, seq); len(evs) != 0 {
		t.Errorf("%s appended %d events (first %s), want none", what, len(evs), evs[0].Type)
	}
}

// mmAudience checks who an event goes to: the channel's members or not,
// and exactly these explicit recipients (in any order).
func mmAudience(t testing.TB, ev carillon.Event, toMembers bool, recipients ...string) {
	t.Helper()
	if ev.ToMembers != toMembers {
		t.Errorf("%s ToMembers %v, want %v", ev.Type, ev.ToMembers, toMembers)
	}
	got := slices.Clone(ev.Recipients)
	slices.Sort(got)
	want := slices.Clone(recipients)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s Recipients %v, want %v", ev.Type, ev.Recipients, want)
	}
}

// mmArn reads the Arn of an {Arn, Name} member of a payload.
func mmArn(p map[string]any, key string) string {
	m, _ := p[key].(map[string]any)
	s, _ := m["Arn"].(string)
	return s
}

func mmForbidden(t testing.TB, err error, want string) {
	t.Helper()
	wantErrorContaining(t, err, "ForbiddenException", want)
}

func mmBadRequest(t testing.TB, err error, want string) {
	t.Helper()
	wantErrorContaining(t, err, "BadRequestException", want)
}

func mmNotFound(t testing.TB, err error, want string) {
	t.Helper()
	wantErrorContaining(t, err, "NotFoundException", want)
}
