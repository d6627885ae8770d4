// Package natsbus is the Bus of a cluster: the servers that share one
// PostgreSQL database pass the outbox's events to each other over NATS
// (github.com/nats-io/nats.go).
//
// One server at a time publishes: its relay, which runs under a lock of
// the store (package server). Every server, the publisher included,
// subscribes, and hands the events to its own subscribers (the hub, push,
// bots) through a bus.Local: in Seq order, each once, with no gap, as
// package bus promises.
//
//   - Seq is dense and in commit order on both stores (docs/architecture.md,
//     "The outbox: Seq is commit order"), so a missing event shows by its
//     number: a message whose first event is not the one after the last
//     delivered has a gap before it. The missing events are read from the
//     store (Events after the last delivered), where they are committed and
//     visible: the relay read a later one.
//   - Events at or below the last delivered are duplicates (a relay that
//     took over republishes from its own server's position) and are
//     dropped.
//   - Core NATS delivers at most once: a message sent while a server was
//     disconnected, or dropped because the server fell behind, is a gap
//     like any other. Losses at the tail of the traffic have no later
//     message to reveal them, so a server that has received nothing for
//     Poll reads the store after its position anyway, and does so at once
//     when it reconnects. While NATS is away, a server thus still
//     delivers, a poll late.
//
// JetStream is not used: the outbox already is a durable log in commit
// order that every server can read from any position, so a second one
// (with its own retention, acknowledgements and redeliveries) would add a
// dependency on JetStream being enabled and a second place to lose or
// reorder events, and would still need the drop of duplicates by Seq,
// since the relay's publishing and its position are not one atomic step.
// What the store cannot give back is what the relay trimmed: a server
// away from NATS and from the database for longer than the outbox's
// retention (an hour) misses those events (counted, and logged).
package natsbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/bus"
)

// Options configure a Bus.
type Options struct {
	// Prefix begins the subjects: <Prefix>.events carries the events,
	// <Prefix>.kick the wake-ups, <Prefix>.handover the handovers of
	// messaging sessions (default "carillon"). Deployments that
	// share a NATS server need different prefixes.
	Prefix string
	// Poll is how long a server waits, having received nothing, before
	// it reads the store after its position (default 1s).
	Poll time.Duration
	// Batch is how many events one read of the store takes (default 512).
	Batch int
	// OnKick is called, on a goroutine of the bus, when another server
	// announces a commit (Kick).
	OnKick func()
	// Name names the connection in the NATS server's monitoring.
	Name string
	// Logger receives the bus's events: disconnections, gaps filled.
	Logger *slog.Logger
	// Metrics, if set, receives the bus's collectors.
	Metrics prometheus.Registerer
	// NATSOptions are added to the connection's options (tests shorten
	// the reconnection wait).
	NATSOptions []nats.Option
}

// Outbox is what the bus reads from the store: the events after a
// position.
type Outbox interface {
	View(ctx context.Context, fn func(tx carillon.Tx) error) error
}

// Bus is a bus.Bus across the servers of a cluster.
type Bus struct {
	nc     *nats.Conn
	outbox Outbox
	local  *bus.Local
	log    *slog.Logger
	o      Options
	id     string // this server's, in its kicks
	events string // subjects
	kick   string

	// mu serializes deliveries: the NATS handler and the poll.
	mu  sync.Mutex
	pos int64 // Seq of the last event handed to the local subscribers
	// closed stops deliveries, under mu.
	closed bool
	// heard is when a message last arrived (unix nanoseconds).
	heard atomic.Int64
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	subs  []*nats.Subscription
	// handover answers the other servers' handover requests (handover.go).
	handover atomic.Pointer[bus.HandoverFunc]

	position                         prometheus.GaugeFunc
	connected                        prometheus.GaugeFunc
	received, filled, dup, lost, pub prometheus.Counter
	closeOnce                        sync.Once
}

// Connect connects to the NATS server(s) at url (a nats:// URL, or a
// comma-separated list of them) and subscribes. Deliveries start after
// the newest event the store holds now; events committed before have no
// session to go to, as with the in-process bus. The connection is
// retried forever once made; the first one must succeed.
func Connect(ctx context.Context, url string, outbox Outbox, o Options) (*Bus, error) {
	if o.Prefix == "" {
		o.Prefix = "carillon"
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 512
	}
	if o.Name == "" {
		o.Name = "carillon"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	b := &Bus{
		outbox: outbox, local: bus.NewLocal(), log: o.Logger, o: o, id: hex.EncodeToString(id[:]),
		events: o.Prefix + ".events", kick: o.Prefix + ".kick",
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	b.metrics()
	err := outbox.View(ctx, func(tx carillon.Tx) error {
		var err error
		b.pos, err = tx.LastEventSeq()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: %w", err)
	}
	opts := append([]nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("event bus: disconnected from NATS", "cause", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("event bus: reconnected to NATS", "server", nc.ConnectedUrlRedacted())
			b.poke()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			// A slow consumer's messages were dropped: a gap to fill.
			b.log.Warn("event bus: NATS", "cause", err)
			b.poke()
		}),
	}, o.NATSOptions...)
	b.nc, err = nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect: %w", err)
	}
	sub, err := b.nc.Subscribe(b.events, b.onMessage)
	if err == nil {
		// The handler may fall far behind: what it then loses is filled
		// from the store, but there is no reason to lose it early.
		err = sub.SetPendingLimits(1<<20, 256<<20)
		b.subs = append(b.subs, sub)
	}
	if err == nil {
		sub, err = b.nc.Subscribe(b.kick, b.onKick)
		b.subs = append(b.subs, sub)
	}
	if err == nil {
		sub, err = b.nc.Subscribe(o.Prefix+".handover", b.onHandover)
		b.subs = append(b.subs, sub)
	}
	if err == nil {
		// The subscriptions are in place at the server when Connect
		// returns. FlushWithContext wants a deadline.
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = b.nc.FlushWithContext(fctx)
		cancel()
	}
	if err != nil {
		b.nc.Close()
		return nil, fmt.Errorf("natsbus: subscribe: %w", err)
	}
	b.heard.Store(time.Now().UnixNano())
	go b.poll()
	return b, nil
}

func (b *Bus) metrics() {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "carillon", Subsystem: "bus", Name: name, Help: help})
	}
	b.received = counter("events_received_total", "Events received over NATS and delivered to this server's subscribers.")
	b.filled = counter("events_filled_total", "Events read from the store to fill a gap in what NATS delivered, or while it delivered nothing.")
	b.dup = counter("events_duplicate_total", "Events received over NATS that were delivered already, and dropped.")
	b.lost = counter("events_lost_total", "Events missing from both NATS and the store (trimmed before this server read them).")
	b.pub = counter("events_published_total", "Events this server's relay published to NATS.")
	b.position = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "carillon", Subsystem: "bus", Name: "position",
		Help: "Seq of the last event delivered to this server's subscribers."}, func() float64 { return float64(b.Position()) })
	b.connected = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "carillon", Subsystem: "bus", Name: "nats_connected",
		Help: "1 while this server is connected to NATS."}, func() float64 {
		if b.nc != nil && b.nc.IsConnected() {
			return 1
		}
		return 0
	})
	if b.o.Metrics != nil {
		b.o.Metrics.MustRegister(b.received, b.filled, b.dup, b.lost, b.pub, b.position, b.connected)
	}
}

// Publish sends events, which must be in Seq order, to every server. A
// message holds as many as fit in the NATS server's maximum payload; an
// event too big for one travels as a message without events that tells
// the servers to read it from the store.
func (b *Bus) Publish(_ context.Context, events []carillon.Event) error {
	if len(events) == 0 {
		return nil
	}
	limit := int(b.nc.MaxPayload())
	var body []byte
	var chunk []carillon.Event
	flush := func(through int64) error {
		msg := encode(through, chunk)
		chunk = chunk[:0]
		return b.nc.Publish(b.events, msg)
	}
	size := 32 // the header, at most
	for i := range events {
		body = appendEvent(body[:0], &events[i])
		if len(chunk) > 0 && size+len(body) > limit {
			if err := flush(chunk[len(chunk)-1].Seq); err != nil {
				return err
			}
			size = 32
		}
		if size+len(body) > limit {
			// Alone it is too big: announce it, the store has it.
			if err := flush(events[i].Seq); err != nil {
				return err
			}
			continue
		}
		chunk = append(chunk, events[i])
		size += len(body)
	}
	if len(chunk) > 0 {
		if err := flush(chunk[len(chunk)-1].Seq); err != nil {
			return err
		}
	}
	b.pub.Add(float64(len(events)))
	return nil
}

// Subscribe calls fn with every event from the bus's position on, in Seq
// order, each once, on a goroutine of its own (bus.Local).
func (b *Bus) Subscribe(fn func([]carillon.Event)) func() { return b.local.Subscribe(fn) }

// Position is the Seq of the last event handed to this server's
// subscribers. A relay taking over starts publishing after it: what this
// server has not seen may not have been published.
func (b *Bus) Position() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pos
}

// Kick tells the other servers that this one committed: their relay,
// flow runner and export, whichever of them runs there, look at the store
// at once. It never blocks; a kick lost is a poll later.
func (b *Bus) Kick() {
	_ = b.nc.Publish(b.kick, []byte(b.id))
}

// Close ends the subscriptions and the connection. The subscribers of
// Subscribe are ended by their own unsubscribe functions.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		close(b.stop)
		<-b.done
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		for _, s := range b.subs {
			_ = s.Unsubscribe()
		}
		b.nc.Close()
		if b.o.Metrics != nil {
			for _, c := range []prometheus.Collector{b.received, b.filled, b.dup, b.lost, b.pub, b.position, b.connected} {
				b.o.Metrics.Unregister(c)
			}
		}
	})
	return nil
}

func (b *Bus) onKick(m *nats.Msg) {
	if string(m.Data) != b.id && b.o.OnKick != nil {
		b.o.OnKick()
	}
}

func (b *Bus) onMessage(m *nats.Msg) {
	b.heard.Store(time.Now().UnixNano())
	through, events, err := decode(m.Data)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if err != nil {
		// Another version's message, or a damaged one: the store has
		// the events, whatever they were.
		b.log.Warn("event bus: unreadable message, reading the store", "cause", err)
		b.poke()
		return
	}
	if err := b.deliverLocked(events, through); err != nil {
		b.log.Warn("event bus: filling a gap from the store", "cause", err)
		b.poke()
	}
}

// deliverLocked hands events to the subscribers, after filling from the
// store any gap between the position and them, and then reads the store
// through the Seq the message covers. On an error of the store it
// delivers nothing past the gap; the poll tries again.
func (b *Bus) deliverLocked(events []carillon.Event, through int64) error {
	// events[start:i] are new, each the one after the one before it,
	// and counted in pos already.
	start := 0
	for i := range events {
		e := &events[i]
		if e.Seq > b.pos+1 {
			b.handLocked(events[start:i])
			start = i
			if err := b.fillLocked(e.Seq - 1); err != nil {
				return err
			}
		}
		if e.Seq <= b.pos {
			b.handLocked(events[start:i])
			start = i + 1
			b.dup.Inc()
			continue
		}
		b.pos = e.Seq
	}
	b.handLocked(events[start:])
	if through > b.pos {
		return b.fillLocked(through)
	}
	return nil
}

// handLocked gives events, already accounted in pos, to the subscribers.
func (b *Bus) handLocked(events []carillon.Event) {
	if len(events) == 0 {
		return
	}
	b.received.Add(float64(len(events)))
	_ = b.local.Publish(context.Background(), events)
}

// fillLocked reads the store after the position and delivers what it
// finds, until the position reaches through, or, with through 0, until
// the store has no more.
func (b *Bus) fillLocked(through int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for through == 0 || b.pos < through {
		n := b.o.Batch
		if through > 0 && through-b.pos < int64(n) {
			// No further than through: what follows comes over NATS.
			n = int(through - b.pos)
		}
		var events []carillon.Event
		err := b.outbox.View(ctx, func(tx carillon.Tx) error {
			var err error
			events, err = tx.Events(b.pos, n)
			return err
		})
		if err != nil {
			return err
		}
		if len(events) == 0 {
			if through > b.pos {
				// The relay read them, so they were committed: they
				// were trimmed since.
				b.lost.Add(float64(through - b.pos))
				b.log.Error("event bus: events trimmed before this server delivered them", "after", b.pos, "through", through)
				b.pos = through
			}
			return nil
		}
		if first := events[0].Seq; first > b.pos+1 {
			b.lost.Add(float64(first - b.pos - 1))
			b.log.Error("event bus: events trimmed before this server delivered them", "after", b.pos, "through", first-1)
		}
		b.pos = events[len(events)-1].Seq
		b.filled.Add(float64(len(events)))
		_ = b.local.Publish(context.Background(), events)
		if len(events) < n && through == 0 {
			return nil
		}
	}
	return nil
}

// poke has the poll read the store now.
func (b *Bus) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// poll reads the store after the position when nothing has arrived for
// Poll, or when poked.
func (b *Bus) poll() {
	defer close(b.done)
	t := time.NewTicker(b.o.Poll / 2)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-b.wake:
		case <-t.C:
			if time.Since(time.Unix(0, b.heard.Load())) < b.o.Poll {
				continue
			}
		}
		b.mu.Lock()
		err := b.fillLocked(0)
		b.mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			b.log.Warn("event bus: reading the store", "cause", err)
		}
	}
}
