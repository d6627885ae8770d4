package messaging

import (
	"errors"

	"github.com/carillonhq/carillon"
)

// Membership types.
const (
	membershipDefault = "DEFAULT"
	membershipHidden  = "HIDDEN"
)

// inviter is who adds a member: its ARN and name, for InvitedBy.
type inviter struct{ arn, name string }

func (a *actor) asInviter() inviter { return inviter{a.arn, a.name} }

// addMember makes memberARN a member of ch and announces it. It is the one
// path every membership takes: CreateChannel's MemberArns, the creator's
// own membership, CreateChannelMembership and (through insertMember, its
// first half) BatchCreateChannelMembership.
//
// A banned user cannot be added (Forbidden). Adding a member again is not
// an error: the existing membership is returned and nothing is announced,
// so that a client may "join" a channel it is already in. A HIDDEN
// membership is announced only to the hidden member: the others do not
// see hidden observers.
func (s *Service) addMember(tx carillon.Tx, ch *carillon.Channel, by inviter, memberARN, memberName, typ string) (*carillon.Membership, error) {
	m, created, err := s.insertMember(tx, ch, by, memberARN, memberName, typ)
	if err != nil || !created {
		return m, err
	}
	e := &carillon.Event{Type: EventCreateChannelMembership, Channel: audience(ch.ARN, m.SubChannelID), Member: memberARN, MemberChange: +1}
	if typ == membershipHidden {
		e.Recipients = []string{memberARN}
	} else {
		e.ToMembers = true
	}
	return m, emit(tx, e, membershipEventPayload(m, by.name))
}

// insertMember is addMember without the announcement, for
// BatchCreateChannelMembership, which announces all its members in one
// event. created is false when memberARN already was a member: m is then
// the existing membership. In an elastic channel the balancing places the
// member in a sub-channel (placeMember), which may move others first.
func (s *Service) insertMember(tx carillon.Tx, ch *carillon.Channel, by inviter, memberARN, memberName, typ string) (m *carillon.Membership, created bool, err error) {
	if _, err := tx.GetBan(ch.ARN, memberARN); err == nil {
		return nil, false, forbidden("%s is banned from the channel", memberARN)
	} else if !isNotFound(err) {
		return nil, false, err
	}
	if m, err := tx.GetMembership(ch.ARN, memberARN); err == nil {
		return m, false, nil
	} else if !isNotFound(err) {
		return nil, false, err
	}
	if s.limits.MembershipsPerChannel > 0 && ch.Elastic == nil {
		n, err := tx.CountMemberships(ch.ARN)
		if err != nil {
			return nil, false, err
		}
		if n >= s.limits.MembershipsPerChannel {
			return nil, false, carillon.Errorf(carillon.ResourceLimitExceeded, "The channel already has the maximum of %d memberships", s.limits.MembershipsPerChannel)
		}
	}
	m = &carillon.Membership{
		ChannelARN: ch.ARN,
		MemberARN:  memberARN,
		MemberName: memberName,
		Type:       typ,
		InvitedBy:  by.arn,
		Created:    tx.Now(),
		Updated:    tx.Now(),
	}
	if ch.Elastic != nil {
		err = s.placeMember(tx, ch, m)
	} else {
		err = tx.CreateMembership(m)
	}
	if err != nil {
		if errors.Is(err, carillon.ErrExists) {
			return nil, false, carillon.Errorf(carillon.Conflict, "%s is already a member of the channel", memberARN)
		}
		return nil, false, err
	}
	return m, true, nil
}

// removeMember deletes a membership and announces it to the channel's
// members and to the member removed, who is no longer a member when the
// event is delivered. A HIDDEN membership's removal is announced only to
// the hidden member. In an elastic channel, the members told are those of
// the member's sub-channel, and the balancing may then merge
// sub-channels; a moderator's membership (in no sub-channel of its own)
// goes with each of the sub-channels it joined, one event each.
func (s *Service) removeMember(tx carillon.Tx, ch *carillon.Channel, m *carillon.Membership, reason string) error {
	if ch.Elastic != nil && m.SubChannelID == "" {
		return leaveSubChannels(tx, ch, m.MemberARN, reason)
	}
	if err := tx.DeleteMembership(ch.ARN, m.MemberARN); err != nil {
		return err
	}
	e := &carillon.Event{
		Type: EventDeleteChannelMembership, Channel: audience(ch.ARN, m.SubChannelID), Reason: reason,
		Recipients: []string{m.MemberARN}, Member: m.MemberARN, MemberChange: -1,
		ToMembers: m.Type != membershipHidden,
	}
	inviterName, err := carillon.NameOf(tx, m.InvitedBy)
	if err != nil {
		return err
	}
	if err := emit(tx, e, membershipEventPayload(m, inviterName)); err != nil {
		return err
	}
	if ch.Elastic != nil {
		return rebalance(tx, ch)
	}
	return nil
}
