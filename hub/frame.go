package hub

import (
	"unicode/utf8"

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
	b := make([]byte, 0, len(payload)+len(payload)/8+128)
	b = append(b, `{"Headers":{"`+headerEventType+`":`...)
	b = appendJSONString(b, []byte(eventType))
	b = append(b, `,"`+headerMessageType+`":`...)
	b = appendJSONString(b, []byte(messageType))
	if reason != "" {
		b = append(b, `,"`+headerEventReason+`":`...)
		b = appendJSONString(b, []byte(reason))
	}
	b = append(b, '}')
	if payload != nil {
		b = append(b, `,"Payload":`...)
		b = appendJSONString(b, payload)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Quotes, backslashes and
// control characters are escaped, and so are U+2028 and U+2029, which
// JavaScript source may not contain raw; invalid UTF-8 becomes U+FFFD.
// Unlike encoding/json, <, > and & stay as they are: frames are not
// embedded in HTML.
func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// eventFrame encodes an outbox event.
func eventFrame(e *carillon.Event) []byte {
	mt := e.MessageType
	if mt == "" {
		mt = "SYSTEM"
	}
	return encodeFrame(e.Type, mt, e.Reason, e.Payload)
}
