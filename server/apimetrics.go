package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// apiMetrics counts and times the API's requests by operation, for
// /metrics.
type apiMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// children holds each operation's resolved series (*opMetrics), so
	// that a request costs no label hashing and no allocation.
	children sync.Map
}

// opMetrics is the series of one operation.
type opMetrics struct {
	operation string
	duration  prometheus.Observer
	// byStatus caches the request counters of the statuses it has seen;
	// a status it lacks is resolved through the CounterVec and added.
	mu       sync.RWMutex
	byStatus map[int]prometheus.Counter
}

func newAPIMetrics(reg prometheus.Registerer) *apiMetrics {
	m := &apiMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "carillon", Subsystem: "api", Name: "requests_total",
			Help: "API requests answered, by operation (unknown: no route matched) and HTTP status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "carillon", Subsystem: "api", Name: "request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9), // 100 µs to 6.5 s
		}, []string{"operation"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe is restjson.Config.Observe.
func (m *apiMetrics) observe(operation string, status int, d time.Duration) {
	if operation == "" {
		operation = "unknown"
	}
	om := m.of(operation)
	om.counter(m, status).Inc()
	om.duration.Observe(d.Seconds())
}

// of returns the series of an operation, resolving them the first time.
// Operation names come from the route table (or "unknown"), so there are
// as many entries as operations.
func (m *apiMetrics) of(operation string) *opMetrics {
	if v, ok := m.children.Load(operation); ok {
		return v.(*opMetrics)
	}
	om := &opMetrics{operation: operation, duration: m.duration.WithLabelValues(operation),
		byStatus: map[int]prometheus.Counter{}}
	v, _ := m.children.LoadOrStore(operation, om)
	return v.(*opMetrics)
}

func (om *opMetrics) counter(m *apiMetrics, status int) prometheus.Counter {
	om.mu.RLock()
	c, ok := om.byStatus[status]
	om.mu.RUnlock()
	if ok {
		return c
	}
	c = m.requests.WithLabelValues(om.operation, strconv.Itoa(status))
	om.mu.Lock()
	om.byStatus[status] = c
	om.mu.Unlock()
	return c
}
