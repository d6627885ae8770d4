package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/google/uuid"
)

// TestFlowErrors answers each modelled error of the channel flow
// operations that Carillon has a case for. (UnauthorizedClient,
// ThrottledClient, ServiceUnavailable and ServiceFailure are those of
// every operation; DescribeChannelFlow, ListChannelFlows and
// UpdateChannelFlow have no case of ConflictException.)
func TestFlowErrors(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	ctx := t.Context()
	raw := e.client(e.srv.Config)
	raw = chimesdkmessaging.New(raw.Options(), skipMessagingValidation)
	member := e.as(t, e.bob)

	flow := e.flow(t, flProc{name: "rewrite"})
	otherFlow := e.flow(t, flProc{name: "sync"})
	ch := e.channel(t, flow)
	plain := e.channel(t, "")
	missingFlow := e.app + "/channel-flow/00000000-0000-4000-8000-000000000000"
	missingApp := arnPrefix + "app-instance/00000000-0000-4000-8000-000000000000"
	missingChannel := e.app + "/channel/nope"
	// A flow of another AppInstance.
	otherApp, err := e.id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("other")})
	mustOK(t, err, "CreateAppInstance")
	foreign, err := e.msg.CreateChannelFlow(ctx, &chimesdkmessaging.CreateChannelFlowInput{
		AppInstanceArn: otherApp.AppInstanceArn, Name: aws.String("foreign"), Processors: processorsOf(flProc{name: "sync"}), ClientRequestToken: aws.String(uuid.NewString()),
	})
	mustOK(t, err, "CreateChannelFlow in another AppInstance")
	// A message held by the flow, and its event.
	msgID, _ := e.send(t, e.alice, ch, "held")
	ev := e.procs.event(t, "rewrite")

	createIn := func(mod func(*chimesdkmessaging.CreateChannelFlowInput)) *chimesdkmessaging.CreateChannelFlowInput {
		in := &chimesdkmessaging.CreateChannelFlowInput{
			AppInstanceArn: aws.String(e.app), Name: aws.String("f"), Processors: processorsOf(flProc{name: "sync"}), ClientRequestToken: aws.String(uuid.NewString()),
		}
		mod(in)
		return in
	}
	usedToken := uuid.NewString()
	_, err = e.msg.CreateChannelFlow(ctx, createIn(func(in *chimesdkmessaging.CreateChannelFlowInput) { in.ClientRequestToken = aws.String(usedToken) }))
	mustOK(t, err, "CreateChannelFlow")
	callbackIn := func(mod func(*chimesdkmessaging.ChannelFlowCallbackInput)) *chimesdkmessaging.ChannelFlowCallbackInput {
		in := &chimesdkmessaging.ChannelFlowCallbackInput{
			CallbackId: aws.String(ev.CallbackID), ChannelArn: aws.String(ch),
			ChannelMessage: &mtypes.ChannelMessageCallback{MessageId: aws.String(msgID), Content: aws.String("ok")},
		}
		mod(in)
		return in
	}

	const (
		badRequest = "BadRequestException"
		forbidden  = "ForbiddenException"
		notFound   = "NotFoundException"
		conflict   = "ConflictException"
		limit      = "ResourceLimitExceededException"
	)
	cases := []struct {
		name string
		call func(ctx context.Context) error
		want string
		// in, for a BadRequestException, is a part of its message.
		in string
	}{
		// CreateChannelFlow
		{"Create/DuplicateExecutionOrder", func(ctx context.Context) error {
			_, err := e.msg.CreateChannelFlow(ctx, createIn(func(in *chimesdkmessaging.CreateChannelFlowInput) {
				in.Processors = processorsOf(flProc{name: "a", order: 1}, flProc{name: "b", order: 1})
			}))
			return err
		}, badRequest, "ExecutionOrder"},
		{"Create/ExecutionOrderGap", func(ctx context.Context) error {
			_, err := e.msg.CreateChannelFlow(ctx, createIn(func(in *chimesdkmessaging.CreateChannelFlowInput) {
				in.Processors = processorsOf(flProc{name: "a", order: 2})
			}))
			return err
		}, badRequest, "ExecutionOrder"},
		{"Create/LambdaArnPattern", func(ctx context.Context) error {
			_, err := raw.CreateChannelFlow(ctx, createIn(func(in *chimesdkmessaging.CreateChannelFlowInput) {
				in.Processors[0].Configuration.Lambda.ResourceArn = aws.String("arn:aws:sqs:us-east-1:123456789012:queue")
			}))
			return err
		}, badRequest, "Processors.member.1.Configuration.Lambda.ResourceArn"},
		{"Create/FourProcessors", func(ctx context.Context) error {
			_, err := raw.CreateChannelFlow(ctx, createIn(func(in *chimesdkmessaging.CreateChannelFlowInput) {
				in.Processors = processorsOf(flProc{name: "a"}, flProc{name: "b"}, flProc{name: "c"}, flProc{name: "d", order: 3})
			}))
			return err
		}, badRequest, "Processors"},
		{"Create/FallbackActionEnum", func(ctx context.Context) error {
			_, err := raw.CreateChannelFlow(ctx, createIn(func(in *chimesdkmessaging.CreateChannelFlowInput) {
				in.Processors[0].FallbackAction = "RETRY"
			}))
			return err
		}, badRequest, "FallbackAction"},
		{"Create/MissingAppInstance", func(ctx context.Context) error {
			_, err := e.msg.CreateChannelFlow(ctx, createIn(func(in *chimesdkmessaging.CreateChannelFlowInput) { in.AppInstanceArn = aws.String(missingApp) }))
			return err
		}, forbidden, ""},
		{"Create/PerUserKey", func(ctx context.Context) error {
			_, err := member.CreateChannelFlow(ctx, createIn(func(*chimesdkmessaging.CreateChannelFlowInput) {}))
			return err
		}, forbidden, ""},
		{"Create/TokenReused", func(ctx context.Context) error {
			_, err := e.msg.CreateChannelFlow(ctx, createIn(func(in *chimesdkmessaging.CreateChannelFlowInput) {
				in.ClientRequestToken = aws.String(usedToken)
				in.Name = aws.String("another")
			}))
			return err
		}, conflict, ""},

		// DescribeChannelFlow
		{"Describe/ArnPattern", func(ctx context.Context) error {
			_, err := raw.DescribeChannelFlow(ctx, &chimesdkmessaging.DescribeChannelFlowInput{ChannelFlowArn: aws.String("flow")})
			return err
		}, badRequest, "ChannelFlowArn"},
		{"Describe/Missing", func(ctx context.Context) error {
			_, err := e.msg.DescribeChannelFlow(ctx, &chimesdkmessaging.DescribeChannelFlowInput{ChannelFlowArn: aws.String(missingFlow)})
			return err
		}, forbidden, ""},

		// UpdateChannelFlow
		{"Update/DuplicateExecutionOrder", func(ctx context.Context) error {
			_, err := e.msg.UpdateChannelFlow(ctx, &chimesdkmessaging.UpdateChannelFlowInput{ChannelFlowArn: aws.String(flow), Name: aws.String("n"),
				Processors: processorsOf(flProc{name: "a", order: 2}, flProc{name: "b", order: 2})})
			return err
		}, badRequest, "ExecutionOrder"},
		{"Update/NameMissing", func(ctx context.Context) error {
			_, err := raw.UpdateChannelFlow(ctx, &chimesdkmessaging.UpdateChannelFlowInput{ChannelFlowArn: aws.String(flow), Processors: processorsOf(flProc{name: "a"})})
			return err
		}, badRequest, "Name"},
		{"Update/Missing", func(ctx context.Context) error {
			_, err := e.msg.UpdateChannelFlow(ctx, &chimesdkmessaging.UpdateChannelFlowInput{ChannelFlowArn: aws.String(missingFlow), Name: aws.String("n"), Processors: processorsOf(flProc{name: "a"})})
			return err
		}, forbidden, ""},

		// DeleteChannelFlow
		{"Delete/ArnPattern", func(ctx context.Context) error {
			_, err := raw.DeleteChannelFlow(ctx, &chimesdkmessaging.DeleteChannelFlowInput{ChannelFlowArn: aws.String("flow")})
			return err
		}, badRequest, "ChannelFlowArn"},
		{"Delete/Missing", func(ctx context.Context) error {
			_, err := e.msg.DeleteChannelFlow(ctx, &chimesdkmessaging.DeleteChannelFlowInput{ChannelFlowArn: aws.String(missingFlow)})
			return err
		}, forbidden, ""},
		{"Delete/Associated", func(ctx context.Context) error {
			_, err := e.msg.DeleteChannelFlow(ctx, &chimesdkmessaging.DeleteChannelFlowInput{ChannelFlowArn: aws.String(flow)})
			return err
		}, conflict, ""},

		// ListChannelFlows
		{"List/MaxResultsZero", func(ctx context.Context) error {
			_, err := raw.ListChannelFlows(ctx, &chimesdkmessaging.ListChannelFlowsInput{AppInstanceArn: aws.String(e.app), MaxResults: aws.Int32(0)})
			return err
		}, badRequest, "MaxResults"},
		{"List/BadNextToken", func(ctx context.Context) error {
			_, err := e.msg.ListChannelFlows(ctx, &chimesdkmessaging.ListChannelFlowsInput{AppInstanceArn: aws.String(e.app), NextToken: aws.String("garbage")})
			return err
		}, badRequest, "NextToken"},
		{"List/MissingAppInstance", func(ctx context.Context) error {
			_, err := e.msg.ListChannelFlows(ctx, &chimesdkmessaging.ListChannelFlowsInput{AppInstanceArn: aws.String(missingApp)})
			return err
		}, forbidden, ""},

		// AssociateChannelFlow
		{"Associate/OtherAppInstance", func(ctx context.Context) error {
			_, err := e.msg.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{ChannelArn: aws.String(plain), ChannelFlowArn: foreign.ChannelFlowArn, ChimeBearer: aws.String(e.alice)})
			return err
		}, badRequest, "another AppInstance"},
		{"Associate/Member", func(ctx context.Context) error {
			_, err := member.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{ChannelArn: aws.String(plain), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(e.bob)})
			return err
		}, forbidden, ""},
		{"Associate/MissingChannel", func(ctx context.Context) error {
			_, err := e.msg.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{ChannelArn: aws.String(missingChannel), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(e.alice)})
			return err
		}, forbidden, ""},
		{"Associate/MissingFlow", func(ctx context.Context) error {
			_, err := e.msg.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{ChannelArn: aws.String(plain), ChannelFlowArn: aws.String(missingFlow), ChimeBearer: aws.String(e.alice)})
			return err
		}, notFound, ""},
		{"Associate/AnotherFlowAssociated", func(ctx context.Context) error {
			_, err := e.msg.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(otherFlow), ChimeBearer: aws.String(e.alice)})
			return err
		}, conflict, ""},

		// DisassociateChannelFlow
		{"Disassociate/ArnPattern", func(ctx context.Context) error {
			_, err := raw.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{ChannelArn: aws.String(ch), ChannelFlowArn: aws.String("flow"), ChimeBearer: aws.String(e.alice)})
			return err
		}, badRequest, "ChannelFlowArn"},
		{"Disassociate/Member", func(ctx context.Context) error {
			_, err := member.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(e.bob)})
			return err
		}, forbidden, ""},
		{"Disassociate/MissingFlow", func(ctx context.Context) error {
			_, err := e.msg.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(missingFlow), ChimeBearer: aws.String(e.alice)})
			return err
		}, notFound, ""},
		{"Disassociate/NoFlowAssociated", func(ctx context.Context) error {
			_, err := e.msg.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{ChannelArn: aws.String(plain), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(e.alice)})
			return err
		}, notFound, ""},
		{"Disassociate/AnotherFlowAssociated", func(ctx context.Context) error {
			_, err := e.msg.DisassociateChannelFlow(ctx, &chimesdkmessaging.DisassociateChannelFlowInput{ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(otherFlow), ChimeBearer: aws.String(e.alice)})
			return err
		}, conflict, ""},

		// ListChannelsAssociatedWithChannelFlow
		{"ListChannels/BadNextToken", func(ctx context.Context) error {
			_, err := e.msg.ListChannelsAssociatedWithChannelFlow(ctx, &chimesdkmessaging.ListChannelsAssociatedWithChannelFlowInput{ChannelFlowArn: aws.String(flow), NextToken: aws.String("garbage")})
			return err
		}, badRequest, "NextToken"},
		{"ListChannels/MissingFlow", func(ctx context.Context) error {
			_, err := e.msg.ListChannelsAssociatedWithChannelFlow(ctx, &chimesdkmessaging.ListChannelsAssociatedWithChannelFlowInput{ChannelFlowArn: aws.String(missingFlow)})
			return err
		}, forbidden, ""},

		// ChannelFlowCallback
		{"Callback/CallbackIdTooShort", func(ctx context.Context) error {
			_, err := e.msg.ChannelFlowCallback(ctx, callbackIn(func(in *chimesdkmessaging.ChannelFlowCallbackInput) { in.CallbackId = aws.String("short") }))
			return err
		}, badRequest, "CallbackId"},
		{"Callback/OtherMessage", func(ctx context.Context) error {
			_, err := e.msg.ChannelFlowCallback(ctx, callbackIn(func(in *chimesdkmessaging.ChannelFlowCallbackInput) {
				in.ChannelMessage.MessageId = aws.String("other")
			}))
			return err
		}, badRequest, "MessageId"},
		{"Callback/ContentTooLong", func(ctx context.Context) error {
			_, err := e.msg.ChannelFlowCallback(ctx, callbackIn(func(in *chimesdkmessaging.ChannelFlowCallbackInput) {
				in.ChannelMessage.Content = aws.String(strings.Repeat("x", 4097))
			}))
			return err
		}, badRequest, "Content"},
		{"Callback/UnknownCallbackId", func(ctx context.Context) error {
			_, err := e.msg.ChannelFlowCallback(ctx, callbackIn(func(in *chimesdkmessaging.ChannelFlowCallbackInput) {
				in.CallbackId = aws.String(strings.Repeat("0", 64))
			}))
			return err
		}, forbidden, ""},
		{"Callback/OtherChannel", func(ctx context.Context) error {
			_, err := e.msg.ChannelFlowCallback(ctx, callbackIn(func(in *chimesdkmessaging.ChannelFlowCallbackInput) { in.ChannelArn = aws.String(plain) }))
			return err
		}, forbidden, ""},
		{"Callback/PerUserKey", func(ctx context.Context) error {
			_, err := member.ChannelFlowCallback(ctx, callbackIn(func(*chimesdkmessaging.ChannelFlowCallbackInput) {}))
			return err
		}, forbidden, ""},

		// GetChannelMessageStatus of someone else's message.
		{"GetChannelMessageStatus/NotTheSender", func(ctx context.Context) error {
			_, err := e.status(t, e.bob, ch, msgID)
			return err
		}, forbidden, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := wantError(t, c.call(t.Context()), c.want)
			if c.in != "" && msg != "" && !strings.Contains(msg, c.in) {
				t.Errorf("message %q does not mention %q", msg, c.in)
			}
		})
	}

	// None of the refused callbacks touched the held message; a repeated
	// callback after it was finished with other content is a conflict.
	e.wantStatus(t, e.alice, ch, msgID, mtypes.ChannelMessageStatusPending)
	_, err = e.msg.ChannelFlowCallback(ctx, callbackIn(func(*chimesdkmessaging.ChannelFlowCallbackInput) {}))
	mustOK(t, err, "ChannelFlowCallback")
	_, err = e.msg.ChannelFlowCallback(ctx, callbackIn(func(in *chimesdkmessaging.ChannelFlowCallbackInput) { in.DeleteResource = true }))
	wantError(t, err, conflict)
	e.wantStatus(t, e.alice, ch, msgID, mtypes.ChannelMessageStatusSent)
}

// TestFlowLimit: an AppInstance holds at most 100 flows.
func TestFlowLimit(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	for i := range 100 {
		_, err := e.msg.CreateChannelFlow(t.Context(), &chimesdkmessaging.CreateChannelFlowInput{
			AppInstanceArn: aws.String(e.app), Name: aws.String("f"), Processors: processorsOf(flProc{name: "sync"}), ClientRequestToken: aws.String(uuid.NewString()),
		})
		mustOK(t, err, "CreateChannelFlow %d", i)
	}
	_, err := e.msg.CreateChannelFlow(t.Context(), &chimesdkmessaging.CreateChannelFlowInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("f"), Processors: processorsOf(flProc{name: "sync"}), ClientRequestToken: aws.String(uuid.NewString()),
	})
	wantError(t, err, "ResourceLimitExceededException")
}
