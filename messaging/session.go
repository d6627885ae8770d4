package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
)

// ErrUnknownBearer is returned by SessionSnapshot for an ARN that names no
// user or bot.
var ErrUnknownBearer = errors.New("messaging: unknown user or bot")

// Prefetch limits (Amazon Chime SDK Developer Guide, websockets: prefetch).
const (
	prefetchChannels    = 50
	prefetchMessages    = 20
	prefetchMemberships = 30
)

// SessionSnapshot returns the channels a user or bot is a member of and the
// outbox position the answer reflects, read in one transaction: what a
// messaging session starts from before it follows events. The channels
// are event audiences (Event.Channel): for an elastic channel, the
// sub-channels the user is in (carillon.SubChannelAudience), so that it
// receives their events and not the other sub-channels'.
func (s *Service) SessionSnapshot(ctx context.Context, user string) (channels []string, seq int64, err error) {
	err = s.view(ctx, func(tx carillon.Tx) error {
		if _, err := s.bearer(tx, user); err != nil {
			if carillon.IsKind(err, carillon.Forbidden) {
				return ErrUnknownBearer
			}
			return err
		}
		if seq, err = tx.LastEventSeq(); err != nil {
			return err
		}
		channels = channels[:0]
		return s.eachMembership(tx, user, func(cm *carillon.ChannelMembershipOf) error {
			subs, err := memberSubChannels(tx, &cm.Channel, &cm.Membership, 0)
			if err != nil {
				return err
			}
			if cm.Channel.Elastic == nil {
				channels = append(channels, cm.Channel.ARN)
			}
			for _, sub := range subs {
				channels = append(channels, audience(cm.Channel.ARN, sub))
			}
			return nil
		})
	})
	return channels, seq, err
}

// memberSubChannels returns the sub-channels a membership of an elastic
// channel is in, in ID order, at most limit of them (limit <= 0: all):
// the one a member is placed in, or those a moderator joined. None for a
// channel that is not elastic.
func memberSubChannels(tx carillon.Tx, ch *carillon.Channel, m *carillon.Membership, limit int) ([]string, error) {
	switch {
	case ch.Elastic == nil:
		return nil, nil
	case m.SubChannelID != "":
		return []string{m.SubChannelID}, nil
	}
	var out []string
	page := carillon.Page{Limit: 500}
	for {
		rows, err := tx.ListSubChannelMembershipsOf(ch.ARN, m.MemberARN, page)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, r.SubChannelID)
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
		if len(rows) < page.Limit {
			return out, nil
		}
		page.After = rows[len(rows)-1].SubChannelID
	}
}

func (s *Service) eachMembership(tx carillon.Tx, user string, fn func(*carillon.ChannelMembershipOf) error) error {
	page := carillon.Page{Limit: 500}
	for {
		rows, err := tx.ListMembershipsOf(user, page)
		if err != nil {
			return err
		}
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		if len(rows) < page.Limit {
			return nil
		}
		page.After = rows[len(rows)-1].Channel.ARN
	}
}

// channelDetailsPayload is the payload of a CHANNEL_DETAILS frame.
type channelDetailsPayload struct {
	Channel                channelSummaryPayload      `json:"Channel"`
	ChannelMessages        []messageSummaryPayload    `json:"ChannelMessages"`
	ChannelMemberships     []membershipSummaryPayload `json:"ChannelMemberships"`
	ReadMarkerTimestamp    *api.ISOTime               `json:"ReadMarkerTimestamp,omitempty"`
	ChannelMessagesHasMore bool                       `json:"ChannelMessagesHasMore"`
}

type channelSummaryPayload struct {
	Name                 string       `json:"Name"`
	ChannelArn           string       `json:"ChannelArn"`
	Mode                 string       `json:"Mode"`
	Privacy              string       `json:"Privacy"`
	Metadata             string       `json:"Metadata,omitempty"`
	LastMessageTimestamp *api.ISOTime `json:"LastMessageTimestamp,omitempty"`
}

type messageSummaryPayload struct {
	MessageID            string                      `json:"MessageId"`
	Content              string                      `json:"Content"`
	Metadata             string                      `json:"Metadata,omitempty"`
	Type                 string                      `json:"Type"`
	CreatedTimestamp     *api.ISOTime                `json:"CreatedTimestamp,omitempty"`
	LastEditedTimestamp  *api.ISOTime                `json:"LastEditedTimestamp,omitempty"`
	LastUpdatedTimestamp *api.ISOTime                `json:"LastUpdatedTimestamp,omitempty"`
	Sender               identityPayload             `json:"Sender"`
	Redacted             bool                        `json:"Redacted"`
	Status               *statusPayload              `json:"Status,omitempty"`
	MessageAttributes    map[string]attributePayload `json:"MessageAttributes,omitempty"`
	ContentType          string                      `json:"ContentType,omitempty"`
	Target               []targetPayload             `json:"Target,omitempty"`
}

type membershipSummaryPayload struct {
	Member identityPayload `json:"Member"`
}

// ChannelDetails builds the CHANNEL_DETAILS payloads of a session that
// asked for prefetch-on=connect: up to 50 of the user's channels, sorted
// by sortBy ("unread", the default: channels with unread messages first,
// then by latest message; or "last-message-timestamp"), each with its 20
// latest messages the user may see, 30 DEFAULT memberships, the user's
// read marker, and whether more messages exist. For an elastic channel,
// the messages and memberships are those of the user's sub-channel; a
// moderator in several gets the first of them, by ID (ruling 29: the
// payload has no SubChannelId to tell several apart).
func (s *Service) ChannelDetails(ctx context.Context, user, sortBy string) ([][]byte, error) {
	var out [][]byte
	err := s.view(ctx, func(tx carillon.Tx) error {
		var all []carillon.ChannelMembershipOf
		if err := s.eachMembership(tx, user, func(cm *carillon.ChannelMembershipOf) error {
			all = append(all, *cm)
			return nil
		}); err != nil {
			return err
		}
		unread := func(cm *carillon.ChannelMembershipOf) bool {
			return !cm.Channel.LastMessageAt.IsZero() && cm.Channel.LastMessageAt.After(cm.Membership.ReadMarker)
		}
		sort.SliceStable(all, func(i, j int) bool {
			a, b := &all[i], &all[j]
			if sortBy != "last-message-timestamp" {
				if ua, ub := unread(a), unread(b); ua != ub {
					return ua
				}
			}
			return a.Channel.LastMessageAt.After(b.Channel.LastMessageAt)
		})
		if len(all) > prefetchChannels {
			all = all[:prefetchChannels]
		}
		out = make([][]byte, 0, len(all))
		for i := range all {
			p, err := s.channelDetails(tx, user, &all[i])
			if err != nil {
				return err
			}
			b, err := json.Marshal(p)
			if err != nil {
				return err
			}
			out = append(out, b)
		}
		return nil
	})
	return out, err
}

func (s *Service) channelDetails(tx carillon.Tx, user string, cm *carillon.ChannelMembershipOf) (*channelDetailsPayload, error) {
	c, m := &cm.Channel, &cm.Membership
	p := &channelDetailsPayload{
		Channel: channelSummaryPayload{
			Name: c.Name, ChannelArn: c.ARN, Mode: c.Mode, Privacy: c.Privacy, Metadata: c.Metadata,
			LastMessageTimestamp: api.ISOTimeOf(c.LastMessageAt),
		},
		ChannelMessages:     []messageSummaryPayload{},
		ChannelMemberships:  []membershipSummaryPayload{},
		ReadMarkerTimestamp: api.ISOTimeOf(m.ReadMarker),
	}
	sub := ""
	if subs, err := memberSubChannels(tx, c, m, 1); err != nil {
		return nil, err
	} else if len(subs) > 0 {
		sub = subs[0]
	}
	msgs, err := tx.ListMessages(carillon.MessageQuery{
		Channel: c.ARN, SubChannel: sub, Descending: true, Limit: prefetchMessages + 1, VisibleTo: user,
	})
	if err != nil {
		return nil, err
	}
	if len(msgs) > prefetchMessages {
		msgs, p.ChannelMessagesHasMore = msgs[:prefetchMessages], true
	}
	for i := range msgs {
		mp := messageEventPayload(&msgs[i])
		p.ChannelMessages = append(p.ChannelMessages, messageSummaryPayload{
			MessageID: mp.MessageID, Content: mp.Content, Metadata: mp.Metadata, Type: mp.Type,
			CreatedTimestamp: mp.CreatedTimestamp, LastEditedTimestamp: mp.LastEditedTimestamp,
			LastUpdatedTimestamp: mp.LastUpdatedTimestamp, Sender: mp.Sender, Redacted: mp.Redacted,
			Status: mp.Status, MessageAttributes: mp.MessageAttributes, ContentType: mp.ContentType, Target: mp.Target,
		})
	}
	page := carillon.Page{Limit: prefetchMemberships}
	var members []carillon.Membership
	if sub != "" {
		members, err = subChannelRoster(tx, c, membershipDefault, sub, page)
	} else {
		members, err = tx.ListMemberships(c.ARN, membershipDefault, "", page)
	}
	if err != nil {
		return nil, err
	}
	for _, mm := range members {
		p.ChannelMemberships = append(p.ChannelMemberships, membershipSummaryPayload{Member: identityPayload{Arn: mm.MemberARN, Name: mm.MemberName}})
	}
	return p, nil
}
