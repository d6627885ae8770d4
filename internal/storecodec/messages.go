package storecodec

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/carillonhq/carillon"
)

// pushJSON is the stored form of a PushNotification.
type pushJSON struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	Type  string `json:"type"`
}

// MessageColumns encodes the JSON columns of m: its attributes ("{}" for
// none) and its push notification (NULL for none).
func MessageColumns(m *carillon.Message) (attributes string, push any, err error) {
	attrs := m.Attributes
	if attrs == nil {
		attrs = map[string][]string{} // "{}" rather than "null"
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return "", nil, err
	}
	if m.Push != nil {
		p, err := json.Marshal(pushJSON{Title: m.Push.Title, Body: m.Push.Body, Type: m.Push.Type})
		if err != nil {
			return "", nil, err
		}
		push = string(p)
	}
	return string(b), push, nil
}

// MessageRow is where a message row is scanned.
type MessageRow struct {
	m          carillon.Message
	attributes string
	push       NullString
}

// Dest returns the destinations of the columns seq, channel_arn, id,
// sub_channel_id, sender, sender_name, content, metadata, content_type,
// type, persistence, status, status_detail, redacted, attributes, push,
// target, created, updated, last_edited.
func (r *MessageRow) Dest(text Text) []any {
	m := &r.m
	return []any{&m.Seq, &m.ChannelARN, &m.ID, &m.SubChannelID, &m.Sender, text(&m.SenderName), text(&m.Content),
		text(&m.Metadata), text(&m.ContentType), &m.Type, &m.Persistence, &m.Status, text(&m.StatusDetail), &m.Redacted,
		&r.attributes, &r.push, &m.Target, Time(&m.Created), Time(&m.Updated), Time(&m.LastEdited)}
}

// Message is the message the row holds: Attributes nil for "{}", Push
// nil for NULL. It decodes into the row's own Message, which the scan
// has put on the heap already, rather than into a copy that decoding
// through a pointer would put there too.
func (r *MessageRow) Message() (carillon.Message, error) {
	m := &r.m
	if r.attributes != "{}" { // most messages have none
		if err := json.Unmarshal([]byte(r.attributes), &m.Attributes); err != nil {
			return *m, fmt.Errorf("attributes of message %q: %w", m.ID, err)
		}
		if len(m.Attributes) == 0 {
			m.Attributes = nil
		}
	}
	if r.push.Valid {
		var p pushJSON
		if err := json.Unmarshal([]byte(r.push.String), &p); err != nil {
			return *m, fmt.Errorf("push notification of message %q: %w", m.ID, err)
		}
		m.Push = &carillon.PushNotification{Title: p.Title, Body: p.Body, Type: p.Type}
	}
	return *m, nil
}

// Position is a place in the (created, seq) order of a channel's
// messages: created in milliseconds since the epoch.
type Position struct{ Created, Seq int64 }

func (p Position) before(q Position) bool {
	return p.Created < q.Created || p.Created == q.Created && p.Seq < q.Seq
}

// MessageRange turns a MessageQuery into the open interval (lo, hi) of
// positions its page lies in: NotBefore and NotAfter become positions
// just outside the inclusive time bounds (every seq is above MinInt64 and
// below MaxInt64), and the cursor narrows the side the order walks away
// from.
func MessageRange(q carillon.MessageQuery) (lo, hi Position) {
	lo = Position{math.MinInt64, math.MinInt64}
	if !q.NotBefore.IsZero() {
		lo = Position{CeilMillis(q.NotBefore), math.MinInt64}
	}
	hi = Position{math.MaxInt64, math.MaxInt64}
	if !q.NotAfter.IsZero() {
		hi = Position{q.NotAfter.UnixMilli(), math.MaxInt64}
	}
	if q.After != nil {
		c := Position{q.After.Created.UnixMilli(), q.After.Seq}
		if q.Descending && c.before(hi) {
			hi = c
		}
		if !q.Descending && lo.before(c) {
			lo = c
		}
	}
	return lo, hi
}
