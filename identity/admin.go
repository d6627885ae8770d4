package identity

import (
	"context"
	"errors"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/internal/paging"
)

// CreateAppInstanceAdmin promotes a user or bot of the AppInstance.
func (s *Service) CreateAppInstanceAdmin(ctx context.Context, in *identityapi.CreateAppInstanceAdminRequest) (*identityapi.CreateAppInstanceAdminResponse, error) {
	aiARN, adminARN := *in.AppInstanceArn, *in.AppInstanceAdminArn
	var name string
	err := s.update(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetAppInstance(aiARN); err != nil {
			return notFound(err, false, "AppInstance", aiARN)
		}
		var err error
		if name, err = s.memberName(tx, aiARN, adminARN); err != nil {
			return err
		}
		n, err := tx.CountAdmins(aiARN)
		if err != nil {
			return err
		}
		if s.limits.AdminsPerAppInstance > 0 && n >= s.limits.AdminsPerAppInstance {
			return carillon.Errorf(carillon.ResourceLimitExceeded, "The AppInstance already has the maximum of %d AppInstanceAdmins", s.limits.AdminsPerAppInstance)
		}
		err = tx.CreateAdmin(&carillon.AppInstanceAdmin{AppInstanceARN: aiARN, AdminARN: adminARN, Created: tx.Now()})
		if errors.Is(err, carillon.ErrExists) {
			return carillon.Errorf(carillon.Conflict, "%s is already an AppInstanceAdmin of %s", adminARN, aiARN)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.CreateAppInstanceAdminResponse{
		AppInstanceAdmin: identityOf(adminARN, name),
		AppInstanceArn:   &aiARN,
	}, nil
}

// memberName checks that arn is a user or bot of the AppInstance and
// returns its name.
func (s *Service) memberName(tx carillon.Tx, aiARN, arn string) (string, error) {
	r, ok := carillon.ParseResource(arn)
	if !ok || (r.Type != carillon.TypeUser && r.Type != carillon.TypeBot) || r.AppInstanceARN() != aiARN {
		return "", carillon.Errorf(carillon.BadRequest, "%s is not an AppInstanceUser or AppInstanceBot of %s", arn, aiARN)
	}
	switch r.Type {
	case carillon.TypeUser:
		u, err := tx.GetUser(arn)
		if err != nil {
			return "", notFound(err, false, "AppInstanceUser", arn)
		}
		return u.Name, nil
	default:
		b, err := tx.GetBot(arn)
		if err != nil {
			return "", notFound(err, false, "AppInstanceBot", arn)
		}
		return b.Name, nil
	}
}

// DescribeAppInstanceAdmin returns an admin.
func (s *Service) DescribeAppInstanceAdmin(ctx context.Context, in *identityapi.DescribeAppInstanceAdminRequest) (*identityapi.DescribeAppInstanceAdminResponse, error) {
	var a *carillon.AppInstanceAdmin
	var name string
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		a, err = tx.GetAdmin(*in.AppInstanceArn, *in.AppInstanceAdminArn)
		if err != nil {
			return notFound(err, false, "AppInstanceAdmin", *in.AppInstanceAdminArn)
		}
		name, err = carillon.NameOf(tx, a.AdminARN)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.DescribeAppInstanceAdminResponse{AppInstanceAdmin: &identityapi.AppInstanceAdmin{
		Admin:            identityOf(a.AdminARN, name),
		AppInstanceArn:   api.String(a.AppInstanceARN),
		CreatedTimestamp: api.TimestampOf(a.Created),
	}}, nil
}

// DeleteAppInstanceAdmin demotes an admin; the user or bot stays.
func (s *Service) DeleteAppInstanceAdmin(ctx context.Context, in *identityapi.DeleteAppInstanceAdminRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		return notFound(tx.DeleteAdmin(*in.AppInstanceArn, *in.AppInstanceAdminArn), false, "AppInstanceAdmin", *in.AppInstanceAdminArn)
	})
}

// ListAppInstanceAdmins pages through an AppInstance's admins.
func (s *Service) ListAppInstanceAdmins(ctx context.Context, in *identityapi.ListAppInstanceAdminsRequest) (*identityapi.ListAppInstanceAdminsResponse, error) {
	app := *in.AppInstanceArn
	// An admin is listed with its name, read with the page (the last row,
	// there to tell whether another page follows, included).
	type named struct {
		arn, name string
	}
	admins, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]named, error) {
			if _, err := tx.GetAppInstance(app); err != nil {
				return nil, notFound(err, false, "AppInstance", app)
			}
			rows, err := tx.ListAdmins(app, p)
			if err != nil {
				return nil, err
			}
			out := make([]named, len(rows))
			for i, a := range rows {
				out[i].arn = a.AdminARN
				if out[i].name, err = carillon.NameOf(tx, a.AdminARN); err != nil {
					return nil, err
				}
			}
			return out, nil
		},
		func(a *named) string { return a.arn },
		func(a *named) identityapi.AppInstanceAdminSummary {
			return identityapi.AppInstanceAdminSummary{Admin: identityOf(a.arn, a.name)}
		})
	if err != nil {
		return nil, err
	}
	return &identityapi.ListAppInstanceAdminsResponse{AppInstanceArn: in.AppInstanceArn, AppInstanceAdmins: admins, NextToken: next}, nil
}
