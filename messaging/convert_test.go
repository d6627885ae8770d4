package messaging

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// copiedMessageShape and copiedMessageSummary build the shapes as they
// were built before they pointed into the row: a copy of every member.
func copiedMessageShape(m carillon.Message) *messagingapi.ChannelMessage {
	typ, pers := messagingapi.ChannelMessageType(m.Type), messagingapi.ChannelMessagePersistenceType(m.Persistence)
	return &messagingapi.ChannelMessage{
		ChannelArn: api.String(m.ChannelARN), MessageId: api.String(m.ID), Content: api.String(m.Content),
		Metadata: optional(m.Metadata), ContentType: optional(m.ContentType), Type: &typ, Persistence: &pers,
		Sender: identityShape(m.Sender, m.SenderName), Redacted: api.Bool(m.Redacted), Status: statusShape(&m),
		MessageAttributes: attributesShape(m.Attributes), SubChannelId: optional(m.SubChannelID),
		Target: copiedTarget(m.Target), CreatedTimestamp: api.TimestampOf(m.Created),
		LastEditedTimestamp: api.TimestampOf(m.LastEdited), LastUpdatedTimestamp: api.TimestampOf(m.Updated),
	}
}

func copiedMessageSummary(m carillon.Message) messagingapi.ChannelMessageSummary {
	typ := messagingapi.ChannelMessageType(m.Type)
	return messagingapi.ChannelMessageSummary{
		MessageId: api.String(m.ID), Content: api.String(m.Content), Metadata: optional(m.Metadata),
		ContentType: optional(m.ContentType), Type: &typ, Sender: identityShape(m.Sender, m.SenderName),
		Redacted: api.Bool(m.Redacted), Status: statusShape(&m), MessageAttributes: attributesShape(m.Attributes),
		Target: copiedTarget(m.Target), CreatedTimestamp: api.TimestampOf(m.Created),
		LastEditedTimestamp: api.TimestampOf(m.LastEdited), LastUpdatedTimestamp: api.TimestampOf(m.Updated),
	}
}

func copiedTarget(target string) []messagingapi.Target {
	if target == "" {
		return nil
	}
	return []messagingapi.Target{{MemberArn: api.String(target)}}
}

func randomMessage(r *rand.Rand) carillon.Message {
	str := func() string {
		return []string{"", "", "x", "arn:aws:chime:us-east-1:111122223333:app-instance/a/user/u", "<&>\u2028\"", "\xff"}[r.IntN(6)]
	}
	at := func() time.Time {
		if r.IntN(3) == 0 {
			return time.Time{}
		}
		return time.UnixMilli(r.Int64N(4e12))
	}
	m := carillon.Message{
		ChannelARN: str(), ID: str(), SubChannelID: str(), Sender: str(), SenderName: str(), Content: str(),
		Metadata: str(), ContentType: str(), Type: str(), Persistence: str(), Status: str(), StatusDetail: str(),
		Redacted: r.IntN(2) == 0, Target: str(), Created: at(), Updated: at(), LastEdited: at(),
	}
	if r.IntN(2) == 0 {
		m.Attributes = map[string][]string{str(): {str()}, str(): nil}
	}
	return m
}

// The shapes that point into the rows encode as the copies did.
func TestMessageShapesPointIntoRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		rows := make([]carillon.Message, r.IntN(4))
		for i := range rows {
			rows[i] = randomMessage(r)
		}
		want := &messagingapi.ListChannelMessagesResponse{ChannelMessages: make([]messagingapi.ChannelMessageSummary, len(rows))}
		for i, m := range rows {
			want.ChannelMessages[i] = copiedMessageSummary(m)
		}
		got := &messagingapi.ListChannelMessagesResponse{ChannelMessages: messageSummaries(rows)}
		if g, w := got.AppendJSON(nil, false), want.AppendJSON(nil, false); !bytes.Equal(g, w) {
			t.Fatalf("summaries:\n got %s\nwant %s", g, w)
		}
		for i := range rows {
			got, want := messageShape(&rows[i]), copiedMessageShape(rows[i])
			if g, w := got.AppendJSON(nil, false), want.AppendJSON(nil, false); !bytes.Equal(g, w) {
				t.Fatalf("message:\n got %s\nwant %s", g, w)
			}
		}
	}
}

// The event payload and EventData of a message are written as json.Marshal
// writes them: sessions, bots and push read these bytes.
func TestMessageEventJSONIsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		m := randomMessage(r)
		switch r.IntN(3) {
		case 0:
			m.Attributes = map[string][]string{"b": {"<x>", ""}, "a": {}, "\u2028": nil}
		case 1:
			m.Attributes = map[string][]string{}
		}
		p := messageEventPayload(&m)
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := marshalEvent(p); !bytes.Equal(got, want) {
			t.Fatalf("payload:\n got %s\nwant %s", got, want)
		}
		d := EventData{V: eventDataVersion, Message: messageData(&m)}
		if r.IntN(4) == 0 {
			d.Message.Push = &PushData{Title: "<t>", Type: "VOIP"}
		}
		want, err = json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := marshalEvent(d); !bytes.Equal(got, want) {
			t.Fatalf("event data:\n got %s\nwant %s", got, want)
		}
	}
}

// BenchmarkMessageEventJSON compares what a send encodes for its event
// (payload and EventData) with json.Marshal of the same, in the same run.
func BenchmarkMessageEventJSON(b *testing.B) {
	at := time.UnixMilli(1_700_000_000_123)
	m := carillon.Message{
		ChannelARN: "arn:aws:chime:us-east-1:111122223333:app-instance/a/channel/c", ID: "4f1d3c0e-8b7a-4d2e-9f10-2a3b4c5d6e7f",
		Sender: "arn:aws:chime:us-east-1:111122223333:app-instance/a/user/u", SenderName: "Bench User",
		Content: "Hello from the benchmark", Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT",
		Created: at, Updated: at,
	}
	for _, c := range []struct {
		name    string
		marshal func(any) ([]byte, error)
	}{{"generated", marshalEvent}, {"encoding-json", json.Marshal}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.marshal(messageEventPayload(&m)); err != nil {
					b.Fatal(err)
				}
				if _, err := c.marshal(EventData{V: eventDataVersion, Message: messageData(&m)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
