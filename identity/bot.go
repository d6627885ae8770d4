package identity

import (
	"context"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/internal/paging"
)

// CreateAppInstanceBot creates a bot with a generated id.
func (s *Service) CreateAppInstanceBot(ctx context.Context, in *identityapi.CreateAppInstanceBotRequest) (*identityapi.CreateAppInstanceBotResponse, error) {
	arn, err := s.create(ctx, "CreateAppInstanceBot", in, in.ClientRequestToken, in.Tags, func(tx carillon.Tx) (string, error) {
		if _, err := tx.GetAppInstance(*in.AppInstanceArn); err != nil {
			return "", notFound(err, false, "AppInstance", *in.AppInstanceArn)
		}
		b := &carillon.AppInstanceBot{
			ARN:            s.arns.Child(*in.AppInstanceArn, carillon.TypeBot, s.newID()),
			AppInstanceARN: *in.AppInstanceArn,
			Name:           api.Deref(in.Name),
			Metadata:       api.Deref(in.Metadata),
			Lex:            lexFrom(in.Configuration),
			Created:        tx.Now(),
			Updated:        tx.Now(),
		}
		return b.ARN, tx.CreateBot(b)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.CreateAppInstanceBotResponse{AppInstanceBotArn: &arn}, nil
}

// DescribeAppInstanceBot returns a bot; this operation models
// NotFoundException.
func (s *Service) DescribeAppInstanceBot(ctx context.Context, in *identityapi.DescribeAppInstanceBotRequest) (*identityapi.DescribeAppInstanceBotResponse, error) {
	var b *carillon.AppInstanceBot
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		b, err = tx.GetBot(*in.AppInstanceBotArn)
		return notFound(err, true, "AppInstanceBot", *in.AppInstanceBotArn)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.DescribeAppInstanceBotResponse{AppInstanceBot: &identityapi.AppInstanceBot{
		AppInstanceBotArn:    api.String(b.ARN),
		Name:                 optional(b.Name),
		Metadata:             optional(b.Metadata),
		Configuration:        lexShape(b.Lex),
		CreatedTimestamp:     api.TimestampOf(b.Created),
		LastUpdatedTimestamp: api.TimestampOf(b.Updated),
	}}, nil
}

// UpdateAppInstanceBot replaces a bot's name and metadata, and its
// configuration when one is given.
func (s *Service) UpdateAppInstanceBot(ctx context.Context, in *identityapi.UpdateAppInstanceBotRequest) (*identityapi.UpdateAppInstanceBotResponse, error) {
	err := s.update(ctx, func(tx carillon.Tx) error {
		b, err := tx.GetBot(*in.AppInstanceBotArn)
		if err != nil {
			return notFound(err, false, "AppInstanceBot", *in.AppInstanceBotArn)
		}
		b.Name, b.Metadata, b.Updated = *in.Name, *in.Metadata, tx.Now()
		if in.Configuration != nil {
			b.Lex = lexFrom(in.Configuration)
		}
		return tx.UpdateBot(b)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.UpdateAppInstanceBotResponse{AppInstanceBotArn: in.AppInstanceBotArn}, nil
}

// DeleteAppInstanceBot deletes a bot with its admin role, tags and keys.
func (s *Service) DeleteAppInstanceBot(ctx context.Context, in *identityapi.DeleteAppInstanceBotRequest) error {
	return s.deleteMember(ctx, "AppInstanceBot", *in.AppInstanceBotArn, carillon.Tx.DeleteBot)
}

// ListAppInstanceBots pages through an AppInstance's bots.
func (s *Service) ListAppInstanceBots(ctx context.Context, in *identityapi.ListAppInstanceBotsRequest) (*identityapi.ListAppInstanceBotsResponse, error) {
	app := *in.AppInstanceArn
	bots, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.AppInstanceBot, error) {
			if _, err := tx.GetAppInstance(app); err != nil {
				return nil, notFound(err, false, "AppInstance", app)
			}
			return tx.ListBots(app, p)
		},
		func(b *carillon.AppInstanceBot) string { return b.ARN },
		func(b *carillon.AppInstanceBot) identityapi.AppInstanceBotSummary {
			return identityapi.AppInstanceBotSummary{AppInstanceBotArn: api.String(b.ARN), Name: optional(b.Name), Metadata: optional(b.Metadata)}
		})
	if err != nil {
		return nil, err
	}
	return &identityapi.ListAppInstanceBotsResponse{AppInstanceArn: in.AppInstanceArn, AppInstanceBots: bots, NextToken: next}, nil
}

func lexFrom(c *identityapi.Configuration) carillon.LexConfiguration {
	if c == nil || c.Lex == nil {
		return carillon.LexConfiguration{}
	}
	l := c.Lex
	out := carillon.LexConfiguration{
		LexBotAliasARN: api.Deref(l.LexBotAliasArn),
		LocaleID:       api.Deref(l.LocaleId),
		RespondsTo:     string(api.Deref(l.RespondsTo)),
		WelcomeIntent:  api.Deref(l.WelcomeIntent),
	}
	if l.InvokedBy != nil {
		out.InvokedBy = &carillon.InvokedBy{
			StandardMessages: string(api.Deref(l.InvokedBy.StandardMessages)),
			TargetedMessages: string(api.Deref(l.InvokedBy.TargetedMessages)),
		}
	}
	return out
}

func lexShape(l carillon.LexConfiguration) *identityapi.Configuration {
	out := &identityapi.LexConfiguration{
		LexBotAliasArn: api.String(l.LexBotAliasARN),
		LocaleId:       api.String(l.LocaleID),
	}
	if l.RespondsTo != "" {
		r := identityapi.RespondsTo(l.RespondsTo)
		out.RespondsTo = &r
	}
	if l.WelcomeIntent != "" {
		out.WelcomeIntent = api.String(l.WelcomeIntent)
	}
	if l.InvokedBy != nil {
		sm := identityapi.StandardMessages(l.InvokedBy.StandardMessages)
		tm := identityapi.TargetedMessages(l.InvokedBy.TargetedMessages)
		out.InvokedBy = &identityapi.InvokedBy{StandardMessages: &sm, TargetedMessages: &tm}
	}
	return &identityapi.Configuration{Lex: out}
}
