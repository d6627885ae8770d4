package messaging

import (
	"github.com/carillonhq/carillon"
)

// actor is the bearer of a request: the AppInstanceUser or AppInstanceBot
// the request acts as, and the roles it holds. Roles stack: an admin may
// also be a moderator and a member.
type actor struct {
	arn         string
	name        string
	appInstance string
	// admin: an AppInstanceAdmin of the bearer's AppInstance; moderator
	// rights over every channel in it, and DeleteChannelMessage.
	admin bool

	// Filled by in(channel):
	channel   *carillon.Channel
	moderator bool
	member    *carillon.Membership // nil if not a member
	banned    bool
}

// bearer resolves the x-amz-chime-bearer of a request. It must be an
// existing user or bot of this deployment.
func (s *Service) bearer(tx carillon.Tx, arn string) (*actor, error) {
	r, ok := carillon.ParseResource(arn)
	if !ok || !s.arns.Owns(r) || (r.Type != carillon.TypeUser && r.Type != carillon.TypeBot) {
		return nil, invalidBearer()
	}
	a := &actor{arn: arn, appInstance: r.AppInstanceARN()}
	switch r.Type {
	case carillon.TypeUser:
		u, err := tx.GetUser(arn)
		if isNotFound(err) {
			return nil, invalidBearer()
		} else if err != nil {
			return nil, err
		}
		a.name = u.Name
	default:
		b, err := tx.GetBot(arn)
		if isNotFound(err) {
			return nil, invalidBearer()
		} else if err != nil {
			return nil, err
		}
		a.name = b.Name
	}
	if _, err := tx.GetAdmin(a.appInstance, arn); err == nil {
		a.admin = true
	} else if !isNotFound(err) {
		return nil, err
	}
	return a, nil
}

// invalidBearer is AWS's answer to a bearer that is not an existing user
// or bot (the text of amazon-chime-sdk-js issue #1148).
func invalidBearer() error {
	return forbidden("An invalid app instance user ARN was supplied for the input parameter.")
}

// channelFor loads a channel for the actor and fills the actor's roles in
// it. A channel that does not exist, or belongs to another AppInstance,
// answers ForbiddenException: whether a channel exists is not revealed
// (docs/compatibility.md, ruling 1).
func (s *Service) channelFor(tx carillon.Tx, a *actor, channelARN string) (*carillon.Channel, error) {
	ch, err := tx.GetChannel(channelARN)
	if isNotFound(err) {
		return nil, noChannel(channelARN)
	} else if err != nil {
		return nil, err
	}
	if ch.AppInstanceARN != a.appInstance {
		return nil, noChannel(channelARN)
	}
	a.channel = ch
	if _, err := tx.GetModerator(channelARN, a.arn); err == nil {
		a.moderator = true
	} else if !isNotFound(err) {
		return nil, err
	}
	if m, err := tx.GetMembership(channelARN, a.arn); err == nil {
		a.member = m
	} else if !isNotFound(err) {
		return nil, err
	}
	if _, err := tx.GetBan(channelARN, a.arn); err == nil {
		a.banned = true
	} else if !isNotFound(err) {
		return nil, err
	}
	return ch, nil
}

func noChannel(arn string) error {
	return forbidden("The channel %s does not exist or the bearer may not access it", arn)
}

// act resolves the bearer and the channel in one step; most channel
// operations start with it.
func (s *Service) act(tx carillon.Tx, bearerARN, channelARN string) (*actor, *carillon.Channel, error) {
	a, err := s.bearer(tx, bearerARN)
	if err != nil {
		return nil, nil, err
	}
	ch, err := s.channelFor(tx, a, channelARN)
	if err != nil {
		return nil, nil, err
	}
	return a, ch, nil
}

// actSee is act for operations that read or act in a channel the bearer
// must be able to see (requireSee).
func (s *Service) actSee(tx carillon.Tx, bearerARN, channelARN string) (*actor, *carillon.Channel, error) {
	a, ch, err := s.act(tx, bearerARN, channelARN)
	if err != nil {
		return nil, nil, err
	}
	if err := a.requireSee(); err != nil {
		return nil, nil, err
	}
	return a, ch, nil
}

// moderates: an admin of the AppInstance or a moderator of the channel.
func (a *actor) moderates() bool { return a.admin || a.moderator }

// isMember: any membership, DEFAULT or HIDDEN.
func (a *actor) isMember() bool { return a.member != nil }

// canSee is who may read a channel: its details, memberships and
// messages. PUBLIC channels are readable by every user of the
// AppInstance; PRIVATE ones by members, moderators and admins.
func (a *actor) canSee() bool {
	return a.channel.Privacy == "PUBLIC" || a.moderates() || a.isMember()
}

// requireSee answers ForbiddenException, indistinguishable from a missing
// channel, to a bearer who may not see the channel.
func (a *actor) requireSee() error {
	if !a.canSee() {
		return noChannel(a.channel.ARN)
	}
	return nil
}

// requireModerate is for moderator operations.
func (a *actor) requireModerate(op string) error {
	if err := a.requireSee(); err != nil {
		return err
	}
	if !a.moderates() {
		return forbidden("Only a moderator of the channel or an AppInstanceAdmin may %s", op)
	}
	return nil
}

// requireMember is for operations on the bearer's own membership.
func (a *actor) requireMember() error {
	if err := a.requireSee(); err != nil {
		return err
	}
	if !a.isMember() {
		return forbidden("The bearer %s is not a member of the channel", a.arn)
	}
	return nil
}

// mayActFor: the *ForAppInstanceUser and *ModeratedByAppInstanceUser
// operations take a user ARN; users may name only themselves, admins
// anyone of their AppInstance.
func (a *actor) mayActFor(userARN string) error {
	if userARN == a.arn {
		return nil
	}
	r, ok := carillon.ParseResource(userARN)
	if a.admin && ok && r.AppInstanceARN() == a.appInstance {
		return nil
	}
	return forbidden("The bearer %s may not act for %s", a.arn, userARN)
}

// memberRef resolves a user or bot named in a request (a member to add,
// a moderator, a ban) within the channel's AppInstance and returns its
// name. Anything else is a BadRequest naming it.
func (s *Service) memberRef(tx carillon.Tx, ch *carillon.Channel, arn string) (string, error) {
	r, ok := carillon.ParseResource(arn)
	if !ok || (r.Type != carillon.TypeUser && r.Type != carillon.TypeBot) || r.AppInstanceARN() != ch.AppInstanceARN {
		return "", carillon.Errorf(carillon.BadRequest, "%s is not an AppInstanceUser or AppInstanceBot of the channel's AppInstance", arn)
	}
	if r.Type == carillon.TypeUser {
		u, err := tx.GetUser(arn)
		if isNotFound(err) {
			return "", carillon.Errorf(carillon.BadRequest, "The AppInstanceUser %s does not exist", arn)
		}
		if err != nil {
			return "", err
		}
		return u.Name, nil
	}
	b, err := tx.GetBot(arn)
	if isNotFound(err) {
		return "", carillon.Errorf(carillon.BadRequest, "The AppInstanceBot %s does not exist", arn)
	}
	if err != nil {
		return "", err
	}
	return b.Name, nil
}

// isAdmin reports whether arn administers the AppInstance.
func isAdmin(tx carillon.Tx, appInstanceARN, arn string) (bool, error) {
	_, err := tx.GetAdmin(appInstanceARN, arn)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, err
}

// ModeratedChannel resolves a bearer and a channel as the channel
// operations do, and returns the channel when the bearer moderates it (a
// moderator of the channel or an AppInstanceAdmin); otherwise the error
// those operations answer. op ends the message "Only a moderator … may
// <op>". Package flows uses it for AssociateChannelFlow and
// DisassociateChannelFlow (docs/semantics.md, "Roles").
func (s *Service) ModeratedChannel(tx carillon.Tx, bearerARN, channelARN, op string) (*carillon.Channel, error) {
	a, ch, err := s.act(tx, bearerARN, channelARN)
	if err != nil {
		return nil, err
	}
	if err := a.requireModerate(op); err != nil {
		return nil, err
	}
	return ch, nil
}
