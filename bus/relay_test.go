package bus

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/bus/bustest"
	"github.com/carillonhq/carillon/sqlite"
)

// manualClock is a store clock the test moves.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openStore(t *testing.T, clock carillon.Clock) carillon.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "carillon.db"), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// appendEvents commits n events in one transaction and returns the Seq of
// the last.
func appendEvents(t *testing.T, store carillon.Store, n int) int64 {
	t.Helper()
	var last int64
	err := store.Update(context.Background(), func(tx carillon.Tx) error {
		for range n {
			e := &carillon.Event{Type: "CREATE_CHANNEL_MESSAGE", Channel: "c", ToMembers: true, Payload: []byte(`{}`)}
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
			last = e.Seq
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return last
}

func outbox(t *testing.T, store carillon.Store) []carillon.Event {
	t.Helper()
	var events []carillon.Event
	err := store.View(context.Background(), func(tx carillon.Tx) error {
		var err error
		events, err = tx.Events(0, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// noLeaks checks, after the test and its cleanups, that every goroutine
// it started has ended.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// runRelay runs r until the test ends, and checks that Run returns when
// its context ends.
func runRelay(t *testing.T, r *Relay) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
}

func TestRelayStartsAtTheNewestEvent(t *testing.T) {
	noLeaks(t)
	store := openStore(t, carillon.SystemClock{})
	before := appendEvents(t, store, 5)
	b := NewLocal()
	var c bustest.Collector
	defer b.Subscribe(c.Fn)()
	r := NewRelay(store, b, nil)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.Seq() != before {
		t.Fatalf("Seq after Start = %d, want %d", r.Seq(), before)
	}
	runRelay(t, r)
	last := appendEvents(t, store, 3)
	r.Kick()
	// Only what was committed after Start is published, in order.
	bustest.WantInOrder(t, c.WaitSeqs(t, 3), before+1, last)
	time.Sleep(20 * time.Millisecond)
	if got := c.Got(); len(got) != 3 {
		t.Fatalf("published %v", got)
	}
}

// viewCounter counts the store reads.
type viewCounter struct {
	carillon.Store
	mu    sync.Mutex
	views int
}

func (v *viewCounter) View(ctx context.Context, fn func(carillon.Tx) error) error {
	err := v.Store.View(ctx, fn)
	v.mu.Lock()
	v.views++
	v.mu.Unlock()
	return err
}

func (v *viewCounter) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.views
}

func TestRelayKick(t *testing.T) {
	noLeaks(t)
	store := &viewCounter{Store: openStore(t, carillon.SystemClock{})}
	b := NewLocal()
	var c bustest.Collector
	defer b.Subscribe(c.Fn)()
	r := NewRelay(store, b, nil)
	r.Poll = time.Hour // only Kick wakes it
	r.Batch = 7
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	started := store.count()
	runRelay(t, r)
	// Run reads the outbox once, then waits.
	deadline := time.Now().Add(10 * time.Second)
	for store.count() == started {
		if time.Now().After(deadline) {
			t.Fatal("Run did not read the outbox")
		}
		time.Sleep(time.Millisecond)
	}
	seq := appendEvents(t, store, 1)
	time.Sleep(50 * time.Millisecond)
	if got := c.Got(); len(got) != 0 || store.count() != started+1 {
		t.Fatalf("published %v, %d reads, without a kick or a poll", got, store.count()-started)
	}
	r.Kick()
	r.Kick() // never blocks, however many
	bustest.WantInOrder(t, c.WaitSeqs(t, 1), seq, seq)
	// A backlog bigger than a batch goes out in one wake, in order.
	last := appendEvents(t, store, 50)
	r.Kick()
	bustest.WantInOrder(t, c.WaitSeqs(t, 51), seq, last)
}

func TestRelayPolls(t *testing.T) {
	noLeaks(t)
	store := openStore(t, carillon.SystemClock{})
	b := NewLocal()
	var c bustest.Collector
	defer b.Subscribe(c.Fn)()
	r := NewRelay(store, b, nil)
	r.Poll = 10 * time.Millisecond
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	runRelay(t, r)
	// A commit nobody kicks for (another process) is found by polling.
	seq := appendEvents(t, store, 2)
	bustest.WantInOrder(t, c.WaitSeqs(t, 2), seq-1, seq)
}

func TestRelayTrim(t *testing.T) {
	clock := &manualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := openStore(t, clock)
	r := NewRelay(store, NewLocal(), nil)
	r.Now = clock.Now
	r.Retain = time.Hour
	r.Batch = 10
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old := appendEvents(t, store, 35) // more than three batches
	clock.Advance(30 * time.Minute)
	recent := appendEvents(t, store, 5)
	clock.Advance(31 * time.Minute)
	// The old events are past Retain, the recent ones not; only what was
	// published may go.
	if err := r.drain(ctx); err != nil {
		t.Fatal(err)
	}
	r.seq.Store(old - 10) // as if the last 10 old ones were not published yet
	r.trim(ctx)
	events := outbox(t, store)
	if len(events) != 15 || events[0].Seq != old-9 {
		t.Fatalf("after trim the outbox starts at %d with %d events, want %d with 15", first(events), len(events), old-9)
	}
	r.seq.Store(recent)
	r.trim(ctx)
	events = outbox(t, store)
	if len(events) != 5 || events[0].Seq != recent-4 {
		t.Fatalf("after trim the outbox starts at %d with %d events, want %d with 5", first(events), len(events), recent-4)
	}
	// Seq is never reused after a trim.
	clock.Advance(2 * time.Hour)
	r.trim(ctx)
	if n := len(outbox(t, store)); n != 0 {
		t.Fatalf("%d events left", n)
	}
	if next := appendEvents(t, store, 1); next != recent+1 {
		t.Fatalf("next Seq %d, want %d", next, recent+1)
	}
}

func first(events []carillon.Event) int64 {
	if len(events) == 0 {
		return 0
	}
	return events[0].Seq
}
