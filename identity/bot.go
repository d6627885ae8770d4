package identity

import (
	"context"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/internal/idem"
	"github.com/carillonhq/carillon/internal/paging"
	"github.com/carillonhq/carillon/tagging"
)

// CreateAppInstanceBot creates a bot with a generated id.
func (s *Service) CreateAppInstanceBot(ctx context.Context, in *identityapi.CreateAppInstanceBotRequest) (*identityapi.CreateAppInstanceBotResponse, error) {
	tags := tagging.From(in.Tags)
	if err := tagging.CheckTags(tags); err != nil {
		return nil, err
	}
	var arn string
	err := s.update(ctx, func(tx carillon.Tx) error {
		var err error
		arn, _, err = idem.Do(tx, idem.Scope(ctx, "CreateAppInstanceBot", ""), in.ClientRequestToken, idem.Fingerprint(in), func() (string, error) {
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
			if err := tx.CreateBot(b); err != nil {
				return "", err
			}
			if len(tags) > 0 {
				if err := tx.PutTags(b.ARN, tags); err != nil {
					return "", err
				}
			}
			return b.ARN, nil
		})
		return err
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
	page, limit, err := paging.Request(in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	var rows []carillon.AppInstanceBot
	if err := s.view(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetAppInstance(*in.AppInstanceArn); err != nil {
			return notFound(err, false, "AppInstance", *in.AppInstanceArn)
		}
		rows, err = tx.ListBots(*in.AppInstanceArn, page)
		return err
	}); err != nil {
		return nil, err
	}
	rows, next := paging.Trim(rows, limit, func(b *carillon.AppInstanceBot) string { return b.ARN })
	out := &identityapi.ListAppInstanceBotsResponse{
		AppInstanceArn:  in.AppInstanceArn,
		AppInstanceBots: make([]identityapi.AppInstanceBotSummary, len(rows)),
		NextToken:       next,
	}
	for i, b := range rows {
		out.AppInstanceBots[i] = identityapi.AppInstanceBotSummary{
			AppInstanceBotArn: api.String(b.ARN), Name: optional(b.Name), Metadata: optional(b.Metadata),
		}
	}
	return out, nil
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
