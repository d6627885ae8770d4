package bus

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/carillonhq/carillon"
)

// collector records the Seqs a subscriber receives.
type collector struct {
	mu   sync.Mutex
	seqs []int64
	// block, when set, stalls the subscriber until it is closed.
	block chan struct{}
}

func (c *collector) fn(events []carillon.Event) {
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range events {
		c.seqs = append(c.seqs, e.Seq)
	}
}

func (c *collector) got() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int64(nil), c.seqs...)
}

// waitSeqs waits until c has received n events.
func (c *collector) waitSeqs(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.got()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d events, want %d", len(got), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func wantInOrder(t *testing.T, got []int64, from, to int64) {
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

func batchOf(from, n int64) []carillon.Event {
	out := make([]carillon.Event, n)
	for i := range out {
		out[i].Seq = from + int64(i)
	}
	return out
}

func TestLocalDeliversInOrderToEverySubscriber(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := NewLocal()
	var c1, c2 collector
	unsub1 := b.Subscribe(c1.fn)
	defer unsub1()
	unsub2 := b.Subscribe(c2.fn)
	defer unsub2()

	ctx := context.Background()
	var seq int64 = 1
	for i := range 500 {
		n := int64(i%7 + 1)
		if err := b.Publish(ctx, batchOf(seq, n)); err != nil {
			t.Fatal(err)
		}
		seq += n
	}
	if err := b.Publish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	wantInOrder(t, c1.waitSeqs(t, int(seq-1)), 1, seq-1)
	wantInOrder(t, c2.waitSeqs(t, int(seq-1)), 1, seq-1)
}

func TestLocalSlowSubscriberBlocksNobody(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := NewLocal()
	slow := collector{block: make(chan struct{})}
	var fast collector
	defer b.Subscribe(slow.fn)()
	defer b.Subscribe(fast.fn)()
	defer close(slow.block) // before the unsubscribes, which wait for it

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := int64(1); i <= 1000; i++ {
			_ = b.Publish(context.Background(), batchOf(i, 1))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a stalled subscriber")
	}
	wantInOrder(t, fast.waitSeqs(t, 1000), 1, 1000)
	if n := len(slow.got()); n != 0 {
		t.Fatalf("stalled subscriber handled %d events", n)
	}
}

func TestLocalUnsubscribe(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := NewLocal()
	var c, other collector
	unsub := b.Subscribe(c.fn)
	defer b.Subscribe(other.fn)()
	ctx := context.Background()
	_ = b.Publish(ctx, batchOf(1, 3))
	c.waitSeqs(t, 3)
	unsub()
	unsub() // twice is harmless
	_ = b.Publish(ctx, batchOf(4, 3))
	wantInOrder(t, other.waitSeqs(t, 6), 1, 6)
	// other has seen 4..6, published after the unsubscribe; c has not,
	// and its goroutine is gone (goleak).
	wantInOrder(t, c.got(), 1, 3)
}

func TestLocalUnsubscribeWaitsForTheHandler(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := NewLocal()
	c := collector{block: make(chan struct{})}
	unsub := b.Subscribe(c.fn)
	_ = b.Publish(context.Background(), batchOf(1, 1))
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
	close(c.block)
	<-returned
	// Once unsubscribe returned, the handler is never called again.
	_ = b.Publish(context.Background(), batchOf(2, 1))
	time.Sleep(20 * time.Millisecond)
	if got := c.got(); len(got) > 1 {
		t.Fatalf("handler called after unsubscribe: %v", got)
	}
}
