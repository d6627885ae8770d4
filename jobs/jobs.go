// Package jobs runs the work that time, not a request, triggers: channel
// expiration, AppInstanceUser expiration and AppInstance message
// retention (docs/semantics.md, "Expiration and retention"). One Scheduler runs the three jobs every
// Interval, by its Clock, so that tests drive time instead of waiting for
// it (RunOnce runs them at once).
//
// Every job works in bounded transactions, so that a large deletion never
// holds the store's writer for long: at most ChannelBatch channels,
// UserBatch users and MessageBatch messages per transaction, and at most
// MaxBatches transactions per job and run; what is left waits for the
// next run. Each transaction asks the store again what is due, by the time
// it reads in that transaction, so settings changed or removed before the
// job reaches a channel, a user or an AppInstance are honoured.
//
//   - Channel expiration deletes each channel whose ExpirationSettings are
//     due as DeleteChannel does, DELETE_CHANNEL event to its members
//     included (messaging.ExpireChannel). A channel with more messages
//     than a transaction may delete loses them MessageBatch at a time,
//     oldest first, in the transactions before the one that deletes it;
//     each of those checks again that the channel is still due.
//   - User expiration deletes each due AppInstanceUser as
//     DeleteAppInstanceUser does (identity.Service.ExpireAppInstanceUser,
//     with the hooks the server gave the identity service).
//   - Retention deletes, in every channel of each AppInstance whose
//     retention settings say RetentionDays, the messages created more
//     than RetentionDays × 24 h before now (a message exactly that old
//     stays), silently: AWS announces no event for them. Deletion is
//     permanent (docs/compatibility.md, ruling 25).
//   - Idempotency expiration deletes the results of requests made with a
//     ClientRequestToken once IdempotencyWindow has passed, TokenBatch at
//     a time, the oldest first (docs/compatibility.md, ruling 34).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/identity"
	"github.com/carillonhq/carillon/messaging"
)

// Defaults of Options.
const (
	DefaultInterval     = time.Minute
	DefaultChannelBatch = 100
	DefaultUserBatch    = 100
	// 250 messages take about 1 ms to delete: a SendChannelMessage that
	// arrives during a large deletion waits for at most one batch. With
	// 1,000 its median was 2.4-2.8 ms instead of 1.25 ms (0.44 ms with
	// no deletion), its p99 14-16 ms instead of 10-11, for 8% more
	// messages deleted per second (BenchmarkJobsExpireChannel/api=busy).
	DefaultMessageBatch = 250
	// 2,000 batches of 250: up to 500,000 messages per job and run.
	DefaultMaxBatches = 2000
	// Idempotency results are kept a day: SDKs retry within minutes, and
	// a client that retries a day later means a new request.
	DefaultIdempotencyWindow = 24 * time.Hour
	DefaultTokenBatch        = 1000
)

// Options tune the scheduler. The zero value of a field means its default.
type Options struct {
	// Interval is the time between two runs (default 1 minute). AWS
	// deletes expired resources "within 6 hours"; Carillon within an
	// interval, or a few when there is much to delete.
	Interval time.Duration
	// ChannelBatch bounds the channels a transaction expires (100).
	ChannelBatch int
	// UserBatch bounds the users a transaction expires (100).
	UserBatch int
	// MessageBatch bounds the messages a transaction deletes (250).
	MessageBatch int
	// MaxBatches bounds the transactions of each job in one run (2,000).
	MaxBatches int
	// IdempotencyWindow is how long a ClientRequestToken's result is
	// kept (24h): a request that repeats a token within it gets the first
	// request's result; after it, it is a new request.
	IdempotencyWindow time.Duration
	// TokenBatch bounds the idempotency results a transaction deletes
	// (1,000).
	TokenBatch int
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.ChannelBatch <= 0 {
		o.ChannelBatch = DefaultChannelBatch
	}
	if o.UserBatch <= 0 {
		o.UserBatch = DefaultUserBatch
	}
	if o.MessageBatch <= 0 {
		o.MessageBatch = DefaultMessageBatch
	}
	if o.MaxBatches <= 0 {
		o.MaxBatches = DefaultMaxBatches
	}
	if o.IdempotencyWindow <= 0 {
		o.IdempotencyWindow = DefaultIdempotencyWindow
	}
	if o.TokenBatch <= 0 {
		o.TokenBatch = DefaultTokenBatch
	}
}

// Config configures a Scheduler.
type Config struct {
	Store carillon.Store
	// Clock tells the jobs what is due; nil: the wall clock. Give it the
	// store's clock.
	Clock carillon.Clock
	// Logger receives a line per channel and user expired and per
	// AppInstance whose old messages were deleted; nil: discarded.
	Logger *slog.Logger
	// Metrics, if not nil, gets the jobs' counters.
	Metrics prometheus.Registerer
	// Identity deletes expired users, as DeleteAppInstanceUser does: give
	// the server's service, with its OnDeleteMember hook. nil: a service of
	// the Store's own, without hooks.
	Identity *identity.Service
	Options
}

// Report is what one run did.
type Report struct {
	// Channels and Users are how many were expired.
	Channels, Users int
	// ChannelMessages are the messages deleted with expired channels.
	ChannelMessages int
	// Messages are the messages retention deleted.
	Messages int
	// Tokens are the idempotency results that expired.
	Tokens int
	// Pending is set when a job spent its budget with work left; the
	// next run goes on from there.
	Pending bool
}

// Scheduler runs the jobs. Its methods are safe for concurrent use; runs
// never overlap.
type Scheduler struct {
	store    carillon.Store
	clock    carillon.Clock
	log      *slog.Logger
	opts     Options
	metrics  metrics
	identity *identity.Service

	mu sync.Mutex // held by a run
	// resume is where retention stopped when a run spent its budget.
	resume retentionCursor
}

// retentionCursor is a place in the sweep of retention: the AppInstance,
// and the last channel of it whose old messages are all deleted.
type retentionCursor struct {
	app, channel string
}

// New returns a scheduler; Run or RunOnce run it.
func New(cfg Config) *Scheduler {
	cfg.Options.defaults()
	s := &Scheduler{store: cfg.Store, clock: cfg.Clock, log: cfg.Logger, opts: cfg.Options, identity: cfg.Identity}
	if s.identity == nil {
		s.identity = identity.New(cfg.Store, carillon.ARNs{}, identity.DefaultLimits)
	}
	if s.clock == nil {
		s.clock = carillon.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.metrics = newMetrics(cfg.Metrics)
	return s
}

// Interval is the time between two runs.
func (s *Scheduler) Interval() time.Duration { return s.opts.Interval }

// Run runs the jobs at once, then every Interval until ctx ends. A run
// under way when ctx ends stops after its current transaction.
func (s *Scheduler) Run(ctx context.Context) {
	tick := time.NewTicker(s.opts.Interval)
	defer tick.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("background jobs", "cause", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RunOnce runs each job once, waiting for a run under way to finish
// first. A job's error does not stop the others; RunOnce returns them
// joined.
func (s *Scheduler) RunOnce(ctx context.Context) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r Report
	var errs []error
	for _, j := range []struct {
		name string
		run  func(context.Context, *Report) error
	}{
		{"channel_expiration", s.expireChannels},
		{"user_expiration", s.expireUsers},
		{"retention", s.retain},
		{"idempotency_expiration", s.expireTokens},
	} {
		if err := j.run(ctx, &r); err != nil {
			if ctx.Err() == nil { // not a run cut short by shutdown
				s.metrics.errors.WithLabelValues(j.name).Inc()
			}
			errs = append(errs, fmt.Errorf("%s: %w", j.name, err))
		}
	}
	s.metrics.runs.Inc()
	return r, errors.Join(errs...)
}

// now is the jobs' time: the clock's, in UTC.
func (s *Scheduler) now() time.Time { return s.clock.Now().UTC() }

// expireChannels deletes the channels due, a transaction at a time.
func (s *Scheduler) expireChannels(ctx context.Context, r *Report) error {
	for range s.opts.MaxBatches {
		var expired []string
		var messages int
		var more bool
		err := s.store.Update(ctx, func(tx carillon.Tx) error {
			// Reset: a store may run fn again.
			expired, messages, more = expired[:0], 0, false
			due, err := tx.ExpiredChannels(s.now(), s.opts.ChannelBatch)
			if err != nil {
				return err
			}
			more = len(due) == s.opts.ChannelBatch
			for _, arn := range due {
				n, err := tx.DeleteMessagesBefore(arn, time.Time{}, s.opts.MessageBatch-messages)
				if err != nil {
					return err
				}
				messages += n
				if messages >= s.opts.MessageBatch {
					// The channel may have more: a later transaction
					// deletes them, and it, if it is still due then.
					more = true
					return nil
				}
				if err := messaging.ExpireChannel(tx, arn); err != nil {
					return err
				}
				expired = append(expired, arn)
			}
			return nil
		})
		if err != nil {
			return err
		}
		r.Channels += len(expired)
		r.ChannelMessages += messages
		s.metrics.channels.Add(float64(len(expired)))
		s.metrics.messages.WithLabelValues("channel_expiration").Add(float64(messages))
		for _, arn := range expired {
			s.log.Info("channel expired", "channel", arn)
		}
		if len(expired) == 0 && messages > 0 {
			s.log.Debug("deleting the messages of an expired channel", "messages", messages)
		}
		if !more {
			return nil
		}
	}
	r.Pending = true
	return nil
}

// expireUsers deletes the users due, a transaction at a time.
func (s *Scheduler) expireUsers(ctx context.Context, r *Report) error {
	for range s.opts.MaxBatches {
		var expired []string
		err := s.store.Update(ctx, func(tx carillon.Tx) error {
			expired = expired[:0]
			due, err := tx.ExpiredUsers(s.now(), s.opts.UserBatch)
			if err != nil {
				return err
			}
			for _, arn := range due {
				if err := s.identity.ExpireAppInstanceUser(tx, arn); err != nil {
					return err
				}
				expired = append(expired, arn)
			}
			return nil
		})
		if err != nil {
			return err
		}
		r.Users += len(expired)
		s.metrics.users.Add(float64(len(expired)))
		for _, arn := range expired {
			s.log.Info("user expired", "user", arn)
		}
		if len(expired) < s.opts.UserBatch {
			return nil
		}
	}
	r.Pending = true
	return nil
}

// expireTokens deletes the idempotency results older than the window,
// a batch at a time, the oldest first.
func (s *Scheduler) expireTokens(ctx context.Context, r *Report) error {
	before := s.now().Add(-s.opts.IdempotencyWindow)
	for range s.opts.MaxBatches {
		var n int
		err := s.store.Update(ctx, func(tx carillon.Tx) (err error) {
			n, err = tx.DeleteIdempotentBefore(before, s.opts.TokenBatch)
			return err
		})
		if err != nil {
			return err
		}
		r.Tokens += n
		s.metrics.tokens.Add(float64(n))
		if n < s.opts.TokenBatch {
			return nil
		}
	}
	r.Pending = true
	return nil
}

// retain sweeps the AppInstances with retention settings, resuming where
// the previous run stopped if it spent its budget.
func (s *Scheduler) retain(ctx context.Context, r *Report) error {
	start := s.resume
	s.resume = retentionCursor{}
	budget := s.opts.MaxBatches
	if start.app != "" {
		next, done, err := s.retainApp(ctx, start.app, start.channel, &budget, r)
		if err != nil || !done {
			s.resume = retentionCursor{start.app, next}
			r.Pending = r.Pending || err == nil
			return err
		}
	}
	const page = 100
	after := start.app
	for {
		var apps []carillon.AppInstanceRetention
		err := s.store.View(ctx, func(tx carillon.Tx) error {
			var err error
			apps, err = tx.AppInstancesWithRetention(carillon.Page{After: after, Limit: page})
			return err
		})
		if err != nil {
			return err
		}
		for _, a := range apps {
			next, done, err := s.retainApp(ctx, a.AppInstanceARN, "", &budget, r)
			if err != nil || !done {
				s.resume = retentionCursor{a.AppInstanceARN, next}
				r.Pending = r.Pending || err == nil
				return err
			}
		}
		if len(apps) < page {
			return nil
		}
		after = apps[len(apps)-1].AppInstanceARN
	}
}

// retainApp deletes the old messages of an AppInstance's channels after
// the channel ARN after, spending a unit of *budget per transaction. It
// reports whether it got through them all, and if not, the channel it
// got to.
func (s *Scheduler) retainApp(ctx context.Context, app, after string, budget *int, r *Report) (next string, done bool, err error) {
	total := 0
	defer func() {
		if total > 0 {
			s.log.Info("retention deleted messages", "app_instance", app, "messages", total)
		}
	}()
	for *budget > 0 {
		*budget--
		var deleted int
		var last string
		var finished bool
		err := s.store.Update(ctx, func(tx carillon.Tx) error {
			deleted, last, finished = 0, after, false
			rs, err := tx.GetRetentionSettings(app)
			if errors.Is(err, carillon.ErrNotFound) || (err == nil && (rs == nil || rs.ChannelDays <= 0)) {
				// Deleted, or its settings removed, since it was listed.
				finished = true
				return nil
			}
			if err != nil {
				return err
			}
			// Days of 24 hours: in UTC, a calendar day.
			before := s.now().AddDate(0, 0, -rs.ChannelDays)
			channels, err := tx.ListChannels(app, "", carillon.Page{After: after, Limit: s.opts.ChannelBatch})
			if err != nil {
				return err
			}
			for _, ch := range channels {
				n, err := tx.DeleteMessagesBefore(ch.ARN, before, s.opts.MessageBatch-deleted)
				if err != nil {
					return err
				}
				deleted += n
				if deleted >= s.opts.MessageBatch {
					// ch may have more: the next transaction starts
					// at it again.
					return nil
				}
				last = ch.ARN
			}
			finished = len(channels) < s.opts.ChannelBatch
			return nil
		})
		if err != nil {
			return after, false, err
		}
		total += deleted
		r.Messages += deleted
		s.metrics.messages.WithLabelValues("retention").Add(float64(deleted))
		after = last
		if finished {
			return "", true, nil
		}
	}
	return after, false, nil
}

type metrics struct {
	channels, users prometheus.Counter
	tokens          prometheus.Counter
	messages        *prometheus.CounterVec
	runs            prometheus.Counter
	errors          *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		channels: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "jobs", Name: "channels_expired_total",
			Help: "Channels deleted because their expiration settings came due.",
		}),
		users: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "jobs", Name: "users_expired_total",
			Help: "AppInstanceUsers deleted because their expiration settings came due.",
		}),
		tokens: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "jobs", Name: "idempotency_results_expired_total",
			Help: "Idempotency results (ClientRequestToken) deleted at the end of their window.",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "jobs", Name: "messages_deleted_total",
			Help: "Messages deleted by the background jobs: by retention, or with an expired channel.",
		}, []string{"job"}),
		runs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "jobs", Name: "runs_total",
			Help: "Runs of the background jobs.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "jobs", Name: "errors_total",
			Help: "Runs of a background job that failed.",
		}, []string{"job"}),
	}
	// Both labels exist from the start, at 0.
	m.messages.WithLabelValues("retention")
	m.messages.WithLabelValues("channel_expiration")
	if reg != nil {
		reg.MustRegister(m.channels, m.users, m.tokens, m.messages, m.runs, m.errors)
	}
	return m
}
