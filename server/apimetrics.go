package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// apiMetrics counts and times the API's requests by operation, for
// /metrics.
type apiMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
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
	m.requests.WithLabelValues(operation, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(operation).Observe(d.Seconds())
}
