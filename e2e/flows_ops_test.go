package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/google/uuid"
)

// TestFlowCRUD creates, describes, lists, tags, updates and deletes flows.
func TestFlowCRUD(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	ctx := t.Context()
	token := uuid.NewString()
	create := &chimesdkmessaging.CreateChannelFlowInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("moderation"), ClientRequestToken: aws.String(token),
		Processors: processorsOf(flProc{name: "second", order: 2, fallback: mtypes.FallbackActionContinue}, flProc{name: "first", order: 1}),
		Tags:       []mtypes.Tag{{Key: aws.String("team"), Value: aws.String("trust")}},
	}
	out, err := e.msg.CreateChannelFlow(ctx, create)
	mustOK(t, err, "CreateChannelFlow")
	arn := aws.ToString(out.ChannelFlowArn)
	if !strings.HasPrefix(arn, e.app+"/channel-flow/") {
		t.Fatalf("flow ARN %q", arn)
	}
	// The same token and request: the same flow.
	again, err := e.msg.CreateChannelFlow(ctx, create)
	mustOK(t, err, "CreateChannelFlow again")
	if aws.ToString(again.ChannelFlowArn) != arn {
		t.Errorf("a retry created %s", aws.ToString(again.ChannelFlowArn))
	}

	d, err := e.msg.DescribeChannelFlow(ctx, &chimesdkmessaging.DescribeChannelFlowInput{ChannelFlowArn: aws.String(arn)})
	mustOK(t, err, "DescribeChannelFlow")
	f := d.ChannelFlow
	if aws.ToString(f.ChannelFlowArn) != arn || aws.ToString(f.Name) != "moderation" || f.CreatedTimestamp == nil || f.LastUpdatedTimestamp == nil || len(f.Processors) != 2 {
		t.Fatalf("DescribeChannelFlow %+v", f)
	}
	p := f.Processors[0] // in the order given
	if aws.ToString(p.Name) != "second" || aws.ToInt32(p.ExecutionOrder) != 2 || p.FallbackAction != mtypes.FallbackActionContinue ||
		aws.ToString(p.Configuration.Lambda.ResourceArn) != lambdaARN("second") || p.Configuration.Lambda.InvocationType != mtypes.InvocationTypeAsync {
		t.Errorf("processor %+v", p)
	}

	tags, err := e.msg.ListTagsForResource(ctx, &chimesdkmessaging.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	mustOK(t, err, "ListTagsForResource")
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("tags %+v", tags.Tags)
	}
	_, err = e.msg.TagResource(ctx, &chimesdkmessaging.TagResourceInput{ResourceARN: aws.String(arn), Tags: []mtypes.Tag{{Key: aws.String("env"), Value: aws.String("test")}}})
	mustOK(t, err, "TagResource")
	tags, _ = e.msg.ListTagsForResource(ctx, &chimesdkmessaging.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if len(tags.Tags) != 2 {
		t.Errorf("tags after TagResource %+v", tags.Tags)
	}

	_, err = e.msg.UpdateChannelFlow(ctx, &chimesdkmessaging.UpdateChannelFlowInput{
		ChannelFlowArn: aws.String(arn), Name: aws.String("renamed"), Processors: processorsOf(flProc{name: "sync"}),
	})
	mustOK(t, err, "UpdateChannelFlow")
	d, _ = e.msg.DescribeChannelFlow(ctx, &chimesdkmessaging.DescribeChannelFlowInput{ChannelFlowArn: aws.String(arn)})
	if aws.ToString(d.ChannelFlow.Name) != "renamed" || len(d.ChannelFlow.Processors) != 1 || aws.ToString(d.ChannelFlow.Processors[0].Name) != "sync" {
		t.Errorf("after UpdateChannelFlow %+v", d.ChannelFlow)
	}

	// Lists page.
	other := e.flow(t, flProc{name: "deny"})
	var listed []string
	var next *string
	for {
		l, err := e.msg.ListChannelFlows(ctx, &chimesdkmessaging.ListChannelFlowsInput{AppInstanceArn: aws.String(e.app), MaxResults: aws.Int32(1), NextToken: next})
		mustOK(t, err, "ListChannelFlows")
		if len(l.ChannelFlows) > 1 {
			t.Fatalf("a page of %d with MaxResults 1", len(l.ChannelFlows))
		}
		for _, s := range l.ChannelFlows {
			listed = append(listed, aws.ToString(s.ChannelFlowArn))
			if len(s.Processors) != 1 || aws.ToString(s.Name) == "" {
				t.Errorf("summary %+v", s)
			}
		}
		if next = l.NextToken; next == nil {
			break
		}
	}
	slices.Sort(listed)
	if want := sortedCopy(arn, other); !slices.Equal(listed, want) {
		t.Errorf("ListChannelFlows %v, want %v", listed, want)
	}

	// Associated channels; no delete while associated.
	c1, c2 := e.channel(t, arn), e.channel(t, arn)
	l, err := e.msg.ListChannelsAssociatedWithChannelFlow(ctx, &chimesdkmessaging.ListChannelsAssociatedWithChannelFlowInput{ChannelFlowArn: aws.String(arn)})
	mustOK(t, err, "ListChannelsAssociatedWithChannelFlow")
	var chs []string
	for _, c := range l.Channels {
		chs = append(chs, aws.ToString(c.ChannelArn))
		if aws.ToString(c.Name) != "flowing" || c.Mode != mtypes.ChannelModeUnrestricted || c.Privacy != mtypes.ChannelPrivacyPublic {
			t.Errorf("channel summary %+v", c)
		}
	}
	slices.Sort(chs)
	if !slices.Equal(chs, sortedCopy(c1, c2)) {
		t.Errorf("associated channels %v, want %v", chs, sortedCopy(c1, c2))
	}
	if c := e.describeChannel(t, c1); aws.ToString(c.ChannelFlowArn) != arn {
		t.Errorf("DescribeChannel ChannelFlowArn %q", aws.ToString(c.ChannelFlowArn))
	}
	_, err = e.msg.DeleteChannelFlow(ctx, &chimesdkmessaging.DeleteChannelFlowInput{ChannelFlowArn: aws.String(arn)})
	wantError(t, err, "ConflictException")
	for _, c := range []string{c1, c2} {
		_, err := e.msg.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{
			ChannelArn: aws.String(c), ChannelFlowArn: aws.String(arn), ChimeBearer: aws.String(e.alice),
		})
		mustOK(t, err, "DisassociateChannelFlow")
	}
	if c := e.describeChannel(t, c1); c.ChannelFlowArn != nil {
		t.Errorf("ChannelFlowArn %q after DisassociateChannelFlow", aws.ToString(c.ChannelFlowArn))
	}
	// Without the flow, messages are SENT at once.
	if _, status := e.send(t, e.alice, c1, "direct"); status != mtypes.ChannelMessageStatusSent {
		t.Errorf("status %s after DisassociateChannelFlow", status)
	}
	_, err = e.msg.DeleteChannelFlow(ctx, &chimesdkmessaging.DeleteChannelFlowInput{ChannelFlowArn: aws.String(arn)})
	mustOK(t, err, "DeleteChannelFlow")
	_, err = e.msg.DescribeChannelFlow(ctx, &chimesdkmessaging.DescribeChannelFlowInput{ChannelFlowArn: aws.String(arn)})
	mxForbidden(t, err)
	_, err = e.msg.ListTagsForResource(ctx, &chimesdkmessaging.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	mxForbidden(t, err)
}

// TestFlowAssociatePermissions: moderators and AppInstanceAdmins may
// associate and disassociate flows; members may not.
func TestFlowAssociatePermissions(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	ctx := t.Context()
	admin := e.user(t, "admin")
	_, err := e.id.CreateAppInstanceAdmin(ctx, &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: aws.String(e.app), AppInstanceAdminArn: aws.String(admin)})
	mustOK(t, err, "CreateAppInstanceAdmin")
	flow := e.flow(t, flProc{name: "sync"})
	ch := e.channel(t, "")
	assoc := func(c *chimesdkmessaging.Client, bearer string) error {
		_, err := c.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{
			ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(bearer),
		})
		return err
	}
	disassoc := func(c *chimesdkmessaging.Client, bearer string) error {
		_, err := c.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{
			ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(bearer),
		})
		return err
	}
	// bob is a member: no, with his own key or the root key; carol, who
	// is not even a member, neither.
	mxForbidden(t, assoc(e.as(t, e.bob), e.bob))
	mxForbidden(t, assoc(e.msg, e.bob))
	mxForbidden(t, assoc(e.msg, e.user(t, "carol")))
	// The admin, who is not even a member: yes.
	mustOK(t, assoc(e.as(t, admin), admin), "AssociateChannelFlow as an AppInstanceAdmin")
	// Again: no change, no error.
	mustOK(t, assoc(e.as(t, e.alice), e.alice), "AssociateChannelFlow again as the moderator")
	mxForbidden(t, disassoc(e.as(t, e.bob), e.bob))
	mustOK(t, disassoc(e.as(t, e.alice), e.alice), "DisassociateChannelFlow as the moderator")
	// A per-user key may not manage flows, which carry no bearer.
	_, err = e.as(t, e.alice).DescribeChannelFlow(ctx, &chimesdkmessaging.DescribeChannelFlowInput{ChannelFlowArn: aws.String(flow)})
	mxForbidden(t, err)
}

// TestFlowHeldMessageChanges: what happens to a held message when its
// message, flow or channel changes meanwhile.
func TestFlowHeldMessageChanges(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	ctx := t.Context()
	admin := e.user(t, "admin")
	_, err := e.id.CreateAppInstanceAdmin(ctx, &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: aws.String(e.app), AppInstanceAdminArn: aws.String(admin)})
	mustOK(t, err, "CreateAppInstanceAdmin")
	flow := e.flow(t, flProc{name: "rewrite"})
	ch := e.channel(t, flow)
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	// A held message cannot be redacted; an admin may delete it, and its
	// callback then announces nothing.
	id, _ := e.send(t, e.alice, ch, "doomed")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "doomed", "PENDING")
	ev := e.procs.event(t, "rewrite")
	_, err = e.msg.RedactChannelMessage(ctx, &chimesdkmessaging.RedactChannelMessageInput{ChannelArn: aws.String(ch), MessageId: aws.String(id), ChimeBearer: aws.String(e.alice)})
	wantError(t, err, "ConflictException")
	_, err = e.msg.DeleteChannelMessage(ctx, &chimesdkmessaging.DeleteChannelMessageInput{ChannelArn: aws.String(ch), MessageId: aws.String(id), ChimeBearer: aws.String(admin)})
	mustOK(t, err, "DeleteChannelMessage")
	// Only the sender, who alone saw it, hears of the deletion.
	expectEvent(t, alice, "DELETE_CHANNEL_MESSAGE", id, "", "")
	_, err = e.callback(t, ch, ev, "processed", false)
	mustOK(t, err, "ChannelFlowCallback of a deleted message")
	ctl := e.control(t, ch, "c1")
	expectControl(t, alice, ctl)
	expectControl(t, bob, ctl)

	// A message held when its flow is disassociated and deleted finishes
	// as it stands.
	id, _ = e.send(t, e.alice, ch, "orphan")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "orphan", "PENDING")
	ev = e.procs.event(t, "rewrite")
	_, err = e.msg.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(e.alice)})
	mustOK(t, err, "DisassociateChannelFlow")
	_, err = e.msg.DeleteChannelFlow(ctx, &chimesdkmessaging.DeleteChannelFlowInput{ChannelFlowArn: aws.String(flow)})
	mustOK(t, err, "DeleteChannelFlow")
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusPending)
	_, err = e.callback(t, ch, ev, "orphan (processed)", false)
	mustOK(t, err, "ChannelFlowCallback")
	expectEvent(t, alice, "CREATE_CHANNEL_MESSAGE", id, "orphan (processed)", "SENT")
	expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id, "orphan (processed)", "SENT")

	// A message held when its channel is deleted goes with the channel.
	flow = e.flow(t, flProc{name: "rewrite"})
	ch2 := e.channel(t, flow)
	id, _ = e.send(t, e.alice, ch2, "gone")
	ev = e.procs.event(t, "rewrite")
	_, err = e.msg.DeleteChannel(ctx, &chimesdkmessaging.DeleteChannelInput{ChannelArn: aws.String(ch2), ChimeBearer: aws.String(e.alice)})
	mustOK(t, err, "DeleteChannel")
	_, err = e.callback(t, ch2, ev, "too late", false)
	mxForbidden(t, err)
	if n := e.outboxCount(t, "CREATE_CHANNEL_MESSAGE", id); n != 0 {
		t.Errorf("%d CREATE_CHANNEL_MESSAGE events for a message of a deleted channel", n)
	}
}
