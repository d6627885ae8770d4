package hub

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"

	"github.com/carillonhq/carillon"
)

// Frame headers of the messaging session protocol.
const (
	headerEventType   = "x-amz-chime-event-type"
	headerMessageType = "x-amz-chime-message-type"
	headerEventReason = "x-amz-chime-event-reason"
	// headerSeq is Carillon's own header: the outbox Seq of the event a
	// frame carries, or, on SESSION_ESTABLISHED, the Seq after which the
	// session receives every event addressed to it. A client that wants to
	// resume after a long outage passes the last one it processed as
	// paramResumeAfter (docs/sessions.md). amazon-chime-sdk-js hands every
	// header to the application and reads only its own.
	headerSeq = "x-carillon-seq"
)

// Event types the hub sends itself.
const (
	eventSessionEstablished = "SESSION_ESTABLISHED"
	eventChannelDetails     = "CHANNEL_DETAILS"
)

// encodeFrame builds the JSON of a message frame: {"Headers":{…},
// "Payload":"<JSON as a string>"}. The payload is a JSON document encoded
// again as a string, as amazon-chime-sdk-js and the mobile samples expect
// (they JSON.parse it). A nil payload omits the member; a zero seq omits
// the x-carillon-seq header.
func encodeFrame(eventType, messageType, reason string, seq int64, payload []byte) []byte {
	return appendFrameJSON(make([]byte, 0, frameSizeHint(payload)), eventType, messageType, reason, seq, payload)
}

// wireFrame builds the complete websocket text frame of a message frame:
// the frame header, then the JSON of encodeFrame, in one allocation.
// Frames from a server are not masked, so these bytes are the same for
// every recipient: the hub builds them once per event and queues the same
// slice to every session (TLS encrypts per connection, below them).
func wireFrame(eventType, messageType, reason string, seq int64, payload []byte) []byte {
	b := make([]byte, maxHeaderLen, maxHeaderLen+frameSizeHint(payload))
	b = appendFrameJSON(b, eventType, messageType, reason, seq, payload)
	var h [maxHeaderLen]byte
	hdr := appendHeader(h[:0], opText, len(b)-maxHeaderLen)
	start := maxHeaderLen - len(hdr)
	copy(b[start:], hdr)
	return b[start:]
}

func frameSizeHint(payload []byte) int { return len(payload) + len(payload)/8 + 128 }

func appendFrameJSON(b []byte, eventType, messageType, reason string, seq int64, payload []byte) []byte {
	b = append(b, `{"Headers":{"`+headerEventType+`":`...)
	b = appendJSONString(b, []byte(eventType))
	b = append(b, `,"`+headerMessageType+`":`...)
	b = appendJSONString(b, []byte(messageType))
	if reason != "" {
		b = append(b, `,"`+headerEventReason+`":`...)
		b = appendJSONString(b, []byte(reason))
	}
	if seq > 0 {
		// Header values are strings: a JSON number would not survive
		// clients that type headers as strings, and 2^53 bounds JSON
		// numbers in JavaScript.
		b = append(b, `,"`+headerSeq+`":"`...)
		b = strconv.AppendInt(b, seq, 10)
		b = append(b, '"')
	}
	b = append(b, '}')
	if payload != nil {
		b = append(b, `,"Payload":`...)
		b = appendJSONString(b, payload)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. It repeats the rules of
// api.AppendJSONString on purpose: that one takes a string and an HTML
// switch, and EncodeFrame through it (a conversion and a table lookup per
// byte of every payload) measured 1.17x slower per frame, on the path
// every delivered event takes. Quotes, backslashes and
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

// eventFrame encodes an outbox event as a complete websocket frame.
func eventFrame(e *carillon.Event) []byte {
	mt := e.MessageType
	if mt == "" {
		mt = "SYSTEM"
	}
	return wireFrame(e.Type, mt, e.Reason, e.Seq, e.Payload)
}

// Websocket opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa

	finBit = 0x80
	// maxHeaderLen is the longest header of a frame from the server
	// (unmasked): 2 bytes and an 8-byte length.
	maxHeaderLen = 10
	// maxControlPayload is the longest payload of a control frame.
	maxControlPayload = 125
)

// appendHeader appends the header of an unmasked, final frame of opcode
// op and n bytes of payload.
func appendHeader(b []byte, op byte, n int) []byte {
	switch {
	case n < 126:
		return append(b, finBit|op, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, finBit|op, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, finBit|op, 127), uint64(n))
	}
}

// appendControl appends a control frame; payload is cut at 125 bytes.
func appendControl(b []byte, op byte, payload []byte) []byte {
	payload = payload[:min(len(payload), maxControlPayload)]
	return append(appendHeader(b, op, len(payload)), payload...)
}

// closeNoStatus is the code of a close frame without a payload; it is
// never sent as a code.
const closeNoStatus = 1005

// appendClose appends a close frame with code and text (cut to fit the
// 125 bytes of a control frame), or without a payload for closeNoStatus.
func appendClose(b []byte, code int, text string) []byte {
	if code == closeNoStatus {
		return appendHeader(b, opClose, 0)
	}
	text = text[:min(len(text), maxControlPayload-2)]
	b = appendHeader(b, opClose, 2+len(text))
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, text...)
}
