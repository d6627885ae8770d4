package messaging

import (
	"context"
	"errors"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/paging"
)

// CreateChannelMembership adds a user or bot to a channel. Who may add
// whom is mayAddMember's rule; the membership is made by addMember, which
// announces it. In an elastic channel, a regular member goes to the
// sub-channel the balancing picks and may not name one; a moderator of
// the channel must name the sub-channel it joins (addMemberAs).
func (s *Service) CreateChannelMembership(ctx context.Context, in *messagingapi.CreateChannelMembershipRequest) (*messagingapi.CreateChannelMembershipResponse, error) {
	typ := string(*in.Type)
	var m *carillon.Membership
	err := s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireMayAddMembers(in.SubChannelId); err != nil {
			return err
		}
		m, _, err = s.addMemberAs(tx, a, ch, *in.MemberArn, typ, in.SubChannelId, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.CreateChannelMembershipResponse{
		ChannelArn:   in.ChannelArn,
		Member:       identityShape(m.MemberARN, m.MemberName),
		SubChannelId: optional(m.SubChannelID),
	}, nil
}

// BatchCreateChannelMembership adds up to 100 users or bots at once. Each
// member is judged on its own, by the rules of CreateChannelMembership:
// those that fail are reported in Errors, the others are added. A member
// already in the channel counts as added. The members added are announced
// in one BATCH_CREATE_CHANNEL_MEMBERSHIP event instead of one
// CREATE_CHANNEL_MEMBERSHIP each, except in elastic channels, whose
// members are announced one by one to their sub-channels (DG
// "websocket-messages-elastic").
func (s *Service) BatchCreateChannelMembership(ctx context.Context, in *messagingapi.BatchCreateChannelMembershipRequest) (*messagingapi.BatchCreateChannelMembershipResponse, error) {
	typ := membershipDefault
	if in.Type != nil {
		typ = string(*in.Type)
	}
	var (
		a       *actor
		members []messagingapi.Identity
		errs    []messagingapi.BatchCreateChannelMembershipError
	)
	err := s.update(ctx, func(tx carillon.Tx) error {
		// Update may run fn again: start from nothing each time.
		members, errs = nil, nil
		var (
			ch  *carillon.Channel
			err error
		)
		a, ch, err = s.act(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		if err := a.requireMayAddMembers(in.SubChannelId); err != nil {
			return err
		}
		var added []*carillon.Membership
		seen := make(map[string]bool, len(in.MemberArns))
		for _, arn := range in.MemberArns {
			if seen[arn] {
				continue // named twice: one membership, one answer
			}
			seen[arn] = true
			m, created, err := s.addMemberAs(tx, a, ch, arn, typ, in.SubChannelId, false)
			if err != nil {
				var e *carillon.Error
				if !errors.As(err, &e) || e.Kind == carillon.ServiceFailure {
					return err // the store failed: the whole batch fails
				}
				code := batchErrorCode(e.Kind)
				errs = append(errs, messagingapi.BatchCreateChannelMembershipError{
					MemberArn: api.String(arn), ErrorCode: &code, ErrorMessage: api.String(e.Message),
				})
				continue
			}
			members = append(members, *identityShape(m.MemberARN, m.MemberName))
			if created && ch.Elastic == nil {
				added = append(added, m)
			}
		}
		return announceBatch(tx, ch, a.asInviter(), typ, added)
	})
	if err != nil {
		return nil, err
	}
	t := messagingapi.ChannelMembershipType(typ)
	return &messagingapi.BatchCreateChannelMembershipResponse{
		BatchChannelMemberships: &messagingapi.BatchChannelMemberships{
			ChannelArn:   in.ChannelArn,
			InvitedBy:    identityShape(a.arn, a.name),
			Type:         &t,
			Members:      members,
			SubChannelId: in.SubChannelId,
		},
		Errors: errs,
	}, nil
}

// announceBatch emits the one BATCH_CREATE_CHANNEL_MEMBERSHIP event of a
// batch, listing the members it added; nothing when it added none. How
// the one event tells deliverers who joined is described in events.go,
// after the event types.
func announceBatch(tx carillon.Tx, ch *carillon.Channel, by inviter, typ string, added []*carillon.Membership) error {
	if len(added) == 0 {
		return nil
	}
	p := batchMembershipsPayload{
		InvitedBy:  &identityPayload{Arn: by.arn, Name: by.name},
		Type:       typ,
		ChannelArn: ch.ARN,
		Members:    make([]identityPayload, len(added)),
	}
	e := &carillon.Event{
		Type: EventBatchCreateChannelMembership, Channel: ch.ARN, MemberChange: +1,
		Recipients: make([]string, len(added)),
		// A HIDDEN batch is announced only to the hidden members, as
		// addMember announces a single HIDDEN membership.
		ToMembers: typ != membershipHidden,
	}
	// The members, for the streaming export, which records one
	// CREATE_CHANNEL_MEMBERSHIP each (BatchMembershipPayloads).
	d := &BatchData{Channel: ch.ARN, Type: typ, InvitedBy: IdentityOf{by.arn, by.name}, Members: make([]IdentityOf, len(added))}
	for i, m := range added {
		p.Members[i] = identityPayload{Arn: m.MemberARN, Name: m.MemberName}
		d.Members[i] = IdentityOf{m.MemberARN, m.MemberName}
		e.Recipients[i] = m.MemberARN
	}
	if err := withData(e, EventData{Batch: d}); err != nil {
		return err
	}
	return emit(tx, e, p)
}

// requireMayAddMembers is the part of the membership rules that does not
// depend on who is added: the channel must be visible to the bearer, who
// must not be banned from it, and only elastic channels take a
// SubChannelId.
func (a *actor) requireMayAddMembers(subChannelID *string) error {
	if err := a.requireSee(); err != nil {
		return err
	}
	if a.channel.Elastic == nil && subChannelID != nil {
		return carillon.Errorf(carillon.BadRequest, "SubChannelId applies only to elastic channels")
	}
	if a.banned {
		return forbidden("The bearer %s is banned from the channel", a.arn)
	}
	return nil
}

// mayAddMember is who may make memberARN a member of type typ
// (docs/semantics.md, "Roles"; docs/compatibility.md, ruling 7):
//   - admins and moderators may add anyone, DEFAULT or HIDDEN;
//   - anyone who can see the channel may add itself as DEFAULT: for a
//     non-member that means joining a PUBLIC channel, in either mode;
//   - a DEFAULT member of an UNRESTRICTED channel may add others as
//     DEFAULT.
//
// HIDDEN members are observers: they may not add others (ruling 7; AWS
// documents nothing).
func (a *actor) mayAddMember(memberARN, typ string) error {
	switch {
	case a.moderates():
		return nil
	case typ == membershipHidden:
		return forbidden("Only a moderator of the channel or an AppInstanceAdmin may add HIDDEN members")
	case memberARN == a.arn:
		return nil
	case a.channel.Mode != modeUnrestricted:
		return forbidden("Only a moderator of the channel or an AppInstanceAdmin may add members to a RESTRICTED channel")
	case a.member == nil || a.member.Type != membershipDefault:
		return forbidden("Only members of the channel may add other members to it")
	}
	return nil
}

// addMemberAs adds one member for CreateChannelMembership (announce) or
// BatchCreateChannelMembership (!announce: the batch announces itself).
// The member already in the channel is a success when the types agree,
// and a ConflictException when they do not: a membership's type never
// changes (docs/compatibility.md, ruling 7; AWS documents nothing).
//
// In an elastic channel (DG "manage-elastic-members"): no HIDDEN members;
// a moderator of the channel joins the sub-channel sub names, which it
// must name, and may join several; anyone else may not name one and is
// placed by the balancing. Each is announced on its own, to the members
// of its sub-channel.
func (s *Service) addMemberAs(tx carillon.Tx, a *actor, ch *carillon.Channel, memberARN, typ string, sub *string, announce bool) (*carillon.Membership, bool, error) {
	if err := a.mayAddMember(memberARN, typ); err != nil {
		return nil, false, err
	}
	name, err := s.newMemberRef(tx, ch, memberARN)
	if err != nil {
		return nil, false, err
	}
	if ch.Elastic != nil {
		if typ == membershipHidden {
			return nil, false, carillon.Errorf(carillon.BadRequest, "HIDDEN memberships are not supported on elastic channels")
		}
		mod, err := isModerator(tx, ch.ARN, memberARN)
		if err != nil {
			return nil, false, err
		}
		if mod {
			if sub == nil {
				return nil, false, carillon.Errorf(carillon.BadRequest,
					"%s is a moderator of the elastic channel: its membership needs the SubChannelId of the sub-channel it joins", memberARN)
			}
			return s.joinSubChannel(tx, ch, a.asInviter(), memberARN, name, *sub)
		}
		if sub != nil {
			return nil, false, carillon.Errorf(carillon.BadRequest,
				"The members of an elastic channel are placed in sub-channels by the channel: only moderators name a SubChannelId")
		}
		announce = true
	}
	if m, err := tx.GetMembership(ch.ARN, memberARN); err == nil {
		if m.Type != typ {
			return nil, false, carillon.Errorf(carillon.Conflict, "%s is already a %s member of the channel", memberARN, m.Type)
		}
		return m, false, nil
	} else if !isNotFound(err) {
		return nil, false, err
	}
	if announce {
		m, err := s.addMember(tx, ch, a.asInviter(), memberARN, name, typ)
		return m, err == nil, err
	}
	return s.insertMember(tx, ch, a.asInviter(), memberARN, name, typ)
}

// batchErrorCode is the ErrorCode of a member's failure in a batch.
func batchErrorCode(k carillon.Kind) messagingapi.ErrorCode {
	switch k {
	case carillon.ThrottledClient:
		return messagingapi.ErrorCodeThrottled
	case carillon.UnauthorizedClient:
		return messagingapi.ErrorCodeUnauthorized
	}
	// The other kinds are named as the ErrorCode enum names them.
	return messagingapi.ErrorCode(k)
}

// newMemberRef is memberRef for a member to add, where the model has
// NotFoundException: a well-formed user or bot ARN of the channel's
// AppInstance that names nothing is NotFound (docs/semantics.md,
// "Roles"); an ARN of
// anything else stays a BadRequest.
func (s *Service) newMemberRef(tx carillon.Tx, ch *carillon.Channel, arn string) (string, error) {
	name, err := s.memberRef(tx, ch, arn)
	if carillon.IsKind(err, carillon.BadRequest) {
		r, ok := carillon.ParseResource(arn)
		if ok && (r.Type == carillon.TypeUser || r.Type == carillon.TypeBot) && r.AppInstanceARN() == ch.AppInstanceARN {
			return "", carillon.Errorf(carillon.NotFound, "%s does not exist", arn)
		}
	}
	return name, err
}

// DeleteChannelMembership removes a member. Members may leave; moderators
// and admins may remove anyone. In an elastic channel a regular member
// leaves without naming its sub-channel, and the balancing may then merge
// sub-channels; a moderator leaves the sub-channel SubChannelId names or,
// without it, every sub-channel it is in (DG "manage-elastic-members").
func (s *Service) DeleteChannelMembership(ctx context.Context, in *messagingapi.DeleteChannelMembershipRequest) error {
	return s.update(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		// The operation models no NotFoundException.
		sub, err := subChannelArg(tx, ch, in.SubChannelId, false, carillon.Forbidden)
		if err != nil {
			return err
		}
		if *in.MemberArn != a.arn && !a.moderates() {
			return forbidden("Only a moderator of the channel or an AppInstanceAdmin may remove other members")
		}
		m, err := tx.GetMembership(ch.ARN, *in.MemberArn)
		if isNotFound(err) {
			// The operation models no NotFoundException
			// (docs/compatibility.md, ruling 1).
			return forbidden("%s is not a member of the channel", *in.MemberArn)
		} else if err != nil {
			return err
		}
		switch {
		case sub == "":
		case m.SubChannelID != "":
			return carillon.Errorf(carillon.BadRequest,
				"%s is a member of the elastic channel placed by the channel: it leaves without a SubChannelId", m.MemberARN)
		default:
			sm, err := tx.GetSubChannelMembership(ch.ARN, sub, m.MemberARN)
			if isNotFound(err) {
				return forbidden("%s is not a member of the sub-channel %s", m.MemberARN, sub)
			} else if err != nil {
				return err
			}
			return leaveSubChannel(tx, ch, sm, "", true)
		}
		return s.removeMember(tx, ch, m, "")
	})
}

// DescribeChannelMembership returns one membership to whoever may see the
// channel. A HIDDEN membership is shown only to moderators, admins and
// the hidden member itself; to anyone else it does not exist (ruling 8:
// hidden members are listed only to moderators). In an elastic channel,
// SubChannelId asks for the membership of that sub-channel: NotFound when
// the member is not in it.
func (s *Service) DescribeChannelMembership(ctx context.Context, in *messagingapi.DescribeChannelMembershipRequest) (*messagingapi.DescribeChannelMembershipResponse, error) {
	var (
		m           *carillon.Membership
		inviterName string
	)
	err := s.view(ctx, func(tx carillon.Tx) error {
		a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
		if err != nil {
			return err
		}
		sub, err := subChannelArg(tx, ch, in.SubChannelId, false, carillon.NotFound)
		if err != nil {
			return err
		}
		m, err = tx.GetMembership(ch.ARN, *in.MemberArn)
		if isNotFound(err) || (err == nil && m.Type == membershipHidden && !a.moderates() && m.MemberARN != a.arn) {
			return carillon.Errorf(carillon.NotFound, "%s is not a member of the channel", *in.MemberArn)
		} else if err != nil {
			return err
		}
		if sub != "" && m.SubChannelID != sub {
			if m.SubChannelID != "" {
				return carillon.Errorf(carillon.NotFound, "%s is not a member of the sub-channel %s", m.MemberARN, sub)
			}
			m, err = tx.GetSubChannelMembership(ch.ARN, sub, m.MemberARN)
			if isNotFound(err) {
				return carillon.Errorf(carillon.NotFound, "%s is not a member of the sub-channel %s", *in.MemberArn, sub)
			} else if err != nil {
				return err
			}
		}
		inviterName, err = carillon.NameOf(tx, m.InvitedBy)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.DescribeChannelMembershipResponse{ChannelMembership: membershipShape(m, inviterName)}, nil
}

// ListChannelMemberships pages by member ARN through the memberships of
// one type, DEFAULT unless the request asks for HIDDEN; only moderators
// and admins may list HIDDEN members (docs/semantics.md, "Roles": setting
// the type is theirs, and hidden members are not "in the membership" for
// others). In an elastic channel, SubChannelId lists one sub-channel,
// moderators who joined it included, for its members, the moderators and
// the AppInstanceAdmins; without it, every membership of the channel, for
// the moderators and the AppInstanceAdmins only.
func (s *Service) ListChannelMemberships(ctx context.Context, in *messagingapi.ListChannelMembershipsRequest) (*messagingapi.ListChannelMembershipsResponse, error) {
	typ := membershipDefault
	if in.Type != nil {
		typ = string(*in.Type)
	}
	memberships, next, err := paging.List(ctx, s.store, in.NextToken, in.MaxResults,
		func(tx carillon.Tx, p carillon.Page) ([]carillon.Membership, error) {
			a, ch, err := s.actSee(tx, *in.ChimeBearer, *in.ChannelArn)
			if err != nil {
				return nil, err
			}
			// The operation models no NotFoundException.
			sub, err := subChannelArg(tx, ch, in.SubChannelId, false, carillon.Forbidden)
			if err != nil {
				return nil, err
			}
			if typ == membershipHidden && !a.moderates() {
				return nil, forbidden("Only a moderator of the channel or an AppInstanceAdmin may list HIDDEN members")
			}
			switch {
			case sub != "":
				if err := requireReadSubChannel(tx, a, sub); err != nil {
					return nil, err
				}
				return subChannelRoster(tx, ch, typ, sub, p)
			case ch.Elastic != nil && !a.moderates():
				return nil, forbidden("Only a moderator of the channel or an AppInstanceAdmin may list every membership of an elastic channel; members list their sub-channel's, with its SubChannelId")
			}
			return tx.ListMemberships(ch.ARN, typ, "", p)
		},
		func(m *carillon.Membership) string { return m.MemberARN },
		func(m *carillon.Membership) messagingapi.ChannelMembershipSummary {
			return messagingapi.ChannelMembershipSummary{Member: identityShape(m.MemberARN, m.MemberName)}
		})
	if err != nil {
		return nil, err
	}
	return &messagingapi.ListChannelMembershipsResponse{ChannelArn: in.ChannelArn, ChannelMemberships: memberships, NextToken: next}, nil
}

// GetChannelMembershipPreferences returns the bearer's own preferences
// (only the member may read them, docs/semantics.md, "Roles"). Preferences
// never set are an empty object (docs/compatibility.md, ruling 14: AWS
// documents no default).
func (s *Service) GetChannelMembershipPreferences(ctx context.Context, in *messagingapi.GetChannelMembershipPreferencesRequest) (*messagingapi.GetChannelMembershipPreferencesResponse, error) {
	var m *carillon.Membership
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		m, err = s.ownMembership(tx, *in.ChimeBearer, *in.ChannelArn, *in.MemberArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.GetChannelMembershipPreferencesResponse{
		ChannelArn:  in.ChannelArn,
		Member:      identityShape(m.MemberARN, m.MemberName),
		Preferences: preferencesShape(m.Preferences),
	}, nil
}

// PutChannelMembershipPreferences replaces the bearer's own preferences.
// Preferences without PushNotifications clear them. No event: nobody
// else learns of them.
func (s *Service) PutChannelMembershipPreferences(ctx context.Context, in *messagingapi.PutChannelMembershipPreferencesRequest) (*messagingapi.PutChannelMembershipPreferencesResponse, error) {
	prefs, err := preferencesFrom(in.Preferences)
	if err != nil {
		return nil, err
	}
	var m *carillon.Membership
	err = s.update(ctx, func(tx carillon.Tx) error {
		var err error
		m, err = s.ownMembership(tx, *in.ChimeBearer, *in.ChannelArn, *in.MemberArn)
		if err != nil {
			return err
		}
		// The preferences are part of the membership: its
		// LastUpdatedTimestamp moves with them.
		m.Preferences, m.Updated = prefs, tx.Now()
		return tx.UpdateMembership(m)
	})
	if err != nil {
		return nil, err
	}
	return &messagingapi.PutChannelMembershipPreferencesResponse{
		ChannelArn:  in.ChannelArn,
		Member:      identityShape(m.MemberARN, m.MemberName),
		Preferences: preferencesShape(m.Preferences),
	}, nil
}

// ownMembership is the membership whose preferences the bearer may read
// or write: its own, in a channel it is not banned from. Membership
// preferences are not supported on elastic channels (docs/semantics.md,
// "Elastic channels").
func (s *Service) ownMembership(tx carillon.Tx, bearerARN, channelARN, memberARN string) (*carillon.Membership, error) {
	a, ch, err := s.actSee(tx, bearerARN, channelARN)
	if err != nil {
		return nil, err
	}
	if memberARN != a.arn {
		return nil, forbidden("Only the member itself may read or change its membership preferences")
	}
	if a.banned {
		return nil, forbidden("The bearer %s is banned from the channel", a.arn)
	}
	if ch.Elastic != nil {
		return nil, carillon.Errorf(carillon.BadRequest, "Membership preferences are not supported on elastic channels")
	}
	if err := a.requireMember(); err != nil {
		return nil, err
	}
	return a.member, nil
}

// isModerator reports whether arn moderates the channel.
func isModerator(tx carillon.Tx, channelARN, arn string) (bool, error) {
	_, err := tx.GetModerator(channelARN, arn)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, err
}
