// Package push delivers the push notifications of messages
// (SendChannelMessage's PushNotification) to the devices their channel's
// members registered with RegisterAppInstanceUserEndpoint.
//
// AWS hands them to Amazon Pinpoint, which sends them to APNs and FCM
// with the application's credentials there: the ResourceArn of each
// endpoint names the Pinpoint application. Carillon does the same when
// given a Pinpoint endpoint (Options.PinpointEndpoint, credentials from
// the standard AWS chain), one SendMessages call per application, and
// marks endpoints INACTIVE as AWS does when Pinpoint rejects their token
// or application. Or it POSTs the notifications, one request per message,
// to a webhook that the operator points at whatever sends their pushes (a
// small service holding the APNs and FCM credentials, or a queue in front
// of one). Which devices get a
// notification is decided by the messaging rules (messaging.PushTargets):
// members but the sender, their preferences and FilterRules, endpoints
// ACTIVE with AllowMessages ALL.
//
// The messaging transaction that makes a message visible appends a
// messaging.EventPushNotification to the outbox; the Dispatcher receives
// it from the bus after commit, in order, and works through a bounded
// queue so that a slow webhook never slows the bus. Delivery is at most
// once, like the pushes it stands for: a notification whose webhook
// fails after Attempts tries, or that finds the queue full, or that was
// not yet sent when the server stopped, is counted and logged, not kept.
//
// Every subscriber of the bus sees every event: when a bus spans several
// nodes, one of them (or a queue group) must run the Dispatcher, or
// each message is pushed once per node.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/eventqueue"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/webhook"
)

// Options configure the Dispatcher. The zero value of a field means its
// default.
type Options struct {
	// Webhook is the URL the notifications are POSTed to. Without it
	// nor a PinpointEndpoint, push events are not even read.
	Webhook string
	// Secret signs the requests with the X-Carillon-Signature header
	// (package webhook); "" sends them unsigned.
	Secret string
	// PinpointEndpoint, when there is no Webhook, sends the notifications
	// with Amazon Pinpoint's SendMessages at this base URL, or at AWS's
	// regional endpoints with PinpointEndpointAWS; "" sends none. The
	// region of each call is the Pinpoint application ARN's.
	PinpointEndpoint string
	// AWSConfig gives the Pinpoint client's credentials; nil loads the
	// standard AWS chain.
	AWSConfig *aws.Config
	// HTTPClient sends the requests (default: a client of its own).
	HTTPClient *http.Client
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// Attempts is how many times a request is tried (default 3), with
	// Backoff before the second, doubling after (default 250ms).
	Attempts int
	Backoff  time.Duration
	// Queue is how many messages' notifications may wait for the
	// webhook (default 1,024).
	Queue int
}

func (o *Options) defaults() {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 250 * time.Millisecond
	}
	if o.Queue <= 0 {
		o.Queue = 1024
	}
}

// PinpointEndpointAWS is the PinpointEndpoint that means AWS's own.
const PinpointEndpointAWS = "aws"

// Request is the body of a webhook request: the notifications of one
// message, one per device.
type Request struct {
	Notifications []Notification
}

// Notification is one push to one device: what Pinpoint would have been
// asked to send.
type Notification struct {
	AppInstanceUserArn string
	EndpointId         string
	EndpointType       string // APNS, APNS_SANDBOX or GCM
	ResourceArn        string // the Pinpoint application the endpoint names
	DeviceToken        string
	VoipDeviceToken    string `json:",omitempty"`
	Title              string `json:",omitempty"`
	Body               string `json:",omitempty"`
	Type               string // DEFAULT or VOIP
	ChannelArn         string
	MessageId          string
	// Data is the custom data AWS adds to every push (Pinpoint's
	// jsonBody): chime.message_id and chime.channel_arn.
	Data map[string]string
}

// Dispatcher sends the notifications of the push events it is given.
type Dispatcher struct {
	store   carillon.Store
	opts    Options
	sink    sink // nil: none configured, and nothing is read
	log     *slog.Logger
	queue   *eventqueue.Queue
	pushes  *prometheus.CounterVec
	latency prometheus.Histogram
}

// Outcomes of a notification, the label of carillon_push_notifications_total.
const (
	outcomeSent    = "sent"    // the webhook accepted it
	outcomeFailed  = "failed"  // the webhook refused it, Attempts times
	outcomeDropped = "dropped" // a full queue, or a stop
	outcomeInvalid = "invalid" // Pinpoint rejected the device token or application
)

// New returns a Dispatcher reading the store; its metrics are registered
// with reg when it is not nil.
func New(store carillon.Store, opts Options, log *slog.Logger, reg prometheus.Registerer) *Dispatcher {
	opts.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{
		store: store,
		opts:  opts,
		log:   log,
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "push", Name: "notifications_total",
			Help: "Push notifications, one per device, by outcome: sent (the webhook or Pinpoint accepted them), failed, invalid (Pinpoint rejected the token or application; the endpoint is made INACTIVE), or dropped (a full queue, a stop: a message dropped before its devices were read counts once).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "carillon", Subsystem: "push", Name: "delivery_seconds",
			Help:    "From a message's commit to the webhook's acceptance of its notifications.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
	}
	switch {
	case opts.Webhook != "":
		d.sink = newWebhookSink(opts)
	case opts.PinpointEndpoint != "":
		d.sink = &pinpointSink{opts: opts}
	}
	d.queue = eventqueue.New(opts.Queue,
		func(e *carillon.Event) bool { return d.sink != nil && e.Type == messaging.EventPushNotification },
		func(e *carillon.Event) {
			d.pushes.WithLabelValues(outcomeDropped).Inc()
			d.log.Warn("push notification dropped", "seq", e.Seq, "channel", e.Channel)
		})
	if reg != nil {
		reg.MustRegister(d.pushes, d.latency)
	}
	return d
}

// sink sends the notifications of one message. It returns those to try
// again (all of them when the request failed as a whole; err says why),
// and the endpoints the push service found invalid, which are marked
// INACTIVE and not tried again.
type sink interface {
	send(ctx context.Context, ns []Notification) (retry []Notification, invalid []invalidEndpoint, err error)
}

// invalidEndpoint is an endpoint to mark INACTIVE, with the
// EndpointState reason AWS gives.
type invalidEndpoint struct {
	user, id string
	reason   string // INVALID_DEVICE_TOKEN or INVALID_PINPOINT_ARN
}

// Deliver queues the push events among events, in order; it never
// blocks, so it may be a bus subscriber. Events that find the queue full
// are dropped.
func (d *Dispatcher) Deliver(events []carillon.Event) { d.queue.Deliver(events) }

// Run sends the queued notifications until ctx ends; those still queued
// then are dropped.
func (d *Dispatcher) Run(ctx context.Context) { d.queue.Run(ctx, d.dispatch) }

// dispatch sends the notifications of one message.
func (d *Dispatcher) dispatch(ctx context.Context, e carillon.Event) {
	data, err := messaging.ReadEventData(&e)
	if err == nil && (data == nil || data.Message == nil || data.Message.Push == nil) {
		err = errors.New("the event carries no push notification")
	}
	if err != nil {
		d.log.Error("push notification: its event", "seq", e.Seq, "cause", err)
		return
	}
	r := data.Message
	var targets []messaging.PushTarget
	err = d.store.View(ctx, func(tx carillon.Tx) (err error) {
		targets, err = messaging.PushTargets(tx, r)
		return err
	})
	if err != nil {
		d.log.Error("push notification: reading its recipients", "seq", e.Seq, "cause", err)
		return
	}
	if len(targets) == 0 {
		return
	}
	pending := notifications(r, targets)
	wait := d.opts.Backoff
	for attempt := 1; ; attempt++ {
		retry, invalid, err := d.sink.send(ctx, pending)
		d.pushes.WithLabelValues(outcomeSent).Add(float64(len(pending) - len(retry) - len(invalid)))
		d.pushes.WithLabelValues(outcomeInvalid).Add(float64(len(invalid)))
		d.deactivate(ctx, invalid)
		if len(retry) == 0 {
			d.latency.Observe(time.Since(e.At).Seconds())
			return
		}
		pending = retry
		if attempt == d.opts.Attempts || ctx.Err() != nil {
			outcome := outcomeFailed
			if ctx.Err() != nil {
				outcome = outcomeDropped
			}
			d.pushes.WithLabelValues(outcome).Add(float64(len(pending)))
			d.log.Warn("push notifications not sent", "message", r.ID, "channel", r.Channel, "devices", len(pending), "cause", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// deactivate marks endpoints INACTIVE, as AWS does when Pinpoint rejects
// their device token or application: they get no more pushes until
// re-registered (RegisterAppInstanceUserEndpoint of the same token makes
// the endpoint ACTIVE again).
func (d *Dispatcher) deactivate(ctx context.Context, invalid []invalidEndpoint) {
	if len(invalid) == 0 {
		return
	}
	err := d.store.Update(ctx, func(tx carillon.Tx) error {
		for _, inv := range invalid {
			ep, err := tx.GetEndpoint(inv.user, inv.id)
			if errors.Is(err, carillon.ErrNotFound) {
				continue // deregistered meanwhile
			} else if err != nil {
				return err
			}
			ep.StateStatus, ep.StateReason, ep.Updated = "INACTIVE", inv.reason, tx.Now()
			if err := tx.UpdateEndpoint(ep); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.log.Error("push: marking endpoints INACTIVE", "endpoints", len(invalid), "cause", err)
	}
}

// notifications are the Notifications of a message to its targets.
func notifications(r *messaging.MessageData, targets []messaging.PushTarget) []Notification {
	typ := r.Push.Type
	if typ == "" {
		typ = "DEFAULT"
	}
	data := map[string]string{"chime.message_id": r.ID, "chime.channel_arn": r.Channel}
	out := make([]Notification, len(targets))
	for i, t := range targets {
		out[i] = Notification{
			AppInstanceUserArn: t.Member,
			EndpointId:         t.Endpoint.ID,
			EndpointType:       t.Endpoint.Type,
			ResourceArn:        t.Endpoint.ResourceARN,
			DeviceToken:        t.Endpoint.DeviceToken,
			VoipDeviceToken:    t.Endpoint.VoipDeviceToken,
			Title:              r.Push.Title,
			Body:               r.Push.Body,
			Type:               typ,
			ChannelArn:         r.Channel,
			MessageId:          r.ID,
			Data:               data,
		}
	}
	return out
}

// webhookSink POSTs the notifications of a message in one request; any
// answer but a 2xx fails them all.
type webhookSink struct {
	client webhook.Client
	url    string
}

func newWebhookSink(opts Options) *webhookSink {
	return &webhookSink{client: webhook.Client{HTTP: opts.HTTPClient, Secret: opts.Secret, Timeout: opts.Timeout}, url: opts.Webhook}
}

func (w *webhookSink) send(ctx context.Context, ns []Notification) ([]Notification, []invalidEndpoint, error) {
	body, err := json.Marshal(Request{Notifications: ns})
	if err != nil {
		return ns, nil, err
	}
	answer, err := w.client.Post(ctx, w.url, body)
	switch {
	case answer == nil:
		return ns, nil, err
	case !answer.OK():
		return ns, nil, fmt.Errorf("the webhook answered %s", answer.Status)
	}
	return nil, nil, nil
}
