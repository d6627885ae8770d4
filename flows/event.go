package flows

import (
	"encoding/json"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
)

// EventTypeChannelMessage is the EventType of the event a processor
// receives.
const EventTypeChannelMessage = "CHANNEL_MESSAGE_EVENT"

// processorEvent is what a processor receives, as the Developer Guide
// ("processor-setup") documents the Lambda payload, plus the members of a
// ChannelMessage the guide leaves out (MessageAttributes, SubChannelId,
// ContentType, Target). Timestamps are ISO-8601 in UTC with milliseconds,
// as in websocket payloads (docs/semantics.md, "Channel flows").
type processorEvent struct {
	EventType      string           `json:"EventType"`
	CallbackID     string           `json:"CallbackId"`
	ChannelMessage processorMessage `json:"ChannelMessage"`
}

type processorMessage struct {
	MessageID           string                 `json:"MessageId"`
	ChannelArn          string                 `json:"ChannelArn"`
	Content             string                 `json:"Content"`
	Metadata            string                 `json:"Metadata,omitempty"`
	Sender              processorIdentity      `json:"Sender"`
	Persistence         string                 `json:"Persistence"`
	LastEditedTimestamp *api.ISOTime           `json:"LastEditedTimestamp,omitempty"`
	Type                string                 `json:"Type"`
	CreatedTimestamp    *api.ISOTime           `json:"CreatedTimestamp,omitempty"`
	MessageAttributes   map[string]stringValue `json:"MessageAttributes,omitempty"`
	SubChannelID        string                 `json:"SubChannelId,omitempty"`
	ContentType         string                 `json:"ContentType,omitempty"`
	Target              []processorTarget      `json:"Target,omitempty"`
}

type processorIdentity struct {
	Arn  string `json:"Arn"`
	Name string `json:"Name"`
}

type stringValue struct {
	StringValues []string `json:"StringValues"`
}

type processorTarget struct {
	MemberArn string `json:"MemberArn"`
}

// encodeEvent builds the JSON event of an invocation: the message as the
// previous processors left it, and the CallbackId of this step.
func encodeEvent(inv *carillon.Invocation) ([]byte, error) {
	m := &inv.Message
	e := processorEvent{
		EventType:  EventTypeChannelMessage,
		CallbackID: inv.CallbackID,
		ChannelMessage: processorMessage{
			MessageID:           m.ID,
			ChannelArn:          m.ChannelARN,
			Content:             m.Content,
			Metadata:            m.Metadata,
			Sender:              processorIdentity{Arn: m.Sender, Name: m.SenderName},
			Persistence:         m.Persistence,
			LastEditedTimestamp: api.ISOTimeOf(m.LastEdited),
			Type:                m.Type,
			CreatedTimestamp:    api.ISOTimeOf(m.Created),
			SubChannelID:        m.SubChannelID,
			ContentType:         m.ContentType,
		},
	}
	if len(m.Attributes) > 0 {
		e.ChannelMessage.MessageAttributes = make(map[string]stringValue, len(m.Attributes))
		for k, v := range m.Attributes {
			e.ChannelMessage.MessageAttributes[k] = stringValue{StringValues: v}
		}
	}
	if m.Target != "" {
		e.ChannelMessage.Target = []processorTarget{{MemberArn: m.Target}}
	}
	return json.Marshal(e)
}
