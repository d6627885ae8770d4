// Package bustest is the conformance suite of Bus: every
// implementation (the in-process Local now, one that crosses nodes later)
// runs it, so that publishers and subscribers can rely on the same
// guarantees: every subscriber receives every event in Seq order, a
// stalled subscriber blocks neither the publisher nor the others, and an
// ended subscription is never called again.
package bustest

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/carillonhq/carillon"
)

// Bus is Bus, declared here again so that package bus's own tests can
// use this package without an import cycle.
type Bus interface {
	Publish(ctx context.Context, events []carillon.Event) error
	Subscribe(fn func([]carillon.Event)) (unsubscribe func())
}

// Run runs the suite; newBus returns a fresh, empty bus for each subtest.
// A bus with a Close method (one with connections and goroutines of its
// own) is closed at the end of its subtest, before the check that every
// goroutine the subtest started has ended.
func Run(t *testing.T, newBus func(t *testing.T) Bus) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Bus)
	}{
		{"DeliversInOrderToEverySubscriber", testOrder},
		{"SlowSubscriberBlocksNobody", testSlowSubscriber},
		{"Unsubscribe", testUnsubscribe},
		{"UnsubscribeWaitsForTheHandler", testUnsubscribeWaits},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			b := newBus(t)
			if cl, ok := b.(interface{ Close() error }); ok {
				defer cl.Close()
			}
			c.fn(t, b)
		})
	}
}

// Collector records the Seqs a subscriber receives; its Fn is the
// subscriber.
type Collector struct {
	mu   sync.Mutex
	seqs []int64
	// Block, when set, stalls the subscriber until it is closed.
	Block chan struct{}
}

func (c *Collector) Fn(events []carillon.Event) {
	if c.Block != nil {
		<-c.Block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range events {
		c.seqs = append(c.seqs, e.Seq)
	}
}

func (c *Collector) Got() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int64(nil), c.seqs...)
}

// WaitSeqs waits until c has received n events.
func (c *Collector) WaitSeqs(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.Got()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d events, want %d", len(got), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// WantInOrder checks that got is exactly the Seqs from..to, in order.
func WantInOrder(t *testing.T, got []int64, from, to int64) {
	t.Helper()
	if int64(len(got)) != to-from+1 {
		t.Fatalf("received %d events, want %d (Seq %d..%d)", len(got), to-from+1, from, to)
	}
	for i, s := range got {
		if s != from+int64(i) {
			t.Fatalf("event %d has Seq %d, want %d: out of order or missing", i, s, from+int64(i))
		}
	}
}

// BatchOf returns n events with Seqs from, from+1, ….
func BatchOf(from, n int64) []carillon.Event {
	out := make([]carillon.Event, n)
	for i := range out {
		out[i].Seq = from + int64(i)
	}
	return out
}

func testOrder(t *testing.T, b Bus) {
	var c1, c2 Collector
	unsub1 := b.Subscribe(c1.Fn)
	defer unsub1()
	unsub2 := b.Subscribe(c2.Fn)
	defer unsub2()

	ctx := context.Background()
	var seq int64 = 1
	for i := range 500 {
		n := int64(i%7 + 1)
		if err := b.Publish(ctx, BatchOf(seq, n)); err != nil {
			t.Fatal(err)
		}
		seq += n
	}
	if err := b.Publish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	WantInOrder(t, c1.WaitSeqs(t, int(seq-1)), 1, seq-1)
	WantInOrder(t, c2.WaitSeqs(t, int(seq-1)), 1, seq-1)
}

func testSlowSubscriber(t *testing.T, b Bus) {
	slow := Collector{Block: make(chan struct{})}
	var fast Collector
	defer b.Subscribe(slow.Fn)()
	defer b.Subscribe(fast.Fn)()
	defer close(slow.Block) // before the unsubscribes, which wait for it

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := int64(1); i <= 1000; i++ {
			_ = b.Publish(context.Background(), BatchOf(i, 1))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a stalled subscriber")
	}
	WantInOrder(t, fast.WaitSeqs(t, 1000), 1, 1000)
	if n := len(slow.Got()); n != 0 {
		t.Fatalf("stalled subscriber handled %d events", n)
	}
}

func testUnsubscribe(t *testing.T, b Bus) {
	var c, other Collector
	unsub := b.Subscribe(c.Fn)
	defer b.Subscribe(other.Fn)()
	ctx := context.Background()
	_ = b.Publish(ctx, BatchOf(1, 3))
	c.WaitSeqs(t, 3)
	unsub()
	unsub() // twice is harmless
	_ = b.Publish(ctx, BatchOf(4, 3))
	WantInOrder(t, other.WaitSeqs(t, 6), 1, 6)
	// other has seen 4..6, published after the unsubscribe; c has not,
	// and its goroutine is gone (goleak).
	WantInOrder(t, c.Got(), 1, 3)
}

func testUnsubscribeWaits(t *testing.T, b Bus) {
	c := Collector{Block: make(chan struct{})}
	entered := make(chan struct{}, 1)
	unsub := b.Subscribe(func(events []carillon.Event) {
		select {
		case entered <- struct{}{}:
		default:
		}
		c.Fn(events)
	})
	_ = b.Publish(context.Background(), BatchOf(1, 1))
	// A bus across processes hands the event over later: wait until the
	// handler runs.
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler was not called")
	}
	returned := make(chan struct{})
	go func() {
		unsub()
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("unsubscribe returned while the handler was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(c.Block)
	<-returned
	// Once unsubscribe returned, the handler is never called again.
	_ = b.Publish(context.Background(), BatchOf(2, 1))
	time.Sleep(20 * time.Millisecond)
	if got := c.Got(); len(got) > 1 {
		t.Fatalf("handler called after unsubscribe: %v", got)
	}
}
