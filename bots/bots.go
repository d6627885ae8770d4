// Package bots makes AppInstanceBots answer: a message that invokes a bot
// (messaging.BotInvocations says which) is sent to the bot's Amazon Lex
// V2 bot with RecognizeText, and Lex's answer is sent to the channel as
// the bot (messaging.Service.SendBotAnswer), as AWS does (DG
// "appinstance-bots"). A bot with a WelcomeIntent that joins a channel
// announces itself: Lex's PutSession delegates to that intent, and its
// messages are sent the same way.
//
// The Dispatcher takes CREATE_CHANNEL_MESSAGE events from the bus after
// their commit, in order, through a bounded queue, so that a slow Lex
// never slows the API. An invocation is at most once: one that finds the
// queue full, or is still queued when the server stops, is dropped,
// logged and counted. A Lex that answers with an error, or cannot be
// reached, gets the channel an application/amz-chime-lex-error CONTROL
// message from the bot, as AWS sends.
//
// Like push, the Dispatcher sees every event of the bus: when a bus spans
// several nodes, one of them (or a queue group) must run it, or bots
// answer once per node.
//
// RecognizeText is called by hand, a signed HTTP request (lex.go): the
// Go SDK's Lex V2 runtime client cannot be fetched where Carillon is
// built, and the one call it would make is a small, stable REST request.
package bots

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/eventqueue"
	"github.com/carillonhq/carillon/messaging"
)

// Options configure the Dispatcher. The zero value of a field means its
// default.
type Options struct {
	// LexEndpoint is the base URL of the Lex V2 runtime API, or
	// LexEndpointAWS for AWS's regional endpoints; "" invokes no bot.
	LexEndpoint string
	// AWSConfig gives the credentials Lex requests are signed with; nil
	// loads the standard AWS chain. Each request's region is the bot
	// alias ARN's.
	AWSConfig *aws.Config
	// HTTPClient sends the requests (default: a client of its own).
	HTTPClient *http.Client
	// Timeout bounds one RecognizeText (default 10s).
	Timeout time.Duration
	// Queue is how many messages may wait for Lex (default 1,024).
	Queue int
}

// LexEndpointAWS is the LexEndpoint that means AWS's own.
const LexEndpointAWS = "aws"

func (o *Options) defaults() {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Queue <= 0 {
		o.Queue = 1024
	}
}

// Dispatcher invokes the bots of the messages it is given.
type Dispatcher struct {
	store       carillon.Store
	messaging   *messaging.Service
	lex         *lexClient
	log         *slog.Logger
	queue       *eventqueue.Queue
	invocations *prometheus.CounterVec
}

// Outcomes of an invocation, the label of
// carillon_bot_invocations_total.
const (
	outcomeAnswered = "answered" // Lex answered and the answer was sent
	outcomeFailed   = "failed"   // Lex failed; the error was sent
	outcomeDropped  = "dropped"  // a full queue, a stop, or an answer that could not be sent
)

// New returns a Dispatcher reading the store and answering through msg;
// its metrics are registered with reg when it is not nil.
func New(store carillon.Store, msg *messaging.Service, opts Options, log *slog.Logger, reg prometheus.Registerer) *Dispatcher {
	opts.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{
		store: store, messaging: msg, log: log,
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "bot", Name: "invocations_total",
			Help: "AppInstanceBot invocations, by outcome: answered, failed (Lex failed; the bot sent the error), dropped (a full queue, a stop, an answer that could not be sent).",
		}, []string{"outcome"}),
	}
	d.queue = eventqueue.New(opts.Queue,
		// Without Lex no bot answers: the events are not even read.
		func(e *carillon.Event) bool {
			if opts.LexEndpoint == "" {
				return false
			}
			switch e.Type {
			case messaging.EventCreateChannelMessage:
				return e.MessageType == "STANDARD"
			case messaging.EventCreateChannelMembership, messaging.EventBatchCreateChannelMembership:
				return e.MemberChange > 0 // a welcome, if a bot joined
			}
			return false
		},
		func(e *carillon.Event) {
			d.invocations.WithLabelValues(outcomeDropped).Inc()
			d.log.Warn("bot invocation dropped", "seq", e.Seq, "channel", e.Channel)
		})
	d.lex = &lexClient{opts: opts}
	if reg != nil {
		reg.MustRegister(d.invocations)
	}
	return d
}

// Deliver queues the STANDARD CREATE_CHANNEL_MESSAGE events among
// events, in order; it never blocks, so it may be a bus subscriber.
func (d *Dispatcher) Deliver(events []carillon.Event) { d.queue.Deliver(events) }

// Run invokes the bots of the queued messages until ctx ends; those still
// queued then are dropped.
func (d *Dispatcher) Run(ctx context.Context) { d.queue.Run(ctx, d.dispatch) }

func (d *Dispatcher) dispatch(ctx context.Context, e carillon.Event) {
	var invs []messaging.BotInvocation
	err := d.store.View(ctx, func(tx carillon.Tx) (err error) {
		if e.Type == messaging.EventCreateChannelMessage {
			var d *messaging.EventData
			if d, err = messaging.ReadEventData(&e); err != nil {
				return err
			}
			if d == nil || d.Message == nil {
				return fmt.Errorf("event %d carries no message", e.Seq)
			}
			invs, err = messaging.BotInvocations(tx, d.Message)
		} else {
			invs, err = messaging.BotWelcomes(tx, &e)
		}
		return err
	})
	if err != nil {
		d.log.Error("bot invocation: reading the message's bots", "seq", e.Seq, "cause", err)
		return
	}
	for i := range invs {
		inv := &invs[i]
		var answer *messaging.BotAnswer
		if inv.Welcome {
			answer = d.lex.welcome(ctx, inv)
		} else {
			answer = d.lex.recognize(ctx, inv)
		}
		outcome := outcomeAnswered
		if answer.ErrorCode != 0 {
			outcome = outcomeFailed
			d.log.Warn("bot invocation: Lex failed", "bot", inv.Bot, "message", inv.MessageID, "code", answer.ErrorCode)
		}
		if err := d.messaging.SendBotAnswer(ctx, inv, answer); err != nil {
			outcome = outcomeDropped
			d.log.Warn("bot invocation: the answer could not be sent", "bot", inv.Bot, "message", inv.MessageID, "cause", err)
		}
		d.invocations.WithLabelValues(outcome).Inc()
	}
}
