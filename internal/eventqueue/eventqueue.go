// Package eventqueue hands the events of the bus to a worker through a
// bounded queue: the bus subscriber never blocks, and events that find
// the queue full are dropped and reported, so that a slow worker (a push
// webhook, a Lex bot) delays only its own work.
package eventqueue

import (
	"context"

	"github.com/carillonhq/carillon"
)

// Queue is a bounded queue of events.
type Queue struct {
	ch      chan carillon.Event
	accept  func(*carillon.Event) bool
	dropped func(*carillon.Event)
}

// New returns a queue of size events that keeps those accept accepts and
// calls dropped for each one it loses: full, or still queued when Run
// stops.
func New(size int, accept func(*carillon.Event) bool, dropped func(*carillon.Event)) *Queue {
	return &Queue{ch: make(chan carillon.Event, size), accept: accept, dropped: dropped}
}

// Deliver queues the accepted events, in order, without blocking: it may
// be a bus subscriber.
func (q *Queue) Deliver(events []carillon.Event) {
	for i := range events {
		if !q.accept(&events[i]) {
			continue
		}
		select {
		case q.ch <- events[i]:
		default:
			q.dropped(&events[i])
		}
	}
}

// Len is the number of events waiting.
func (q *Queue) Len() int { return len(q.ch) }

// Run calls handle with each queued event, one at a time, until ctx ends;
// the events still queued then are dropped.
func (q *Queue) Run(ctx context.Context, handle func(context.Context, carillon.Event)) {
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case e := <-q.ch:
			handle(ctx, e)
		}
	}
	for {
		select {
		case e := <-q.ch:
			q.dropped(&e)
		default:
			return
		}
	}
}
