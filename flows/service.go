// Package flows implements channel flows: the operations that manage them
// (CreateChannelFlow … ChannelFlowCallback) and the runner that sends the
// messages package messaging holds for a flow to its processors (AWS Lambda
// functions, or HTTP endpoints mapped to their ARNs), moves each message
// from processor to processor as they answer, and has messaging complete
// it when the last one has, or when one fails or runs out of time.
//
// A held message is an Invocation in the store: the message as processed
// so far, which processor is next, and whether its callback is awaited.
// Every change to it happens in one transaction with the changes to the
// message and the events it announces, so that nothing held is lost or
// delivered twice across a restart.
package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/messaging"
)

// Defaults of Options.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultAttempts   = 3
	DefaultRetryDelay = time.Second
)

// LambdaEndpointAWS as Options.LambdaEndpoint invokes functions at AWS's
// own regional Lambda endpoints.
const LambdaEndpointAWS = "aws"

// Options are the settings of channel flows a server exposes.
type Options struct {
	// Processors maps a processor's Lambda ARN, or its function name
	// (with or without a qualifier), to the URL of an HTTP processor
	// that Carillon POSTs the processor event to instead of invoking
	// Lambda.
	Processors map[string]string
	// Secret signs the requests to HTTP processors (the
	// X-Carillon-Signature header); "" sends them unsigned.
	Secret string
	// LambdaEndpoint is the base URL of the Lambda API that processors
	// without an HTTP mapping are invoked at, or LambdaEndpointAWS for
	// AWS's endpoints; "" invokes no Lambda functions: such processors
	// fail and follow their FallbackAction.
	LambdaEndpoint string
	// AWSConfig gives the Lambda client's credentials; nil loads the
	// standard AWS chain (environment, shared files, instance roles).
	// The region of each call is the region of the function's ARN.
	AWSConfig *aws.Config
	// Timeout bounds one invocation: the HTTP request, or the call to
	// Lambda's Invoke.
	Timeout time.Duration
	// Attempts is how many times an invocation is tried before the
	// processor's FallbackAction applies; RetryDelay is the wait before
	// the first retry, doubled for each one after.
	Attempts   int
	RetryDelay time.Duration
	// HTTPClient sends the requests to HTTP processors (default: a
	// client of its own).
	HTTPClient *http.Client
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
}

// ParseProcessor reads a --processor value: NAME=URL, where NAME is a
// Lambda function ARN or name and URL an http or https URL.
func ParseProcessor(s string) (name, target string, err error) {
	name, target, ok := strings.Cut(s, "=")
	name, target = strings.TrimSpace(name), strings.TrimSpace(target)
	if !ok || name == "" || target == "" {
		return "", "", fmt.Errorf("processor %q: want NAME=URL, NAME a Lambda function ARN or name", s)
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("processor %q: %q is not an http or https URL", s, target)
	}
	return name, target, nil
}

// Limits are the quotas the service enforces.
type Limits struct {
	FlowsPerAppInstance int // AWS's default: 100
}

// DefaultLimits are AWS's default quotas (DG messaging quotas).
var DefaultLimits = Limits{FlowsPerAppInstance: 100}

// Config configures the service.
type Config struct {
	Store carillon.Store
	ARNs  carillon.ARNs
	// Clock tells the time of deadlines and retries; nil: the wall clock.
	// It must be the store's clock.
	Clock carillon.Clock
	// Messaging is the service whose messages flows process: it holds
	// them and completes them, and its rules authorize
	// AssociateChannelFlow and DisassociateChannelFlow.
	Messaging *messaging.Service
	Limits    Limits
	Options   Options
	Logger    *slog.Logger
	// Metrics receives the processor metrics; nil: a registry of its own.
	Metrics prometheus.Registerer
}

// Service implements the channel flow operations and runs the
// processors of the messages messaging holds.
type Service struct {
	store    carillon.Store
	arns     carillon.ARNs
	clock    carillon.Clock
	msg      *messaging.Service
	limits   Limits
	opts     Options
	log      *slog.Logger
	metrics  *metrics
	invokers *dispatcher
	runner   *Runner
	newID    func() string
	// waitWarnings limits the warnings about messages waiting for an
	// invoker (invokers.go).
	waitWarnings rateLimit
}

// New returns the service. With Options.LambdaEndpoint set and no
// AWSConfig, it loads the standard AWS configuration.
func New(cfg Config) (*Service, error) {
	if cfg.Clock == nil {
		cfg.Clock = carillon.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	cfg.Options.defaults()
	s := &Service{
		store:  cfg.Store,
		arns:   cfg.ARNs,
		clock:  cfg.Clock,
		msg:    cfg.Messaging,
		limits: cfg.Limits,
		opts:   cfg.Options,
		log:    cfg.Logger.With("component", "flows"),
		newID:  uuid.NewString,
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if s.invokers, err = newDispatcher(s.opts, s.log); err != nil {
		return nil, err
	}
	s.runner = newRunner(s)
	s.reportInvokers()
	return s, nil
}

// Runner is the service's runner, which the server starts and stops.
func (s *Service) Runner() *Runner { return s.runner }

// Bind sets the channel flow operations on the messaging handlers.
func (s *Service) Bind(h *messagingapi.Handlers) {
	h.CreateChannelFlow = s.CreateChannelFlow
	h.DescribeChannelFlow = s.DescribeChannelFlow
	h.UpdateChannelFlow = s.UpdateChannelFlow
	h.DeleteChannelFlow = s.DeleteChannelFlow
	h.ListChannelFlows = s.ListChannelFlows
	h.AssociateChannelFlow = s.associateChannelFlow // warns about processors without an invoker
	h.DisassociateChannelFlow = s.DisassociateChannelFlow
	h.ListChannelsAssociatedWithChannelFlow = s.ListChannelsAssociatedWithChannelFlow
	h.ChannelFlowCallback = s.ChannelFlowCallback
}

func (s *Service) update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.store.Update(ctx, fn)
}

func (s *Service) view(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.store.View(ctx, fn)
}

func isNotFound(err error) bool { return errors.Is(err, carillon.ErrNotFound) }

// ordered returns a flow's processors in ExecutionOrder.
func ordered(f *carillon.ChannelFlow) []carillon.Processor {
	if f == nil {
		return nil
	}
	ps := append([]carillon.Processor(nil), f.Processors...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].ExecutionOrder < ps[j].ExecutionOrder })
	return ps
}

// expired: a deadline is over from the instant it is reached.
func expired(now, deadline time.Time) bool {
	return !deadline.IsZero() && !now.Before(deadline)
}
