package natsbus

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/bus/bustest"
	"github.com/carillonhq/carillon/internal/natstest"
	"github.com/carillonhq/carillon/sqlite"
)

func openStore(t testing.TB) carillon.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "carillon.db"), carillon.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// appendEvents commits n events in one transaction and returns them.
func appendEvents(t testing.TB, store carillon.Store, n int, payload []byte) []carillon.Event {
	t.Helper()
	var out []carillon.Event
	err := store.Update(context.Background(), func(tx carillon.Tx) error {
		out = out[:0]
		for range n {
			e := &carillon.Event{Type: "CREATE_CHANNEL_MESSAGE", Channel: "c", ToMembers: true, Payload: payload}
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
			out = append(out, *e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// As the store gives them back, At included.
	var stored []carillon.Event
	err = store.View(context.Background(), func(tx carillon.Tx) error {
		var err error
		stored, err = tx.Events(out[0].Seq-1, n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func connect(t testing.TB, url string, store carillon.Store, o Options) *Bus {
	t.Helper()
	o.NATSOptions = append(o.NATSOptions, nats.ReconnectWait(20*time.Millisecond))
	b, err := Connect(context.Background(), url, store, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestBus(t *testing.T) {
	ns := natstest.New(t)
	store := openStore(t)
	bustest.Run(t, func(t *testing.T) bustest.Bus {
		b, err := Connect(context.Background(), ns.URL(), store, Options{Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestCodecRoundTrip(t *testing.T) {
	events := []carillon.Event{
		{Seq: 1, At: time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC), Type: "CREATE_CHANNEL_MESSAGE",
			Channel: "arn:aws:chime:us-east-1:0:app-instance/a/channel/c#sub", ToMembers: true,
			Recipients: []string{"arn:u1", ""}, Member: "arn:u2", MemberChange: -1, MessageType: "STANDARD",
			Reason: "why", Payload: []byte(`{"a":"\u0000"}`), Data: []byte{0, 1, 2}},
		{Seq: 1 << 40, At: time.Unix(0, 0).UTC(), Payload: []byte{}},
		{Seq: 3, At: time.Unix(-5, 999_999_999).UTC(), MemberChange: 1},
	}
	through, got, err := decode(encode(1<<41, events))
	if err != nil {
		t.Fatal(err)
	}
	if through != 1<<41 || !reflect.DeepEqual(got, events) {
		t.Fatalf("decode(encode) = %d %#v\nwant %d %#v", through, got, int64(1<<41), events)
	}
	for i := range len(encode(9, events)) {
		if _, _, err := decode(encode(9, events)[:i]); err == nil {
			t.Fatalf("a message cut at %d bytes decodes", i)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(3, []carillon.Event{{Seq: 3, Type: "T", Recipients: []string{"r"}, Payload: []byte("p")}}))
	f.Add([]byte{version, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		through, events, err := decode(b)
		if err != nil {
			return
		}
		if again := encode(through, events); !bytes.Equal(again, b) {
			// Varints have one shortest form; a longer one decodes to
			// the same values. Decoding again must agree.
			t2, e2, err := decode(again)
			if err != nil || t2 != through || !reflect.DeepEqual(e2, events) {
				t.Fatalf("re-encoding changes the message: %v", err)
			}
		}
	})
}

// TestGapsFilledFromTheStore: a subscriber receives every event once, in
// order, whatever NATS loses or repeats.
func TestGapsFilledFromTheStore(t *testing.T) {
	ns := natstest.New(t)
	store := openStore(t)
	// The bus's goroutines end with Close (the server's are the server's).
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := connect(t, ns.URL(), store, Options{Poll: time.Hour})
	defer b.Close()
	var c bustest.Collector
	defer b.Subscribe(c.Fn)()
	events := appendEvents(t, store, 20, []byte(`{}`))
	ctx := context.Background()
	publish := func(from, to int) {
		t.Helper()
		if err := b.Publish(ctx, events[from-1:to]); err != nil {
			t.Fatal(err)
		}
	}
	publish(1, 3)
	publish(7, 9)   // 4..6 lost: read from the store
	publish(2, 5)   // repeated: dropped
	publish(12, 12) // 10, 11 lost
	publish(10, 12) // repeated
	bustest.WantInOrder(t, c.WaitSeqs(t, 12), 1, 12)
	// A message without events that covers through 15: the store has
	// them (an event too big for a message travels so).
	if err := b.nc.Publish(b.events, encode(15, nil)); err != nil {
		t.Fatal(err)
	}
	bustest.WantInOrder(t, c.WaitSeqs(t, 15), 1, 15)
	// An unreadable message makes the bus read the store to its end.
	if err := b.nc.Publish(b.events, []byte("junk")); err != nil {
		t.Fatal(err)
	}
	bustest.WantInOrder(t, c.WaitSeqs(t, 20), 1, 20)
	publish(16, 20)
	time.Sleep(50 * time.Millisecond)
	bustest.WantInOrder(t, c.Got(), 1, 20)
}

// TestEventsIntact: what a subscriber receives over NATS is the event as
// the store holds it.
func TestEventsIntact(t *testing.T) {
	ns := natstest.New(t)
	store := openStore(t)
	b := connect(t, ns.URL(), store, Options{Poll: time.Hour})
	got := make(chan []carillon.Event, 1)
	defer b.Subscribe(func(events []carillon.Event) { got <- events })()
	events := appendEvents(t, store, 3, []byte(`{"Payload":"x"}`))
	events[1].Recipients = []string{"arn:a", "arn:b"}
	events[1].Data = []byte{1, 2}
	if err := b.Publish(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if !reflect.DeepEqual(e, events) {
			t.Fatalf("received %#v\nwant %#v", e, events)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received")
	}
}

// TestTailPolled: events that never reach NATS are delivered a Poll
// later, from the store.
func TestTailPolled(t *testing.T) {
	ns := natstest.New(t)
	store := openStore(t)
	b := connect(t, ns.URL(), store, Options{Poll: 20 * time.Millisecond})
	var c bustest.Collector
	defer b.Subscribe(c.Fn)()
	appendEvents(t, store, 3, []byte(`{}`))
	bustest.WantInOrder(t, c.WaitSeqs(t, 3), 1, 3)
}

// TestEveryServerInOrder: two servers on one NATS and one store receive
// the same events in the same order, from whichever publishes, and an
// event bigger than a NATS message reaches them through the store.
func TestEveryServerInOrder(t *testing.T) {
	ns := natstest.New(t)
	store := openStore(t)
	var kicks1, kicks2 atomic.Int64
	b1 := connect(t, ns.URL(), store, Options{Poll: time.Hour, OnKick: func() { kicks1.Add(1) }})
	b2 := connect(t, ns.URL(), store, Options{Poll: time.Hour, OnKick: func() { kicks2.Add(1) }})
	var c1, c2 bustest.Collector
	defer b1.Subscribe(c1.Fn)()
	defer b2.Subscribe(c2.Fn)()
	small := appendEvents(t, store, 100, []byte(`{"x":1}`))
	big := appendEvents(t, store, 1, []byte(`"`+strings.Repeat("x", int(b1.nc.MaxPayload()))+`"`))
	more := appendEvents(t, store, 100, []byte(`{}`))
	ctx := context.Background()
	for i := 0; i < 100; i += 10 {
		pub := b1
		if i%20 == 10 {
			pub = b2 // a relay that moved
		}
		if err := pub.Publish(ctx, small[i:i+10]); err != nil {
			t.Fatal(err)
		}
	}
	if err := b2.Publish(ctx, append(append([]carillon.Event{}, big...), more...)); err != nil {
		t.Fatal(err)
	}
	bustest.WantInOrder(t, c1.WaitSeqs(t, 201), 1, 201)
	bustest.WantInOrder(t, c2.WaitSeqs(t, 201), 1, 201)
	// A kick reaches the other server, not the one that sent it.
	b1.Kick()
	deadline := time.Now().Add(5 * time.Second)
	for kicks2.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if kicks1.Load() != 0 || kicks2.Load() != 1 {
		t.Fatalf("kicks: sender %d, other %d; want 0 and 1", kicks1.Load(), kicks2.Load())
	}
}

// TestNATSOutage: while NATS is away, a server delivers from the store;
// when it comes back, deliveries go on without a gap or a repeat.
func TestNATSOutage(t *testing.T) {
	ns := natstest.New(t)
	port := ns.Port()
	store := openStore(t)
	pub := connect(t, ns.URL(), store, Options{Poll: 50 * time.Millisecond})
	sub := connect(t, ns.URL(), store, Options{Poll: 50 * time.Millisecond})
	var c bustest.Collector
	defer sub.Subscribe(c.Fn)()
	ctx := context.Background()
	publish := func(n int) {
		t.Helper()
		if err := pub.Publish(ctx, appendEvents(t, store, n, []byte(`{}`))); err != nil {
			t.Fatal(err)
		}
	}
	publish(5)
	bustest.WantInOrder(t, c.WaitSeqs(t, 5), 1, 5)
	ns.Stop()
	publish(5) // buffered by the client until it reconnects, or lost
	bustest.WantInOrder(t, c.WaitSeqs(t, 10), 1, 10)
	ns2, err := natstest.Start(port)
	if err != nil {
		t.Fatal(err)
	}
	defer ns2.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for !sub.nc.IsConnected() || !pub.nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("did not reconnect")
		}
		time.Sleep(5 * time.Millisecond)
	}
	publish(5)
	bustest.WantInOrder(t, c.WaitSeqs(t, 15), 1, 15)
	time.Sleep(100 * time.Millisecond)
	bustest.WantInOrder(t, c.Got(), 1, 15)
}

// TestStartsAtTheNewestEvent: what was committed before Connect is not
// delivered.
func TestStartsAtTheNewestEvent(t *testing.T) {
	ns := natstest.New(t)
	store := openStore(t)
	appendEvents(t, store, 4, []byte(`{}`))
	b := connect(t, ns.URL(), store, Options{Poll: 10 * time.Millisecond})
	if b.Position() != 4 {
		t.Fatalf("Position = %d, want 4", b.Position())
	}
	var c bustest.Collector
	defer b.Subscribe(c.Fn)()
	appendEvents(t, store, 2, []byte(`{}`))
	bustest.WantInOrder(t, c.WaitSeqs(t, 2), 5, 6)
}
