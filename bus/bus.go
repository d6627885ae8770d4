// Package bus carries committed events from the outbox to whatever
// delivers them: the websocket hub now, streaming export later. Events
// are published only after the transaction that wrote them commits, in
// commit (Seq) order.
//
// Bus is an interface so that a cluster can replace the in-process Local
// bus with one that crosses nodes (NATS) without touching publishers or
// subscribers.
package bus

import (
	"context"
	"sync"

	"github.com/carillonhq/carillon"
)

// Bus delivers events to subscribers.
type Bus interface {
	// Publish hands events, in Seq order, to every subscriber. It must not
	// block on a slow subscriber for longer than the subscriber's own
	// handling of the event takes.
	Publish(ctx context.Context, events []carillon.Event) error
	// Subscribe calls fn with every event published from now on, in
	// order, from one goroutine per subscription. The returned function
	// ends the subscription.
	Subscribe(fn func([]carillon.Event)) (unsubscribe func())
}

// Local is the in-process bus: each subscriber gets the events on its own
// goroutine through an unbounded queue, so a slow subscriber delays only
// itself.
type Local struct {
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local {
	return &Local{subs: map[*subscription]struct{}{}}
}

type subscription struct {
	fn     func([]carillon.Event)
	mu     sync.Mutex
	queue  [][]carillon.Event
	wake   chan struct{}
	closed chan struct{}
	done   chan struct{}
}

// Publish queues events for every subscriber and returns at once.
func (b *Local) Publish(_ context.Context, events []carillon.Event) error {
	if len(events) == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.mu.Lock()
		s.queue = append(s.queue, events)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Subscribe starts a subscription.
func (b *Local) Subscribe(fn func([]carillon.Event)) func() {
	s := &subscription{fn: fn, wake: make(chan struct{}, 1), closed: make(chan struct{}), done: make(chan struct{})}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go s.run()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			close(s.closed)
			<-s.done
		})
	}
}

func (s *subscription) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, events := range batch {
			s.fn(events)
		}
		select {
		case <-s.wake:
		case <-s.closed:
			return
		}
	}
}
