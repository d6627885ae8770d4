// Package identity implements the Chime SDK Identity API: AppInstances,
// their users, bots and admins, users' push endpoints, retention and
// expiration settings. It holds the rules of those operations; it knows
// nothing of HTTP (restjson binds requests to the generated shapes) or SQL
// (the carillon.Store keeps the data).
package identity

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/internal/idem"
	"github.com/carillonhq/carillon/tagging"
)

// Limits are the quotas the service enforces. AWS's defaults are per
// account and adjustable; Carillon enforces only the per-object quotas
// that the model lets it report (ResourceLimitExceededException).
type Limits struct {
	// AdminsPerAppInstance: AWS's default is 100.
	AdminsPerAppInstance int
	// EndpointsPerUser: AWS's default is 10.
	EndpointsPerUser int
}

// DefaultLimits are AWS's published defaults (Amazon Chime SDK messaging
// quotas, Amazon Chime SDK Developer Guide).
var DefaultLimits = Limits{AdminsPerAppInstance: 100, EndpointsPerUser: 10}

// Service implements the Identity operations.
type Service struct {
	store  carillon.Store
	arns   carillon.ARNs
	limits Limits
	newID  func() string
	// forget runs in the transaction that deletes a user or bot, before
	// the deletion (OnDeleteMember).
	forget func(tx carillon.Tx, memberARN string) error
}

// New returns the service over store; ARNs are formatted with arns.
func New(store carillon.Store, arns carillon.ARNs, limits Limits) *Service {
	return &Service{store: store, arns: arns, limits: limits, newID: func() string { return uuid.NewString() }}
}

// OnDeleteMember has f run in the transaction that deletes an
// AppInstanceUser or bot, before the store deletes it: the messaging
// service's hook (messaging.ForgetMember), which this package cannot call
// itself since messaging stands on it.
func (s *Service) OnDeleteMember(f func(tx carillon.Tx, memberARN string) error) {
	s.forget = f
}

// deleteMember deletes the user or bot arn (removeMember). A missing one
// is a NotFoundException naming what.
func (s *Service) deleteMember(ctx context.Context, what, arn string, del func(carillon.Tx, string) error) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		return notFound(s.removeMember(tx, arn, del), false, what, arn)
	})
}

// removeMember deletes the user or bot arn in tx with del
// (carillon.Tx.DeleteUser or DeleteBot), after the OnDeleteMember hook:
// the one path of every deletion of a bearer, by the API or by expiry.
func (s *Service) removeMember(tx carillon.Tx, arn string, del func(carillon.Tx, string) error) error {
	if s.forget != nil {
		if err := s.forget(tx, arn); err != nil {
			return err
		}
	}
	return del(tx, arn)
}

// Handlers binds the service to the operations of the generated model.
// The tagging operations, shared with the messaging API, are bound by the
// tagging package.
func (s *Service) Handlers() identityapi.Handlers {
	return identityapi.Handlers{
		CreateAppInstance:                    s.CreateAppInstance,
		DescribeAppInstance:                  s.DescribeAppInstance,
		UpdateAppInstance:                    s.UpdateAppInstance,
		DeleteAppInstance:                    s.DeleteAppInstance,
		ListAppInstances:                     s.ListAppInstances,
		PutAppInstanceRetentionSettings:      s.PutAppInstanceRetentionSettings,
		GetAppInstanceRetentionSettings:      s.GetAppInstanceRetentionSettings,
		CreateAppInstanceUser:                s.CreateAppInstanceUser,
		DescribeAppInstanceUser:              s.DescribeAppInstanceUser,
		UpdateAppInstanceUser:                s.UpdateAppInstanceUser,
		DeleteAppInstanceUser:                s.DeleteAppInstanceUser,
		ListAppInstanceUsers:                 s.ListAppInstanceUsers,
		PutAppInstanceUserExpirationSettings: s.PutAppInstanceUserExpirationSettings,
		CreateAppInstanceBot:                 s.CreateAppInstanceBot,
		DescribeAppInstanceBot:               s.DescribeAppInstanceBot,
		UpdateAppInstanceBot:                 s.UpdateAppInstanceBot,
		DeleteAppInstanceBot:                 s.DeleteAppInstanceBot,
		ListAppInstanceBots:                  s.ListAppInstanceBots,
		CreateAppInstanceAdmin:               s.CreateAppInstanceAdmin,
		DescribeAppInstanceAdmin:             s.DescribeAppInstanceAdmin,
		DeleteAppInstanceAdmin:               s.DeleteAppInstanceAdmin,
		ListAppInstanceAdmins:                s.ListAppInstanceAdmins,
		RegisterAppInstanceUserEndpoint:      s.RegisterAppInstanceUserEndpoint,
		DescribeAppInstanceUserEndpoint:      s.DescribeAppInstanceUserEndpoint,
		UpdateAppInstanceUserEndpoint:        s.UpdateAppInstanceUserEndpoint,
		DeregisterAppInstanceUserEndpoint:    s.DeregisterAppInstanceUserEndpoint,
		ListAppInstanceUserEndpoints:         s.ListAppInstanceUserEndpoints,
	}
}

// missing is the error for a resource that does not exist. Where the
// operation models NotFoundException the client gets it; elsewhere it gets
// ForbiddenException, the error AWS gives for a resource the caller cannot
// reach (docs/compatibility.md, ruling 1).
func missing(modelsNotFound bool, what, arn string) error {
	if modelsNotFound {
		return carillon.Errorf(carillon.NotFound, "%s %s does not exist", what, arn)
	}
	return carillon.Errorf(carillon.Forbidden, "%s %s does not exist or is not accessible", what, arn)
}

// notFound maps a store ErrNotFound to the error of the operation, and
// passes anything else through.
func notFound(err error, modelsNotFound bool, what, arn string) error {
	if errors.Is(err, carillon.ErrNotFound) {
		return missing(modelsNotFound, what, arn)
	}
	return err
}

func identityOf(arn, name string) *identityapi.Identity {
	return &identityapi.Identity{Arn: api.String(arn), Name: optional(name)}
}

// optional returns s, or nil when it is empty: an optional member that
// was never set is left out of responses, as AWS leaves it out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// create runs a creation guarded by a ClientRequestToken, in one
// transaction: the first request with a token runs make, which creates
// the resource and returns its ARN, and tags it; a retry with the same
// token and request returns that ARN again (package internal/idem). The
// tags are checked before anything is read.
func (s *Service) create(ctx context.Context, op string, in any, token *string, tags []identityapi.Tag, make func(tx carillon.Tx) (string, error)) (string, error) {
	ts := tagging.From(tags)
	if err := tagging.CheckTags(ts); err != nil {
		return "", err
	}
	fp := idem.Fingerprint(in)
	var arn string
	err := s.update(ctx, func(tx carillon.Tx) error {
		var err error
		arn, _, err = idem.Do(tx, idem.Scope(ctx, op, ""), token, fp, func() (string, error) {
			arn, err := make(tx)
			if err != nil || len(ts) == 0 {
				return arn, err
			}
			return arn, tx.PutTags(arn, ts)
		})
		return err
	})
	return arn, err
}

func (s *Service) update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.store.Update(ctx, fn)
}

func (s *Service) view(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.store.View(ctx, fn)
}
