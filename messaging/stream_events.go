package messaging

import (
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
)

// Events that only the streaming export carries (docs/semantics.md,
// "Events"): AWS
// documents no websocket event for them, so they are appended with no
// audience (ToMembers false, no Recipients) and the hub delivers them to
// nobody. Their payloads are the API shapes the export's table names.
const (
	EventCreateChannel                   = "CREATE_CHANNEL"
	EventUpdateChannelExpirationSettings = "UPDATE_CHANNEL_EXPIRATION_SETTINGS"
	EventCreateChannelBan                = "CREATE_CHANNEL_BAN"
	EventDeleteChannelBan                = "DELETE_CHANNEL_BAN"
	EventCreateChannelModerator          = "CREATE_CHANNEL_MODERATOR"
	EventDeleteChannelModerator          = "DELETE_CHANNEL_MODERATOR"
	EventCreateSubChannel                = "CREATE_SUB_CHANNEL"
	EventDeleteSubChannel                = "DELETE_SUB_CHANNEL"
)

// banPayload is a ChannelBan in an event payload.
type banPayload struct {
	ChannelArn       string          `json:"ChannelArn"`
	Member           identityPayload `json:"Member"`
	CreatedBy        identityPayload `json:"CreatedBy"`
	CreatedTimestamp *api.ISOTime    `json:"CreatedTimestamp,omitempty"`
}

// moderatorPayload is a ChannelModerator in an event payload.
type moderatorPayload struct {
	ChannelArn       string          `json:"ChannelArn"`
	Moderator        identityPayload `json:"Moderator"`
	CreatedBy        identityPayload `json:"CreatedBy"`
	CreatedTimestamp *api.ISOTime    `json:"CreatedTimestamp,omitempty"`
}

// subChannelPayload is a SubChannelSummary with its channel, the payload
// of CREATE_SUB_CHANNEL and DELETE_SUB_CHANNEL.
type subChannelPayload struct {
	ChannelArn      string `json:"ChannelArn"`
	SubChannelID    string `json:"SubChannelId"`
	MembershipCount int    `json:"MembershipCount"`
}

// emitStreamOnly appends an event for the streaming export alone.
func emitStreamOnly(tx carillon.Tx, typ, channel string, payload any) error {
	return emit(tx, &carillon.Event{Type: typ, Channel: channel}, payload)
}

// announceChannel appends CREATE_CHANNEL or
// UPDATE_CHANNEL_EXPIRATION_SETTINGS with the channel as its payload.
func announceChannel(tx carillon.Tx, typ string, ch *carillon.Channel) error {
	createdBy, err := carillon.NameOf(tx, ch.CreatedBy)
	if err != nil {
		return err
	}
	return emitStreamOnly(tx, typ, ch.ARN, channelEventPayload(ch, createdBy))
}

// announceModerator appends CREATE_ or DELETE_CHANNEL_MODERATOR.
func announceModerator(tx carillon.Tx, typ, channel, moderator, createdBy string, created time.Time) error {
	p := moderatorPayload{ChannelArn: channel, CreatedTimestamp: api.ISOTimeOf(created)}
	var err error
	if p.Moderator, err = identityOf(tx, moderator); err != nil {
		return err
	}
	if p.CreatedBy, err = identityOf(tx, createdBy); err != nil {
		return err
	}
	return emitStreamOnly(tx, typ, channel, p)
}

// announceBan appends CREATE_ or DELETE_CHANNEL_BAN.
func announceBan(tx carillon.Tx, typ, channel, member, createdBy string, created time.Time) error {
	p := banPayload{ChannelArn: channel, CreatedTimestamp: api.ISOTimeOf(created)}
	var err error
	if p.Member, err = identityOf(tx, member); err != nil {
		return err
	}
	if p.CreatedBy, err = identityOf(tx, createdBy); err != nil {
		return err
	}
	return emitStreamOnly(tx, typ, channel, p)
}

// AnnounceSubChannel appends CREATE_ or DELETE_SUB_CHANNEL, for elastic
// channels.
func AnnounceSubChannel(tx carillon.Tx, typ, channel, subChannelID string, memberships int) error {
	return emitStreamOnly(tx, typ, channel, subChannelPayload{ChannelArn: channel, SubChannelID: subChannelID, MembershipCount: memberships})
}

func identityOf(tx carillon.Tx, arn string) (identityPayload, error) {
	name, err := carillon.NameOf(tx, arn)
	return identityPayload{Arn: arn, Name: name}, err
}
