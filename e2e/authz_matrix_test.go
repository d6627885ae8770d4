package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/aws/smithy-go"
)

// update makes TestAuthorizationDoc rewrite docs/authorization.md from the
// table instead of comparing it.
var update = flag.Bool("update", false, "rewrite docs/authorization.md from the authorization table")

// azDocPath is docs/authorization.md, from the e2e directory.
const azDocPath = "../docs/authorization.md"

// TestAuthorizationMatrix runs every row of azTable against a server, as
// its caller, on a channel of its privacy and mode. Rows that change
// something get a channel of their own; the others share one per fixture.
func TestAuthorizationMatrix(t *testing.T) {
	azCheckTable(t)
	fixtures := map[azChannel]*azFixture{}
	for _, ch := range []azChannel{PubU, PubR, PrivU, PrivR} {
		fixtures[ch] = azNewFixture(t, ch)
	}
	for _, row := range azTable {
		fx := fixtures[azFixtureOf(row.channel)]
		spec := azSpecs[row.op]
		t.Run(fmt.Sprintf("%s/%s/%s", row.op, row.channel, row.caller), func(t *testing.T) {
			t.Parallel()
			c := &azCall{fx: fx, caller: row.caller, bearer: fx.bearer[row.caller], msg: fx.client[row.caller]}
			switch {
			case row.channel == NoChannel:
			case spec.mutates:
				var own []azCaller
				if spec.own {
					own = []azCaller{row.caller}
				}
				c.ch = fx.newChannel(t, own...)
			default:
				c.ch = fx.shared
			}
			err := spec.run(t.Context(), c)
			if got := azOutcomeOf(err); got != row.want {
				t.Fatalf("%s as %s on a %s channel: got %s, want %s (%v)", row.op, row.caller, row.channel, got, row.want, err)
			}
			if strings.HasSuffix(string(row.want), "Exception") {
				// The right error, typed, with its status and body Code.
				wantError(t, err, string(row.want))
			}
		})
	}
}

// azOutcomeOf classifies what a call answered.
func azOutcomeOf(err error) azOutcome {
	var be *azBatchError
	var ae smithy.APIError
	switch {
	case err == nil:
		return Allow
	case errors.As(err, &be):
		return azOutcome("Errors[" + string(be.code) + "]")
	case errors.As(err, &ae):
		return azOutcome(ae.ErrorCode())
	}
	return azOutcome("error: " + err.Error())
}

// azBatchError is a BatchCreateChannelMembership that succeeded but
// reported the member in Errors.
type azBatchError struct {
	code mtypes.ErrorCode
	msg  string
}

func (e *azBatchError) Error() string { return fmt.Sprintf("Errors: %s: %s", e.code, e.msg) }

// azFixtureOf is the fixture whose channels a row calls on: the mode does
// not matter for Pub and Priv, nor anything for NoChannel.
func azFixtureOf(ch azChannel) azChannel {
	switch ch {
	case Pub, NoChannel:
		return PubU
	case Priv:
		return PrivU
	}
	return ch
}

// azFixture is a server with an AppInstance whose users play every role,
// on channels of one privacy and mode.
type azFixture struct {
	root                    *chimesdkmessaging.Client
	app                     string
	privacy                 mtypes.ChannelPrivacy
	mode                    mtypes.ChannelMode
	creator, peer, newcomer string
	bearer                  map[azCaller]string
	client                  map[azCaller]*chimesdkmessaging.Client
	// shared is the channel of the rows that change nothing, with an own
	// message of every caller that can have one.
	shared *azChannelState
	// flow is a channel flow of the AppInstance, associated with no
	// channel; no message goes through it.
	flow string
}

// azChannelState is a channel set up for the matrix.
type azChannelState struct {
	arn     string
	peerMsg string              // a message by the peer
	own     map[azCaller]string // a message by the caller's bearer
}

func azNewFixture(t *testing.T, ch azChannel) *azFixture {
	t.Helper()
	e := newEnv(t)
	app := e.createAppInstance(t, "Authorization")
	other := e.createAppInstance(t, "Elsewhere")
	user := func(id string) string { return e.createUser(t, app, id, "User "+id) }
	fx := &azFixture{
		root:     chimesdkmessaging.NewFromConfig(e.srv.Config),
		app:      app,
		privacy:  mtypes.ChannelPrivacyPublic,
		mode:     mtypes.ChannelModeUnrestricted,
		creator:  user("creator"),
		peer:     user("peer"),
		newcomer: user("newcomer"),
		bearer: map[azCaller]string{
			Admin:     user("admin"),
			Moderator: user("moderator"),
			Member:    user("member"),
			Hidden:    user("hidden"),
			NonMember: user("non-member"),
			Banned:    user("banned"),
			Foreign:   e.createUser(t, other, "foreign", "User foreign"),
		},
		client: map[azCaller]*chimesdkmessaging.Client{},
	}
	if ch == PrivU || ch == PrivR {
		fx.privacy = mtypes.ChannelPrivacyPrivate
	}
	if ch == PubR || ch == PrivR {
		fx.mode = mtypes.ChannelModeRestricted
	}
	_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
		AppInstanceArn: aws.String(app), AppInstanceAdminArn: aws.String(fx.bearer[Admin]),
	})
	mustOK(t, err, "CreateAppInstanceAdmin")
	for c, arn := range fx.bearer {
		fx.client[c] = chimesdkmessaging.NewFromConfig(e.srv.UserConfig(t, arn))
	}
	// Root and WrongKey act as Member: one with the root key, which may
	// act as anyone, the other with NonMember's key, which may not.
	fx.bearer[Root], fx.client[Root] = fx.bearer[Member], fx.root
	fx.bearer[WrongKey], fx.client[WrongKey] = fx.bearer[Member], fx.client[NonMember]
	fx.shared = fx.newChannel(t, Admin, Moderator, NonMember, Hidden, Banned)
	flow, err := fx.root.CreateChannelFlow(t.Context(), &chimesdkmessaging.CreateChannelFlowInput{
		AppInstanceArn: aws.String(app), Name: aws.String("Matrix"), Processors: processorsOf(flProc{name: "matrix"}),
		ClientRequestToken: aws.String("matrix-flow"),
	})
	mustOK(t, err, "CreateChannelFlow")
	fx.flow = aws.ToString(flow.ChannelFlowArn)
	return fx
}

// newChannel creates a channel of the fixture's privacy and mode, as the
// creator, with every role in place: Moderator a moderator but no member,
// Member and the peer DEFAULT members, Hidden a HIDDEN member, Banned
// banned, each of Member and the peer with a message. Each caller in own
// also gets a message of its own, sent while it was a DEFAULT member
// (Banned before its ban; the others leave after sending).
func (fx *azFixture) newChannel(t *testing.T, own ...azCaller) *azChannelState {
	t.Helper()
	ctx := t.Context()
	var leave []string
	members := []string{fx.bearer[Member], fx.peer, fx.bearer[Banned]}
	for _, c := range own {
		switch c {
		case Admin, Moderator, NonMember, Hidden:
			members = append(members, fx.bearer[c])
			leave = append(leave, fx.bearer[c])
		}
	}
	out, err := fx.root.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(fx.app),
		Name:           aws.String("Matrix"),
		ChimeBearer:    aws.String(fx.creator),
		Privacy:        fx.privacy,
		Mode:           fx.mode,
		MemberArns:     members,
	})
	mustOK(t, err, "CreateChannel")
	ch := &azChannelState{arn: aws.ToString(out.ChannelArn), own: map[azCaller]string{}}
	as := func(bearer string) (*string, *string) { return aws.String(ch.arn), aws.String(bearer) }

	arn, by := as(fx.creator)
	_, err = fx.root.CreateChannelModerator(ctx, &chimesdkmessaging.CreateChannelModeratorInput{
		ChannelArn: arn, ChimeBearer: by, ChannelModeratorArn: aws.String(fx.bearer[Moderator]),
	})
	mustOK(t, err, "CreateChannelModerator")

	send := func(sender string) string {
		arn, by := as(sender)
		out, err := fx.root.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
			ChannelArn: arn, ChimeBearer: by, Content: aws.String("Hello"),
			Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
		})
		mustOK(t, err, "SendChannelMessage as %s", sender)
		return aws.ToString(out.MessageId)
	}
	ch.peerMsg = send(fx.peer)
	ch.own[Member] = send(fx.bearer[Member])
	ch.own[Root], ch.own[WrongKey] = ch.own[Member], ch.own[Member]
	for _, c := range own {
		if c != Foreign && ch.own[c] == "" {
			ch.own[c] = send(fx.bearer[c])
		}
	}
	for _, m := range leave {
		arn, by := as(fx.creator)
		_, err := fx.root.DeleteChannelMembership(ctx, &chimesdkmessaging.DeleteChannelMembershipInput{
			ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(m),
		})
		mustOK(t, err, "DeleteChannelMembership %s", m)
	}
	arn, by = as(fx.creator)
	_, err = fx.root.CreateChannelMembership(ctx, &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(fx.bearer[Hidden]), Type: mtypes.ChannelMembershipTypeHidden,
	})
	mustOK(t, err, "CreateChannelMembership HIDDEN")
	arn, by = as(fx.creator)
	_, err = fx.root.CreateChannelBan(ctx, &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(fx.bearer[Banned]),
	})
	mustOK(t, err, "CreateChannelBan")
	return ch
}

// azCall is one row's call: the caller's client and bearer, and the
// channel (nil for NoChannel rows).
type azCall struct {
	fx     *azFixture
	ch     *azChannelState
	caller azCaller
	bearer string
	msg    *chimesdkmessaging.Client
}

// in returns the channel ARN and the bearer, the first two members of
// most requests.
func (c *azCall) in() (*string, *string) { return aws.String(c.ch.arn), aws.String(c.bearer) }

// ownMsg is the message the caller's bearer sent.
func (c *azCall) ownMsg() *string { return aws.String(c.ch.own[c.caller]) }

// azSpec says how to call an azOp: whether the call may change the
// channel (it then gets one of its own), whether it needs the caller's own
// message, and the call.
type azSpec struct {
	mutates bool
	own     bool
	run     func(context.Context, *azCall) error
}

var azSpecs = map[azOp]azSpec{
	CreateChannel: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		_, err := c.msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
			AppInstanceArn: aws.String(c.fx.app), Name: aws.String("Mine"), ChimeBearer: aws.String(c.bearer),
		})
		return err
	}},
	DescribeChannel: {run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.DescribeChannel(ctx, &chimesdkmessaging.DescribeChannelInput{ChannelArn: arn, ChimeBearer: by})
		return err
	}},
	UpdateChannel: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.UpdateChannel(ctx, &chimesdkmessaging.UpdateChannelInput{
			ChannelArn: arn, ChimeBearer: by, Name: aws.String("Renamed"), Mode: c.fx.mode,
		})
		return err
	}},
	DeleteChannel: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.DeleteChannel(ctx, &chimesdkmessaging.DeleteChannelInput{ChannelArn: arn, ChimeBearer: by})
		return err
	}},
	PutChannelExpiration: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.PutChannelExpirationSettings(ctx, &chimesdkmessaging.PutChannelExpirationSettingsInput{
			ChannelArn: arn, ChimeBearer: by,
			ExpirationSettings: &mtypes.ExpirationSettings{ExpirationDays: aws.Int32(1), ExpirationCriterion: mtypes.ExpirationCriterionCreatedTimestamp},
		})
		return err
	}},
	ListPublicChannels: {run: func(ctx context.Context, c *azCall) error {
		_, err := c.msg.ListChannels(ctx, &chimesdkmessaging.ListChannelsInput{
			AppInstanceArn: aws.String(c.fx.app), ChimeBearer: aws.String(c.bearer), Privacy: mtypes.ChannelPrivacyPublic,
		})
		return err
	}},
	ListPrivateChannels: {run: func(ctx context.Context, c *azCall) error {
		_, err := c.msg.ListChannels(ctx, &chimesdkmessaging.ListChannelsInput{
			AppInstanceArn: aws.String(c.fx.app), ChimeBearer: aws.String(c.bearer), Privacy: mtypes.ChannelPrivacyPrivate,
		})
		return err
	}},
	SearchChannels: {run: func(ctx context.Context, c *azCall) error {
		_, err := c.msg.SearchChannels(ctx, &chimesdkmessaging.SearchChannelsInput{
			ChimeBearer: aws.String(c.bearer),
			Fields: []mtypes.SearchField{{
				Key: mtypes.SearchFieldKeyMembers, Operator: mtypes.SearchFieldOperatorIncludes, Values: []string{c.fx.creator},
			}},
		})
		return err
	}},
	ListModeratedBySelf: {run: func(ctx context.Context, c *azCall) error {
		return c.listModeratedBy(ctx, c.bearer)
	}},
	ListModeratedByOther: {run: func(ctx context.Context, c *azCall) error {
		return c.listModeratedBy(ctx, c.fx.creator)
	}},
	DescribeModeratedBySelf: {run: func(ctx context.Context, c *azCall) error {
		return c.describeModeratedBy(ctx, c.bearer)
	}},
	DescribeModeratedByOther: {run: func(ctx context.Context, c *azCall) error {
		return c.describeModeratedBy(ctx, c.fx.creator)
	}},
	ListMembershipsForSelf: {run: func(ctx context.Context, c *azCall) error {
		return c.listMembershipsFor(ctx, c.bearer)
	}},
	ListMembershipsForOther: {run: func(ctx context.Context, c *azCall) error {
		return c.listMembershipsFor(ctx, c.fx.creator)
	}},
	DescribeMembershipForSelf: {run: func(ctx context.Context, c *azCall) error {
		return c.describeMembershipFor(ctx, c.bearer)
	}},
	DescribeMembershipForOther: {run: func(ctx context.Context, c *azCall) error {
		return c.describeMembershipFor(ctx, c.fx.creator)
	}},
	JoinSelf: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.addMember(ctx, c.bearer, mtypes.ChannelMembershipTypeDefault)
	}},
	AddOther: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.addMember(ctx, c.fx.newcomer, mtypes.ChannelMembershipTypeDefault)
	}},
	AddOtherHidden: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.addMember(ctx, c.fx.newcomer, mtypes.ChannelMembershipTypeHidden)
	}},
	BatchAddOther: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		out, err := c.msg.BatchCreateChannelMembership(ctx, &chimesdkmessaging.BatchCreateChannelMembershipInput{
			ChannelArn: arn, ChimeBearer: by, MemberArns: []string{c.fx.newcomer}, Type: mtypes.ChannelMembershipTypeDefault,
		})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			return &azBatchError{code: out.Errors[0].ErrorCode, msg: aws.ToString(out.Errors[0].ErrorMessage)}
		}
		if m := out.BatchChannelMemberships; m == nil || len(m.Members) != 1 || aws.ToString(m.Members[0].Arn) != c.fx.newcomer {
			return fmt.Errorf("BatchCreateChannelMembership reports neither the newcomer nor an error: %+v", m)
		}
		return nil
	}},
	LeaveSelf: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.deleteMember(ctx, c.bearer)
	}},
	RemoveOther: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.deleteMember(ctx, c.fx.peer)
	}},
	DescribeMembership: {run: func(ctx context.Context, c *azCall) error {
		return c.describeMembership(ctx, c.fx.peer)
	}},
	DescribeHiddenMembership: {run: func(ctx context.Context, c *azCall) error {
		return c.describeMembership(ctx, c.fx.bearer[Hidden])
	}},
	ListMemberships: {run: func(ctx context.Context, c *azCall) error {
		return c.listMemberships(ctx, mtypes.ChannelMembershipTypeDefault)
	}},
	ListHiddenMemberships: {run: func(ctx context.Context, c *azCall) error {
		return c.listMemberships(ctx, mtypes.ChannelMembershipTypeHidden)
	}},
	GetOwnPreferences: {run: func(ctx context.Context, c *azCall) error {
		return c.getPreferences(ctx, c.bearer)
	}},
	GetOtherPreferences: {run: func(ctx context.Context, c *azCall) error {
		return c.getPreferences(ctx, c.fx.peer)
	}},
	PutOwnPreferences: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.putPreferences(ctx, c.bearer)
	}},
	PutOtherPreferences: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.putPreferences(ctx, c.fx.peer)
	}},
	CreateModerator: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.CreateChannelModerator(ctx, &chimesdkmessaging.CreateChannelModeratorInput{
			ChannelArn: arn, ChimeBearer: by, ChannelModeratorArn: aws.String(c.fx.peer),
		})
		return err
	}},
	DeleteModerator: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.DeleteChannelModerator(ctx, &chimesdkmessaging.DeleteChannelModeratorInput{
			ChannelArn: arn, ChimeBearer: by, ChannelModeratorArn: aws.String(c.fx.creator),
		})
		return err
	}},
	DescribeModerator: {run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.DescribeChannelModerator(ctx, &chimesdkmessaging.DescribeChannelModeratorInput{
			ChannelArn: arn, ChimeBearer: by, ChannelModeratorArn: aws.String(c.fx.creator),
		})
		return err
	}},
	ListModerators: {run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.ListChannelModerators(ctx, &chimesdkmessaging.ListChannelModeratorsInput{ChannelArn: arn, ChimeBearer: by})
		return err
	}},
	CreateBan: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.CreateChannelBan(ctx, &chimesdkmessaging.CreateChannelBanInput{
			ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(c.fx.peer),
		})
		return err
	}},
	DeleteBan: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.DeleteChannelBan(ctx, &chimesdkmessaging.DeleteChannelBanInput{
			ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(c.fx.bearer[Banned]),
		})
		return err
	}},
	DescribeBan: {run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.DescribeChannelBan(ctx, &chimesdkmessaging.DescribeChannelBanInput{
			ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(c.fx.bearer[Banned]),
		})
		return err
	}},
	ListBans: {run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.ListChannelBans(ctx, &chimesdkmessaging.ListChannelBansInput{ChannelArn: arn, ChimeBearer: by})
		return err
	}},
	SendMessage: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
			ChannelArn: arn, ChimeBearer: by, Content: aws.String("Hi"),
			Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
		})
		return err
	}},
	GetMessage: {run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.GetChannelMessage(ctx, &chimesdkmessaging.GetChannelMessageInput{
			ChannelArn: arn, ChimeBearer: by, MessageId: aws.String(c.ch.peerMsg),
		})
		return err
	}},
	ListMessages: {run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.ListChannelMessages(ctx, &chimesdkmessaging.ListChannelMessagesInput{ChannelArn: arn, ChimeBearer: by})
		return err
	}},
	UpdateOwnMessage: {mutates: true, own: true, run: func(ctx context.Context, c *azCall) error {
		return c.updateMessage(ctx, c.ownMsg())
	}},
	UpdateOtherMessage: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.updateMessage(ctx, aws.String(c.ch.peerMsg))
	}},
	RedactOwnMessage: {mutates: true, own: true, run: func(ctx context.Context, c *azCall) error {
		return c.redactMessage(ctx, c.ownMsg())
	}},
	RedactOtherMessage: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		return c.redactMessage(ctx, aws.String(c.ch.peerMsg))
	}},
	DeleteMessage: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.DeleteChannelMessage(ctx, &chimesdkmessaging.DeleteChannelMessageInput{
			ChannelArn: arn, ChimeBearer: by, MessageId: aws.String(c.ch.peerMsg),
		})
		return err
	}},
	GetOwnMessageStatus: {run: func(ctx context.Context, c *azCall) error {
		return c.messageStatus(ctx, c.ownMsg())
	}},
	GetOtherMessageStatus: {run: func(ctx context.Context, c *azCall) error {
		return c.messageStatus(ctx, aws.String(c.ch.peerMsg))
	}},
	UpdateReadMarker: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.UpdateChannelReadMarker(ctx, &chimesdkmessaging.UpdateChannelReadMarkerInput{ChannelArn: arn, ChimeBearer: by})
		return err
	}},
	AssociateFlow: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, by := c.in()
		_, err := c.msg.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{
			ChannelArn: arn, ChimeBearer: by, ChannelFlowArn: aws.String(c.fx.flow),
		})
		return err
	}},
	DisassociateFlow: {mutates: true, run: func(ctx context.Context, c *azCall) error {
		arn, creator := aws.String(c.ch.arn), aws.String(c.fx.creator)
		_, err := c.fx.root.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{
			ChannelArn: arn, ChimeBearer: creator, ChannelFlowArn: aws.String(c.fx.flow),
		})
		if err != nil {
			return fmt.Errorf("setup: AssociateChannelFlow as the creator: %w", err)
		}
		arn, by := c.in()
		_, err = c.msg.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{
			ChannelArn: arn, ChimeBearer: by, ChannelFlowArn: aws.String(c.fx.flow),
		})
		return err
	}},
}

func (c *azCall) listModeratedBy(ctx context.Context, user string) error {
	_, err := c.msg.ListChannelsModeratedByAppInstanceUser(ctx, &chimesdkmessaging.ListChannelsModeratedByAppInstanceUserInput{
		ChimeBearer: aws.String(c.bearer), AppInstanceUserArn: aws.String(user),
	})
	return err
}

func (c *azCall) describeModeratedBy(ctx context.Context, user string) error {
	arn, by := c.in()
	_, err := c.msg.DescribeChannelModeratedByAppInstanceUser(ctx, &chimesdkmessaging.DescribeChannelModeratedByAppInstanceUserInput{
		ChannelArn: arn, ChimeBearer: by, AppInstanceUserArn: aws.String(user),
	})
	return err
}

func (c *azCall) listMembershipsFor(ctx context.Context, user string) error {
	_, err := c.msg.ListChannelMembershipsForAppInstanceUser(ctx, &chimesdkmessaging.ListChannelMembershipsForAppInstanceUserInput{
		ChimeBearer: aws.String(c.bearer), AppInstanceUserArn: aws.String(user),
	})
	return err
}

func (c *azCall) describeMembershipFor(ctx context.Context, user string) error {
	arn, by := c.in()
	_, err := c.msg.DescribeChannelMembershipForAppInstanceUser(ctx, &chimesdkmessaging.DescribeChannelMembershipForAppInstanceUserInput{
		ChannelArn: arn, ChimeBearer: by, AppInstanceUserArn: aws.String(user),
	})
	return err
}

func (c *azCall) addMember(ctx context.Context, member string, typ mtypes.ChannelMembershipType) error {
	arn, by := c.in()
	_, err := c.msg.CreateChannelMembership(ctx, &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(member), Type: typ,
	})
	return err
}

func (c *azCall) deleteMember(ctx context.Context, member string) error {
	arn, by := c.in()
	_, err := c.msg.DeleteChannelMembership(ctx, &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(member),
	})
	return err
}

func (c *azCall) describeMembership(ctx context.Context, member string) error {
	arn, by := c.in()
	_, err := c.msg.DescribeChannelMembership(ctx, &chimesdkmessaging.DescribeChannelMembershipInput{
		ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(member),
	})
	return err
}

func (c *azCall) listMemberships(ctx context.Context, typ mtypes.ChannelMembershipType) error {
	arn, by := c.in()
	_, err := c.msg.ListChannelMemberships(ctx, &chimesdkmessaging.ListChannelMembershipsInput{
		ChannelArn: arn, ChimeBearer: by, Type: typ,
	})
	return err
}

func (c *azCall) getPreferences(ctx context.Context, member string) error {
	arn, by := c.in()
	_, err := c.msg.GetChannelMembershipPreferences(ctx, &chimesdkmessaging.GetChannelMembershipPreferencesInput{
		ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(member),
	})
	return err
}

func (c *azCall) putPreferences(ctx context.Context, member string) error {
	arn, by := c.in()
	_, err := c.msg.PutChannelMembershipPreferences(ctx, &chimesdkmessaging.PutChannelMembershipPreferencesInput{
		ChannelArn: arn, ChimeBearer: by, MemberArn: aws.String(member),
		Preferences: &mtypes.ChannelMembershipPreferences{PushNotifications: &mtypes.PushNotificationPreferences{
			AllowNotifications: mtypes.AllowNotificationsNone,
		}},
	})
	return err
}

func (c *azCall) updateMessage(ctx context.Context, id *string) error {
	arn, by := c.in()
	_, err := c.msg.UpdateChannelMessage(ctx, &chimesdkmessaging.UpdateChannelMessageInput{
		ChannelArn: arn, ChimeBearer: by, MessageId: id, Content: aws.String("Edited"),
	})
	return err
}

func (c *azCall) redactMessage(ctx context.Context, id *string) error {
	arn, by := c.in()
	_, err := c.msg.RedactChannelMessage(ctx, &chimesdkmessaging.RedactChannelMessageInput{
		ChannelArn: arn, ChimeBearer: by, MessageId: id,
	})
	return err
}

func (c *azCall) messageStatus(ctx context.Context, id *string) error {
	arn, by := c.in()
	_, err := c.msg.GetChannelMessageStatus(ctx, &chimesdkmessaging.GetChannelMessageStatusInput{
		ChannelArn: arn, ChimeBearer: by, MessageId: id,
	})
	return err
}

// azChannelsOf are the channels an op's rows must cover.
var azChannelsOf = map[string][]azChannel{
	"none": {NoChannel},
	"two":  {Pub, Priv},
	"four": {PubU, PubR, PrivU, PrivR},
}

// azCheckTable checks that the table is a complete matrix: every op
// documented and runnable, and each op's rows cover its callers on its
// channels exactly once (but for the callers it does not apply to), with
// one set of channels per op.
func azCheckTable(t *testing.T) {
	t.Helper()
	info := map[azOp]azOpInfo{}
	sections := map[string]bool{}
	for i, o := range azOps {
		if _, dup := info[o.op]; dup {
			t.Errorf("azOps lists %s twice", o.op)
		}
		if i == 0 || azOps[i-1].api != o.api {
			if sections[o.api] {
				t.Errorf("azOps: the calls of %s are not together, so its section would be split", o.api)
			}
			sections[o.api] = true
		}
		info[o.op] = o
		if azSpecs[o.op].run == nil {
			t.Errorf("%s has no call in azSpecs", o.op)
		}
		if o.api == "" || o.call == "" || o.note == "" || (len(o.notFor) > 0) != (o.notWhy != "") {
			t.Errorf("%s is not fully documented", o.op)
		}
	}
	if len(azSpecs) != len(azOps) {
		t.Errorf("azSpecs has %d ops, azOps %d", len(azSpecs), len(azOps))
	}
	cells := map[azOp]map[[2]string]bool{}
	for _, r := range azTable {
		o, ok := info[r.op]
		switch {
		case !ok:
			t.Errorf("row %v: op not in azOps", r)
			continue
		case !slices.Contains(azCallers, r.caller) || slices.Contains(o.notFor, r.caller):
			t.Errorf("row %v: caller does not apply", r)
		case r.want == "":
			t.Errorf("row %v: no outcome", r)
		}
		if cells[r.op] == nil {
			cells[r.op] = map[[2]string]bool{}
		}
		k := [2]string{string(r.channel), string(r.caller)}
		if cells[r.op][k] {
			t.Errorf("row %v: duplicate", r)
		}
		cells[r.op][k] = true
	}
	for _, o := range azOps {
		chans := azOpChannels(o.op)
		var set []azChannel
		for _, s := range azChannelsOf {
			if slices.Equal(s, chans) {
				set = s
			}
		}
		if set == nil {
			t.Errorf("%s: rows on channels %v, want one of %v", o.op, chans, azChannelsOf)
			continue
		}
		for _, ch := range set {
			for _, c := range azCallers {
				if !slices.Contains(o.notFor, c) && !cells[o.op][[2]string{string(ch), string(c)}] {
					t.Errorf("%s: no row for %s on %s", o.op, c, ch)
				}
			}
		}
	}
}

// azOpChannels lists the channels of an op's rows, in the order of
// azChannelsOf's sets.
func azOpChannels(op azOp) []azChannel {
	var out []azChannel
	for _, ch := range []azChannel{NoChannel, Pub, Priv, PubU, PubR, PrivU, PrivR} {
		for _, r := range azTable {
			if r.op == op && r.channel == ch {
				out = append(out, ch)
				break
			}
		}
	}
	return out
}

// TestAuthorizationDoc checks that docs/authorization.md is the table's
// rendering; with -update it writes it.
func TestAuthorizationDoc(t *testing.T) {
	azCheckTable(t)
	want := azRenderDoc()
	if *update {
		if err := os.WriteFile(azDocPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(azDocPath)
	if err != nil {
		t.Fatalf("%v; write it with: go test ./e2e -run TestAuthorizationDoc -update", err)
	}
	if string(got) == want {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w || i >= len(gl) || i >= len(wl) {
			t.Fatalf("docs/authorization.md is not the rendering of the authorization table; first difference at line %d:\n  file:  %q\n  table: %q\nRegenerate it with: go test ./e2e -run TestAuthorizationDoc -update", i+1, g, w)
		}
	}
}

// azDocIntro starts docs/authorization.md.
const azDocIntro = `# Authorization

<!-- Generated from e2e/authz_table_test.go by TestAuthorizationDoc; do not edit.
     Regenerate with: go test ./e2e -run TestAuthorizationDoc -update -->

Who may call each Messaging operation, on which channel, and what everyone else gets instead. Every
cell below is a row of the authorization matrix test (` + "`e2e/authz_matrix_test.go`" + `), which makes the call
through the AWS SDK for Go against a Carillon server and checks the answer.

The rules come from the AWS Developer Guide's table "Understanding authorization by role" (cited as DG)
and the Messaging API reference, with Carillon's rulings (` + "`docs/compatibility.md`" + `, section Rulings; cited
as "ruling N") where those are silent or disagree.

## Roles

- **AppInstanceAdmin**: a user or bot promoted with the Identity API's CreateAppInstanceAdmin. It has a
  moderator's rights on every channel of its AppInstance, and alone may delete messages.
- **Moderator**: a per-channel role, given with CreateChannelModerator (the creator of a channel is its
  first moderator, and a member).
- **Member**: a DEFAULT member takes part; a HIDDEN member observes (receives the channel's events but
  cannot send) and is listed only to moderators and admins.
- **Non-member**: any other user of the AppInstance. A banned user is a non-member that may not join.

Roles stack: an admin or moderator that is also a member has both sets of rights. The callers below hold
one role each, so that each column shows that role alone.

## Gates

A request passes two gates:

1. **The key gate.** The root key may act as any bearer (` + "`x-amz-chime-bearer`" + `). A per-user key, issued by
   ` + "`carillon credentials create`" + `, may act only as the AppInstanceUser or AppInstanceBot it is bound to
   (ruling 4): any other bearer answers ForbiddenException before any service rule runs. This stands for
   the IAM policy check in AWS.
2. **The service rules**, by the bearer's role in the channel, whatever the key: the grids below. The root
   key adds no rights; it acts with exactly the bearer's.

## Callers

`

// azCallerDoc describes the callers for the documentation.
var azCallerDoc = []struct {
	c         azCaller
	key, role string
}{
	{Admin, "its own", "itself: an AppInstanceAdmin, with no role in the channel"},
	{Moderator, "its own", "itself: a moderator of the channel, not a member"},
	{Member, "its own", "itself: a DEFAULT member"},
	{Hidden, "its own", "itself: a HIDDEN member"},
	{NonMember, "its own", "itself: a user of the AppInstance with no role in the channel"},
	{Banned, "its own", "itself: banned from the channel (it was a member)"},
	{Foreign, "its own", "itself: a user of another AppInstance"},
	{Root, "the root key", "Member"},
	{WrongKey, "NonMember's", "Member"},
}

// azRenderDoc renders the table as Markdown.
func azRenderDoc() string {
	var b strings.Builder
	b.WriteString(azDocIntro)
	b.WriteString("| Caller | Key | Bearer and role |\n|---|---|---|\n")
	for _, d := range azCallerDoc {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", d.c, d.key, d.role)
	}
	b.WriteString(`
Each call names other users of the AppInstance, none of them a caller: **the creator** (the channel's
creator, a moderator and member of it; "the other user" of the ` + "`*AppInstanceUser`" + ` operations), **the peer**
(a DEFAULT member, with a message of its own) and **the newcomer** (no role in the channel). A message "the
bearer sent" was sent while the caller was a DEFAULT member: Admin, Moderator and NonMember left the channel
afterwards, Hidden came back as a HIDDEN member, Banned was banned. Calls that change something each run on a
channel of their own, set up the same way.

## Reading the grids

One section per operation; one grid per way of calling it. Rows are callers, columns the channel's privacy
and, where it matters, its mode (PUBLIC and PRIVATE alone mean an UNRESTRICTED channel).

- ✓: allowed.
- Forbidden, NotFound, Conflict: the call answers ForbiddenException (403), NotFoundException (404),
  ConflictException (409).
- ` + "`Errors[Forbidden]`" + `: BatchCreateChannelMembership succeeds, but lists the member in ` + "`Errors`" + ` with
  ErrorCode Forbidden instead of adding it.
- —: the call makes no sense for that caller (the note says why).

## Not in the grids

- Operations that take no ` + "`ChimeBearer`" + ` act as no user: in AWS only IAM principals call them, and in
  Carillon only the root credentials do; a per-user key gets ForbiddenException. They are the whole Identity
  API, the channel-flow operations other than AssociateChannelFlow and DisassociateChannelFlow
  (CreateChannelFlow, DescribeChannelFlow, UpdateChannelFlow, DeleteChannelFlow, ListChannelFlows,
  ListChannelsAssociatedWithChannelFlow, ChannelFlowCallback), the messaging streaming configurations and
  the tag operations (tests: ` + "`TestPerUserKeyForbidden`" + `, ` + "`e2e/flows_ops_test.go`" + `, ` + "`e2e/streaming_test.go`" + `).
  GetMessagingSessionEndpoint takes no bearer either, and any key may call it.
- ListSubChannels, on an elastic channel: its moderators and the AppInstanceAdmins; members and everyone
  else get ForbiddenException. In an elastic channel the message and membership operations follow the
  grids, and a member's calls are further confined to its own sub-channel (` + "`e2e/messaging_elastic_test.go`" + `).
`)
	cell := map[azOp]map[[2]string]azOutcome{}
	for _, r := range azTable {
		if cell[r.op] == nil {
			cell[r.op] = map[[2]string]azOutcome{}
		}
		cell[r.op][[2]string{string(r.channel), string(r.caller)}] = r.want
	}
	api := ""
	for _, o := range azOps {
		if o.api != api {
			api = o.api
			fmt.Fprintf(&b, "\n## %s\n", api)
		}
		fmt.Fprintf(&b, "\n**%s** %s\n\n", o.call, o.note)
		if len(o.notFor) > 0 {
			fmt.Fprintf(&b, "— for %s: %s.\n\n", azJoin(o.notFor), o.notWhy)
		}
		chans := azOpChannels(o.op)
		b.WriteString("| Caller |")
		for _, ch := range chans {
			if ch == NoChannel {
				b.WriteString(" any channel |")
			} else {
				fmt.Fprintf(&b, " %s |", ch)
			}
		}
		b.WriteString("\n|---|" + strings.Repeat(":---:|", len(chans)) + "\n")
		for _, c := range azCallers {
			fmt.Fprintf(&b, "| %s |", c)
			for _, ch := range chans {
				fmt.Fprintf(&b, " %s |", azCell(cell[o.op][[2]string{string(ch), string(c)}]))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// azCell is how an outcome shows in a grid.
func azCell(o azOutcome) string {
	switch {
	case o == "":
		return "—"
	case o == Allow:
		return "✓"
	case strings.HasSuffix(string(o), "Exception"):
		return strings.TrimSuffix(string(o), "Exception")
	}
	return "`" + string(o) + "`"
}

func azJoin(cs []azCaller) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
