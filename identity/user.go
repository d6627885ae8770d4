package identity

import (
	"context"
	"errors"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/internal/paging"
)

// CreateAppInstanceUser creates a user whose ARN ends in the client's
// AppInstanceUserId.
func (s *Service) CreateAppInstanceUser(ctx context.Context, in *identityapi.CreateAppInstanceUserRequest) (*identityapi.CreateAppInstanceUserResponse, error) {
	arn, err := s.create(ctx, "CreateAppInstanceUser", in, in.ClientRequestToken, in.Tags, func(tx carillon.Tx) (string, error) {
		if _, err := tx.GetAppInstance(*in.AppInstanceArn); err != nil {
			return "", notFound(err, false, "AppInstance", *in.AppInstanceArn)
		}
		u := &carillon.AppInstanceUser{
			ARN:            s.arns.Child(*in.AppInstanceArn, carillon.TypeUser, *in.AppInstanceUserId),
			AppInstanceARN: *in.AppInstanceArn,
			Name:           *in.Name,
			Metadata:       api.Deref(in.Metadata),
			Expiration:     expirationFrom(in.ExpirationSettings),
			Created:        tx.Now(),
			Updated:        tx.Now(),
		}
		if err := tx.CreateUser(u); errors.Is(err, carillon.ErrExists) {
			return "", carillon.Errorf(carillon.Conflict, "AppInstanceUser %s already exists", u.ARN)
		} else if err != nil {
			return "", err
		}
		return u.ARN, nil
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.CreateAppInstanceUserResponse{AppInstanceUserArn: &arn}, nil
}

// DescribeAppInstanceUser returns a user.
func (s *Service) DescribeAppInstanceUser(ctx context.Context, in *identityapi.DescribeAppInstanceUserRequest) (*identityapi.DescribeAppInstanceUserResponse, error) {
	var u *carillon.AppInstanceUser
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		u, err = tx.GetUser(*in.AppInstanceUserArn)
		return notFound(err, false, "AppInstanceUser", *in.AppInstanceUserArn)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.DescribeAppInstanceUserResponse{AppInstanceUser: &identityapi.AppInstanceUser{
		AppInstanceUserArn:   api.String(u.ARN),
		Name:                 api.String(u.Name),
		Metadata:             optional(u.Metadata),
		CreatedTimestamp:     api.TimestampOf(u.Created),
		LastUpdatedTimestamp: api.TimestampOf(u.Updated),
		ExpirationSettings:   expirationShape(u.Expiration),
	}}, nil
}

// UpdateAppInstanceUser replaces a user's name and metadata.
func (s *Service) UpdateAppInstanceUser(ctx context.Context, in *identityapi.UpdateAppInstanceUserRequest) (*identityapi.UpdateAppInstanceUserResponse, error) {
	err := s.update(ctx, func(tx carillon.Tx) error {
		u, err := tx.GetUser(*in.AppInstanceUserArn)
		if err != nil {
			return notFound(err, false, "AppInstanceUser", *in.AppInstanceUserArn)
		}
		u.Name, u.Metadata, u.Updated = *in.Name, *in.Metadata, tx.Now()
		return tx.UpdateUser(u)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.UpdateAppInstanceUserResponse{AppInstanceUserArn: in.AppInstanceUserArn}, nil
}

// DeleteAppInstanceUser deletes a user with its endpoints, admin role,
// tags and access keys.
func (s *Service) DeleteAppInstanceUser(ctx context.Context, in *identityapi.DeleteAppInstanceUserRequest) error {
	return s.deleteMember(ctx, "AppInstanceUser", *in.AppInstanceUserArn, carillon.Tx.DeleteUser)
}

// ListAppInstanceUsers pages through an AppInstance's users.
func (s *Service) ListAppInstanceUsers(ctx context.Context, in *identityapi.ListAppInstanceUsersRequest) (*identityapi.ListAppInstanceUsersResponse, error) {
	app := *in.AppInstanceArn
	users, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.AppInstanceUser, error) {
			if _, err := tx.GetAppInstance(app); err != nil {
				return nil, notFound(err, false, "AppInstance", app)
			}
			return tx.ListUsers(app, p)
		},
		func(u *carillon.AppInstanceUser) string { return u.ARN },
		func(u *carillon.AppInstanceUser) identityapi.AppInstanceUserSummary {
			return identityapi.AppInstanceUserSummary{AppInstanceUserArn: api.String(u.ARN), Name: api.String(u.Name), Metadata: optional(u.Metadata)}
		})
	if err != nil {
		return nil, err
	}
	return &identityapi.ListAppInstanceUsersResponse{AppInstanceArn: in.AppInstanceArn, AppInstanceUsers: users, NextToken: next}, nil
}

// PutAppInstanceUserExpirationSettings sets, or without settings removes,
// when a user is deleted; package jobs deletes it once due
// (ExpireAppInstanceUser).
func (s *Service) PutAppInstanceUserExpirationSettings(ctx context.Context, in *identityapi.PutAppInstanceUserExpirationSettingsRequest) (*identityapi.PutAppInstanceUserExpirationSettingsResponse, error) {
	exp := expirationFrom(in.ExpirationSettings)
	err := s.update(ctx, func(tx carillon.Tx) error {
		u, err := tx.GetUser(*in.AppInstanceUserArn)
		if err != nil {
			return notFound(err, false, "AppInstanceUser", *in.AppInstanceUserArn)
		}
		u.Expiration, u.Updated = exp, tx.Now()
		return tx.UpdateUser(u)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.PutAppInstanceUserExpirationSettingsResponse{
		AppInstanceUserArn: in.AppInstanceUserArn,
		ExpirationSettings: expirationShape(exp),
	}, nil
}

func expirationFrom(in *identityapi.ExpirationSettings) *carillon.ExpirationSettings {
	if in == nil || in.ExpirationDays == nil || in.ExpirationCriterion == nil {
		return nil
	}
	return &carillon.ExpirationSettings{Days: int(*in.ExpirationDays), Criterion: string(*in.ExpirationCriterion)}
}

func expirationShape(e *carillon.ExpirationSettings) *identityapi.ExpirationSettings {
	if e == nil {
		return nil
	}
	c := identityapi.ExpirationCriterion(e.Criterion)
	return &identityapi.ExpirationSettings{ExpirationDays: api.Int32(int32(e.Days)), ExpirationCriterion: &c}
}
