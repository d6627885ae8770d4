// Package stream implements the streaming export: the operations on an
// AppInstance's streaming configurations (PutMessagingStreamingConfigurations
// and the others, config.go) and the export of its events to the streams
// they name: Kinesis data streams as AWS does, and, as Carillon extensions,
// HTTP webhooks and NATS subjects mapped to ARNs.
//
// The export reads the transactional outbox, the same committed events
// the websocket sessions get, in Seq order, from a durable cursor per
// AppInstance and stream. A cursor moves only past what the sink
// acknowledged, so the export is at least once and in commit order: a
// sink that is down delays the export (with backoff), never the API, and
// loses nothing, since the outbox relay keeps every event a cursor has not
// passed (Exporter.Hold).
package stream

import (
	"encoding/json"
	"fmt"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/messaging"
)

// Record is one record of the export: the event type and its payload,
// the API shape the event is about (ChannelMessage, Channel,
// ChannelMembership, ChannelBan, ChannelModerator or SubChannelSummary),
// as a JSON-encoded string, the way the messaging session's frames carry
// theirs (docs/streaming.md says why).
type Record struct {
	EventType string `json:"EventType"`
	Payload   string `json:"Payload"`
}

// Entry is a record on its way to a sink.
type Entry struct {
	// ID names the record for deduplication: the AppInstance, the Seq of
	// the outbox event it comes from and its index among that event's
	// records. A record sent again has the same ID.
	ID string
	// Seq is the outbox event's Seq.
	Seq int64
	// Channel is the channel ARN: the partition key, so that a channel's
	// records stay in order in one shard.
	Channel string
	// Type is the record's EventType.
	Type string
	// Data is the JSON of the Record.
	Data []byte
}

// DataTypes are the event types each data type exports, from AWS's table
// (docs/semantics.md, "Streaming export"). The flow events (PENDING_, DENIED_, FAILED_) are not
// exported: they tell the sender about a message the flow has not let
// into the channel; the CREATE_ or UPDATE_CHANNEL_MESSAGE the flow ends
// with is. UPDATE_CHANNEL_MEMBERSHIP (a move between sub-channels) is not
// in AWS's table either.
var DataTypes = map[string][]string{
	carillon.StreamChannelMessage: {
		messaging.EventCreateChannelMessage,
		messaging.EventRedactChannelMessage,
		messaging.EventUpdateChannelMessage,
		messaging.EventDeleteChannelMessage,
	},
	carillon.StreamChannel: {
		messaging.EventCreateChannel,
		messaging.EventUpdateChannel,
		messaging.EventDeleteChannel,
		messaging.EventUpdateChannelExpirationSettings,
		messaging.EventCreateChannelMembership,
		messaging.EventBatchCreateChannelMembership, // one CREATE_CHANNEL_MEMBERSHIP per member
		messaging.EventDeleteChannelMembership,
		messaging.EventCreateChannelBan,
		messaging.EventDeleteChannelBan,
		messaging.EventCreateChannelModerator,
		messaging.EventDeleteChannelModerator,
		messaging.EventCreateSubChannel,
		messaging.EventDeleteSubChannel,
	},
}

// dataTypeOf is the data type of each exported event type.
var dataTypeOf = func() map[string]string {
	m := map[string]string{}
	for dt, types := range DataTypes {
		for _, t := range types {
			m[t] = dt
		}
	}
	return m
}()

// DataTypeOf returns the data type an event type is exported with, ""
// when it is not exported.
func DataTypeOf(eventType string) string { return dataTypeOf[eventType] }

// Entries returns the records of an event, or none when the event is not
// exported. A BATCH_CREATE_CHANNEL_MEMBERSHIP event gives one
// CREATE_CHANNEL_MEMBERSHIP record per member, as AWS's export has no
// batch event; the memberships it made were created at the event's time.
func Entries(e *carillon.Event) ([]Entry, error) {
	if dataTypeOf[e.Type] == "" {
		return nil, nil
	}
	// The events of a sub-channel of an elastic channel name it in
	// Channel; their records go with the channel's, in its partition.
	channel, _ := carillon.AudienceChannel(e.Channel)
	app := ""
	if r, ok := carillon.ParseResource(channel); ok {
		app = r.AppInstanceARN()
	}
	entry := func(i int, typ string, payload []byte) (Entry, error) {
		data, err := json.Marshal(Record{EventType: typ, Payload: string(payload)})
		return Entry{ID: fmt.Sprintf("%s/%d/%d", app, e.Seq, i), Seq: e.Seq, Channel: channel, Type: typ, Data: data}, err
	}
	if e.Type != messaging.EventBatchCreateChannelMembership {
		en, err := entry(0, e.Type, e.Payload)
		return []Entry{en}, err
	}
	payloads, err := messaging.BatchMembershipPayloads(e)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(payloads))
	for i, p := range payloads {
		en, err := entry(i, messaging.EventCreateChannelMembership, p)
		if err != nil {
			return nil, err
		}
		out = append(out, en)
	}
	return out, nil
}

// ParseRecord decodes a record and its payload, for consumers and tests.
func ParseRecord(data []byte) (typ string, payload map[string]any, err error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return "", nil, err
	}
	if err := json.Unmarshal([]byte(r.Payload), &payload); err != nil {
		return "", nil, fmt.Errorf("%s record: payload: %w", r.EventType, err)
	}
	return r.EventType, payload, nil
}
