package flows

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// Which processors Carillon can invoke is fixed at startup by
// --processor and --lambda-endpoint, while flows live in the store: a
// server restarted without its --processor flags used to fail, silently,
// every message sent to a channel with a flow. This file makes the
// mismatch visible (the configured invokers and the flows none serve, in
// the log at startup and when such a flow is associated with a channel)
// and makes it recoverable: a message whose processor has no invoker
// waits for one, until its callback deadline, instead of failing at once.

// DefaultInvokerRecheck is how often a message waiting for an invoker is
// looked at again: after a restart with the missing flag, it goes on
// within this time.
const DefaultInvokerRecheck = 30 * time.Second

// waitWarnInterval is the least time between two warnings about messages
// waiting for the same processor.
const waitWarnInterval = 5 * time.Minute

// hasInvoker reports whether anything can invoke the processor with this
// Lambda ARN: an HTTP processor mapped to it, or Lambda.
func (d *dispatcher) hasInvoker(lambdaARN string) bool {
	return d.route(lambdaARN) != "" || d.lambda != nil
}

// uninvokable returns the processors of f that nothing can invoke.
func (s *Service) uninvokable(f *carillon.ChannelFlow) []carillon.Processor {
	var out []carillon.Processor
	for _, p := range ordered(f) {
		if !s.invokers.hasInvoker(p.LambdaARN) {
			out = append(out, p)
		}
	}
	return out
}

// describeProcessors names processors as "name (Lambda ARN)".
func describeProcessors(ps []carillon.Processor) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name + " (" + p.LambdaARN + ")"
	}
	return strings.Join(names, ", ")
}

// fixFor is the flag that would give the processors an invoker.
func fixFor(ps []carillon.Processor) string {
	var flags []string
	for _, p := range ps {
		_, name := functionName(p.LambdaARN)
		flags = append(flags, "--processor "+name+"=URL")
	}
	return "start Carillon with " + strings.Join(flags, " ") + " (an HTTP processor) or --lambda-endpoint (Lambda)"
}

const waitConsequence = "messages sent to its channels stay PENDING, waiting for an invoker, until their callback deadline, " +
	"when the processor's FallbackAction applies"

// reportInvokers logs, at startup, how processors are invoked, then warns
// about every stored flow with a processor nothing can invoke.
func (s *Service) reportInvokers() {
	names := make([]string, 0, len(s.invokers.routes))
	for name := range s.invokers.routes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s.log.Info("channel flow processor: HTTP", "processor", name, "url", s.invokers.routes[name])
	}
	if s.opts.LambdaEndpoint != "" {
		s.log.Info("channel flow processors without --processor are invoked with Lambda", "lambda_endpoint", s.opts.LambdaEndpoint)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.eachFlow(ctx, func(tx carillon.Tx, f *carillon.ChannelFlow) error {
		missing := s.uninvokable(f)
		if len(missing) == 0 {
			return nil
		}
		channels, err := countChannelsWithFlow(tx, f.ARN)
		if err != nil {
			return err
		}
		s.log.Warn("channel flow has processors nothing can invoke: "+waitConsequence+"; "+fixFor(missing),
			"flow", f.ARN, "flow_name", f.Name, "processors", describeProcessors(missing), "channels", channels)
		return nil
	})
	if err != nil {
		s.log.Error("channel flows: checking the stored flows' processors", "cause", err)
	}
}

// eachFlow calls fn with every stored flow, AppInstance by AppInstance,
// a page of flows per read transaction.
func (s *Service) eachFlow(ctx context.Context, fn func(tx carillon.Tx, f *carillon.ChannelFlow) error) error {
	const pageSize = 100
	after := ""
	for {
		var apps []carillon.AppInstance
		if err := s.view(ctx, func(tx carillon.Tx) error {
			var err error
			apps, err = tx.ListAppInstances(carillon.Page{After: after, Limit: pageSize})
			return err
		}); err != nil {
			return err
		}
		for _, app := range apps {
			flowAfter := ""
			for {
				n := 0
				if err := s.view(ctx, func(tx carillon.Tx) error {
					flows, err := tx.ListChannelFlows(app.ARN, carillon.Page{After: flowAfter, Limit: pageSize})
					if err != nil {
						return err
					}
					n = len(flows)
					for i := range flows {
						if err := fn(tx, &flows[i]); err != nil {
							return err
						}
						flowAfter = flows[i].ARN
					}
					return nil
				}); err != nil {
					return err
				}
				if n < pageSize {
					break
				}
			}
		}
		if len(apps) < pageSize {
			return nil
		}
		after = apps[len(apps)-1].ARN
	}
}

func countChannelsWithFlow(tx carillon.Tx, flowARN string) (int, error) {
	const pageSize = 100
	total, after := 0, ""
	for {
		chs, err := tx.ListChannelsWithFlow(flowARN, carillon.Page{After: after, Limit: pageSize})
		if err != nil {
			return 0, err
		}
		total += len(chs)
		if len(chs) < pageSize {
			return total, nil
		}
		after = chs[len(chs)-1].ARN
	}
}

// associateChannelFlow is AssociateChannelFlow, followed by a warning in
// the log when nothing can invoke one of the flow's processors. The
// association itself succeeds: an invoker may come with the next start,
// and the API answers what AWS would.
func (s *Service) associateChannelFlow(ctx context.Context, in *messagingapi.AssociateChannelFlowRequest) error {
	if err := s.AssociateChannelFlow(ctx, in); err != nil {
		return err
	}
	var f *carillon.ChannelFlow
	err := s.view(ctx, func(tx carillon.Tx) error {
		var err error
		f, err = tx.GetChannelFlow(*in.ChannelFlowArn)
		return err
	})
	if err != nil {
		if !errors.Is(err, carillon.ErrNotFound) {
			s.log.Error("channel flows: reading an associated flow", "flow", *in.ChannelFlowArn, "cause", err)
		}
		return nil
	}
	if missing := s.uninvokable(f); len(missing) > 0 {
		s.log.Warn("channel flow associated with a channel, but nothing can invoke some of its processors: "+waitConsequence+"; "+fixFor(missing),
			"channel", *in.ChannelArn, "flow", f.ARN, "processors", describeProcessors(missing))
	}
	return nil
}

// waitForInvoker puts off a leased invocation whose processor nothing can
// invoke: it is looked at again after the recheck interval, or at its
// deadline if that comes first, when the runner applies the processor's
// FallbackAction. Its attempts are not counted: no invocation was made.
func (r *Runner) waitForInvoker(ctx context.Context, inv *carillon.Invocation, proc *carillon.Processor) {
	recheck := r.InvokerRecheck
	if recheck <= 0 {
		recheck = DefaultInvokerRecheck
	}
	var next time.Time
	err := r.current(ctx, inv.CallbackID, func(tx carillon.Tx, cur *carillon.Invocation) error {
		next = time.Time{}
		if cur.State != carillon.InvocationDue {
			return nil
		}
		next = tx.Now().Add(recheck)
		if !cur.Deadline.IsZero() && next.After(cur.Deadline) {
			next = cur.Deadline
		}
		cur.NextAttempt = next
		return tx.UpdateInvocation(cur)
	})
	if err != nil {
		if ctx.Err() == nil {
			r.s.log.Error("channel flow runner: putting off an invocation", "callback_id", inv.CallbackID, "cause", err)
		}
		return
	}
	r.s.metrics.observe(proc.LambdaARN, resultUnconfigured, 0)
	if !next.IsZero() && r.s.waitWarnings.due(proc.LambdaARN, time.Now()) {
		r.s.log.Warn("channel flow processor has no invoker: the message waits for one until its deadline; "+fixFor([]carillon.Processor{*proc}),
			"processor", proc.Name, "lambda_arn", proc.LambdaARN, "channel", inv.ChannelARN, "message_id", inv.MessageID,
			"deadline", inv.Deadline, "fallback", proc.FallbackAction)
	}
}

// rateLimit says, per key, whether the interval has passed since it last
// said yes. Its zero value is ready to use.
type rateLimit struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (l *rateLimit) due(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[string]time.Time{}
	}
	if t, ok := l.last[key]; ok && now.Sub(t) < waitWarnInterval {
		return false
	}
	l.last[key] = now
	return true
}
