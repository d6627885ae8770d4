package natsbus

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carillonhq/carillon/internal/natstest"
)

// A handover request reaches the other servers, not the one asking; the
// server that gave the session up answers, the others stay silent, and
// with nobody answering the request ends with its context.
func TestHandover(t *testing.T) {
	ns := natstest.New(t)
	store := openStore(t)
	a, b, c := connect(t, ns.URL(), store, Options{}), connect(t, ns.URL(), store, Options{}), connect(t, ns.URL(), store, Options{})
	var askedA, askedC atomic.Int32
	a.HandleHandovers(func(context.Context, string, string) bool { askedA.Add(1); return true })
	b.HandleHandovers(func(_ context.Context, user, id string) bool { return user == "alice" && id == "s1" })
	c.HandleHandovers(func(context.Context, string, string) bool { askedC.Add(1); return false })

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if ok, err := a.RequestHandover(ctx, "alice", "s1"); !ok || err != nil {
		t.Fatalf("RequestHandover = %v, %v; want true: b holds the session", ok, err)
	}
	short, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if ok, err := a.RequestHandover(short, "alice", "s2"); ok || err != nil {
		t.Fatalf("RequestHandover of a session nobody holds = %v, %v; want false, nil", ok, err)
	}
	time.Sleep(50 * time.Millisecond) // for a stray answer
	if askedA.Load() != 0 || askedC.Load() != 2 {
		t.Fatalf("a asked %d times, c %d; want 0 (the asking server) and 2", askedA.Load(), askedC.Load())
	}
}
