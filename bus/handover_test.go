package bus

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A request reaches every other server, not the one asking; it is
// answered when one of them gave the session up, and otherwise when
// they all declined, or when the wait ends.
func TestLocalHandovers(t *testing.T) {
	var l LocalHandovers
	var askedSelf, askedHolder, askedOther atomic.Int32
	release := make(chan struct{})
	self := l.Join(func(context.Context, string, string) bool { askedSelf.Add(1); return true })
	holder := l.Join(func(_ context.Context, user, id string) bool {
		askedHolder.Add(1)
		<-release
		return user == "alice" && id == "s1"
	})
	l.Join(func(context.Context, string, string) bool { askedOther.Add(1); return false })

	close(release)
	if ok, err := self.RequestHandover(t.Context(), "alice", "s1"); !ok || err != nil {
		t.Fatalf("RequestHandover = %v, %v; want true: the holder gave it up", ok, err)
	}
	if ok, _ := self.RequestHandover(t.Context(), "alice", "s2"); ok {
		t.Fatal("a session nobody holds was given up")
	}
	if askedSelf.Load() != 0 || askedHolder.Load() != 2 {
		t.Fatalf("asked itself %d times, the holder %d; want 0 and 2", askedSelf.Load(), askedHolder.Load())
	}

	// A server that does not answer (it is stuck) does not hold the
	// request past its context.
	stuck := make(chan struct{})
	defer close(stuck)
	holder.Leave()
	l.Join(func(context.Context, string, string) bool { <-stuck; return true })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if ok, _ := self.RequestHandover(ctx, "alice", "s1"); ok || time.Since(start) > 5*time.Second {
		t.Fatalf("RequestHandover = %v after %v; want false when the wait ends", ok, time.Since(start))
	}
}
