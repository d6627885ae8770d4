// Package messaging implements the Chime SDK Messaging API: channels,
// memberships, moderators, bans and messages, with AWS's authorization
// rules, and the events every change announces. It knows nothing of HTTP
// (restjson binds requests to the generated shapes) or SQL (the
// carillon.Store keeps the data); every rule of who may do what lives here
// and only here.
package messaging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// Limits are the quotas the service enforces, with AWS's defaults in
// DefaultLimits (Amazon Chime SDK Developer Guide, messaging quotas).
type Limits struct {
	MembershipsPerChannel int // 10,000
	ModeratorsPerChannel  int // 1,000
	// ElasticMembershipsPerChannel bounds the members of an elastic
	// channel instead of MembershipsPerChannel, moderators not counted
	// (1,000,000, the CreateChannel documentation in api/models).
	ElasticMembershipsPerChannel int
}

// DefaultLimits are AWS's default quotas.
var DefaultLimits = Limits{MembershipsPerChannel: 10000, ModeratorsPerChannel: 1000, ElasticMembershipsPerChannel: 1000000}

// Config configures the service.
type Config struct {
	Store  carillon.Store
	ARNs   carillon.ARNs
	Limits Limits
	// SessionEndpoint returns the host:port GetMessagingSessionEndpoint
	// answers with: the TLS listener clients open wss:// connections to.
	SessionEndpoint func() string
	Options         Options
}

// Options are the settings of the messaging service a server exposes. The
// zero value of a field means its default.
type Options struct {
	// CallbackDeadline is how long each processor of a channel flow has
	// to call back (default DefaultCallbackDeadline). Later callbacks
	// answer ForbiddenException and the processor's FallbackAction
	// applies.
	CallbackDeadline time.Duration
}

func (o *Options) defaults() {
	if o.CallbackDeadline <= 0 {
		o.CallbackDeadline = DefaultCallbackDeadline
	}
}

// Service implements the Messaging operations.
type Service struct {
	store           carillon.Store
	arns            carillon.ARNs
	limits          Limits
	sessionEndpoint func() string
	// callbackDeadline bounds each step of a held message (held.go).
	callbackDeadline time.Duration
	newChannelID     func() string
	newMessageID     func() string
	newSubChannelID  func() string
}

// New returns the service.
func New(cfg Config) *Service {
	cfg.Options.defaults()
	return &Service{
		store:            cfg.Store,
		arns:             cfg.ARNs,
		limits:           cfg.Limits,
		sessionEndpoint:  cfg.SessionEndpoint,
		callbackDeadline: cfg.Options.CallbackDeadline,
		newChannelID:     uuid.NewString,
		newMessageID:     NewMessageID,
		newSubChannelID:  newSubChannelID,
	}
}

// newSubChannelID returns a time-ordered UUID (version 7), so that
// ListSubChannels, which pages by ID, lists sub-channels about in the
// order they were opened.
func newSubChannelID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// NewMessageID returns a 64-character hex id, the form AWS's message ids
// take: the time in milliseconds (6 bytes, big-endian), then 26 random
// bytes. The stores index messages by (channel, id): ids that grow with
// time add each message at the end of its channel's part of the index,
// one page the commits before wrote too, where random ids put every
// message on a page of its own, split every few messages.
func NewMessageID() string {
	var b [32]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// Handlers binds the service to the operations of the generated model.
// Tagging operations are bound by package tagging, the channel flow
// operations by package flows and the streaming configurations by package
// stream.
func (s *Service) Handlers() messagingapi.Handlers {
	return messagingapi.Handlers{
		CreateChannel:                          s.CreateChannel,
		DescribeChannel:                        s.DescribeChannel,
		UpdateChannel:                          s.UpdateChannel,
		DeleteChannel:                          s.DeleteChannel,
		ListChannels:                           s.ListChannels,
		SearchChannels:                         s.SearchChannels,
		ListChannelsModeratedByAppInstanceUser: s.ListChannelsModeratedByAppInstanceUser,
		DescribeChannelModeratedByAppInstanceUser:   s.DescribeChannelModeratedByAppInstanceUser,
		ListChannelMembershipsForAppInstanceUser:    s.ListChannelMembershipsForAppInstanceUser,
		DescribeChannelMembershipForAppInstanceUser: s.DescribeChannelMembershipForAppInstanceUser,
		PutChannelExpirationSettings:                s.PutChannelExpirationSettings,

		CreateChannelMembership:         s.CreateChannelMembership,
		BatchCreateChannelMembership:    s.BatchCreateChannelMembership,
		DeleteChannelMembership:         s.DeleteChannelMembership,
		DescribeChannelMembership:       s.DescribeChannelMembership,
		ListChannelMemberships:          s.ListChannelMemberships,
		GetChannelMembershipPreferences: s.GetChannelMembershipPreferences,
		PutChannelMembershipPreferences: s.PutChannelMembershipPreferences,

		CreateChannelModerator:   s.CreateChannelModerator,
		DeleteChannelModerator:   s.DeleteChannelModerator,
		DescribeChannelModerator: s.DescribeChannelModerator,
		ListChannelModerators:    s.ListChannelModerators,
		CreateChannelBan:         s.CreateChannelBan,
		DeleteChannelBan:         s.DeleteChannelBan,
		DescribeChannelBan:       s.DescribeChannelBan,
		ListChannelBans:          s.ListChannelBans,

		SendChannelMessage:      s.SendChannelMessage,
		GetChannelMessage:       s.GetChannelMessage,
		ListChannelMessages:     s.ListChannelMessages,
		UpdateChannelMessage:    s.UpdateChannelMessage,
		RedactChannelMessage:    s.RedactChannelMessage,
		DeleteChannelMessage:    s.DeleteChannelMessage,
		GetChannelMessageStatus: s.GetChannelMessageStatus,
		UpdateChannelReadMarker: s.UpdateChannelReadMarker,

		ListSubChannels: s.ListSubChannels,

		GetMessagingSessionEndpoint: s.GetMessagingSessionEndpoint,
	}
}

func (s *Service) update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.store.Update(ctx, fn)
}

func (s *Service) view(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.store.View(ctx, fn)
}

// forbidden is the error for anything the bearer may not do or see.
func forbidden(format string, args ...any) error {
	return carillon.Errorf(carillon.Forbidden, format, args...)
}

// isNotFound reports whether a store error is ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, carillon.ErrNotFound) }

// GetMessagingSessionEndpoint returns the host:port of the messaging
// session websocket.
func (s *Service) GetMessagingSessionEndpoint(ctx context.Context, _ *messagingapi.GetMessagingSessionEndpointRequest) (*messagingapi.GetMessagingSessionEndpointResponse, error) {
	url := ""
	if s.sessionEndpoint != nil {
		url = s.sessionEndpoint()
	}
	if url == "" {
		return nil, carillon.Errorf(carillon.ServiceUnavailable, "The messaging session endpoint is not available: the server has no TLS listener")
	}
	return &messagingapi.GetMessagingSessionEndpointResponse{
		Endpoint: &messagingapi.MessagingSessionEndpoint{Url: &url},
	}, nil
}
