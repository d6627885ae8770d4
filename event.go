package carillon

import (
	"strings"
	"time"
)

// Event is a change announced to clients, written to the outbox in the
// transaction that makes the change and published after it commits.
type Event struct {
	Seq int64 // assigned by the store, increasing in commit order
	At  time.Time
	// Type is the websocket event type, e.g. CREATE_CHANNEL_MESSAGE.
	Type string
	// Channel is the channel ARN the event belongs to ("" for none), or
	// the audience of one of its sub-channels (SubChannelAudience).
	Channel string
	// ToMembers delivers the event to every member of Channel, as the
	// membership stands at this event in commit order. Storing the
	// audience rather than a list keeps an event of a channel of 100,000
	// members one small row.
	ToMembers bool
	// Recipients are bearer ARNs the event is delivered to, besides the
	// members when ToMembers is set (a removed member), or instead of
	// them (a targeted message: its sender and target).
	Recipients []string
	// Member and MemberChange describe a membership the event creates
	// (+1) or removes (-1), so that deliverers keep their view of the
	// channel's members in step with the events they deliver.
	Member       string
	MemberChange int
	// MessageType is the x-amz-chime-message-type: STANDARD, CONTROL or SYSTEM.
	MessageType string
	// Reason is the x-amz-chime-event-reason header, usually "".
	Reason string
	// Payload is the JSON payload as the client receives it.
	Payload []byte
	// Data is what Carillon's own readers of the event (bots, push, the
	// streaming export) need beyond the fields above: package messaging's
	// encoding of a typed, versioned form (messaging.EventData), written
	// with the event so that no reader parses Payload, the clients'
	// contract. nil for most events. Stores keep it as they keep Payload.
	Data []byte
}

// EventBearerDeleted is the event of an AppInstanceUser's or bot's
// deletion (DeleteAppInstanceUser, DeleteAppInstanceBot, expiry), or of
// an AppInstance's with all its users and bots (DeleteAppInstance), with
// Member the deleted ARN and no audience: whoever delivers drops what it
// holds for those bearers (the hub closes their sessions), in commit
// order.
const EventBearerDeleted = "CARILLON_BEARER_DELETED"

// EventAccessKeyDeleted is the event of a per-user access key's deletion,
// with Member the access key id and no audience: the hub closes the
// messaging sessions the key opened, in commit order.
const EventAccessKeyDeleted = "CARILLON_ACCESS_KEY_DELETED"

// SubChannelAudience is the Event.Channel of the events of one sub-channel
// of an elastic channel, whose audience is the members of that
// sub-channel: the channel ARN, "#" and the sub-channel ID. Channel ARNs
// never contain "#" (the ChannelId pattern has none), so the two parts
// stay apart. An event whose Channel is the channel ARN itself, with
// ToMembers, reaches the members of every sub-channel.
func SubChannelAudience(channelARN, subChannelID string) string {
	if subChannelID == "" {
		return channelARN
	}
	return channelARN + "#" + subChannelID
}

// AudienceChannel splits an Event.Channel into the channel ARN and the
// sub-channel ID, "" when the audience is the whole channel.
func AudienceChannel(audience string) (channelARN, subChannelID string) {
	channelARN, subChannelID, _ = strings.Cut(audience, "#")
	return channelARN, subChannelID
}

// OutboxTx is the transactional outbox.
type OutboxTx interface {
	// AppendEvent adds an event; the store assigns Seq and At.
	AppendEvent(e *Event) error
	// Events returns up to limit events with Seq > after, in Seq order
	// (limit <= 0: all of them). An engine must never expose an event
	// whose Seq is below one already returned: Seq order is commit order.
	Events(after int64, limit int) ([]Event, error)
	// LastEventSeq is the Seq of the newest event, 0 when there is none
	// yet (deleted events count: Seq is never reused).
	LastEventSeq() (int64, error)
	// DeleteEventsThrough removes events with Seq <= seq.
	DeleteEventsThrough(seq int64) error
}
