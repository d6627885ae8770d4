package natsbus

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/carillonhq/carillon"
)

// The events of a message are encoded by hand, in a few lines, rather than
// with encoding/gob or encoding/json: a gob stream describes its types
// before its first value, which every message, being read on its own,
// would repeat; JSON would turn each payload (itself JSON) into an escaped
// string or base64. The format is private to the servers of one version
// of a deployment, and its first byte names it, so that a server that
// reads a format it does not know fills from the store instead.
//
//	message = version(1) uvarint(through) uvarint(count) event*
//	event   = uvarint(seq) varint(unix seconds) uvarint(nanoseconds) flags
//	          str(type) str(channel) str(member) varint(memberChange)
//	          str(messageType) str(reason) bytes(payload) bytes(data)
//	          uvarint(len(recipients)) str(recipient)*
//	str     = uvarint(len) bytes
//	bytes   = uvarint(0) for nil, or uvarint(len+1) bytes
//
// flags has bit 0 for ToMembers.
const version = 1

var errFormat = errors.New("natsbus: malformed message")

func appendHeader(b []byte, through int64, count int) []byte {
	b = append(b, version)
	b = binary.AppendUvarint(b, uint64(through))
	return binary.AppendUvarint(b, uint64(count))
}

func appendEvent(b []byte, e *carillon.Event) []byte {
	b = binary.AppendUvarint(b, uint64(e.Seq))
	b = binary.AppendVarint(b, e.At.Unix())
	b = binary.AppendUvarint(b, uint64(e.At.Nanosecond()))
	var flags byte
	if e.ToMembers {
		flags |= 1
	}
	b = append(b, flags)
	b = appendString(b, e.Type)
	b = appendString(b, e.Channel)
	b = appendString(b, e.Member)
	b = binary.AppendVarint(b, int64(e.MemberChange))
	b = appendString(b, e.MessageType)
	b = appendString(b, e.Reason)
	b = appendBytes(b, e.Payload)
	b = appendBytes(b, e.Data)
	b = binary.AppendUvarint(b, uint64(len(e.Recipients)))
	for _, r := range e.Recipients {
		b = appendString(b, r)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	if p == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p))+1)
	return append(b, p...)
}

// encode is one message of events, covering through.
func encode(through int64, events []carillon.Event) []byte {
	b := appendHeader(nil, through, len(events))
	for i := range events {
		b = appendEvent(b, &events[i])
	}
	return b
}

// decoder reads a message.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errFormat
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errFormat
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errFormat
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) take(n uint64) []byte {
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errFormat
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) string() string { return string(d.take(d.uvarint())) }

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	return append([]byte{}, d.take(n-1)...)
}

// decode reads a message: the Seq it covers through, and its events.
func decode(b []byte) (through int64, events []carillon.Event, err error) {
	d := &decoder{b: b}
	if d.byte() != version {
		return 0, nil, errFormat
	}
	through = int64(d.uvarint())
	n := d.uvarint()
	// Every event takes at least 14 bytes: a count beyond that is a lie.
	if d.err != nil || n > uint64(len(d.b))/14 {
		return 0, nil, errFormat
	}
	events = make([]carillon.Event, n)
	for i := range events {
		e := &events[i]
		e.Seq = int64(d.uvarint())
		sec := d.varint()
		nsec := d.uvarint()
		if nsec >= uint64(time.Second) {
			d.err = errFormat
		}
		e.At = time.Unix(sec, int64(nsec)).UTC()
		e.ToMembers = d.byte()&1 != 0
		e.Type = d.string()
		e.Channel = d.string()
		e.Member = d.string()
		e.MemberChange = int(d.varint())
		e.MessageType = d.string()
		e.Reason = d.string()
		e.Payload = d.bytes()
		e.Data = d.bytes()
		if r := d.uvarint(); r > 0 {
			if r > uint64(len(d.b)) {
				d.err = errFormat
			} else {
				e.Recipients = make([]string, r)
				for j := range e.Recipients {
					e.Recipients[j] = d.string()
				}
			}
		}
		if d.err != nil {
			return 0, nil, d.err
		}
	}
	if len(d.b) != 0 {
		return 0, nil, errFormat
	}
	return through, events, nil
}
