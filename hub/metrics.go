package hub

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Registerer is where the hub registers its metrics; nil keeps them
// unregistered (tests).
type Registerer = prometheus.Registerer

type metrics struct {
	sessionsOpen       prometheus.Gauge
	framesSent         prometheus.Counter
	writes             prometheus.Counter
	bytesSent          prometheus.Counter
	queueDrops         prometheus.Counter
	slowConsumerCloses prometheus.Counter
	writeErrors        prometheus.Counter
	eventsDelivered    prometheus.Counter
	connects           *prometheus.CounterVec
	deliveryLatency    prometheus.Histogram
	resumed            prometheus.Counter
	eventsReplayed     prometheus.Counter
	resumeGaps         *prometheus.CounterVec
	credentialCloses   *prometheus.CounterVec
	handovers          *prometheus.CounterVec
}

func newMetrics(reg Registerer) *metrics {
	m := &metrics{
		sessionsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "carillon", Subsystem: "session", Name: "open",
			Help: "Messaging sessions (websockets) open.",
		}),
		framesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "frames_sent_total",
			Help: "Websocket frames written to sessions.",
		}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "writes_total",
			Help: "Writes to session connections, each a batch of frames: frames_sent_total over it is the frames per write.",
		}),
		bytesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "bytes_sent_total",
			Help: "Bytes of websocket frames written to sessions.",
		}),
		queueDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "queue_drops_total",
			Help: "Event frames dropped because their session fell behind: its backlog, and the frame that overflowed it.",
		}),
		slowConsumerCloses: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "slow_consumer_closes_total",
			Help: "Sessions closed with 4429 because they fell behind.",
		}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "write_errors_total",
			Help: "Frame writes that failed or timed out.",
		}),
		eventsDelivered: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "hub", Name: "events_total",
			Help: "Committed events fanned out by the hub.",
		}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "connects_total",
			Help: "Connect attempts by result: established, unauthorized, forbidden, over_user_limit, over_session_limit, error.",
		}, []string{"result"}),
		deliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "carillon", Subsystem: "session", Name: "delivery_latency_seconds",
			Help:    "Time from an event's commit to its frame being written to a session.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		resumed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "resumed_total",
			Help: "Sessions resumed: replayed what they missed since their last connection, or since the Seq they named.",
		}),
		eventsReplayed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "replayed_events_total",
			Help: "Event frames sent again, or for the first time, to resumed sessions, read from the outbox.",
		}),
		resumeGaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "resume_gaps_total",
			Help: "Reconnections that could not be resumed, by reason: window (the session ended longer ago than the resume window), trimmed (the outbox no longer holds the events).",
		}, []string{"reason"}),
		credentialCloses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "credential_closes_total",
			Help: "Sessions closed because the per-user key that opened them expired (4440) or was deleted (4401).",
		}, []string{"reason"}),
		handovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "session", Name: "handovers_total",
			Help: "Sessions handed over between the servers of a cluster: received (another server gave it up), unanswered (no server held it: resumed from its last checkpoint), given (this server gave it up).",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.sessionsOpen, m.framesSent, m.writes, m.bytesSent, m.queueDrops, m.slowConsumerCloses,
			m.writeErrors, m.eventsDelivered, m.connects, m.deliveryLatency, m.resumed, m.eventsReplayed, m.resumeGaps,
			m.credentialCloses, m.handovers)
	}
	return m
}
