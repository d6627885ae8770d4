package identity

import (
	"context"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/internal/idem"
	"github.com/carillonhq/carillon/internal/paging"
)

// RegisterAppInstanceUserEndpoint registers a device for push
// notifications. Registering the same device token of the same type again
// returns the endpoint already registered, so an app may register on every
// start. Carillon does not deliver push notifications; endpoints are kept
// and reported as AWS reports them.
func (s *Service) RegisterAppInstanceUserEndpoint(ctx context.Context, in *identityapi.RegisterAppInstanceUserEndpointRequest) (*identityapi.RegisterAppInstanceUserEndpointResponse, error) {
	userARN := *in.AppInstanceUserArn
	attrs := in.EndpointAttributes
	if attrs.VoipDeviceToken != nil && *in.Type == identityapi.AppInstanceUserEndpointTypeGcm {
		return nil, carillon.Errorf(carillon.BadRequest, "VoipDeviceToken applies only to APNS and APNS_SANDBOX endpoints")
	}
	allow := identityapi.AllowMessagesAll
	if in.AllowMessages != nil {
		allow = *in.AllowMessages
	}
	var id string
	err := s.update(ctx, func(tx carillon.Tx) error {
		var err error
		id, _, err = idem.Do(tx, idem.Scope(ctx, "RegisterAppInstanceUserEndpoint", userARN), in.ClientRequestToken, idem.Fingerprint(in), func() (string, error) {
			if _, err := tx.GetUser(userARN); err != nil {
				return "", notFound(err, false, "AppInstanceUser", userARN)
			}
			if existing, err := findEndpoint(tx, userARN, string(*in.Type), *attrs.DeviceToken); err != nil {
				return "", err
			} else if existing != nil {
				return existing.ID, refreshEndpoint(tx, existing, *in.ResourceArn, attrs.VoipDeviceToken)
			}
			n, err := tx.CountEndpoints(userARN)
			if err != nil {
				return "", err
			}
			if s.limits.EndpointsPerUser > 0 && n >= s.limits.EndpointsPerUser {
				return "", carillon.Errorf(carillon.ResourceLimitExceeded, "The AppInstanceUser already has the maximum of %d endpoints", s.limits.EndpointsPerUser)
			}
			e := &carillon.UserEndpoint{
				UserARN:         userARN,
				ID:              s.newID(),
				Name:            api.Deref(in.Name),
				Type:            string(*in.Type),
				ResourceARN:     *in.ResourceArn,
				DeviceToken:     *attrs.DeviceToken,
				VoipDeviceToken: api.Deref(attrs.VoipDeviceToken),
				AllowMessages:   string(allow),
				StateStatus:     string(identityapi.EndpointStatusActive),
				Created:         tx.Now(),
				Updated:         tx.Now(),
			}
			if err := tx.CreateEndpoint(e); err != nil {
				return "", err
			}
			return e.ID, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.RegisterAppInstanceUserEndpointResponse{AppInstanceUserArn: &userARN, EndpointId: &id}, nil
}

// findEndpoint returns the user's endpoint for a device token, nil when
// there is none.
func findEndpoint(tx carillon.Tx, userARN, typ, token string) (*carillon.UserEndpoint, error) {
	rows, err := tx.ListEndpoints(userARN, carillon.Page{})
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if rows[i].Type == typ && rows[i].DeviceToken == token {
			return &rows[i], nil
		}
	}
	return nil, nil
}

// refreshEndpoint applies a registration of a device token already
// registered: the app registers on every start, perhaps with another
// Pinpoint application or VoIP token, and an endpoint that push delivery
// made INACTIVE (INVALID_DEVICE_TOKEN, INVALID_PINPOINT_ARN) is ACTIVE
// again. Its name and AllowMessages, which the user may have changed
// with UpdateAppInstanceUserEndpoint, stay.
func refreshEndpoint(tx carillon.Tx, e *carillon.UserEndpoint, resourceARN string, voip *string) error {
	changed := e.ResourceARN != resourceARN || e.StateStatus != string(identityapi.EndpointStatusActive) ||
		voip != nil && *voip != e.VoipDeviceToken
	if !changed {
		return nil
	}
	e.ResourceARN, e.StateStatus, e.StateReason, e.Updated = resourceARN, string(identityapi.EndpointStatusActive), "", tx.Now()
	if voip != nil {
		e.VoipDeviceToken = *voip
	}
	return tx.UpdateEndpoint(e)
}

// DescribeAppInstanceUserEndpoint returns an endpoint.
func (s *Service) DescribeAppInstanceUserEndpoint(ctx context.Context, in *identityapi.DescribeAppInstanceUserEndpointRequest) (*identityapi.DescribeAppInstanceUserEndpointResponse, error) {
	var e *carillon.UserEndpoint
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		e, err = tx.GetEndpoint(*in.AppInstanceUserArn, *in.EndpointId)
		return notFound(err, false, "Endpoint", *in.EndpointId)
	})
	if err != nil {
		return nil, err
	}
	typ, allow := identityapi.AppInstanceUserEndpointType(e.Type), identityapi.AllowMessages(e.AllowMessages)
	out := &identityapi.AppInstanceUserEndpoint{
		AppInstanceUserArn:   api.String(e.UserARN),
		EndpointId:           api.String(e.ID),
		Name:                 optional(e.Name),
		Type:                 &typ,
		ResourceArn:          api.String(e.ResourceARN),
		EndpointAttributes:   &identityapi.EndpointAttributes{DeviceToken: api.String(e.DeviceToken)},
		AllowMessages:        &allow,
		EndpointState:        endpointState(e),
		CreatedTimestamp:     api.TimestampOf(e.Created),
		LastUpdatedTimestamp: api.TimestampOf(e.Updated),
	}
	if e.VoipDeviceToken != "" {
		out.EndpointAttributes.VoipDeviceToken = api.String(e.VoipDeviceToken)
	}
	return &identityapi.DescribeAppInstanceUserEndpointResponse{AppInstanceUserEndpoint: out}, nil
}

func endpointState(e *carillon.UserEndpoint) *identityapi.EndpointState {
	status := identityapi.EndpointStatus(e.StateStatus)
	st := &identityapi.EndpointState{Status: &status}
	if e.StateReason != "" {
		r := identityapi.EndpointStatusReason(e.StateReason)
		st.StatusReason = &r
	}
	return st
}

// UpdateAppInstanceUserEndpoint changes an endpoint's name and whether it
// receives messages; the only fields AWS lets a client change.
func (s *Service) UpdateAppInstanceUserEndpoint(ctx context.Context, in *identityapi.UpdateAppInstanceUserEndpointRequest) (*identityapi.UpdateAppInstanceUserEndpointResponse, error) {
	err := s.update(ctx, func(tx carillon.Tx) error {
		e, err := tx.GetEndpoint(*in.AppInstanceUserArn, *in.EndpointId)
		if err != nil {
			return notFound(err, false, "Endpoint", *in.EndpointId)
		}
		if in.Name != nil {
			e.Name = *in.Name
		}
		if in.AllowMessages != nil {
			e.AllowMessages = string(*in.AllowMessages)
		}
		e.Updated = tx.Now()
		return tx.UpdateEndpoint(e)
	})
	if err != nil {
		return nil, err
	}
	return &identityapi.UpdateAppInstanceUserEndpointResponse{AppInstanceUserArn: in.AppInstanceUserArn, EndpointId: in.EndpointId}, nil
}

// DeregisterAppInstanceUserEndpoint removes an endpoint.
func (s *Service) DeregisterAppInstanceUserEndpoint(ctx context.Context, in *identityapi.DeregisterAppInstanceUserEndpointRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		return notFound(tx.DeleteEndpoint(*in.AppInstanceUserArn, *in.EndpointId), false, "Endpoint", *in.EndpointId)
	})
}

// ListAppInstanceUserEndpoints pages through a user's endpoints.
func (s *Service) ListAppInstanceUserEndpoints(ctx context.Context, in *identityapi.ListAppInstanceUserEndpointsRequest) (*identityapi.ListAppInstanceUserEndpointsResponse, error) {
	user := *in.AppInstanceUserArn
	endpoints, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.UserEndpoint, error) {
			if _, err := tx.GetUser(user); err != nil {
				return nil, notFound(err, false, "AppInstanceUser", user)
			}
			return tx.ListEndpoints(user, p)
		},
		func(e *carillon.UserEndpoint) string { return e.ID },
		func(e *carillon.UserEndpoint) identityapi.AppInstanceUserEndpointSummary {
			typ, allow := identityapi.AppInstanceUserEndpointType(e.Type), identityapi.AllowMessages(e.AllowMessages)
			return identityapi.AppInstanceUserEndpointSummary{
				AppInstanceUserArn: api.String(e.UserARN),
				EndpointId:         api.String(e.ID),
				Name:               optional(e.Name),
				Type:               &typ,
				AllowMessages:      &allow,
				EndpointState:      endpointState(e),
			}
		})
	if err != nil {
		return nil, err
	}
	return &identityapi.ListAppInstanceUserEndpointsResponse{AppInstanceUserEndpoints: endpoints, NextToken: next}, nil
}
