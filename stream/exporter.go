package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
)

// Options configure the export.
type Options struct {
	// Sinks maps ResourceArns to the URLs of other sinks than Kinesis:
	// an HTTP webhook (http:// or https://) the records are POSTed to as
	// a JSON array, or a NATS subject (nats://host:port/subject, with
	// ?jetstream=true to wait for JetStream's acknowledgement of each
	// record). A mapped ARN goes to its URL even when it is a Kinesis
	// stream's.
	Sinks map[string]string
	// KinesisEndpoint is the base URL of the Kinesis API ("": AWS's
	// regional endpoints).
	KinesisEndpoint string
	// AWSConfig gives the Kinesis client's credentials; nil loads the
	// standard AWS chain. Each call's region is the stream ARN's.
	AWSConfig *aws.Config
	// WebhookSecret signs the webhook requests with the
	// X-Carillon-Signature header (package webhook); "" sends them
	// unsigned.
	WebhookSecret string
	// HTTPClient sends the webhook requests (default: a client of its
	// own).
	HTTPClient *http.Client
	// Poll is how often configurations and the outbox are read when
	// nothing wakes the exporter (default 1s).
	Poll time.Duration
	// Batch is how many outbox events one Put takes at most (default
	// 500, a PutRecords call's limit of records).
	Batch int
	// Timeout bounds one Put to a sink (default 10s).
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failed Put is
	// tried again: it doubles from MinBackoff up to MaxBackoff (defaults
	// 250ms and 30s).
	MinBackoff, MaxBackoff time.Duration
}

func (o *Options) defaults() {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
}

// ParseSinks reads --stream-sink values, each ARN=URL, into a map; each
// URL must be one Options.Sinks accepts.
func ParseSinks(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		arn, u, ok := strings.Cut(strings.TrimSpace(v), "=")
		if !ok || arn == "" || u == "" {
			return nil, fmt.Errorf("stream sink %q: want ARN=URL", v)
		}
		if _, err := parseSinkURL(u); err != nil {
			return nil, err
		}
		out[arn] = u
	}
	return out, nil
}

// Exporter runs one worker per AppInstance and stream its configurations
// name, each in a goroutine of its own, so that no sink slows the API or
// another sink.
type Exporter struct {
	store carillon.Store
	opts  Options
	sinks *Sinks
	log   *slog.Logger
	// open opens a worker's sink (Sinks.Open; tests replace it).
	open func(ctx context.Context, resourceARN string) (Sink, error)

	exported, failed *prometheus.CounterVec
	lag              *prometheus.GaugeVec

	// kick asks Run to read the configurations again.
	kick chan struct{}

	mu      sync.Mutex
	workers map[workerKey]*worker
	wg      sync.WaitGroup
}

type workerKey struct{ app, resource string }

// New returns an exporter of store's events. reg (may be nil) receives its
// metrics.
func New(store carillon.Store, opts Options, log *slog.Logger, reg prometheus.Registerer) *Exporter {
	opts.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	x := &Exporter{
		store: store, opts: opts, sinks: NewSinks(opts), log: log,
		kick:    make(chan struct{}, 1),
		workers: map[workerKey]*worker{},
		exported: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "stream", Name: "records_exported_total",
			Help: "Records the streaming export's sinks acknowledged.",
		}, []string{"sink"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "stream", Name: "records_failed_total",
			Help: "Records a sink did not acknowledge (they are sent again).",
		}, []string{"sink"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "carillon", Subsystem: "stream", Name: "lag_events",
			Help: "Outbox events committed but not yet past an export cursor (newest Seq - cursor).",
		}, []string{"app_instance", "sink"}),
	}
	x.open = x.sinks.Open
	if reg != nil {
		reg.MustRegister(x.exported, x.failed, x.lag)
	}
	return x
}

// Check tells whether a ResourceArn maps to a sink (for
// PutMessagingStreamingConfigurations).
func (x *Exporter) Check(resourceARN string) error { return x.sinks.Check(resourceARN) }

// Kick wakes the workers: events may have been committed. It never
// blocks.
func (x *Exporter) Kick() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, w := range x.workers {
		w.wake()
	}
}

// Resync has the configurations read again now rather than at the next
// poll: they may have changed. It never blocks.
func (x *Exporter) Resync() {
	select {
	case x.kick <- struct{}{}:
	default:
	}
}

// Hold is the Seq through which the outbox may be trimmed: the lowest
// export cursor (math.MaxInt64 when nothing is exported; 0, trimming
// nothing, when the store cannot tell). It is read from the store, so
// that it holds for configurations no worker has picked up yet.
func (x *Exporter) Hold() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hold := int64(math.MaxInt64)
	err := x.store.View(ctx, func(tx carillon.Tx) error {
		cs, err := tx.StreamCursors()
		for _, c := range cs {
			hold = min(hold, c.Seq)
		}
		return err
	})
	if err != nil {
		x.log.Warn("streaming export: reading the cursors", "cause", err)
		return 0
	}
	return hold
}

// Run exports until ctx ends, then stops every worker and returns.
func (x *Exporter) Run(ctx context.Context) {
	poll := time.NewTicker(x.opts.Poll)
	defer poll.Stop()
	defer x.stopAll()
	for {
		if err := x.sync(ctx); err != nil && ctx.Err() == nil {
			x.log.Error("streaming export: reading the configurations", "cause", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-x.kick:
		case <-poll.C:
		}
	}
}

// sync starts a worker for each stream configured and stops those of
// streams no longer configured.
func (x *Exporter) sync(ctx context.Context) error {
	var cs []carillon.StreamingConfiguration
	err := x.store.View(ctx, func(tx carillon.Tx) error {
		var err error
		cs, err = tx.AllStreamingConfigurations()
		return err
	})
	if err != nil {
		return err
	}
	want := map[workerKey]map[string]int64{}
	for _, c := range cs {
		k := workerKey{c.AppInstanceARN, c.ResourceARN}
		if want[k] == nil {
			want[k] = map[string]int64{}
		}
		want[k][c.DataType] = c.Since
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for k, w := range x.workers {
		if _, ok := want[k]; !ok {
			w.stop()
			delete(x.workers, k)
		}
	}
	for k, types := range want {
		if w, ok := x.workers[k]; ok && !w.exited() {
			w.types.Store(&types)
			w.wake()
			continue
		}
		w := x.newWorker(ctx, k, types)
		x.workers[k] = w
		x.wg.Add(1)
		go func() {
			defer x.wg.Done()
			w.run()
		}()
	}
	return nil
}

func (x *Exporter) stopAll() {
	x.mu.Lock()
	for k, w := range x.workers {
		w.stop()
		delete(x.workers, k)
	}
	x.mu.Unlock()
	x.wg.Wait()
}

// worker exports the events of one AppInstance to one stream.
type worker struct {
	x      *Exporter
	key    workerKey
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	kick   chan struct{}
	// types maps each data type exported to the stream to its
	// configuration's Since.
	types atomic.Pointer[map[string]int64]
	sink  Sink
}

func (x *Exporter) newWorker(ctx context.Context, k workerKey, types map[string]int64) *worker {
	ctx, cancel := context.WithCancel(ctx)
	w := &worker{x: x, key: k, ctx: ctx, cancel: cancel, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	w.types.Store(&types)
	return w
}

// exited reports whether the worker's goroutine has returned (its
// configuration was gone when it looked).
func (w *worker) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (w *worker) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// stop ends the worker; it returns at once, the worker's goroutine exits
// after its current Put.
func (w *worker) stop() { w.cancel() }

// errGone: the worker's configuration was deleted or replaced.
var errGone = errors.New("streaming configuration deleted")

func (w *worker) run() {
	defer close(w.done)
	defer func() {
		if w.sink != nil {
			w.sink.Close()
		}
		w.x.lag.DeleteLabelValues(w.key.app, w.key.resource)
	}()
	log := w.x.log.With("app_instance", w.key.app, "sink", w.key.resource)
	poll := time.NewTicker(w.x.opts.Poll)
	defer poll.Stop()
	failures := 0
	for {
		err := w.drain()
		if w.ctx.Err() != nil || errors.Is(err, errGone) {
			return
		}
		if err != nil {
			failures++
			wait := backoff(w.x.opts.MinBackoff, w.x.opts.MaxBackoff, failures)
			// The first failure of a run is a warning; the rest, until
			// the sink answers again, are quieter.
			if failures == 1 {
				log.Warn("streaming export: the sink failed; retrying", "cause", err, "in", wait)
			} else {
				log.Debug("streaming export: the sink failed again", "cause", err, "failures", failures, "in", wait)
			}
			timer := time.NewTimer(wait)
			select {
			case <-w.ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			continue
		}
		if failures > 0 {
			log.Info("streaming export: the sink is back", "after_failures", failures)
			failures = 0
		}
		select {
		case <-w.ctx.Done():
			return
		case <-w.kick:
		case <-poll.C:
		}
	}
}

// backoff is the wait after n failures in a row: doubling from lo, capped
// at hi, with up to a quarter of jitter.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// drain exports every event after the cursor, a batch at a time, until
// the outbox has no more or a Put fails.
func (w *worker) drain() error {
	for {
		var events []carillon.Event
		var cursor, newest int64
		err := w.x.store.View(w.ctx, func(tx carillon.Tx) error {
			cs, err := tx.StreamCursors()
			if err != nil {
				return err
			}
			cursor = -1
			for _, c := range cs {
				if c.AppInstanceARN == w.key.app && c.ResourceARN == w.key.resource {
					cursor = c.Seq
				}
			}
			if cursor < 0 {
				return errGone
			}
			if newest, err = tx.LastEventSeq(); err != nil {
				return err
			}
			events, err = tx.Events(cursor, w.x.opts.Batch)
			return err
		})
		if err != nil {
			return err
		}
		w.x.lag.WithLabelValues(w.key.app, w.key.resource).Set(float64(newest - cursor))
		if len(events) == 0 {
			return nil
		}
		entries, err := w.entries(events)
		if err != nil {
			return err
		}
		through := events[len(events)-1].Seq
		if len(entries) > 0 {
			n, err := w.put(entries)
			if n < len(entries) {
				// Every event before the first record not acknowledged
				// is done; that event and the rest are sent again.
				if n > 0 {
					if aerr := w.advance(entries[n].Seq - 1); aerr != nil {
						return aerr
					}
				}
				if err == nil {
					err = fmt.Errorf("the sink acknowledged %d of %d records", n, len(entries))
				}
				return err
			}
		}
		if err := w.advance(through); err != nil {
			return err
		}
		w.x.lag.WithLabelValues(w.key.app, w.key.resource).Set(float64(max(newest-through, 0)))
		if len(events) < w.x.opts.Batch {
			return nil
		}
	}
}

// entries are the records of the worker's AppInstance and data types
// among events, in order.
func (w *worker) entries(events []carillon.Event) ([]Entry, error) {
	types := *w.types.Load()
	prefix := w.key.app + "/"
	var out []Entry
	for i := range events {
		e := &events[i]
		since, ok := types[dataTypeOf[e.Type]]
		if !ok || e.Seq <= since || !strings.HasPrefix(e.Channel, prefix) {
			continue
		}
		es, err := Entries(e)
		if err != nil {
			// A payload the export cannot read is a bug, not a reason
			// to stop the stream forever: it is logged and left out.
			w.x.log.Error("streaming export: an event cannot be exported", "seq", e.Seq, "type", e.Type, "cause", err)
			continue
		}
		out = append(out, es...)
	}
	return out, nil
}

// put opens the sink if need be and puts entries to it.
func (w *worker) put(entries []Entry) (int, error) {
	if w.sink == nil {
		s, err := w.x.open(w.ctx, w.key.resource)
		if err != nil {
			w.x.failed.WithLabelValues(w.key.resource).Add(float64(len(entries)))
			return 0, fmt.Errorf("opening the sink: %w", err)
		}
		w.sink = s
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.x.opts.Timeout)
	defer cancel()
	n, err := w.sink.Put(ctx, entries)
	n = min(max(n, 0), len(entries))
	w.x.exported.WithLabelValues(w.key.resource).Add(float64(n))
	if n < len(entries) {
		w.x.failed.WithLabelValues(w.key.resource).Add(float64(len(entries) - n))
	}
	return n, err
}

// advance moves the durable cursor to seq.
func (w *worker) advance(seq int64) error {
	// The cursor is written even when the worker is stopping: the sink
	// has what it acknowledged.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 10*time.Second)
	defer cancel()
	err := w.x.store.Update(ctx, func(tx carillon.Tx) error { return tx.AdvanceStreamCursor(w.key.app, w.key.resource, seq) })
	if errors.Is(err, carillon.ErrNotFound) {
		return errGone
	}
	return err
}

// Streams returns the keys of the running workers, "app|resource", for
// tests and diagnostics.
func (x *Exporter) Streams() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]string, 0, len(x.workers))
	for k := range x.workers {
		out = append(out, k.app+"|"+k.resource)
	}
	sort.Strings(out)
	return out
}
