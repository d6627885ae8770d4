package flows

import (
	"context"
	"errors"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/idem"
	"github.com/carillonhq/carillon/internal/paging"
	"github.com/carillonhq/carillon/tagging"
)

// The operations on flows carry no bearer: only the root credentials may
// call them (the key gate of package server), as only developers may in
// AWS. Where an operation models no NotFoundException, a flow or
// AppInstance that does not exist answers ForbiddenException (docs/compatibility.md,
// ruling 1).

// CreateChannelFlow creates a flow of 1 to 3 processors in an AppInstance.
// A retry with the same ClientRequestToken returns the first flow.
func (s *Service) CreateChannelFlow(ctx context.Context, in *messagingapi.CreateChannelFlowRequest) (*messagingapi.CreateChannelFlowResponse, error) {
	procs, err := processorsFrom(in.Processors)
	if err != nil {
		return nil, err
	}
	tags := tagging.From(in.Tags)
	if err := tagging.CheckTags(tags); err != nil {
		return nil, err
	}
	app := *in.AppInstanceArn
	var arn string
	err = s.update(ctx, func(tx carillon.Tx) error {
		var err error
		arn, _, err = idem.Do(tx, idem.Scope(ctx, "CreateChannelFlow", ""), in.ClientRequestToken, idem.Fingerprint(in), func() (string, error) {
			if _, err := tx.GetAppInstance(app); isNotFound(err) {
				return "", noAppInstance(app)
			} else if err != nil {
				return "", err
			}
			if n := s.limits.FlowsPerAppInstance; n > 0 {
				rows, err := tx.ListChannelFlows(app, carillon.Page{Limit: n})
				if err != nil {
					return "", err
				}
				if len(rows) >= n {
					return "", carillon.Errorf(carillon.ResourceLimitExceeded, "The AppInstance already has the maximum of %d channel flows", n)
				}
			}
			now := tx.Now()
			f := &carillon.ChannelFlow{
				ARN:            s.arns.Child(app, carillon.TypeChannelFlow, s.newID()),
				AppInstanceARN: app,
				Name:           *in.Name,
				Processors:     procs,
				Created:        now,
				Updated:        now,
			}
			if err := tx.CreateChannelFlow(f); errors.Is(err, carillon.ErrExists) {
				return "", carillon.Errorf(carillon.Conflict, "The channel flow %s already exists", f.ARN)
			} else if isNotFound(err) {
				return "", noAppInstance(app)
			} else if err != nil {
				return "", err
			}
			if len(tags) > 0 {
				if err := tx.PutTags(f.ARN, tags); err != nil {
					return "", err
				}
			}
			return f.ARN, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.CreateChannelFlowResponse{ChannelFlowArn: &arn}, nil
}

// DescribeChannelFlow returns a flow.
func (s *Service) DescribeChannelFlow(ctx context.Context, in *messagingapi.DescribeChannelFlowRequest) (*messagingapi.DescribeChannelFlowResponse, error) {
	var f *carillon.ChannelFlow
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		f, err = flowOrForbidden(tx, *in.ChannelFlowArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.DescribeChannelFlowResponse{ChannelFlow: &messagingapi.ChannelFlow{
		ChannelFlowArn:       api.String(f.ARN),
		Name:                 api.String(f.Name),
		Processors:           processorsShape(f.Processors),
		CreatedTimestamp:     api.TimestampOf(f.Created),
		LastUpdatedTimestamp: api.TimestampOf(f.Updated),
	}}, nil
}

// UpdateChannelFlow replaces a flow's name and processors. Messages the
// flow holds go on with the new processors, from the step they are at.
func (s *Service) UpdateChannelFlow(ctx context.Context, in *messagingapi.UpdateChannelFlowRequest) (*messagingapi.UpdateChannelFlowResponse, error) {
	procs, err := processorsFrom(in.Processors)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx carillon.Tx) error {
		f, err := flowOrForbidden(tx, *in.ChannelFlowArn)
		if err != nil {
			return err
		}
		f.Name, f.Processors, f.Updated = *in.Name, procs, tx.Now()
		return tx.UpdateChannelFlow(f)
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.UpdateChannelFlowResponse{ChannelFlowArn: in.ChannelFlowArn}, nil
}

// DeleteChannelFlow deletes a flow that no channel is associated with
// (ConflictException otherwise). Messages it still holds, from channels
// disassociated since, are delivered as they stand.
func (s *Service) DeleteChannelFlow(ctx context.Context, in *messagingapi.DeleteChannelFlowRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		f, err := flowOrForbidden(tx, *in.ChannelFlowArn)
		if err != nil {
			return err
		}
		chs, err := tx.ListChannelsWithFlow(f.ARN, carillon.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(chs) > 0 {
			return carillon.Errorf(carillon.Conflict, "The channel flow %s is associated with channels (%s…); disassociate them first", f.ARN, chs[0].ARN)
		}
		// The flow's tags go with it.
		return tx.DeleteChannelFlow(f.ARN)
	})
}

// ListChannelFlows pages through an AppInstance's flows.
func (s *Service) ListChannelFlows(ctx context.Context, in *messagingapi.ListChannelFlowsRequest) (*messagingapi.ListChannelFlowsResponse, error) {
	app := *in.AppInstanceArn
	flows, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.ChannelFlow, error) {
			if _, err := tx.GetAppInstance(app); isNotFound(err) {
				return nil, noAppInstance(app)
			} else if err != nil {
				return nil, err
			}
			return tx.ListChannelFlows(app, p)
		},
		func(f *carillon.ChannelFlow) string { return f.ARN },
		func(f *carillon.ChannelFlow) messagingapi.ChannelFlowSummary {
			return messagingapi.ChannelFlowSummary{ChannelFlowArn: api.String(f.ARN), Name: api.String(f.Name), Processors: processorsShape(f.Processors)}
		})
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListChannelFlowsResponse{ChannelFlows: flows, NextToken: next}, nil
}

// ListChannelsAssociatedWithChannelFlow pages through the channels a flow
// serves.
func (s *Service) ListChannelsAssociatedWithChannelFlow(ctx context.Context, in *messagingapi.ListChannelsAssociatedWithChannelFlowRequest) (*messagingapi.ListChannelsAssociatedWithChannelFlowResponse, error) {
	channels, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
			f, err := flowOrForbidden(tx, *in.ChannelFlowArn)
			if err != nil {
				return nil, err
			}
			return tx.ListChannelsWithFlow(f.ARN, p)
		},
		func(c *carillon.Channel) string { return c.ARN },
		func(c *carillon.Channel) messagingapi.ChannelAssociatedWithFlowSummary {
			mode, privacy := messagingapi.ChannelMode(c.Mode), messagingapi.ChannelPrivacy(c.Privacy)
			return messagingapi.ChannelAssociatedWithFlowSummary{
				ChannelArn: api.String(c.ARN), Name: api.String(c.Name), Mode: &mode, Privacy: &privacy, Metadata: optional(c.Metadata),
			}
		})
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListChannelsAssociatedWithChannelFlowResponse{Channels: channels, NextToken: next}, nil
}

// AssociateChannelFlow puts a channel's messages through a flow of the
// same AppInstance. Only moderators of the channel and AppInstanceAdmins
// may. A channel has at most one flow: associating another one answers
// ConflictException; associating the same one again changes nothing.
func (s *Service) AssociateChannelFlow(ctx context.Context, in *messagingapi.AssociateChannelFlowRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		ch, err := s.msg.ModeratedChannel(tx, *in.ChimeBearer, *in.ChannelArn, "associate a channel flow with the channel")
		if err != nil {
			return err
		}
		f, err := flowOrNotFound(tx, *in.ChannelFlowArn)
		if err != nil {
			return err
		}
		switch {
		case f.AppInstanceARN != ch.AppInstanceARN:
			return carillon.Errorf(carillon.BadRequest, "The channel flow %s belongs to another AppInstance than the channel", f.ARN)
		case ch.FlowARN == f.ARN:
			return nil
		case ch.FlowARN != "":
			return carillon.Errorf(carillon.Conflict, "The channel is already associated with the channel flow %s; disassociate it first", ch.FlowARN)
		}
		ch.FlowARN, ch.Updated = f.ARN, tx.Now()
		return tx.UpdateChannel(ch)
	})
}

// DisassociateChannelFlow stops putting a channel's messages through its
// flow. Messages the flow already holds finish their way through it.
func (s *Service) DisassociateChannelFlow(ctx context.Context, in *messagingapi.DisassociateChannelFlowRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		ch, err := s.msg.ModeratedChannel(tx, *in.ChimeBearer, *in.ChannelArn, "disassociate a channel flow from the channel")
		if err != nil {
			return err
		}
		f, err := flowOrNotFound(tx, *in.ChannelFlowArn)
		if err != nil {
			return err
		}
		switch ch.FlowARN {
		case "":
			return carillon.Errorf(carillon.NotFound, "The channel is not associated with a channel flow")
		case f.ARN:
		default:
			return carillon.Errorf(carillon.Conflict, "The channel is associated with another channel flow, %s", ch.FlowARN)
		}
		ch.FlowARN, ch.Updated = "", tx.Now()
		return tx.UpdateChannel(ch)
	})
}

func noAppInstance(arn string) error {
	return carillon.Errorf(carillon.Forbidden, "AppInstance %s does not exist or is not accessible", arn)
}

func flowOrForbidden(tx carillon.Tx, arn string) (*carillon.ChannelFlow, error) {
	f, err := tx.GetChannelFlow(arn)
	if isNotFound(err) {
		return nil, carillon.Errorf(carillon.Forbidden, "Channel flow %s does not exist or is not accessible", arn)
	}
	return f, err
}

func flowOrNotFound(tx carillon.Tx, arn string) (*carillon.ChannelFlow, error) {
	f, err := tx.GetChannelFlow(arn)
	if isNotFound(err) {
		return nil, carillon.Errorf(carillon.NotFound, "Channel flow %s does not exist", arn)
	}
	return f, err
}

// processorsFrom checks what the model cannot: ExecutionOrder values are
// distinct and number the processors 1 to N.
func processorsFrom(in []messagingapi.Processor) ([]carillon.Processor, error) {
	out := make([]carillon.Processor, len(in))
	seen := map[int]bool{}
	for i, p := range in {
		order := int(api.Deref(p.ExecutionOrder))
		if order < 1 || order > len(in) || seen[order] {
			return nil, carillon.Errorf(carillon.BadRequest,
				"The ExecutionOrder values of the processors must be distinct and number them from 1 to %d; processor %q has %d", len(in), api.Deref(p.Name), order)
		}
		seen[order] = true
		out[i] = carillon.Processor{
			Name:           api.Deref(p.Name),
			ExecutionOrder: order,
			FallbackAction: string(api.Deref(p.FallbackAction)),
		}
		if p.Configuration != nil && p.Configuration.Lambda != nil {
			out[i].LambdaARN = api.Deref(p.Configuration.Lambda.ResourceArn)
			out[i].InvocationType = string(api.Deref(p.Configuration.Lambda.InvocationType))
		}
	}
	return out, nil
}

func processorsShape(ps []carillon.Processor) []messagingapi.Processor {
	out := make([]messagingapi.Processor, len(ps))
	for i, p := range ps {
		it := messagingapi.InvocationType(p.InvocationType)
		fa := messagingapi.FallbackAction(p.FallbackAction)
		out[i] = messagingapi.Processor{
			Name:           api.String(p.Name),
			ExecutionOrder: api.Int32(int32(p.ExecutionOrder)),
			FallbackAction: &fa,
			Configuration: &messagingapi.ProcessorConfiguration{Lambda: &messagingapi.LambdaConfiguration{
				ResourceArn: api.String(p.LambdaARN), InvocationType: &it,
			}},
		}
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
