package server

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
)

// The work that must happen once per deployment runs on one server at a
// time, under a lock of the store (carillon.Locker): each kind of work
// has a lock of its own, so that the work of a cluster spreads over its
// servers, and a server that dies gives its locks up with its database
// connections, for another server to take within LockRetry.
//
//   - relay: publishes the outbox to the bus, and trims it. A second
//     relay would only repeat events (the bus drops them), but one is
//     enough and the trim is a write.
//   - jobs: expiration and retention.
//   - flows: the channel flow runner. Invocations carry leases of their
//     own in the store; one runner per cluster keeps a processor from
//     being called by several servers for one message under load.
//   - stream: the streaming export, whose cursors one worker per stream
//     advances.
//   - push, bots: every server receives every event from the bus; only
//     the holder of the lock sends the notifications and invokes the
//     bots. Like a restart, a change of holder drops what the old holder
//     had queued and not sent (at most once, as documented in
//     docs/architecture.md).
//
// On SQLite the locks are the process's own and are taken at once.
const (
	lockRelay  = "carillon/relay"
	lockJobs   = "carillon/jobs"
	lockFlows  = "carillon/flows"
	lockStream = "carillon/stream"
	lockPush   = "carillon/push"
	lockBots   = "carillon/bots"
)

// DefaultLockRetry is how often a server tries again to take a lock that
// another server holds. Each try opens a database connection (a
// PostgreSQL session advisory lock lives on a connection of its own), so
// the interval trades how soon a dead server's work is taken over
// against connections opened by the servers waiting.
const DefaultLockRetry = 2 * time.Second

// leased returns a worker that runs run while this server holds the lock
// called name: it tries to take the lock every LockRetry (with some
// jitter, so that the servers waiting do not try together), runs run
// with a context that ends when the lock is lost, and when run returns
// releases the lock and waits for it again, until ctx ends. held, if not
// nil, is true while run runs.
func (s *Server) leased(name string, held *atomic.Bool, run func(context.Context)) func(context.Context) {
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "carillon", Subsystem: "cluster", Name: "lock_held",
		Help: "1 while this server holds the lock of a work done once per deployment.", ConstLabels: prometheus.Labels{"lock": name}})
	s.metrics.MustRegister(gauge)
	retry := s.cfg.LockRetry
	if retry <= 0 {
		retry = DefaultLockRetry
	}
	return func(ctx context.Context) {
		for ctx.Err() == nil {
			lease, ok, err := s.store.TryLock(ctx, name)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("cluster: taking a lock", "lock", name, "cause", err)
			}
			if !ok {
				wait := retry/2 + rand.N(retry)
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
				continue
			}
			s.runLeased(ctx, name, lease, held, gauge, run)
		}
	}
}

func (s *Server) runLeased(ctx context.Context, name string, lease carillon.Lease, held *atomic.Bool, gauge prometheus.Gauge, run func(context.Context)) {
	defer lease.Release()
	s.log.Debug("cluster: lock taken", "lock", name)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			s.log.Warn("cluster: lock lost, stopping its work", "lock", name)
			cancel()
		case <-runCtx.Done():
		}
	}()
	gauge.Set(1)
	if held != nil {
		held.Store(true)
	}
	run(runCtx)
	if held != nil {
		held.Store(false)
	}
	gauge.Set(0)
}

// whileHeld passes events to deliver only while held is true: the
// subscriber of push or bot dispatch on a server that does not hold the
// work's lock.
func whileHeld(held *atomic.Bool, deliver func([]carillon.Event)) func([]carillon.Event) {
	return func(events []carillon.Event) {
		if held.Load() {
			deliver(events)
		}
	}
}

// runRelay publishes the outbox while this server holds the relay's lock.
// In a cluster, a relay taking over starts after the last event this
// server's bus delivered: the events after it may not have been
// published (those that were are dropped as repeats).
func (s *Server) runRelay(ctx context.Context) {
	if s.nats != nil {
		s.relay.SetSeq(s.nats.Position())
	}
	s.relay.Run(ctx)
}
