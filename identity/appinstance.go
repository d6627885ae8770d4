package identity

import (
	"context"
	"errors"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/internal/paging"
)

// CreateAppInstance creates an AppInstance with a generated id.
func (s *Service) CreateAppInstance(ctx context.Context, in *identityapi.CreateAppInstanceRequest) (*identityapi.CreateAppInstanceResponse, error) {
	arn, err := s.create(ctx, "CreateAppInstance", in, in.ClientRequestToken, in.Tags, func(tx carillon.Tx) (string, error) {
		a := &carillon.AppInstance{
			ARN:      s.arns.AppInstance(s.newID()),
			Name:     api.Deref(in.Name),
			Metadata: api.Deref(in.Metadata),
			Created:  tx.Now(),
			Updated:  tx.Now(),
		}
		return a.ARN, tx.CreateAppInstance(a)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.CreateAppInstanceResponse{AppInstanceArn: &arn}, nil
}

// DescribeAppInstance returns an AppInstance.
func (s *Service) DescribeAppInstance(ctx context.Context, in *identityapi.DescribeAppInstanceRequest) (*identityapi.DescribeAppInstanceResponse, error) {
	var a *carillon.AppInstance
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		a, err = tx.GetAppInstance(*in.AppInstanceArn)
		return notFound(err, false, "AppInstance", *in.AppInstanceArn)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.DescribeAppInstanceResponse{AppInstance: &identityapi.AppInstance{
		AppInstanceArn:       api.String(a.ARN),
		Name:                 api.String(a.Name),
		Metadata:             optional(a.Metadata),
		CreatedTimestamp:     api.TimestampOf(a.Created),
		LastUpdatedTimestamp: api.TimestampOf(a.Updated),
	}}, nil
}

// UpdateAppInstance replaces an AppInstance's name and metadata.
func (s *Service) UpdateAppInstance(ctx context.Context, in *identityapi.UpdateAppInstanceRequest) (*identityapi.UpdateAppInstanceResponse, error) {
	err := s.update(ctx, func(tx carillon.Tx) error {
		a, err := tx.GetAppInstance(*in.AppInstanceArn)
		if err != nil {
			return notFound(err, false, "AppInstance", *in.AppInstanceArn)
		}
		a.Name, a.Metadata, a.Updated = *in.Name, *in.Metadata, tx.Now()
		return tx.UpdateAppInstance(a)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.UpdateAppInstanceResponse{AppInstanceArn: in.AppInstanceArn}, nil
}

// DeleteAppInstance deletes an AppInstance and everything in it. AWS
// deletes asynchronously; Carillon does it in one transaction, which a
// client cannot tell apart except that it is done sooner.
func (s *Service) DeleteAppInstance(ctx context.Context, in *identityapi.DeleteAppInstanceRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		if err := tx.DeleteAppInstance(*in.AppInstanceArn); err != nil {
			return notFound(err, false, "AppInstance", *in.AppInstanceArn)
		}
		return tx.AppendEvent(&carillon.Event{Type: carillon.EventBearerDeleted, Member: *in.AppInstanceArn, Payload: []byte("{}")})
	})
}

// ListAppInstances pages through the account's AppInstances.
func (s *Service) ListAppInstances(ctx context.Context, in *identityapi.ListAppInstancesRequest) (*identityapi.ListAppInstancesResponse, error) {
	apps, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.AppInstance, error) { return tx.ListAppInstances(p) },
		func(a *carillon.AppInstance) string { return a.ARN },
		func(a *carillon.AppInstance) identityapi.AppInstanceSummary {
			return identityapi.AppInstanceSummary{AppInstanceArn: api.String(a.ARN), Name: api.String(a.Name), Metadata: optional(a.Metadata)}
		})
	if err != nil {
		return nil, err
	}
	return &identityapi.ListAppInstancesResponse{AppInstances: apps, NextToken: next}, nil
}

// PutAppInstanceRetentionSettings sets how long channel messages are kept.
// An empty ChannelRetentionSettings turns retention off.
func (s *Service) PutAppInstanceRetentionSettings(ctx context.Context, in *identityapi.PutAppInstanceRetentionSettingsRequest) (*identityapi.PutAppInstanceRetentionSettingsResponse, error) {
	days := 0
	if c := in.AppInstanceRetentionSettings.ChannelRetentionSettings; c != nil && c.RetentionDays != nil {
		days = int(*c.RetentionDays)
	}
	var initiated time.Time
	err := s.update(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetAppInstance(*in.AppInstanceArn); err != nil {
			return notFound(err, false, "AppInstance", *in.AppInstanceArn)
		}
		initiated = tx.Now()
		var rs *carillon.RetentionSettings
		if days > 0 {
			rs = &carillon.RetentionSettings{ChannelDays: days, InitiatedAt: initiated}
		}
		return tx.PutRetentionSettings(*in.AppInstanceArn, rs)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.PutAppInstanceRetentionSettingsResponse{
		AppInstanceRetentionSettings: retentionShape(days),
		InitiateDeletionTimestamp:    api.TimestampOf(initiated),
	}, nil
}

// GetAppInstanceRetentionSettings returns the retention settings.
func (s *Service) GetAppInstanceRetentionSettings(ctx context.Context, in *identityapi.GetAppInstanceRetentionSettingsRequest) (*identityapi.GetAppInstanceRetentionSettingsResponse, error) {
	var rs *carillon.RetentionSettings
	err := s.view(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetAppInstance(*in.AppInstanceArn); err != nil {
			return notFound(err, false, "AppInstance", *in.AppInstanceArn)
		}
		var err error
		rs, err = tx.GetRetentionSettings(*in.AppInstanceArn)
		if errors.Is(err, carillon.ErrNotFound) {
			rs, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &identityapi.GetAppInstanceRetentionSettingsResponse{AppInstanceRetentionSettings: retentionShape(0)}
	if rs != nil {
		out.AppInstanceRetentionSettings = retentionShape(rs.ChannelDays)
		out.InitiateDeletionTimestamp = api.TimestampOf(rs.InitiatedAt)
	}
	return out, nil
}

func retentionShape(days int) *identityapi.AppInstanceRetentionSettings {
	out := &identityapi.AppInstanceRetentionSettings{}
	if days > 0 {
		out.ChannelRetentionSettings = &identityapi.ChannelRetentionSettings{RetentionDays: api.Int32(int32(days))}
	}
	return out
}
