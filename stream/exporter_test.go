package stream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/bus"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/sqlite"
)

const (
	testApp    = "arn:aws:chime:us-east-1:111122223333:app-instance/app"
	otherApp   = "arn:aws:chime:us-east-1:111122223333:app-instance/app2"
	testStream = "arn:aws:kinesis:us-east-1:111122223333:stream/chime-messaging-test"
)

func openStore(t *testing.T, path string) carillon.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "carillon.db")
	}
	db, err := sqlite.Open(context.Background(), path, carillon.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustUpdate(t *testing.T, s carillon.Store, fn func(tx carillon.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// configure creates the AppInstances and streams dataTypes of testApp to
// testStream from now on.
func configure(t *testing.T, s carillon.Store, dataTypes ...string) {
	t.Helper()
	mustUpdate(t, s, func(tx carillon.Tx) error {
		for _, a := range []string{testApp, otherApp} {
			if _, err := tx.GetAppInstance(a); errors.Is(err, carillon.ErrNotFound) {
				if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: a, Name: a}); err != nil {
					return err
				}
			}
		}
		last, err := tx.LastEventSeq()
		if err != nil {
			return err
		}
		var cs []carillon.StreamingConfiguration
		for _, dt := range dataTypes {
			cs = append(cs, carillon.StreamingConfiguration{AppInstanceARN: testApp, DataType: dt, ResourceARN: testStream, Since: last})
		}
		return tx.PutStreamingConfigurations(testApp, cs)
	})
}

// appendMessages commits n CREATE_CHANNEL_MESSAGE events of a channel of
// app, one transaction each, whose payloads are {"MessageId": "<tag>-<i>"}.
func appendMessages(t *testing.T, s carillon.Store, app, channel, tag string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", tag, i)
		mustUpdate(t, s, func(tx carillon.Tx) error {
			return tx.AppendEvent(&carillon.Event{
				Type: messaging.EventCreateChannelMessage, Channel: app + "/channel/" + channel, ToMembers: true,
				MessageType: "STANDARD", Payload: fmt.Appendf(nil, `{"MessageId":%q}`, id),
			})
		})
		ids = append(ids, id)
	}
	return ids
}

// fakeSink records what it is given. While down it fails; with failAt
// set, a Put of more than failAt entries acknowledges the first failAt
// and delivers the rest but one, as PutRecords does when one record in
// the middle fails.
type fakeSink struct {
	mu     sync.Mutex
	got    []Entry
	puts   int
	down   bool
	failAt int
}

var errDown = errors.New("sink down")

func (f *fakeSink) Put(ctx context.Context, entries []Entry) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.down {
		return 0, errDown
	}
	if f.failAt > 0 && len(entries) > f.failAt {
		n := f.failAt
		f.failAt = 0
		f.got = append(f.got, entries[:n]...)
		f.got = append(f.got, entries[n+1:]...)
		return n, errors.New("one record failed")
	}
	f.got = append(f.got, entries...)
	return len(entries), nil
}

func (f *fakeSink) Close() error { return nil }

func (f *fakeSink) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// messageIDs returns the MessageIds of what the sink got, in order.
func (f *fakeSink) messageIDs(t *testing.T) []string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.got {
		_, p, err := ParseRecord(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p["MessageId"].(string))
	}
	return out
}

// startExporter runs an exporter of s into sink until the test ends or
// the returned stop is called.
func startExporter(t *testing.T, s carillon.Store, sink Sink, opts Options) (*Exporter, func()) {
	t.Helper()
	if opts.Poll == 0 {
		opts.Poll = 20 * time.Millisecond
	}
	opts.MinBackoff, opts.MaxBackoff = 5*time.Millisecond, 40*time.Millisecond
	x := New(s, opts, nil, nil)
	x.open = func(context.Context, string) (Sink, error) { return sink, nil }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		x.Run(ctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return x, stop
}

// waitFor polls cond until it holds or 10 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkAtLeastOnceInOrder checks that want is a subsequence of got and
// that got holds nothing else.
func checkAtLeastOnceInOrder(t *testing.T, got, want []string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
		if !slices.Contains(want, g) {
			t.Errorf("record %s was not expected", g)
		}
	}
	if i < len(want) {
		t.Fatalf("records %v do not hold %v in order: missing from %s on", got, want, want[i])
	}
}

func cursor(t *testing.T, s carillon.Store) int64 {
	t.Helper()
	var seq int64 = -1
	err := s.View(context.Background(), func(tx carillon.Tx) error {
		cs, err := tx.StreamCursors()
		for _, c := range cs {
			if c.AppInstanceARN == testApp && c.ResourceARN == testStream {
				seq = c.Seq
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func lastSeq(t *testing.T, s carillon.Store) int64 {
	t.Helper()
	var seq int64
	if err := s.View(context.Background(), func(tx carillon.Tx) error {
		var err error
		seq, err = tx.LastEventSeq()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return seq
}

func TestExporterOrderAndFilter(t *testing.T) {
	s := openStore(t, "")
	// Events before the configuration are not exported.
	mustUpdate(t, s, func(tx carillon.Tx) error {
		return tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp, Name: "app"})
	})
	appendMessages(t, s, testApp, "c1", "before", 3)
	configure(t, s, carillon.StreamChannelMessage)
	sink := &fakeSink{}
	startExporter(t, s, sink, Options{Batch: 4})

	var want []string
	for i := range 5 {
		want = append(want, appendMessages(t, s, testApp, "c1", fmt.Sprint("a", i), 2)...)
		// Other AppInstances' events and other data types are left out.
		appendMessages(t, s, otherApp, "c9", fmt.Sprint("other", i), 1)
		mustUpdate(t, s, func(tx carillon.Tx) error {
			return tx.AppendEvent(&carillon.Event{Type: messaging.EventUpdateChannel, Channel: testApp + "/channel/c1", ToMembers: true, Payload: []byte(`{}`)})
		})
		// Flow events are not exported.
		mustUpdate(t, s, func(tx carillon.Tx) error {
			return tx.AppendEvent(&carillon.Event{Type: messaging.EventPendingCreateChannelMessage, Channel: testApp + "/channel/c1", Payload: []byte(`{"MessageId":"pending"}`)})
		})
	}
	last := lastSeq(t, s)
	waitFor(t, "the cursor to reach the last event", func() bool { return cursor(t, s) == last })
	if got := sink.messageIDs(t); !slices.Equal(got, want) {
		t.Fatalf("exported %v, want %v exactly once each, in order", got, want)
	}
}

// The cursor survives a restart: a new exporter goes on where the last
// one stopped, losing nothing and repeating nothing acknowledged.
func TestExporterResumesFromCursor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "carillon.db")
	s := openStore(t, path)
	configure(t, s, carillon.StreamChannelMessage)
	sink := &fakeSink{}
	_, stop := startExporter(t, s, sink, Options{})
	want := appendMessages(t, s, testApp, "c1", "first", 5)
	last := lastSeq(t, s)
	waitFor(t, "the first messages", func() bool { return cursor(t, s) == last })
	stop()
	s.Close()

	// Committed while no exporter runs.
	s = openStore(t, path)
	want = append(want, appendMessages(t, s, testApp, "c1", "offline", 5)...)
	startExporter(t, s, sink, Options{})
	want = append(want, appendMessages(t, s, testApp, "c1", "after", 5)...)
	last = lastSeq(t, s)
	waitFor(t, "every message", func() bool { return cursor(t, s) == last })
	if got := sink.messageIDs(t); !slices.Equal(got, want) {
		t.Fatalf("exported %v, want %v exactly once each, in order", got, want)
	}
}

// A sink that is down delays the export and loses nothing; a partial
// failure is sent again from the first record not acknowledged.
func TestExporterSinkDownAndPartialFailure(t *testing.T) {
	s := openStore(t, "")
	configure(t, s, carillon.StreamChannelMessage)
	sink := &fakeSink{}
	startExporter(t, s, sink, Options{Batch: 50})
	want := appendMessages(t, s, testApp, "c1", "up", 3)
	last := lastSeq(t, s)
	waitFor(t, "the first messages", func() bool { return cursor(t, s) == last })

	sink.setDown(true)
	before := cursor(t, s)
	start := time.Now()
	want = append(want, appendMessages(t, s, testApp, "c1", "down", 20)...)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("committing while the sink is down took %v", d)
	}
	waitFor(t, "retries while the sink is down", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.puts >= 5
	})
	if c := cursor(t, s); c != before {
		t.Fatalf("the cursor moved from %d to %d while the sink was down", before, c)
	}

	sink.mu.Lock()
	sink.down, sink.failAt = false, 7
	sink.mu.Unlock()
	last = lastSeq(t, s)
	waitFor(t, "the backlog", func() bool { return cursor(t, s) == last })
	got := sink.messageIDs(t)
	checkAtLeastOnceInOrder(t, got, want)
	// Only records after the failed one were sent twice.
	if len(got) > len(want)+20-7-1 {
		t.Errorf("%d records for %d messages: acknowledged ones were sent again", len(got), len(want))
	}
}

// A configuration deleted stops its worker; one put back starts from then.
func TestExporterFollowsConfigurations(t *testing.T) {
	s := openStore(t, "")
	configure(t, s, carillon.StreamChannelMessage)
	sink := &fakeSink{}
	x, _ := startExporter(t, s, sink, Options{})
	waitFor(t, "the worker", func() bool { return len(x.Streams()) == 1 })
	mustUpdate(t, s, func(tx carillon.Tx) error { return tx.DeleteStreamingConfigurations(testApp) })
	x.Resync()
	waitFor(t, "the worker to stop", func() bool { return len(x.Streams()) == 0 })
	appendMessages(t, s, testApp, "c1", "unconfigured", 3)
	configure(t, s, carillon.StreamChannelMessage)
	x.Resync()
	want := appendMessages(t, s, testApp, "c1", "again", 3)
	last := lastSeq(t, s)
	waitFor(t, "the messages after the new configuration", func() bool { return cursor(t, s) == last })
	if got := sink.messageIDs(t); !slices.Equal(got, want) {
		t.Fatalf("exported %v, want %v", got, want)
	}
}

func TestExporterHold(t *testing.T) {
	s := openStore(t, "")
	x := New(s, Options{}, nil, nil)
	if h := x.Hold(); h != math.MaxInt64 {
		t.Errorf("Hold without configurations = %d, want no hold", h)
	}
	appendMessages(t, s, testApp, "c1", "m", 3)
	configure(t, s, carillon.StreamChannelMessage)
	if h := x.Hold(); h != 3 {
		t.Errorf("Hold = %d, want the cursor, 3", h)
	}
	mustUpdate(t, s, func(tx carillon.Tx) error { return tx.AdvanceStreamCursor(testApp, testStream, 5) })
	if h := x.Hold(); h != 5 {
		t.Errorf("Hold = %d after the cursor moved, want 5", h)
	}
}

// The outbox relay's trim, run with a tiny Retain, keeps what the export
// has not exported while the sink is down, and trims it once exported.
func TestExporterHoldsRelayTrim(t *testing.T) {
	s := openStore(t, "")
	configure(t, s, carillon.StreamChannelMessage)
	sink := &fakeSink{down: true}
	x, _ := startExporter(t, s, sink, Options{})
	relay := bus.NewRelay(s, bus.NewLocal(), nil)
	relay.Retain, relay.Poll = 40*time.Millisecond, 10*time.Millisecond
	relay.Hold = x.Hold
	if err := relay.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		relay.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	outbox := func() int {
		var n int
		if err := s.View(context.Background(), func(tx carillon.Tx) error {
			evs, err := tx.Events(0, 0)
			n = len(evs)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := appendMessages(t, s, testApp, "c1", "held", 10)
	relay.Kick()
	time.Sleep(300 * time.Millisecond) // several trims, the events long past Retain
	if n := outbox(); n != 10 {
		t.Fatalf("%d events left in the outbox while the sink is down, want the 10 not exported", n)
	}
	sink.setDown(false)
	waitFor(t, "the export", func() bool { return cursor(t, s) == lastSeq(t, s) })
	if got := sink.messageIDs(t); !slices.Equal(got, want) {
		t.Fatalf("exported %v, want %v", got, want)
	}
	waitFor(t, "the trim of what was exported", func() bool { return outbox() == 0 })
}
