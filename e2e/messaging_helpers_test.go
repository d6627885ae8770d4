package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
)

// mxEnv is a test server with one AppInstance and a root messaging
// client, which may act as any bearer.
type mxEnv struct {
	*env
	msg *chimesdkmessaging.Client
	app string
}

// mxNew starts a server of its own for the test, with one AppInstance.
func mxNew(t testing.TB) *mxEnv {
	t.Helper()
	e := newEnv(t)
	return &mxEnv{env: e, msg: chimesdkmessaging.NewFromConfig(e.srv.Config), app: e.createAppInstance(t, "Messaging")}
}

// user creates a user of the env's AppInstance named "Name <id>".
func (e *mxEnv) user(t testing.TB, id string) string {
	t.Helper()
	return e.createUser(t, e.app, id, "Name "+id)
}

// admin creates a user and makes it an AppInstanceAdmin.
func (e *mxEnv) admin(t testing.TB, id string) string {
	t.Helper()
	arn := e.user(t, id)
	_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
		AppInstanceArn: aws.String(e.app), AppInstanceAdminArn: aws.String(arn),
	})
	mustOK(t, err, "CreateAppInstanceAdmin %s", id)
	return arn
}

// as returns a messaging client whose key may act only as bearer.
func (e *mxEnv) as(t testing.TB, bearer string) *chimesdkmessaging.Client {
	t.Helper()
	return chimesdkmessaging.NewFromConfig(e.srv.UserConfig(t, bearer))
}

// channel creates a channel with the root client acting as bearer.
func (e *mxEnv) channel(t testing.TB, bearer, name string, opts ...func(*chimesdkmessaging.CreateChannelInput)) string {
	t.Helper()
	in := &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app),
		Name:           aws.String(name),
		ChimeBearer:    aws.String(bearer),
	}
	for _, o := range opts {
		o(in)
	}
	out, err := e.msg.CreateChannel(t.Context(), in)
	mustOK(t, err, "CreateChannel %q", name)
	arn := aws.ToString(out.ChannelArn)
	if !strings.HasPrefix(arn, aws.ToString(in.AppInstanceArn)+"/channel/") {
		t.Fatalf("CreateChannel ARN %q is not a channel of %s", arn, aws.ToString(in.AppInstanceArn))
	}
	return arn
}

func mxMembers(arns ...string) func(*chimesdkmessaging.CreateChannelInput) {
	return func(in *chimesdkmessaging.CreateChannelInput) { in.MemberArns = arns }
}

func mxModerators(arns ...string) func(*chimesdkmessaging.CreateChannelInput) {
	return func(in *chimesdkmessaging.CreateChannelInput) { in.ModeratorArns = arns }
}

func mxPrivate(in *chimesdkmessaging.CreateChannelInput) { in.Privacy = mtypes.ChannelPrivacyPrivate }

// describe returns a channel as bearer sees it.
func (e *mxEnv) describe(t testing.TB, bearer, channel string) *mtypes.Channel {
	t.Helper()
	out, err := e.msg.DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(channel), ChimeBearer: aws.String(bearer)})
	mustOK(t, err, "DescribeChannel %s as %s", channel, bearer)
	return out.Channel
}

// isMember reports whether user is a member of channel, asked as user.
func (e *mxEnv) isMember(t testing.TB, channel, user string) bool {
	t.Helper()
	_, err := e.msg.DescribeChannelMembershipForAppInstanceUser(t.Context(), &chimesdkmessaging.DescribeChannelMembershipForAppInstanceUserInput{
		ChannelArn: aws.String(channel), AppInstanceUserArn: aws.String(user), ChimeBearer: aws.String(user),
	})
	if err == nil {
		return true
	}
	wantError(t, err, "ForbiddenException")
	return false
}

// isModerator reports whether arn moderates channel, asked as bearer (a
// moderator or admin).
func (e *mxEnv) isModerator(t testing.TB, bearer, channel, arn string) bool {
	t.Helper()
	_, err := e.msg.DescribeChannelModerator(t.Context(), &chimesdkmessaging.DescribeChannelModeratorInput{
		ChannelArn: aws.String(channel), ChannelModeratorArn: aws.String(arn), ChimeBearer: aws.String(bearer),
	})
	if err == nil {
		return true
	}
	wantError(t, err, "NotFoundException")
	return false
}

// events returns the outbox events of channel that clients are sent (not
// those for the streaming export only), in order.
func (e *mxEnv) events(t testing.TB, channel string) []carillon.Event {
	t.Helper()
	var all []carillon.Event
	err := e.srv.Server.Store().View(t.Context(), func(tx carillon.Tx) error {
		var err error
		all, err = tx.Events(0, 0)
		return err
	})
	mustOK(t, err, "reading the outbox")
	var out []carillon.Event
	for _, ev := range all {
		if ev.Channel == channel && announced(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// announced reports whether an event has a websocket audience: the events
// only the streaming export carries (CREATE_CHANNEL, bans, moderators…)
// have none.
func announced(ev carillon.Event) bool { return ev.ToMembers || len(ev.Recipients) > 0 }

// eventsOf returns the events of the given type.
func mxEventsOf(events []carillon.Event, typ string) []carillon.Event {
	var out []carillon.Event
	for _, ev := range events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// mxIdentity reads an {Arn, Name} member of a payload.
func mxIdentity(p map[string]any, key string) (arn, name string) {
	m, _ := p[key].(map[string]any)
	arn, _ = m["Arn"].(string)
	name, _ = m["Name"].(string)
	return arn, name
}

// mxForbidden checks for a ForbiddenException.
func mxForbidden(t testing.TB, err error) {
	t.Helper()
	wantError(t, err, "ForbiddenException")
}

// mxBadRequest checks for a BadRequestException whose message contains
// want ("" for any).
func mxBadRequest(t testing.TB, err error, want string) {
	t.Helper()
	msg := wantError(t, err, "BadRequestException")
	if msg != "" && want != "" && !strings.Contains(msg, want) {
		t.Errorf("BadRequest message %q does not contain %q", msg, want)
	}
}

// mxSummaryARNs lists the channel ARNs of summaries, sorted.
func mxSummaryARNs(summaries []mtypes.ChannelSummary) []string {
	out := make([]string, len(summaries))
	for i, s := range summaries {
		out[i] = aws.ToString(s.ChannelArn)
	}
	slices.Sort(out)
	return out
}
