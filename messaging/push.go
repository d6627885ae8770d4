package messaging

import (
	"github.com/carillonhq/carillon"
)

// EventPushNotification carries the push notification of a message, from
// the transaction that makes the message visible to its channel
// (SendChannelMessage, or a channel flow's SENT) to the push dispatcher
// (package push). It has no audience, so no session receives it, and the
// streaming export has no data type for it.
const EventPushNotification = "CARILLON_PUSH_NOTIFICATION"

// emitPush appends the EventPushNotification of m, if m asks for one. Its
// EventData is the message with its notification; it has no payload, no
// client receiving it.
func emitPush(tx carillon.Tx, m *carillon.Message) error {
	if m.Push == nil {
		return nil
	}
	d := messageData(m)
	d.Push = &PushData{Title: m.Push.Title, Body: m.Push.Body, Type: m.Push.Type}
	e := &carillon.Event{Type: EventPushNotification, Channel: m.ChannelARN, MessageType: MessageTypeSystem}
	if err := withData(e, EventData{Message: d}); err != nil {
		return err
	}
	return tx.AppendEvent(e)
}

// PushTarget is one device a push notification goes to.
type PushTarget struct {
	Member   string // the AppInstanceUser or bot ARN
	Endpoint carillon.UserEndpoint
}

// pushPage is how many memberships PushTargets reads at a time.
const pushPage = 500

// PushTargets returns the devices the push notification of a message
// (the EventData of an EventPushNotification) goes to, by the
// memberships, preferences and endpoints in tx: every member of the
// channel (of the message's sub-channel, in an elastic channel; only the
// target, for a targeted message) but the sender, whose preferences allow
// it (none set: ALL; FILTERED: the message's attributes pass the
// FilterRule), on each of its endpoints that is ACTIVE with AllowMessages
// ALL. A channel deleted meanwhile has no members, and so no targets.
func PushTargets(tx carillon.Tx, r *MessageData) ([]PushTarget, error) {
	var targets []PushTarget
	// add adds the devices of the members of a page whose preferences
	// let the message through: their endpoints in one query.
	add := func(ms []carillon.Membership) error {
		var members []string
		for i := range ms {
			if ms[i].MemberARN != r.Sender && pushAllowed(ms[i].Preferences, r.Attributes) {
				members = append(members, ms[i].MemberARN)
			}
		}
		if len(members) == 0 {
			return nil
		}
		eps, err := tx.EndpointsOf(members)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if ep.AllowMessages == "ALL" && ep.StateStatus == "ACTIVE" {
				targets = append(targets, PushTarget{Member: ep.UserARN, Endpoint: ep})
			}
		}
		return nil
	}
	if r.Target != "" {
		m, err := tx.GetMembership(r.Channel, r.Target)
		if isNotFound(err) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		return targets, add([]carillon.Membership{*m})
	}
	ch, err := tx.GetChannel(r.Channel)
	if isNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	for page := (carillon.Page{Limit: pushPage}); ; {
		var ms []carillon.Membership
		if r.SubChannel != "" {
			ms, err = subChannelRoster(tx, ch, "", r.SubChannel, page)
		} else {
			ms, err = tx.ListMemberships(ch.ARN, "", "", page)
		}
		if err != nil {
			return nil, err
		}
		if err := add(ms); err != nil {
			return nil, err
		}
		if len(ms) < page.Limit {
			return targets, nil
		}
		page.After = ms[len(ms)-1].MemberARN
	}
}

// pushAllowed applies a member's preferences to a message's attributes.
// A FilterRule that no longer compiles (it was checked when it was put)
// lets nothing through.
func pushAllowed(p *carillon.MembershipPreferences, attrs map[string][]string) bool {
	if p == nil {
		return true
	}
	switch p.AllowNotifications {
	case allowNone:
		return false
	case allowFiltered:
		f, err := compileFilterRule(p.FilterRule)
		return err == nil && f.Matches(attrs)
	}
	return true
}
