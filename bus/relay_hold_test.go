package bus

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// Hold keeps every event after it, however old and published: the events
// a streaming export has yet to export survive the trim until it moves.
func TestRelayTrimHold(t *testing.T) {
	clock := &manualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := openStore(t, clock)
	r := NewRelay(store, NewLocal(), nil)
	r.Now = clock.Now
	r.Retain = time.Hour
	r.Batch = 10
	var hold atomic.Int64
	r.Hold = hold.Load
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	last := appendEvents(t, store, 25)
	clock.Advance(2 * time.Hour)
	if err := r.drain(ctx); err != nil {
		t.Fatal(err)
	}

	// Held at 0 (nothing exported yet): nothing goes.
	r.trim(ctx)
	if n := len(outbox(t, store)); n != 25 {
		t.Fatalf("%d events left with the hold at 0, want 25", n)
	}
	// The hold moves: the events through it go, across batches.
	hold.Store(last - 3)
	r.trim(ctx)
	events := outbox(t, store)
	if len(events) != 3 || events[0].Seq != last-2 {
		t.Fatalf("after trim the outbox starts at %d with %d events, want %d with 3", first(events), len(events), last-2)
	}
	// A hold beyond what was published does not let unpublished events go.
	more := appendEvents(t, store, 2)
	clock.Advance(2 * time.Hour)
	hold.Store(more + 100)
	r.trim(ctx)
	if events := outbox(t, store); len(events) != 2 || events[0].Seq != more-1 {
		t.Fatalf("after trim the outbox starts at %d with %d events, want the 2 unpublished from %d", first(events), len(events), more-1)
	}
}
