package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// Results of an invocation, the result label of
// carillon_flow_invocations_total.
const (
	resultAccepted     = "accepted"     // the processor took the event and will call back
	resultAnswered     = "answered"     // an HTTP processor answered with the callback
	resultFailed       = "failed"       // the attempt failed; it is retried or the fallback applies
	resultUnconfigured = "unconfigured" // no HTTP mapping and no Lambda endpoint
)

// permanentError is an invocation failure that retrying cannot mend.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// dispatcher chooses the invoker of each processor: the HTTP processor
// mapped to its Lambda ARN or function name, else Lambda when an endpoint
// is configured.
type dispatcher struct {
	routes map[string]string
	http   *httpInvoker
	lambda *lambdaInvoker
}

func newDispatcher(o Options, log *slog.Logger) (*dispatcher, error) {
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	d := &dispatcher{routes: map[string]string{}, http: newHTTPInvoker(client, o.Secret)}
	for name, target := range o.Processors {
		if _, _, err := ParseProcessor(name + "=" + target); err != nil {
			return nil, err
		}
		d.routes[name] = target
	}
	if o.LambdaEndpoint != "" {
		l, err := newLambdaInvoker(context.Background(), o.LambdaEndpoint, o.AWSConfig)
		if err != nil {
			return nil, err
		}
		d.lambda = l
	}
	if len(d.routes) > 0 && o.Secret == "" {
		log.Warn("HTTP processors are configured without a processor secret: their requests are not signed")
	}
	return d, nil
}

// closeIdle closes the idle connections to processors, when the runner
// stops.
func (d *dispatcher) closeIdle() {
	d.http.client.HTTP.CloseIdleConnections()
	if d.lambda != nil {
		d.lambda.closeIdle()
	}
}

// route returns the URL of the HTTP processor of a Lambda ARN, "" if
// there is none.
func (d *dispatcher) route(arn string) string {
	if u, ok := d.routes[arn]; ok {
		return u
	}
	withQualifier, name := functionName(arn)
	if u, ok := d.routes[withQualifier]; ok {
		return u
	}
	return d.routes[name]
}

// invoke sends an event to a processor. It returns the callback of a
// processor that answered synchronously, nil for one that took the event,
// and the result label for the metrics.
func (d *dispatcher) invoke(ctx context.Context, p carillon.Processor, event []byte) (*messagingapi.ChannelFlowCallbackRequest, string, error) {
	if u := d.route(p.LambdaARN); u != "" {
		cb, err := d.http.invoke(ctx, u, event)
		switch {
		case err != nil:
			return nil, resultFailed, fmt.Errorf("HTTP processor %s: %w", u, err)
		case cb != nil:
			return cb, resultAnswered, nil
		}
		return nil, resultAccepted, nil
	}
	if d.lambda != nil {
		if err := d.lambda.invoke(ctx, p.LambdaARN, event); err != nil {
			return nil, resultFailed, err
		}
		return nil, resultAccepted, nil
	}
	return nil, resultUnconfigured, permanent(fmt.Errorf(
		"processor %q (%s) has no HTTP processor (--processor) and no Lambda endpoint is configured (--lambda-endpoint)", p.Name, p.LambdaARN))
}

// metrics are the processor metrics, by processor Lambda ARN.
type metrics struct {
	invocations *prometheus.CounterVec
	latency     *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "flow", Name: "invocations_total",
			Help: "Channel flow processor invocations, by processor Lambda ARN and result (accepted, answered, failed, unconfigured).",
		}, []string{"processor", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "carillon", Subsystem: "flow", Name: "invocation_duration_seconds",
			Help:    "Time an invocation of a channel flow processor took, by processor Lambda ARN.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"processor"}),
	}
	for _, c := range []prometheus.Collector{m.invocations, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(processor, result string, took time.Duration) {
	m.invocations.WithLabelValues(processor, result).Inc()
	if result != resultUnconfigured {
		m.latency.WithLabelValues(processor).Observe(took.Seconds())
	}
}
