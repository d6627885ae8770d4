package bus

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/carillonhq/carillon"
)

// Relay tails the outbox and publishes committed events to a Bus, in Seq
// order. It wakes when Kick is called after a commit, and polls as a
// fallback so that writes from other processes (the credentials command,
// a second node) are seen too.
type Relay struct {
	store carillon.Store
	bus   Bus
	log   *slog.Logger

	// Poll is the fallback interval (default 1s).
	Poll time.Duration
	// Batch is how many events one read takes (default 512).
	Batch int
	// Retain is how long published events stay in the outbox (default
	// 1h) before they are deleted.
	Retain time.Duration
	// Now tells the time events are compared with for Retain (default
	// time.Now); give it the store's clock when that is not the wall
	// clock.
	Now func() time.Time
	// Hold, when set, is the Seq through which events may be deleted:
	// trim keeps every event after it, whatever its age. The streaming
	// export holds there the events it has yet to export.
	Hold func() int64

	kick chan struct{}
	// seq is the Seq of the last event published.
	seq atomic.Int64
}

// NewRelay returns a relay from store to bus.
func NewRelay(store carillon.Store, b Bus, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{store: store, bus: b, log: log, Poll: time.Second, Batch: 512, Retain: time.Hour, Now: time.Now,
		kick: make(chan struct{}, 1)}
}

// Kick tells the relay that events may have been committed. It never
// blocks.
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Start positions the relay at the newest event: events committed before
// the server started have no session to go to.
func (r *Relay) Start(ctx context.Context) error {
	return r.store.View(ctx, func(tx carillon.Tx) error {
		seq, err := tx.LastEventSeq()
		r.seq.Store(seq)
		return err
	})
}

// Seq is the Seq of the last event published.
func (r *Relay) Seq() int64 { return r.seq.Load() }

// SetSeq moves the relay to publish after seq; call it while Run is not
// running (a relay of a cluster taking over from another server).
func (r *Relay) SetSeq(seq int64) { r.seq.Store(seq) }

// Run publishes until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	poll := time.NewTicker(r.Poll)
	defer poll.Stop()
	lastTrim := time.Now()
	for {
		if err := r.drain(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("outbox relay", "cause", err)
		}
		if time.Since(lastTrim) > r.Retain/4 {
			r.trim(ctx)
			lastTrim = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-poll.C:
		}
	}
}

// drain publishes every event after r.seq.
func (r *Relay) drain(ctx context.Context) error {
	for {
		var events []carillon.Event
		err := r.store.View(ctx, func(tx carillon.Tx) error {
			var err error
			events, err = tx.Events(r.seq.Load(), r.Batch)
			return err
		})
		if err != nil || len(events) == 0 {
			return err
		}
		if err := r.bus.Publish(ctx, events); err != nil {
			return err
		}
		r.seq.Store(events[len(events)-1].Seq)
		if len(events) < r.Batch {
			return nil
		}
	}
}

// trim deletes the published events older than Retain, a batch at a
// time, so that a backlog bigger than one batch is trimmed too.
func (r *Relay) trim(ctx context.Context) {
	cutoff := r.Now().Add(-r.Retain)
	keepAfter := r.seq.Load()
	if r.Hold != nil {
		keepAfter = min(keepAfter, r.Hold())
	}
	for ctx.Err() == nil {
		var through int64
		more := false
		err := r.store.View(ctx, func(tx carillon.Tx) error {
			events, err := tx.Events(0, r.Batch)
			more = len(events) == r.Batch
			for _, e := range events {
				if e.Seq > keepAfter || e.At.After(cutoff) {
					more = false
					break
				}
				through = e.Seq
			}
			return err
		})
		if err == nil && through > 0 {
			err = r.store.Update(ctx, func(tx carillon.Tx) error { return tx.DeleteEventsThrough(through) })
		}
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("outbox trim", "cause", err)
			}
			return
		}
		if through == 0 || !more {
			return
		}
	}
}
