package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/webhook"
)

// runExporter runs an exporter of s with its real sinks until the test
// ends.
func runExporter(t *testing.T, s carillon.Store, opts Options) *Exporter {
	t.Helper()
	opts.Poll = 20 * time.Millisecond
	opts.MinBackoff, opts.MaxBackoff = 10*time.Millisecond, 100*time.Millisecond
	opts.Timeout = 2 * time.Second
	x := New(s, opts, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		x.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return x
}

func TestEntries(t *testing.T) {
	at := time.Date(2025, 2, 3, 4, 5, 6, 789_000_000, time.UTC)
	ch := testApp + "/channel/c1"
	batch := &carillon.Event{
		Seq: 42, At: at, Type: messaging.EventBatchCreateChannelMembership, Channel: ch,
		Payload: []byte(`{"InvitedBy":{"Arn":"u0","Name":"Zero"},"Type":"DEFAULT","Members":[{"Arn":"u1","Name":"One"},{"Arn":"u2","Name":"Two"}],"ChannelArn":"` + ch + `"}`),
		Data:    []byte(`{"v":1,"batch":{"channel":"` + ch + `","sub_channel":"","type":"DEFAULT","invited_by":{"arn":"u0","name":"Zero"},"members":[{"arn":"u1","name":"One"},{"arn":"u2","name":"Two"}]}}`),
	}
	es, err := Entries(batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("%d records for a batch of 2 members", len(es))
	}
	for i, e := range es {
		typ, p, err := ParseRecord(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		member, _ := p["Member"].(map[string]any)
		if typ != messaging.EventCreateChannelMembership || member["Arn"] != fmt.Sprint("u", i+1) || p["Type"] != "DEFAULT" ||
			p["ChannelArn"] != ch || p["CreatedTimestamp"] != "2025-02-03T04:05:06.789Z" || p["InvitedBy"].(map[string]any)["Name"] != "Zero" {
			t.Errorf("record %d: %s %v", i, typ, p)
		}
		if i == 0 {
			want := `{"InvitedBy":{"Arn":"u0","Name":"Zero"},"Type":"DEFAULT","Member":{"Arn":"u1","Name":"One"},"ChannelArn":"` + ch +
				`","CreatedTimestamp":"2025-02-03T04:05:06.789Z","LastUpdatedTimestamp":"2025-02-03T04:05:06.789Z"}`
			var r Record
			if err := json.Unmarshal(e.Data, &r); err != nil || r.Payload != want {
				t.Errorf("record 0's payload\n%s\nwant\n%s", r.Payload, want)
			}
		}
		if e.ID != fmt.Sprintf("%s/42/%d", testApp, i) || e.Seq != 42 || e.Channel != ch {
			t.Errorf("entry %d: ID %q Seq %d Channel %q", i, e.ID, e.Seq, e.Channel)
		}
	}
	// The record's Payload is the event's payload as a string.
	msg := &carillon.Event{Seq: 7, Type: messaging.EventRedactChannelMessage, Channel: ch, Payload: []byte(`{"MessageId":"m","Redacted":true}`)}
	es, err = Entries(msg)
	if err != nil || len(es) != 1 {
		t.Fatalf("Entries: %v, %d records", err, len(es))
	}
	if want := `{"EventType":"REDACT_CHANNEL_MESSAGE","Payload":"{\"MessageId\":\"m\",\"Redacted\":true}"}`; string(es[0].Data) != want {
		t.Errorf("record %s, want %s", es[0].Data, want)
	}
	// A sub-channel's event is recorded in its channel's partition.
	sub := &carillon.Event{Seq: 8, Type: messaging.EventCreateChannelMessage, Channel: carillon.SubChannelAudience(ch, "s1"), Payload: []byte(`{}`)}
	if es, err := Entries(sub); err != nil || len(es) != 1 || es[0].Channel != ch || es[0].ID != testApp+"/8/0" {
		t.Errorf("Entries of a sub-channel's event: %v, %+v", err, es)
	}
	for _, typ := range []string{messaging.EventPendingCreateChannelMessage, messaging.EventDeniedUpdateChannelMessage, messaging.EventUpdateChannelMembership, "LEAVE_SUB_CHANNEL", "SESSION_ESTABLISHED"} {
		if es, _ := Entries(&carillon.Event{Type: typ, Channel: ch, Payload: []byte(`{}`)}); len(es) != 0 {
			t.Errorf("%s is exported", typ)
		}
	}
}

func TestSinksCheck(t *testing.T) {
	s := NewSinks(Options{Sinks: map[string]string{
		"arn:aws:sns:us-east-1:111122223333:hook": "https://example.test/hook",
		"arn:aws:sns:us-east-1:111122223333:bad":  "ftp://example.test/",
	}})
	for arn, ok := range map[string]bool{
		testStream: true,
		"arn:aws:sns:us-east-1:111122223333:hook":                true,
		"arn:aws:sns:us-east-1:111122223333:bad":                 false,
		"arn:aws:sns:us-east-1:111122223333:unmapped":            false,
		"arn:aws:kinesis:us-east-1:111122223333:stream/":         false,
		"arn:aws:firehose:us-east-1:111122223333:deliverystream": false,
	} {
		if err := s.Check(arn); (err == nil) != ok {
			t.Errorf("Check(%s) = %v, want ok %v", arn, err, ok)
		}
	}
	if _, err := ParseSinks([]string{"arn:x=nats://127.0.0.1:4222/a.b", "arn:y=http://h/p"}); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"arn-without-url", "arn:x=nats://127.0.0.1:4222/", "arn:x=nats://h/a.*", "=http://h"} {
		if _, err := ParseSinks([]string{bad}); err == nil {
			t.Errorf("ParseSinks(%q) accepted", bad)
		}
	}
}

// The webhook gets JSON arrays of records, signed as channel flows sign
// their requests; while it fails, the export waits and then sends
// everything, in order.
func TestWebhookSink(t *testing.T) {
	const secret = "s3cret"
	var (
		mu   sync.Mutex
		got  []string
		down bool
		bad  int
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil || r.Header.Get(HeaderStream) != testStream {
			bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var records []Record
		if err := json.Unmarshal(body, &records); err != nil {
			bad++
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rec := range records {
			var p map[string]string
			_ = json.Unmarshal([]byte(rec.Payload), &p)
			got = append(got, p["MessageId"])
		}
	}))
	defer hook.Close()
	s := openStore(t, "")
	configure(t, s, carillon.StreamChannelMessage)
	runExporter(t, s, Options{Sinks: map[string]string{testStream: hook.URL + "/records"}, WebhookSecret: secret})

	want := appendMessages(t, s, testApp, "c1", "up", 3)
	last := lastSeq(t, s)
	waitFor(t, "the first records", func() bool { return cursor(t, s) == last })
	mu.Lock()
	down = true
	mu.Unlock()
	want = append(want, appendMessages(t, s, testApp, "c1", "down", 5)...)
	time.Sleep(200 * time.Millisecond)
	if c := cursor(t, s); c != last {
		t.Fatalf("the cursor moved from %d to %d while the webhook failed", last, c)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	last = lastSeq(t, s)
	waitFor(t, "the backlog", func() bool { return cursor(t, s) == last })
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) || bad != 0 {
		t.Fatalf("the webhook got %v (%d bad requests), want %v", got, bad, want)
	}
}

// startNATS runs a NATS server with JetStream, its data in dir, on port
// (-1: any).
func startNATS(t *testing.T, dir string, port int) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true, JetStream: true, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	return ns
}

func TestNATSSink(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	defer ns.Shutdown()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msgs := make(chan *nats.Msg, 100)
	if _, err := nc.ChanSubscribe("chime.records", msgs); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, "")
	configure(t, s, carillon.StreamChannelMessage)
	runExporter(t, s, Options{Sinks: map[string]string{testStream: ns.ClientURL() + "/chime.records"}})
	want := appendMessages(t, s, testApp, "c1", "m", 5)
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case m := <-msgs:
			_, p, err := ParseRecord(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if m.Header.Get(HeaderEventType) != messaging.EventCreateChannelMessage || m.Header.Get(HeaderMsgID) == "" {
				t.Errorf("headers %v", m.Header)
			}
			got = append(got, p["MessageId"].(string))
		case <-timeout:
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// With ?jetstream=true every record waits for the stream's
// acknowledgement: the NATS server going down and coming back loses
// nothing, and the Nats-Msg-Id header lets JetStream drop what is sent
// twice.
func TestNATSJetStreamSinkRestart(t *testing.T) {
	dir := t.TempDir()
	ns := startNATS(t, dir, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	addr := ns.ClientURL()
	nc, err := nats.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "CHIME", Subjects: []string{"chime.export"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	nc.Close()

	s := openStore(t, "")
	configure(t, s, carillon.StreamChannelMessage)
	runExporter(t, s, Options{Sinks: map[string]string{testStream: addr + "/chime.export?jetstream=true"}})
	want := appendMessages(t, s, testApp, "c1", "before", 5)
	last := lastSeq(t, s)
	waitFor(t, "the first records", func() bool { return cursor(t, s) == last })

	ns.Shutdown()
	ns.WaitForShutdown()
	want = append(want, appendMessages(t, s, testApp, "c1", "down", 5)...)
	time.Sleep(300 * time.Millisecond)
	if c := cursor(t, s); c != last {
		t.Fatalf("the cursor moved from %d to %d while NATS was down", last, c)
	}
	ns = startNATS(t, dir, port)
	defer ns.Shutdown()
	want = append(want, appendMessages(t, s, testApp, "c1", "after", 5)...)
	last = lastSeq(t, s)
	waitFor(t, "the backlog", func() bool { return cursor(t, s) == last })

	nc, err = nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	cons, err := js.OrderedConsumer(ctx, "CHIME", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	batch, err := cons.Fetch(100, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		_, p, err := ParseRecord(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p["MessageId"].(string))
	}
	checkAtLeastOnceInOrder(t, got, want)
}
