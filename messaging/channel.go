package messaging

import (
	"context"
	"errors"
	"slices"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/idem"
	"github.com/carillonhq/carillon/internal/paging"
	"github.com/carillonhq/carillon/tagging"
)

// Channel modes and privacies.
const (
	modeUnrestricted = string(messagingapi.ChannelModeUnrestricted)
	modeRestricted   = string(messagingapi.ChannelModeRestricted)
	privacyPublic    = string(messagingapi.ChannelPrivacyPublic)
	privacyPrivate   = string(messagingapi.ChannelPrivacyPrivate)
)

// CreateChannel creates a channel of the bearer's AppInstance. The creator
// becomes its moderator and, unless the channel is elastic, its first
// member; MemberArns join as DEFAULT members and ModeratorArns become
// moderators. An elastic channel starts with one empty sub-channel.
func (s *Service) CreateChannel(ctx context.Context, in *messagingapi.CreateChannelRequest) (*messagingapi.CreateChannelResponse, error) {
	tags := tagging.From(in.Tags)
	if err := tagging.CheckTags(tags); err != nil {
		return nil, err
	}
	mode, privacy := modeUnrestricted, privacyPublic
	if in.Mode != nil {
		mode = string(*in.Mode)
	}
	if in.Privacy != nil {
		privacy = string(*in.Privacy)
	}
	elastic := elasticFrom(in.ElasticChannelConfiguration)
	if elastic != nil {
		// Elastic channels (DG "create-elastic-channel"): RESTRICTED
		// only, and members join later, each into a sub-channel the
		// balancing picks (elastic.go).
		if mode != modeRestricted {
			return nil, carillon.Errorf(carillon.BadRequest, "An elastic channel must be RESTRICTED")
		}
		if len(in.MemberArns) > 0 {
			return nil, carillon.Errorf(carillon.BadRequest, "MemberArns cannot be given when creating an elastic channel")
		}
	}
	fp := idem.Fingerprint(in)

	var arn string
	err := s.update(ctx, func(tx carillon.Tx) error {
		a, err := s.bearer(tx, *in.ChimeBearer)
		if err != nil {
			return err
		}
		if a.appInstance != *in.AppInstanceArn {
			return forbidden("The bearer %s is not an AppInstanceUser or AppInstanceBot of %s", a.arn, *in.AppInstanceArn)
		}
		arn, _, err = idem.Do(tx, idem.Scope(ctx, "CreateChannel", a.arn), in.ClientRequestToken, fp, func() (string, error) {
			return s.createChannel(tx, a, in, mode, privacy, elastic, tags)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.CreateChannelResponse{ChannelArn: &arn}, nil
}

func (s *Service) createChannel(tx carillon.Tx, a *actor, in *messagingapi.CreateChannelRequest, mode, privacy string, elastic *carillon.ElasticConfig, tags []carillon.Tag) (string, error) {
	id := api.Deref(in.ChannelId)
	if id == "" {
		id = s.newChannelID()
	}
	ch := &carillon.Channel{
		ARN:            s.arns.Child(a.appInstance, carillon.TypeChannel, id),
		AppInstanceARN: a.appInstance,
		Name:           *in.Name,
		Mode:           mode,
		Privacy:        privacy,
		Metadata:       api.Deref(in.Metadata),
		CreatedBy:      a.arn,
		Elastic:        elastic,
		Expiration:     expirationFrom(in.ExpirationSettings),
		Created:        tx.Now(),
		Updated:        tx.Now(),
	}
	// Resolve every named member and moderator before writing anything.
	members := make([]string, 0, len(in.MemberArns))
	names := map[string]string{}
	for _, m := range uniq(in.MemberArns...) {
		name, err := s.memberRef(tx, ch, m)
		if err != nil {
			return "", err
		}
		members, names[m] = append(members, m), name
	}
	moderators := make([]string, 0, len(in.ModeratorArns))
	for _, m := range uniq(in.ModeratorArns...) {
		if _, err := s.memberRef(tx, ch, m); err != nil {
			return "", err
		}
		if m != a.arn {
			moderators = append(moderators, m)
		}
	}

	if err := tx.CreateChannel(ch); err != nil {
		if errors.Is(err, carillon.ErrExists) {
			return "", carillon.Errorf(carillon.Conflict, "The channel %s already exists", ch.ARN)
		}
		return "", err
	}
	if len(tags) > 0 {
		if err := tx.PutTags(ch.ARN, tags); err != nil {
			return "", err
		}
	}
	if err := announceChannel(tx, EventCreateChannel, ch); err != nil {
		return "", err
	}
	for _, m := range append([]string{a.arn}, moderators...) {
		if err := s.addModerator(tx, ch, a.arn, m); err != nil {
			return "", err
		}
	}
	if elastic != nil {
		// The creator of an elastic channel is its moderator only. The
		// channel starts with one sub-channel, empty, which moderators
		// may join before any member does (docs/compatibility.md,
		// ruling 27); it is never
		// merged away, being the last.
		return ch.ARN, s.openSubChannel(tx, ch, s.newSubChannelID())
	}
	by := a.asInviter()
	if _, err := s.addMember(tx, ch, by, a.arn, a.name, membershipDefault); err != nil {
		return "", err
	}
	for _, m := range members {
		if _, err := s.addMember(tx, ch, by, m, names[m], membershipDefault); err != nil {
			return "", err
		}
	}
	// No websocket event announces the channel itself (CREATE_CHANNEL
	// above is for the streaming export only): its members learn of it
	// from their CREATE_CHANNEL_MEMBERSHIP events.
	return ch.ARN, nil
}

// DescribeChannel returns a channel the bearer may see.
func (s *Service) DescribeChannel(ctx context.Context, in *messagingapi.DescribeChannelRequest) (*messagingapi.DescribeChannelResponse, error) {
	var out *messagingapi.Channel
	err := s.view(ctx, func(tx carillon.Tx) error {
		_, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		createdBy, err := carillon.NameOf(tx, ch.CreatedBy)
		if err != nil {
			return err
		}
		out = channelShape(ch, createdBy)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.DescribeChannelResponse{Channel: out}, nil
}

// UpdateChannel changes the name, mode and metadata given; privacy and
// the elastic configuration are immutable.
func (s *Service) UpdateChannel(ctx context.Context, in *messagingapi.UpdateChannelRequest) (*messagingapi.UpdateChannelResponse, error) {
	err := s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireModerate("update the channel"); err != nil {
			return err
		}
		if in.Mode != nil && ch.Elastic != nil && string(*in.Mode) != modeRestricted {
			return carillon.Errorf(carillon.BadRequest, "An elastic channel must stay RESTRICTED")
		}
		if in.Name != nil {
			ch.Name = *in.Name
		}
		if in.Mode != nil {
			ch.Mode = string(*in.Mode)
		}
		if in.Metadata != nil {
			ch.Metadata = *in.Metadata
		}
		ch.Updated = tx.Now()
		if err := tx.UpdateChannel(ch); err != nil {
			return err
		}
		createdBy, err := carillon.NameOf(tx, ch.CreatedBy)
		if err != nil {
			return err
		}
		return emit(tx, &carillon.Event{Type: EventUpdateChannel, Channel: ch.ARN, ToMembers: true}, channelEventPayload(ch, createdBy))
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.UpdateChannelResponse{ChannelArn: in.ChannelArn}, nil
}

// DeleteChannel deletes a channel with everything in it.
func (s *Service) DeleteChannel(ctx context.Context, in *messagingapi.DeleteChannelRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireModerate("delete the channel"); err != nil {
			return err
		}
		return deleteChannel(tx, ch)
	})
}

// deleteChannel announces DELETE_CHANNEL and deletes the channel with
// everything in it. The event goes first, while the channel still has the
// members it is delivered to. It stands for the memberships, moderators,
// bans and messages deleted with the channel: none of those gets an event
// of its own.
func deleteChannel(tx carillon.Tx, ch *carillon.Channel) error {
	createdBy, err := carillon.NameOf(tx, ch.CreatedBy)
	if err != nil {
		return err
	}
	e := &carillon.Event{Type: EventDeleteChannel, Channel: ch.ARN, ToMembers: true}
	if err := emit(tx, e, channelEventPayload(ch, createdBy)); err != nil {
		return err
	}
	return tx.DeleteChannel(ch.ARN)
}

// ListChannels pages through the PUBLIC channels of an AppInstance, or,
// for its AppInstanceAdmins, through its PRIVATE channels.
func (s *Service) ListChannels(ctx context.Context, in *messagingapi.ListChannelsRequest) (*messagingapi.ListChannelsResponse, error) {
	privacy := privacyPublic
	if in.Privacy != nil {
		privacy = string(*in.Privacy)
	}
	channels, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
			a, err := s.bearer(tx, *in.ChimeBearer)
			if err != nil {
				return nil, err
			}
			if a.appInstance != *in.AppInstanceArn {
				return nil, forbidden("The bearer %s is not an AppInstanceUser or AppInstanceBot of %s", a.arn, *in.AppInstanceArn)
			}
			// Without Privacy only PUBLIC channels are listed, also for
			// admins (amazon-chime-sdk-js issue #1369); PRIVATE ones are
			// listed for admins only: others find theirs with
			// ListChannelMembershipsForAppInstanceUser.
			if privacy == privacyPrivate && !a.admin {
				return nil, forbidden("Only an AppInstanceAdmin may list PRIVATE channels")
			}
			return tx.ListChannels(a.appInstance, privacy, p)
		}, channelKey, channelSummaryOf)
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListChannelsResponse{Channels: channels, NextToken: next}, nil
}

func channelKey(c *carillon.Channel) string { return c.ARN }

func channelSummaryOf(c *carillon.Channel) messagingapi.ChannelSummary { return *channelSummary(c) }

// SearchChannels finds channels by their members. Users and bots search
// the channels they are members of; AppInstanceAdmins every channel of
// their AppInstance.
//
// The fields are ANDed, and reduce to one query of the store: INCLUDES
// fields to the union of their values, which a channel must all have;
// EQUALS fields to their one common set (different sets match nothing),
// which must also hold every INCLUDES value (else nothing matches), and
// then is the query. Members are any memberships, DEFAULT or HIDDEN
// (undocumented).
func (s *Service) SearchChannels(ctx context.Context, in *messagingapi.SearchChannelsRequest) (*messagingapi.SearchChannelsResponse, error) {
	members, exact, none := searchQuery(in.Fields)
	bearer := api.Deref(in.ChimeBearer)
	channels, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
			var appInstance, scopedTo string
			if bearer != "" {
				a, err := s.bearer(tx, bearer)
				if err != nil {
					return nil, err
				}
				appInstance = a.appInstance
				if !a.admin {
					scopedTo = a.arn
				}
			} else {
				if c, ok := carillon.CallerFrom(ctx); ok && !c.Root {
					return nil, forbidden("SearchChannels without a bearer needs the root credentials")
				}
				// Without a bearer (a developer's call) the AppInstance is
				// the one the searched members belong to.
				var several bool
				appInstance, several = searchAppInstance(in.Fields)
				if appInstance == "" {
					return nil, carillon.Errorf(carillon.BadRequest, "SearchChannels without a bearer needs the Values to name AppInstanceUsers or AppInstanceBots")
				}
				// Members of several AppInstances share no channel.
				none = none || several
			}
			if none {
				return nil, nil
			}
			return tx.SearchChannelsByMembers(appInstance, members, exact, scopedTo, p)
		}, channelKey, channelSummaryOf)
	if err != nil {
		return nil, err
	}
	return &messagingapi.SearchChannelsResponse{Channels: channels, NextToken: next}, nil
}

// searchQuery reduces the ANDed search fields to one store query: the
// members a channel must have, whether it must have no others, and none
// when no channel can match.
func searchQuery(fields []messagingapi.SearchField) (members []string, exact, none bool) {
	var includes []string
	var equals []string // sorted, without duplicates
	for _, f := range fields {
		values := uniq(f.Values...)
		if api.Deref(f.Operator) != messagingapi.SearchFieldOperatorEquals {
			includes = append(includes, values...)
			continue
		}
		slices.Sort(values)
		if exact && !slices.Equal(values, equals) {
			return nil, false, true
		}
		equals, exact = values, true
	}
	includes = uniq(includes...)
	if !exact {
		return includes, false, false
	}
	for _, v := range includes {
		if _, found := slices.BinarySearch(equals, v); !found {
			return nil, false, true
		}
	}
	return equals, true, false
}

// searchAppInstance is the AppInstance of the users and bots the search
// values name, and whether they name more than one.
func searchAppInstance(fields []messagingapi.SearchField) (appInstance string, several bool) {
	for _, f := range fields {
		for _, v := range f.Values {
			r, ok := carillon.ParseResource(v)
			if !ok || (r.Type != carillon.TypeUser && r.Type != carillon.TypeBot) {
				continue
			}
			if appInstance == "" {
				appInstance = r.AppInstanceARN()
			} else if r.AppInstanceARN() != appInstance {
				several = true
			}
		}
	}
	return appInstance, several
}

// userFor is the user a *ForAppInstanceUser or *ModeratedByAppInstanceUser
// request names: the bearer when it names none.
func userFor(a *actor, userARN *string) (string, error) {
	user := api.Deref(userARN)
	if user == "" {
		user = a.arn
	}
	return user, a.mayActFor(user)
}

// ListChannelsModeratedByAppInstanceUser pages through the channels a user
// moderates.
func (s *Service) ListChannelsModeratedByAppInstanceUser(ctx context.Context, in *messagingapi.ListChannelsModeratedByAppInstanceUserRequest) (*messagingapi.ListChannelsModeratedByAppInstanceUserResponse, error) {
	channels, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Channel, error) {
			a, err := s.bearer(tx, *in.ChimeBearer)
			if err != nil {
				return nil, err
			}
			user, err := userFor(a, in.AppInstanceUserArn)
			if err != nil {
				return nil, err
			}
			return tx.ListChannelsModeratedBy(user, p)
		}, channelKey,
		func(c *carillon.Channel) messagingapi.ChannelModeratedByAppInstanceUserSummary {
			return messagingapi.ChannelModeratedByAppInstanceUserSummary{ChannelSummary: channelSummary(c)}
		})
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListChannelsModeratedByAppInstanceUserResponse{Channels: channels, NextToken: next}, nil
}

// DescribeChannelModeratedByAppInstanceUser returns the summary of a
// channel the user moderates.
func (s *Service) DescribeChannelModeratedByAppInstanceUser(ctx context.Context, in *messagingapi.DescribeChannelModeratedByAppInstanceUserRequest) (*messagingapi.DescribeChannelModeratedByAppInstanceUserResponse, error) {
	var ch *carillon.Channel
	err := s.view(ctx, func(tx carillon.Tx) error {
		// A PRIVATE channel the bearer may not see answers as a missing
		// one: "not a moderator" would tell that it exists.
		a, c, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		user, err := userFor(a, in.AppInstanceUserArn)
		if err != nil {
			return err
		}
		// The operation models no NotFoundException: a channel the user
		// does not moderate is Forbidden, like a missing one.
		if _, err := tx.GetModerator(c.ARN, user); isNotFound(err) {
			return forbidden("%s is not a moderator of the channel %s", user, c.ARN)
		} else if err != nil {
			return err
		}
		ch = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.DescribeChannelModeratedByAppInstanceUserResponse{
		Channel: &messagingapi.ChannelModeratedByAppInstanceUserSummary{ChannelSummary: channelSummary(ch)},
	}, nil
}

// ListChannelMembershipsForAppInstanceUser pages through the channels a
// user is a member of, with its membership of each.
func (s *Service) ListChannelMembershipsForAppInstanceUser(ctx context.Context, in *messagingapi.ListChannelMembershipsForAppInstanceUserRequest) (*messagingapi.ListChannelMembershipsForAppInstanceUserResponse, error) {
	memberships, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.ChannelMembershipOf, error) {
			a, err := s.bearer(tx, *in.ChimeBearer)
			if err != nil {
				return nil, err
			}
			user, err := userFor(a, in.AppInstanceUserArn)
			if err != nil {
				return nil, err
			}
			return tx.ListMembershipsOf(user, p)
		},
		func(r *carillon.ChannelMembershipOf) string { return r.Channel.ARN },
		func(r *carillon.ChannelMembershipOf) messagingapi.ChannelMembershipForAppInstanceUserSummary {
			return membershipForUserSummary(&r.Channel, &r.Membership)
		})
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListChannelMembershipsForAppInstanceUserResponse{ChannelMemberships: memberships, NextToken: next}, nil
}

func membershipForUserSummary(ch *carillon.Channel, m *carillon.Membership) messagingapi.ChannelMembershipForAppInstanceUserSummary {
	return messagingapi.ChannelMembershipForAppInstanceUserSummary{
		ChannelSummary:                   channelSummary(ch),
		AppInstanceUserMembershipSummary: userMembershipSummary(m),
	}
}

// DescribeChannelMembershipForAppInstanceUser returns a user's membership
// of a channel, with the channel's summary.
func (s *Service) DescribeChannelMembershipForAppInstanceUser(ctx context.Context, in *messagingapi.DescribeChannelMembershipForAppInstanceUserRequest) (*messagingapi.DescribeChannelMembershipForAppInstanceUserResponse, error) {
	var out messagingapi.ChannelMembershipForAppInstanceUserSummary
	err := s.view(ctx, func(tx carillon.Tx) error {
		// As in DescribeChannelModeratedByAppInstanceUser, a PRIVATE
		// channel the bearer may not see answers as a missing one.
		a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		user, err := userFor(a, in.AppInstanceUserArn)
		if err != nil {
			return err
		}
		m, err := tx.GetMembership(ch.ARN, user)
		if isNotFound(err) {
			// No NotFoundException in the model: Forbidden, as for a
			// channel the bearer cannot see.
			return forbidden("%s is not a member of the channel %s", user, ch.ARN)
		} else if err != nil {
			return err
		}
		out = membershipForUserSummary(ch, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.DescribeChannelMembershipForAppInstanceUserResponse{ChannelMembership: &out}, nil
}

// PutChannelExpirationSettings sets, or without settings removes, when a
// channel is deleted; package jobs deletes it once due (ExpireChannel).
func (s *Service) PutChannelExpirationSettings(ctx context.Context, in *messagingapi.PutChannelExpirationSettingsRequest) (*messagingapi.PutChannelExpirationSettingsResponse, error) {
	exp := expirationFrom(in.ExpirationSettings)
	bearer := api.Deref(in.ChimeBearer)
	if bearer == "" {
		if c, ok := carillon.CallerFrom(ctx); ok && !c.Root {
			return nil, forbidden("PutChannelExpirationSettings without a bearer needs the root credentials")
		}
	}
	err := s.update(ctx, func(tx carillon.Tx) error {
		var ch *carillon.Channel
		if bearer != "" {
			a, c, err := s.act(tx, bearer, *in.ChannelArn)
			if err != nil {
				return err
			}
			if err := a.requireModerate("set the channel's expiration"); err != nil {
				return err
			}
			ch = c
		} else {
			// The bearer is optional in the model: without one, the
			// developer's root credentials act on any channel.
			c, err := tx.GetChannel(*in.ChannelArn)
			if isNotFound(err) {
				return noChannel(*in.ChannelArn)
			} else if err != nil {
				return err
			}
			ch = c
		}
		ch.Expiration, ch.Updated = exp, tx.Now()
		if err := tx.UpdateChannel(ch); err != nil {
			return err
		}
		// No websocket event: AWS documents none, only the streaming
		// UPDATE_CHANNEL_EXPIRATION_SETTINGS record.
		return announceChannel(tx, EventUpdateChannelExpirationSettings, ch)
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.PutChannelExpirationSettingsResponse{
		ChannelArn:         in.ChannelArn,
		ExpirationSettings: expirationShape(exp),
	}, nil
}
