package eventqueue

import (
	"context"
	"slices"
	"testing"

	"github.com/carillonhq/carillon"
)

// TestQueue: accepted events reach the handler in order; those that find
// the queue full, and those still queued when Run stops, are dropped.
func TestQueue(t *testing.T) {
	var dropped []int64
	q := New(3, func(e *carillon.Event) bool { return e.Type == "KEEP" }, func(e *carillon.Event) { dropped = append(dropped, e.Seq) })
	q.Deliver([]carillon.Event{{Seq: 1, Type: "KEEP"}, {Seq: 2, Type: "SKIP"}, {Seq: 3, Type: "KEEP"}, {Seq: 4, Type: "KEEP"}, {Seq: 5, Type: "KEEP"}})
	if !slices.Equal(dropped, []int64{5}) || q.Len() != 3 {
		t.Fatalf("dropped %v with %d queued, want [5] and 3", dropped, q.Len())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var handled []int64
	q.Run(ctx, func(_ context.Context, e carillon.Event) {
		handled = append(handled, e.Seq)
		if e.Seq == 3 {
			cancel()
		}
	})
	if !slices.Equal(handled, []int64{1, 3}) || !slices.Equal(dropped, []int64{5, 4}) {
		t.Errorf("handled %v, dropped %v; want [1 3] and [5 4]", handled, dropped)
	}
}
