package flows

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// leaseSlack is added to Options.Timeout for the lease of an invocation:
// the time to record its outcome after the call returns.
const leaseSlack = 5 * time.Second

// Runner invokes the processors of held messages. Its loop takes the due
// invocations from the store (every Poll, and at once when kicked after a
// commit that wrote an invocation), leases each one (NextAttempt moves to
// the end of the lease, so that no other pass takes it meanwhile),
// invokes it outside any transaction, and records the outcome in a
// transaction: the callback a processor answered with, the wait for its
// callback, or a failure, which is retried with exponential backoff and,
// after the last attempt, follows the processor's FallbackAction.
// Callbacks whose deadline passes follow it too.
//
// A lease outlives a crash: the invocation runs again once the lease is
// over. Processors may therefore see an event twice; each step has its
// own CallbackId and the first callback for it wins.
type Runner struct {
	s *Service
	// Poll is the interval between passes without a kick (default 1s).
	Poll time.Duration
	// Batch is how many invocations a pass reads at once (default 64).
	Batch int
	// Concurrency bounds the invocations in flight (default 16).
	Concurrency int
	// InvokerRecheck is how often a message whose processor has no
	// invoker is looked at again (default DefaultInvokerRecheck).
	InvokerRecheck time.Duration

	kick     chan struct{}
	mu       sync.Mutex
	inflight map[string]bool
	// timers wake the runner for scheduled retries.
	timers map[*time.Timer]struct{}
	closed bool
}

func newRunner(s *Service) *Runner {
	return &Runner{s: s, Poll: time.Second, Batch: 64, Concurrency: 16,
		kick: make(chan struct{}, 1), inflight: map[string]bool{}, timers: map[*time.Timer]struct{}{}}
}

// Kick tells the runner that invocations may have become due: it makes
// a pass at once. The server kicks it after every commit that created or
// updated an invocation. It never blocks.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// wakeAt wakes the runner at t (of the service's clock), for a retry.
func (r *Runner) wakeAt(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	var timer *time.Timer
	timer = time.AfterFunc(t.Sub(r.s.clock.Now()), func() {
		r.mu.Lock()
		delete(r.timers, timer)
		r.mu.Unlock()
		r.Kick()
	})
	r.timers[timer] = struct{}{}
}

func (r *Runner) stopTimers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for t := range r.timers {
		t.Stop()
	}
	clear(r.timers)
}

// Run runs passes until ctx ends, then waits for the invocations in
// flight; those interrupted record nothing and run again after their
// lease. It may run again after it returned: a server of a cluster that
// lost the runner's lock and takes it again.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	r.closed = false
	r.mu.Unlock()
	defer r.s.invokers.closeIdle()
	defer r.stopTimers()
	poll := time.NewTicker(r.Poll)
	defer poll.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, r.Concurrency)
	for {
		r.pass(ctx, &wg, sem)
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-poll.C:
		}
	}
}

// pass handles the invocations due now, a batch at a time.
func (r *Runner) pass(ctx context.Context, wg *sync.WaitGroup, sem chan struct{}) {
	for ctx.Err() == nil {
		now := r.s.clock.Now()
		var due []carillon.Invocation
		err := r.s.view(ctx, func(tx carillon.Tx) error {
			var err error
			due, err = tx.DueInvocations(now, r.Batch)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				r.s.log.Error("channel flow runner: reading due invocations", "cause", err)
			}
			return
		}
		progress := 0
		for i := range due {
			inv := due[i]
			if r.busy(inv.CallbackID) {
				continue
			}
			if inv.State != carillon.InvocationDue || expired(now, inv.Deadline) {
				r.expire(ctx, &inv)
				progress++
				continue
			}
			// A slot first, so that the lease runs only while the
			// invocation does.
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			leased, ok := r.lease(ctx, &inv)
			if !ok {
				<-sem
				continue
			}
			r.setBusy(leased.CallbackID, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer r.setBusy(leased.CallbackID, false)
				r.invoke(ctx, leased)
			}()
			progress++
		}
		if len(due) < r.Batch || progress == 0 {
			return
		}
	}
}

func (r *Runner) busy(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight[id]
}

func (r *Runner) setBusy(id string, busy bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if busy {
		r.inflight[id] = true
	} else {
		delete(r.inflight, id)
	}
}

// current runs fn in a transaction on the invocation as it stands now,
// if it still exists: a callback may have finished it meanwhile.
func (r *Runner) current(ctx context.Context, id string, fn func(tx carillon.Tx, cur *carillon.Invocation) error) error {
	return r.s.update(ctx, func(tx carillon.Tx) error {
		cur, err := tx.GetInvocation(id)
		if isNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		return fn(tx, cur)
	})
}

// lease takes a DUE invocation for one attempt.
func (r *Runner) lease(ctx context.Context, inv *carillon.Invocation) (leased carillon.Invocation, ok bool) {
	err := r.current(ctx, inv.CallbackID, func(tx carillon.Tx, cur *carillon.Invocation) error {
		ok = false
		if cur.State != carillon.InvocationDue || cur.NextAttempt.After(tx.Now()) {
			return nil
		}
		cur.NextAttempt = tx.Now().Add(r.s.opts.Timeout + leaseSlack)
		if err := tx.UpdateInvocation(cur); err != nil {
			return err
		}
		leased, ok = *cur, true
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			r.s.log.Error("channel flow runner: leasing an invocation", "callback_id", inv.CallbackID, "cause", err)
		}
		return carillon.Invocation{}, false
	}
	return leased, ok
}

// expire applies the FallbackAction of a processor whose deadline passed
// without a callback.
func (r *Runner) expire(ctx context.Context, inv *carillon.Invocation) {
	var action, name string
	err := r.current(ctx, inv.CallbackID, func(tx carillon.Tx, cur *carillon.Invocation) error {
		action = ""
		if !expired(tx.Now(), cur.Deadline) {
			return nil
		}
		procs, err := r.s.processors(tx, cur)
		if err != nil {
			return err
		}
		name = processorName(procs, cur.Step)
		action, err = r.s.fallback(tx, cur, fmt.Sprintf("The channel flow processor %s did not call back before the deadline", name))
		return err
	})
	switch {
	case err != nil:
		if ctx.Err() == nil {
			r.s.log.Error("channel flow runner: applying a fallback", "callback_id", inv.CallbackID, "cause", err)
		}
	case action != "":
		r.s.log.Warn("channel flow processor did not call back before the deadline",
			"processor", name, "channel", inv.ChannelARN, "message_id", inv.MessageID, "deadline", inv.Deadline, "fallback", action)
	}
}

func processorName(procs []carillon.Processor, step int) string {
	if step < len(procs) {
		return procs[step].Name
	}
	return "(removed)"
}

// invoke makes one attempt at a leased invocation and records the
// outcome.
func (r *Runner) invoke(ctx context.Context, inv carillon.Invocation) {
	var proc *carillon.Processor
	err := r.s.view(ctx, func(tx carillon.Tx) error {
		procs, err := r.s.processors(tx, &inv)
		if err == nil && inv.Step < len(procs) {
			proc = &procs[inv.Step]
		}
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			r.s.log.Error("channel flow runner: reading the flow", "flow", inv.FlowARN, "cause", err)
		}
		return
	}
	if proc == nil {
		// The flow was deleted, or lost this step: the message goes on
		// as it stands.
		err := r.current(ctx, inv.CallbackID, func(tx carillon.Tx, cur *carillon.Invocation) error {
			return r.s.advance(tx, cur)
		})
		if err != nil && ctx.Err() == nil {
			r.s.log.Error("channel flow runner: passing a message on", "callback_id", inv.CallbackID, "cause", err)
		}
		return
	}
	if !r.s.invokers.hasInvoker(proc.LambdaARN) {
		r.waitForInvoker(ctx, &inv, proc)
		return
	}
	event, err := encodeEvent(&inv)
	if err != nil {
		r.failed(ctx, &inv, proc, permanent(err))
		return
	}
	ictx, cancel := context.WithTimeout(ctx, r.s.opts.Timeout)
	start := time.Now()
	cb, result, err := r.s.invokers.invoke(ictx, *proc, event)
	cancel()
	if ctx.Err() != nil {
		return // stopping: the lease runs out and the attempt is made again
	}
	r.s.metrics.observe(proc.LambdaARN, result, time.Since(start))
	switch {
	case err != nil:
		r.failed(ctx, &inv, proc, err)
	case cb != nil:
		r.answered(ctx, &inv, proc, cb)
	default:
		err := r.current(ctx, inv.CallbackID, func(tx carillon.Tx, cur *carillon.Invocation) error {
			if cur.State != carillon.InvocationDue {
				return nil
			}
			cur.State = carillon.InvocationAwaiting
			return tx.UpdateInvocation(cur)
		})
		if err != nil && ctx.Err() == nil {
			r.s.log.Error("channel flow runner: recording an invocation", "callback_id", inv.CallbackID, "cause", err)
		}
	}
}

// answered applies the callback an HTTP processor answered with. An
// answer that is not a valid callback for this step counts as a failed
// attempt.
func (r *Runner) answered(ctx context.Context, inv *carillon.Invocation, proc *carillon.Processor, cb *messagingapi.ChannelFlowCallbackRequest) {
	if cb.CallbackId == nil || *cb.CallbackId == "" {
		cb.CallbackId = &inv.CallbackID
	}
	if cb.ChannelMessage == nil {
		cb.ChannelMessage = &messagingapi.ChannelMessageCallback{}
	}
	if cb.ChannelMessage.MessageId == nil {
		cb.ChannelMessage.MessageId = &inv.MessageID
	}
	cb.ChannelArn = &inv.ChannelARN
	if *cb.CallbackId != inv.CallbackID {
		r.failed(ctx, inv, proc, permanent(fmt.Errorf("the processor answered with the CallbackId %s, not %s", *cb.CallbackId, inv.CallbackID)))
		return
	}
	if err := cb.Validate(); err != nil {
		r.failed(ctx, inv, proc, permanent(fmt.Errorf("the processor's answer is not a valid callback: %w", err)))
		return
	}
	err := r.s.callback(ctx, cb)
	switch {
	case err == nil:
	case carillon.IsKind(err, carillon.Forbidden):
		// Finished or expired meanwhile: the answer comes too late.
		r.s.log.Info("channel flow processor answered too late", "processor", proc.Name, "callback_id", inv.CallbackID, "cause", err)
	case carillon.IsKind(err, carillon.BadRequest) || carillon.IsKind(err, carillon.Conflict):
		r.failed(ctx, inv, proc, permanent(fmt.Errorf("the processor's answer was refused: %w", err)))
	default:
		if ctx.Err() == nil {
			r.s.log.Error("channel flow runner: applying a processor's answer", "callback_id", inv.CallbackID, "cause", err)
		}
	}
}

// failed records a failed attempt: it is retried after a delay doubling
// each time, or, after the last attempt (or a failure that retrying
// cannot mend), the processor's FallbackAction applies.
func (r *Runner) failed(ctx context.Context, inv *carillon.Invocation, proc *carillon.Processor, cause error) {
	var (
		action  string
		attempt int
		retryAt time.Time
	)
	err := r.current(ctx, inv.CallbackID, func(tx carillon.Tx, cur *carillon.Invocation) error {
		action, retryAt = "", time.Time{}
		if cur.State != carillon.InvocationDue {
			return nil
		}
		now := tx.Now()
		cur.Attempts++
		attempt = cur.Attempts
		if !isPermanent(cause) && cur.Attempts < r.s.opts.Attempts && !expired(now, cur.Deadline) {
			retryAt = now.Add(r.s.opts.RetryDelay << (cur.Attempts - 1))
			cur.NextAttempt = retryAt
			return tx.UpdateInvocation(cur)
		}
		var err error
		action, err = r.s.fallback(tx, cur, fmt.Sprintf("The channel flow processor %s could not be invoked", proc.Name))
		return err
	})
	log := r.s.log.With("processor", proc.Name, "lambda_arn", proc.LambdaARN, "channel", inv.ChannelARN,
		"message_id", inv.MessageID, "attempt", attempt, "cause", cause)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			r.s.log.Error("channel flow runner: recording a failed invocation", "callback_id", inv.CallbackID, "cause", err)
		}
	case !retryAt.IsZero():
		log.Warn("channel flow processor invocation failed; retrying", "retry_at", retryAt)
		r.wakeAt(retryAt)
	case action != "":
		log.Error("channel flow processor invocation failed; applying its fallback action", "fallback", action)
	}
}
