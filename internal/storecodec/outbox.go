package storecodec

import (
	"encoding/json"
	"fmt"

	"github.com/carillonhq/carillon"
)

// EventColumns encodes the columns of e that need it: its recipients as
// a JSON array ("[]" for none), its payload and data as bytes, never NULL
// (the columns are NOT NULL).
func EventColumns(e *carillon.Event) (recipients string, payload, data []byte, err error) {
	rs := e.Recipients
	if rs == nil {
		rs = []string{} // "[]" rather than "null"
	}
	rj, err := json.Marshal(rs)
	if err != nil {
		return "", nil, nil, err
	}
	payload, data = e.Payload, e.Data
	if payload == nil {
		payload = []byte{}
	}
	if data == nil {
		data = []byte{}
	}
	return string(rj), payload, data, nil
}

// EventRow is where an outbox row is scanned.
type EventRow struct {
	e          carillon.Event
	recipients string
}

// Dest returns the destinations of the columns seq, at, type, channel,
// to_members, recipients, member, member_change, message_type, reason,
// payload, data.
func (r *EventRow) Dest() []any {
	e := &r.e
	return []any{&e.Seq, Time(&e.At), &e.Type, &e.Channel, &e.ToMembers, &r.recipients, &e.Member, &e.MemberChange,
		&e.MessageType, &e.Reason, &e.Payload, &e.Data}
}

// Event is the event the row holds: Data and Recipients nil when empty.
// It decodes into the row's own Event (MessageRow.Message says why).
func (r *EventRow) Event() (carillon.Event, error) {
	e := &r.e
	if len(e.Data) == 0 {
		e.Data = nil
	}
	if err := json.Unmarshal([]byte(r.recipients), &e.Recipients); err != nil {
		return *e, fmt.Errorf("recipients of event %d: %w", e.Seq, err)
	}
	if len(e.Recipients) == 0 {
		e.Recipients = nil
	}
	return *e, nil
}
