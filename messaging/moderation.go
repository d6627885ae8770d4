package messaging

import (
	"context"
	"errors"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/paging"
)

// addModerator makes arn a moderator of ch, within the quota of
// moderators per channel. AWS documents no websocket event for
// moderators: CREATE_CHANNEL_MODERATOR is for the streaming export only.
func (s *Service) addModerator(tx carillon.Tx, ch *carillon.Channel, createdBy, arn string) error {
	if _, err := tx.GetModerator(ch.ARN, arn); err == nil {
		return carillon.Errorf(carillon.Conflict, "%s is already a moderator of the channel", arn)
	} else if !isNotFound(err) {
		return err
	}
	if s.limits.ModeratorsPerChannel > 0 {
		n, err := tx.CountModerators(ch.ARN)
		if err != nil {
			return err
		}
		if n >= s.limits.ModeratorsPerChannel {
			return carillon.Errorf(carillon.ResourceLimitExceeded, "The channel already has the maximum of %d moderators", s.limits.ModeratorsPerChannel)
		}
	}
	err := tx.CreateModerator(&carillon.Moderator{ChannelARN: ch.ARN, ModeratorARN: arn, CreatedBy: createdBy, Created: tx.Now()})
	if errors.Is(err, carillon.ErrExists) {
		return carillon.Errorf(carillon.Conflict, "%s is already a moderator of the channel", arn)
	} else if err != nil {
		return err
	}
	return announceModerator(tx, EventCreateChannelModerator, ch.ARN, arn, createdBy, tx.Now())
}

// CreateChannelModerator makes a user or bot a moderator of the channel.
func (s *Service) CreateChannelModerator(ctx context.Context, in *messagingapi.CreateChannelModeratorRequest) (*messagingapi.CreateChannelModeratorResponse, error) {
	target := *in.ChannelModeratorArn
	var name string
	err := s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireModerate("create a moderator"); err != nil {
			return err
		}
		// "Create needs own membership" for moderators (DG auth-by-role);
		// admins need none. Moderators of an elastic channel hold no
		// channel-level membership, so the rule does not apply there.
		if !a.admin && !a.isMember() && ch.Elastic == nil {
			return forbidden("A moderator must be a member of the channel to create moderators")
		}
		if name, err = s.memberRef(tx, ch, target); err != nil {
			return err
		}
		// A banned user cannot be made a moderator (Forbidden,
		// as a banned user cannot be added as a member); the ban must be
		// lifted first.
		if _, err := tx.GetBan(ch.ARN, target); err == nil {
			return forbidden("%s is banned from the channel", target)
		} else if !isNotFound(err) {
			return err
		}
		// In an elastic channel, promoting a member removes its
		// membership (DG "manage-elastic-members"): a moderator is in
		// the sub-channels it joins, never placed in one.
		if ch.Elastic != nil {
			if m, err := tx.GetMembership(ch.ARN, target); err == nil {
				if m.SubChannelID != "" {
					if err := s.removeMember(tx, ch, m, ""); err != nil {
						return err
					}
				}
			} else if !isNotFound(err) {
				return err
			}
		}
		return s.addModerator(tx, ch, a.arn, target)
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.CreateChannelModeratorResponse{
		ChannelArn:       in.ChannelArn,
		ChannelModerator: identityShape(target, name),
	}, nil
}

// DeleteChannelModerator removes a moderator; its membership, if any,
// stays, except in an elastic channel, where demoting a moderator takes it
// out of every sub-channel it joined (DG "manage-elastic-members").
func (s *Service) DeleteChannelModerator(ctx context.Context, in *messagingapi.DeleteChannelModeratorRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireModerate("delete a moderator"); err != nil {
			return err
		}
		m, err := tx.GetModerator(ch.ARN, *in.ChannelModeratorArn)
		if isNotFound(err) {
			// The operation models no NotFoundException: Forbidden, the
			// project's answer for missing resources there.
			return forbidden("%s is not a moderator of the channel", *in.ChannelModeratorArn)
		} else if err != nil {
			return err
		}
		if ch.Elastic != nil {
			if mm, err := tx.GetMembership(ch.ARN, m.ModeratorARN); err == nil {
				if err := s.removeMember(tx, ch, mm, ""); err != nil {
					return err
				}
			} else if !isNotFound(err) {
				return err
			}
		}
		if err := tx.DeleteModerator(ch.ARN, m.ModeratorARN); err != nil {
			return err
		}
		return announceModerator(tx, EventDeleteChannelModerator, ch.ARN, m.ModeratorARN, m.CreatedBy, m.Created)
	})
}

// DescribeChannelModerator returns one moderator of the channel.
func (s *Service) DescribeChannelModerator(ctx context.Context, in *messagingapi.DescribeChannelModeratorRequest) (*messagingapi.DescribeChannelModeratorResponse, error) {
	var out *messagingapi.ChannelModerator
	err := s.view(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireModerate("describe a moderator"); err != nil {
			return err
		}
		m, err := tx.GetModerator(ch.ARN, *in.ChannelModeratorArn)
		if isNotFound(err) {
			return carillon.Errorf(carillon.NotFound, "%s is not a moderator of the channel", *in.ChannelModeratorArn)
		} else if err != nil {
			return err
		}
		createdBy, err := carillon.NameOf(tx, m.CreatedBy)
		if err != nil {
			return err
		}
		out = &messagingapi.ChannelModerator{
			ChannelArn:       api.String(m.ChannelARN),
			Moderator:        identityShape(m.ModeratorARN, m.ModeratorName),
			CreatedBy:        identityShape(m.CreatedBy, createdBy),
			CreatedTimestamp: api.TimestampOf(m.Created),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.DescribeChannelModeratorResponse{ChannelModerator: out}, nil
}

// ListChannelModerators pages through the channel's moderators.
func (s *Service) ListChannelModerators(ctx context.Context, in *messagingapi.ListChannelModeratorsRequest) (*messagingapi.ListChannelModeratorsResponse, error) {
	moderators, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Moderator, error) {
			a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
			if err != nil {
				return nil, err
			}
			if err := a.requireModerate("list the moderators"); err != nil {
				return nil, err
			}
			return tx.ListModerators(ch.ARN, p)
		},
		func(m *carillon.Moderator) string { return m.ModeratorARN },
		func(m *carillon.Moderator) messagingapi.ChannelModeratorSummary {
			return messagingapi.ChannelModeratorSummary{Moderator: identityShape(m.ModeratorARN, m.ModeratorName)}
		})
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListChannelModeratorsResponse{ChannelArn: in.ChannelArn, ChannelModerators: moderators, NextToken: next}, nil
}

// CreateChannelBan bans a user or bot from the channel, removing its
// membership if it has one.
func (s *Service) CreateChannelBan(ctx context.Context, in *messagingapi.CreateChannelBanRequest) (*messagingapi.CreateChannelBanResponse, error) {
	target := *in.MemberArn
	var name string
	err := s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireModerate("ban a member"); err != nil {
			return err
		}
		if name, err = s.memberRef(tx, ch, target); err != nil {
			return err
		}
		// AWS says an AppInstanceAdmin or a moderator of the channel
		// cannot be banned, not with which error: Forbidden
		// (docs/compatibility.md, ruling 9).
		if admin, err := isAdmin(tx, ch.AppInstanceARN, target); err != nil {
			return err
		} else if admin {
			return forbidden("An AppInstanceAdmin cannot be banned")
		}
		if _, err := tx.GetModerator(ch.ARN, target); err == nil {
			return forbidden("A moderator of the channel cannot be banned")
		} else if !isNotFound(err) {
			return err
		}
		if _, err := tx.GetBan(ch.ARN, target); err == nil {
			return carillon.Errorf(carillon.Conflict, "%s is already banned from the channel", target)
		} else if !isNotFound(err) {
			return err
		}
		// Banning a member removes its membership, announced to the
		// members (of its sub-channel, in an elastic channel) and to the
		// banned user (docs/compatibility.md, ruling 9).
		if m, err := tx.GetMembership(ch.ARN, target); err == nil {
			if err := s.removeMember(tx, ch, m, ""); err != nil {
				return err
			}
		} else if !isNotFound(err) {
			return err
		}
		err = tx.CreateBan(&carillon.Ban{ChannelARN: ch.ARN, MemberARN: target, CreatedBy: a.arn, Created: tx.Now()})
		if errors.Is(err, carillon.ErrExists) {
			return carillon.Errorf(carillon.Conflict, "%s is already banned from the channel", target)
		} else if err != nil {
			return err
		}
		// No websocket event announces the ban itself: AWS documents
		// none (bans only appear in the streaming export).
		return announceBan(tx, EventCreateChannelBan, ch.ARN, target, a.arn, tx.Now())
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.CreateChannelBanResponse{ChannelArn: in.ChannelArn, Member: identityShape(target, name)}, nil
}

// DeleteChannelBan lifts a ban; the user may then be added again.
func (s *Service) DeleteChannelBan(ctx context.Context, in *messagingapi.DeleteChannelBanRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireModerate("delete a ban"); err != nil {
			return err
		}
		b, err := tx.GetBan(ch.ARN, *in.MemberArn)
		if isNotFound(err) {
			// The operation models no NotFoundException: Forbidden, the
			// project's answer for missing resources there.
			return forbidden("%s is not banned from the channel", *in.MemberArn)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteBan(ch.ARN, b.MemberARN); err != nil {
			return err
		}
		return announceBan(tx, EventDeleteChannelBan, ch.ARN, b.MemberARN, b.CreatedBy, b.Created)
	})
}

// DescribeChannelBan returns one ban of the channel.
func (s *Service) DescribeChannelBan(ctx context.Context, in *messagingapi.DescribeChannelBanRequest) (*messagingapi.DescribeChannelBanResponse, error) {
	var out *messagingapi.ChannelBan
	err := s.view(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireModerate("describe a ban"); err != nil {
			return err
		}
		b, err := tx.GetBan(ch.ARN, *in.MemberArn)
		if isNotFound(err) {
			return carillon.Errorf(carillon.NotFound, "%s is not banned from the channel", *in.MemberArn)
		} else if err != nil {
			return err
		}
		createdBy, err := carillon.NameOf(tx, b.CreatedBy)
		if err != nil {
			return err
		}
		out = &messagingapi.ChannelBan{
			ChannelArn:       api.String(b.ChannelARN),
			Member:           identityShape(b.MemberARN, b.MemberName),
			CreatedBy:        identityShape(b.CreatedBy, createdBy),
			CreatedTimestamp: api.TimestampOf(b.Created),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.DescribeChannelBanResponse{ChannelBan: out}, nil
}

// ListChannelBans pages through the channel's bans.
func (s *Service) ListChannelBans(ctx context.Context, in *messagingapi.ListChannelBansRequest) (*messagingapi.ListChannelBansResponse, error) {
	bans, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Ban, error) {
			a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
			if err != nil {
				return nil, err
			}
			if err := a.requireModerate("list the bans"); err != nil {
				return nil, err
			}
			return tx.ListBans(ch.ARN, p)
		},
		func(b *carillon.Ban) string { return b.MemberARN },
		func(b *carillon.Ban) messagingapi.ChannelBanSummary {
			return messagingapi.ChannelBanSummary{Member: identityShape(b.MemberARN, b.MemberName)}
		})
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListChannelBansResponse{ChannelArn: in.ChannelArn, ChannelBans: bans, NextToken: next}, nil
}
