package hub

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/carillonhq/carillon"
)

// Frame headers of the messaging session protocol.
const (
	headerEventType   = "x-amz-chime-event-type"
	headerMessageType = "x-amz-chime-message-type"
	headerEventReason = "x-amz-chime-event-reason"
)

// Event types the hub sends itself.
const (
	eventSessionEstablished = "SESSION_ESTABLISHED"
	eventChannelDetails     = "CHANNEL_DETAILS"
)

// encodeFrame builds a text frame: {"Headers":{…},"Payload":"<JSON as a
// string>"}. The payload is a JSON document encoded again as a string, as
// amazon-chime-sdk-js and the mobile samples expect (they JSON.parse it).
// A nil payload omits the member.
func encodeFrame(eventType, messageType, reason string, payload []byte) []byte {
	var b strings.Builder
	b.Grow(len(payload) + len(payload)/8 + 128)
	b.WriteString(`{"Headers":{"`)
	b.WriteString(headerEventType)
	b.WriteString(`":`)
	b.WriteString(strconv.Quote(eventType))
	b.WriteString(`,"`)
	b.WriteString(headerMessageType)
	b.WriteString(`":`)
	b.WriteString(strconv.Quote(messageType))
	if reason != "" {
		b.WriteString(`,"`)
		b.WriteString(headerEventReason)
		b.WriteString(`":`)
		b.WriteString(strconv.Quote(reason))
	}
	b.WriteString(`}`)
	if payload != nil {
		b.WriteString(`,"Payload":`)
		s, _ := json.Marshal(string(payload))
		b.Write(s)
	}
	b.WriteString(`}`)
	return []byte(b.String())
}

// eventFrame encodes an outbox event.
func eventFrame(e *carillon.Event) []byte {
	mt := e.MessageType
	if mt == "" {
		mt = "SYSTEM"
	}
	return encodeFrame(e.Type, mt, e.Reason, e.Payload)
}
