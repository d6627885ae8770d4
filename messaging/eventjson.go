package messaging

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/carillonhq/carillon/api"
)

// Every send appends its event's payload and the message's EventData to
// the outbox. The two are written here with the generated shapes' helpers
// instead of encoding/json's reflection; the bytes are those json.Marshal
// writes (HTML escaped, map keys sorted), which a test checks on random
// messages.

// eventJSON is a payload that writes its own JSON form.
type eventJSON interface {
	appendJSON(b []byte) []byte
}

// marshalEvent is json.Marshal for payloads, without reflection for those
// that write themselves.
func marshalEvent(v any) ([]byte, error) {
	if p, ok := v.(eventJSON); ok {
		return p.appendJSON(make([]byte, 0, 512)), nil
	}
	return json.Marshal(v)
}

func appendString(b []byte, s string) []byte { return api.AppendJSONString(b, s, true) }

func appendISOTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, api.ISOLayout)
	return append(b, '"')
}

func (p messagePayload) appendJSON(b []byte) []byte {
	b = append(b, `{"ChannelArn":`...)
	b = appendString(b, p.ChannelArn)
	b = append(b, `,"MessageId":`...)
	b = appendString(b, p.MessageID)
	b = append(b, `,"Content":`...)
	b = appendString(b, p.Content)
	if p.Metadata != "" {
		b = append(b, `,"Metadata":`...)
		b = appendString(b, p.Metadata)
	}
	b = append(b, `,"Type":`...)
	b = appendString(b, p.Type)
	if p.CreatedTimestamp != nil {
		b = append(b, `,"CreatedTimestamp":`...)
		b = appendISOTime(b, time.Time(*p.CreatedTimestamp))
	}
	if p.LastEditedTimestamp != nil {
		b = append(b, `,"LastEditedTimestamp":`...)
		b = appendISOTime(b, time.Time(*p.LastEditedTimestamp))
	}
	if p.LastUpdatedTimestamp != nil {
		b = append(b, `,"LastUpdatedTimestamp":`...)
		b = appendISOTime(b, time.Time(*p.LastUpdatedTimestamp))
	}
	b = append(b, `,"Sender":{"Arn":`...)
	b = appendString(b, p.Sender.Arn)
	b = append(b, `,"Name":`...)
	b = appendString(b, p.Sender.Name)
	b = append(b, `},"Redacted":`...)
	b = api.AppendJSONBool(b, p.Redacted)
	b = append(b, `,"Persistence":`...)
	b = appendString(b, p.Persistence)
	if p.Status != nil {
		b = append(b, `,"Status":{"Value":`...)
		b = appendString(b, p.Status.Value)
		if p.Status.Detail != "" {
			b = append(b, `,"Detail":`...)
			b = appendString(b, p.Status.Detail)
		}
		b = append(b, '}')
	}
	if len(p.MessageAttributes) > 0 {
		b = append(b, `,"MessageAttributes":{`...)
		for i, k := range api.SortedKeys(p.MessageAttributes) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, `:{"StringValues":`...)
			b = appendStrings(b, p.MessageAttributes[k].StringValues)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if p.SubChannelID != "" {
		b = append(b, `,"SubChannelId":`...)
		b = appendString(b, p.SubChannelID)
	}
	if p.ContentType != "" {
		b = append(b, `,"ContentType":`...)
		b = appendString(b, p.ContentType)
	}
	if len(p.Target) > 0 {
		b = append(b, `,"Target":[`...)
		for i, t := range p.Target {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"MemberArn":`...)
			b = appendString(b, t.MemberArn)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendStrings writes a list of strings; nil is null, as json.Marshal
// writes a nil slice.
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendJSON writes d when it carries a message, the EventData of every
// send; other EventData go through encoding/json.
func (d EventData) appendJSON(b []byte) []byte {
	if d.Message == nil || d.Batch != nil {
		out, _ := json.Marshal(d)
		return append(b, out...)
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(d.V), 10)
	b = append(b, `,"message":`...)
	b = d.Message.appendJSON(b)
	return append(b, '}')
}

func (m *MessageData) appendJSON(b []byte) []byte {
	b = append(b, `{"channel":`...)
	b = appendString(b, m.Channel)
	if m.SubChannel != "" {
		b = append(b, `,"sub_channel":`...)
		b = appendString(b, m.SubChannel)
	}
	b = append(b, `,"id":`...)
	b = appendString(b, m.ID)
	b = append(b, `,"sender":`...)
	b = appendString(b, m.Sender)
	b = append(b, `,"type":`...)
	b = appendString(b, m.Type)
	b = append(b, `,"content":`...)
	b = appendString(b, m.Content)
	if len(m.Attributes) > 0 {
		b = append(b, `,"attributes":{`...)
		for i, k := range api.SortedKeys(m.Attributes) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendStrings(b, m.Attributes[k])
		}
		b = append(b, '}')
	}
	if m.Target != "" {
		b = append(b, `,"target":`...)
		b = appendString(b, m.Target)
	}
	if m.Push != nil {
		b = append(b, `,"push":`...)
		out, _ := json.Marshal(m.Push)
		b = append(b, out...)
	}
	return append(b, '}')
}
