package messaging

import (
	"encoding/json"
	"fmt"

	"github.com/carillonhq/carillon"
)

// EventData is what Carillon's own readers need of an event beyond its
// carillon.Event fields: bots the message a CREATE_CHANNEL_MESSAGE sends,
// push the notification of a CARILLON_PUSH_NOTIFICATION, the streaming
// export the members a BATCH_CREATE_CHANNEL_MEMBERSHIP adds. It is written
// with the event, in the transaction of the change (carillon.Event.Data),
// so that no reader parses the websocket payload: that is the clients'
// contract, and Carillon's readers have their own.
//
// The stored form is the JSON of EventData with its version V. Fields may
// be added; none is ever renamed or given another meaning without a new
// version, which readers refuse until they know it.
type EventData struct {
	V       int          `json:"v"`
	Message *MessageData `json:"message,omitempty"`
	Batch   *BatchData   `json:"batch,omitempty"`
}

// eventDataVersion is the version of EventData that is written and read.
const eventDataVersion = 1

// MessageData is a message as bots and push read it.
type MessageData struct {
	Channel    string              `json:"channel"`
	SubChannel string              `json:"sub_channel,omitempty"`
	ID         string              `json:"id"`
	Sender     string              `json:"sender"`
	Type       string              `json:"type"` // STANDARD or CONTROL
	Content    string              `json:"content"`
	Attributes map[string][]string `json:"attributes,omitempty"`
	// Target is the member a targeted message is for, "" for the channel.
	Target string `json:"target,omitempty"`
	// Push is the message's PushNotification, in the push event only.
	Push *PushData `json:"push,omitempty"`
}

// PushData is a message's PushNotification.
type PushData struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
	Type  string `json:"type,omitempty"` // DEFAULT or VOIP; "" is DEFAULT
}

// BatchData is the memberships a BatchCreateChannelMembership made.
type BatchData struct {
	Channel    string       `json:"channel"`
	SubChannel string       `json:"sub_channel"`
	Type       string       `json:"type"` // DEFAULT or HIDDEN
	InvitedBy  IdentityOf   `json:"invited_by"`
	Members    []IdentityOf `json:"members"`
}

// IdentityOf is a user or bot with its name when the event was written.
type IdentityOf struct {
	ARN  string `json:"arn"`
	Name string `json:"name"`
}

// ReadEventData decodes the EventData of an event; nil, without error,
// for an event that has none.
func ReadEventData(e *carillon.Event) (*EventData, error) {
	if len(e.Data) == 0 {
		return nil, nil
	}
	var d EventData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, fmt.Errorf("messaging: the data of event %d (%s): %w", e.Seq, e.Type, err)
	}
	if d.V != eventDataVersion {
		return nil, fmt.Errorf("messaging: the data of event %d (%s) is of version %d, not %d", e.Seq, e.Type, d.V, eventDataVersion)
	}
	return &d, nil
}

// withData sets the Data of e.
func withData(e *carillon.Event, d EventData) error {
	d.V = eventDataVersion
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	e.Data = b
	return nil
}

func messageData(m *carillon.Message) *MessageData {
	return &MessageData{
		Channel: m.ChannelARN, SubChannel: m.SubChannelID, ID: m.ID, Sender: m.Sender, Type: m.Type,
		Content: m.Content, Attributes: m.Attributes, Target: m.Target,
	}
}

// BatchMembershipPayloads returns, for a BATCH_CREATE_CHANNEL_MEMBERSHIP
// event, the payload of a CREATE_CHANNEL_MEMBERSHIP event for each member
// it added, created at the event's time: how the streaming export records
// a batch, since AWS's export has no batch event.
func BatchMembershipPayloads(e *carillon.Event) ([][]byte, error) {
	d, err := ReadEventData(e)
	if err != nil {
		return nil, err
	}
	if d == nil || d.Batch == nil {
		return nil, fmt.Errorf("messaging: event %d (%s) carries no batch", e.Seq, e.Type)
	}
	b := d.Batch
	out := make([][]byte, len(b.Members))
	for i, m := range b.Members {
		p := membershipEventPayload(&carillon.Membership{
			ChannelARN: b.Channel, MemberARN: m.ARN, MemberName: m.Name, Type: b.Type, InvitedBy: b.InvitedBy.ARN,
			SubChannelID: b.SubChannel, Created: e.At, Updated: e.At,
		}, b.InvitedBy.Name)
		if out[i], err = json.Marshal(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}
