package messaging

import (
	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
)

// Event types of the messaging session (docs/semantics.md, "Events").
const (
	EventCreateChannelMessage         = "CREATE_CHANNEL_MESSAGE"
	EventUpdateChannelMessage         = "UPDATE_CHANNEL_MESSAGE"
	EventRedactChannelMessage         = "REDACT_CHANNEL_MESSAGE"
	EventDeleteChannelMessage         = "DELETE_CHANNEL_MESSAGE"
	EventUpdateChannel                = "UPDATE_CHANNEL"
	EventDeleteChannel                = "DELETE_CHANNEL"
	EventCreateChannelMembership      = "CREATE_CHANNEL_MEMBERSHIP"
	EventDeleteChannelMembership      = "DELETE_CHANNEL_MEMBERSHIP"
	EventUpdateChannelMembership      = "UPDATE_CHANNEL_MEMBERSHIP"
	EventBatchCreateChannelMembership = "BATCH_CREATE_CHANNEL_MEMBERSHIP"

	// The events of messages held by a channel flow, sent to the sender
	// only: PENDING_ when the flow takes the message, FAILED_ when a
	// processor could not be invoked and its FallbackAction is ABORT,
	// DENIED_ when a processor denied it (docs/semantics.md, "Channel
	// flows").
	EventPendingCreateChannelMessage = "PENDING_CREATE_CHANNEL_MESSAGE"
	EventPendingUpdateChannelMessage = "PENDING_UPDATE_CHANNEL_MESSAGE"
	EventFailedCreateChannelMessage  = "FAILED_CREATE_CHANNEL_MESSAGE"
	EventFailedUpdateChannelMessage  = "FAILED_UPDATE_CHANNEL_MESSAGE"
	EventDeniedCreateChannelMessage  = "DENIED_CREATE_CHANNEL_MESSAGE"
	EventDeniedUpdateChannelMessage  = "DENIED_UPDATE_CHANNEL_MESSAGE"
)

// A BATCH_CREATE_CHANNEL_MEMBERSHIP event announces every member a batch
// added, in one event that carries several membership changes: Member is
// "", MemberChange is +1 and Recipients are the members added, each of
// whom becomes a member at this event. ToMembers is set unless they
// joined HIDDEN, as for a single membership. A deliverer reads
// "MemberChange != 0 with Member empty" as "the change applies to every
// Recipient".

// Message types of the x-amz-chime-message-type header.
const (
	MessageTypeSystem = "SYSTEM"
)

type identityPayload struct {
	Arn  string `json:"Arn"`
	Name string `json:"Name"`
}

type statusPayload struct {
	Value  string `json:"Value"`
	Detail string `json:"Detail,omitempty"`
}

type attributePayload struct {
	StringValues []string `json:"StringValues"`
}

type targetPayload struct {
	MemberArn string `json:"MemberArn"`
}

// messagePayload is a ChannelMessage in a websocket payload. Content is
// always present, empty when redacted: clients decode it as non-optional.
type messagePayload struct {
	ChannelArn           string                      `json:"ChannelArn"`
	MessageID            string                      `json:"MessageId"`
	Content              string                      `json:"Content"`
	Metadata             string                      `json:"Metadata,omitempty"`
	Type                 string                      `json:"Type"`
	CreatedTimestamp     *api.ISOTime                `json:"CreatedTimestamp,omitempty"`
	LastEditedTimestamp  *api.ISOTime                `json:"LastEditedTimestamp,omitempty"`
	LastUpdatedTimestamp *api.ISOTime                `json:"LastUpdatedTimestamp,omitempty"`
	Sender               identityPayload             `json:"Sender"`
	Redacted             bool                        `json:"Redacted"`
	Persistence          string                      `json:"Persistence"`
	Status               *statusPayload              `json:"Status,omitempty"`
	MessageAttributes    map[string]attributePayload `json:"MessageAttributes,omitempty"`
	SubChannelID         string                      `json:"SubChannelId,omitempty"`
	ContentType          string                      `json:"ContentType,omitempty"`
	Target               []targetPayload             `json:"Target,omitempty"`
}

func messageEventPayload(m *carillon.Message) messagePayload {
	p := messagePayload{
		ChannelArn:           m.ChannelARN,
		MessageID:            m.ID,
		Content:              m.Content,
		Metadata:             m.Metadata,
		Type:                 m.Type,
		CreatedTimestamp:     api.ISOTimeOf(m.Created),
		LastEditedTimestamp:  api.ISOTimeOf(m.LastEdited),
		LastUpdatedTimestamp: api.ISOTimeOf(m.Updated),
		Sender:               identityPayload{Arn: m.Sender, Name: m.SenderName},
		Redacted:             m.Redacted,
		Persistence:          m.Persistence,
		SubChannelID:         m.SubChannelID,
		ContentType:          m.ContentType,
	}
	if m.Status != "" {
		p.Status = &statusPayload{Value: m.Status, Detail: m.StatusDetail}
	}
	if len(m.Attributes) > 0 {
		p.MessageAttributes = make(map[string]attributePayload, len(m.Attributes))
		for k, v := range m.Attributes {
			p.MessageAttributes[k] = attributePayload{StringValues: v}
		}
	}
	if m.Target != "" {
		p.Target = []targetPayload{{MemberArn: m.Target}}
	}
	return p
}

type elasticPayload struct {
	MaximumSubChannels             int `json:"MaximumSubChannels"`
	TargetMembershipsPerSubChannel int `json:"TargetMembershipsPerSubChannel"`
	MinimumMembershipPercentage    int `json:"MinimumMembershipPercentage"`
}

type expirationPayload struct {
	ExpirationDays      int    `json:"ExpirationDays"`
	ExpirationCriterion string `json:"ExpirationCriterion"`
}

// channelPayload is a Channel in a websocket payload.
type channelPayload struct {
	Name                        string             `json:"Name"`
	ChannelArn                  string             `json:"ChannelArn"`
	Mode                        string             `json:"Mode"`
	Privacy                     string             `json:"Privacy"`
	Metadata                    string             `json:"Metadata,omitempty"`
	CreatedBy                   *identityPayload   `json:"CreatedBy,omitempty"`
	CreatedTimestamp            *api.ISOTime       `json:"CreatedTimestamp,omitempty"`
	LastMessageTimestamp        *api.ISOTime       `json:"LastMessageTimestamp,omitempty"`
	LastUpdatedTimestamp        *api.ISOTime       `json:"LastUpdatedTimestamp,omitempty"`
	ChannelFlowArn              string             `json:"ChannelFlowArn,omitempty"`
	ElasticChannelConfiguration *elasticPayload    `json:"ElasticChannelConfiguration,omitempty"`
	ExpirationSettings          *expirationPayload `json:"ExpirationSettings,omitempty"`
}

func channelEventPayload(c *carillon.Channel, createdByName string) channelPayload {
	p := channelPayload{
		Name:                 c.Name,
		ChannelArn:           c.ARN,
		Mode:                 c.Mode,
		Privacy:              c.Privacy,
		Metadata:             c.Metadata,
		CreatedTimestamp:     api.ISOTimeOf(c.Created),
		LastMessageTimestamp: api.ISOTimeOf(c.LastMessageAt),
		LastUpdatedTimestamp: api.ISOTimeOf(c.Updated),
		ChannelFlowArn:       c.FlowARN,
	}
	if c.CreatedBy != "" {
		p.CreatedBy = &identityPayload{Arn: c.CreatedBy, Name: createdByName}
	}
	if e := c.Elastic; e != nil {
		p.ElasticChannelConfiguration = &elasticPayload{e.MaximumSubChannels, e.TargetMembershipsPerSubChannel, e.MinimumMembershipPercentage}
	}
	if e := c.Expiration; e != nil {
		p.ExpirationSettings = &expirationPayload{e.Days, e.Criterion}
	}
	return p
}

// membershipPayload is a ChannelMembership in a websocket payload.
type membershipPayload struct {
	InvitedBy            *identityPayload `json:"InvitedBy,omitempty"`
	Type                 string           `json:"Type"`
	Member               identityPayload  `json:"Member"`
	ChannelArn           string           `json:"ChannelArn"`
	CreatedTimestamp     *api.ISOTime     `json:"CreatedTimestamp,omitempty"`
	LastUpdatedTimestamp *api.ISOTime     `json:"LastUpdatedTimestamp,omitempty"`
	SubChannelID         string           `json:"SubChannelId,omitempty"`
}

func membershipEventPayload(m *carillon.Membership, invitedByName string) membershipPayload {
	p := membershipPayload{
		Type:                 m.Type,
		Member:               identityPayload{Arn: m.MemberARN, Name: m.MemberName},
		ChannelArn:           m.ChannelARN,
		CreatedTimestamp:     api.ISOTimeOf(m.Created),
		LastUpdatedTimestamp: api.ISOTimeOf(m.Updated),
		SubChannelID:         m.SubChannelID,
	}
	if m.InvitedBy != "" {
		p.InvitedBy = &identityPayload{Arn: m.InvitedBy, Name: invitedByName}
	}
	return p
}

// batchMembershipsPayload is BatchChannelMemberships in a websocket payload.
type batchMembershipsPayload struct {
	InvitedBy    *identityPayload  `json:"InvitedBy,omitempty"`
	Type         string            `json:"Type"`
	Members      []identityPayload `json:"Members"`
	ChannelArn   string            `json:"ChannelArn"`
	SubChannelID string            `json:"SubChannelId,omitempty"`
}

// emit appends an event to the outbox in the transaction of the change.
func emit(tx carillon.Tx, e *carillon.Event, payload any) error {
	b, err := marshalEvent(payload)
	if err != nil {
		return err
	}
	e.Payload = b
	if e.MessageType == "" {
		e.MessageType = MessageTypeSystem
	}
	return tx.AppendEvent(e)
}

// emitMessageEvent appends an event of type typ about m, with m as its
// payload, in the transaction tx: to the channel's members (of its
// sub-channel, in an elastic channel), or, for a targeted message, to its
// sender and target; with senderOnly, to its sender alone (the PENDING_,
// FAILED_ and DENIED_ events of channel flows). A CREATE_CHANNEL_MESSAGE
// carries the message as EventData, and, to the channel, is followed by
// the message's push notification, if it has one (EventPushNotification).
func emitMessageEvent(tx carillon.Tx, typ string, m *carillon.Message, senderOnly bool) error {
	e := &carillon.Event{Type: typ, Channel: audience(m.ChannelARN, m.SubChannelID), MessageType: m.Type}
	if senderOnly {
		e.Recipients = []string{m.Sender}
	} else if err := messageAudience(tx, e, m); err != nil {
		return err
	}
	if typ == EventCreateChannelMessage {
		// The message, for the bots it may invoke.
		if err := withData(e, EventData{Message: messageData(m)}); err != nil {
			return err
		}
	}
	if err := emit(tx, e, messageEventPayload(m)); err != nil {
		return err
	}
	if typ == EventCreateChannelMessage && !senderOnly {
		return emitPush(tx, m)
	}
	return nil
}

// messageAudience sets who receives an event about a message: everyone in
// the channel (its sub-channel), or, for a targeted message, its sender
// and target while they are still members of it. Explicit recipients
// bypass the membership the hub keeps, so a target (or sender) removed or
// banned since the message was sent is left out here, in the transaction
// of the event, and never hears of the message's edits.
func messageAudience(tx carillon.Tx, e *carillon.Event, m *carillon.Message) error {
	if m.Target == "" {
		e.ToMembers = true
		return nil
	}
	for _, arn := range uniq(m.Sender, m.Target) {
		mb, err := tx.GetMembership(m.ChannelARN, arn)
		if isNotFound(err) {
			continue
		} else if err != nil {
			return err
		}
		if m.SubChannelID != "" {
			if in, err := isInSubChannel(tx, m.ChannelARN, mb, m.SubChannelID); err != nil {
				return err
			} else if !in {
				continue
			}
		}
		e.Recipients = append(e.Recipients, arn)
	}
	return nil
}

func uniq(arns ...string) []string {
	out := arns[:0:0]
	for _, a := range arns {
		dup := false
		for _, b := range out {
			dup = dup || a == b
		}
		if !dup && a != "" {
			out = append(out, a)
		}
	}
	return out
}
