package server

import (
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/netguard"
	"github.com/carillonhq/carillon/restjson"
)

// Defaults of the timeouts and limits of Config (docs/security.md).
const (
	// DefaultReadHeaderTimeout bounds the reading of a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds the reading of a whole request, body
	// included: a client trickling a body is cut off.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds a request from the end of its headers to
	// the end of its response.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection idle this long:
	// longer than the SDKs keep idle connections (aws-sdk-go-v2's
	// transport, 90 s), so that they close first.
	DefaultIdleTimeout = 120 * time.Second
	// MaxHeaderBytes bounds a request's line and headers. The longest a
	// client needs is a presigned URL with a session token (a few KiB)
	// or two ARN labels of 1,600 characters.
	MaxHeaderBytes = 64 << 10
	// metricsMaxConns is the connection budget of --metrics-listen.
	metricsMaxConns = 64
)

// connectionBudget is the default of Config.MaxConnections: the
// descriptor limit less a reserve for the database, the listeners and
// outgoing connections (an eighth of it, at least 64). Without a known
// limit it is 10,000.
func connectionBudget(nofile uint64) int {
	if nofile == 0 || nofile > math.MaxInt32 {
		return 10000
	}
	n := int(nofile)
	return max(n-max(64, n/8), 16)
}

// overflowBand is how many connections beyond the budget are let in to
// be refused with an answer.
func overflowBand(budget int) int { return max(8, budget/32) }

// defaultMaxSessions leaves a quarter of the connections to REST calls.
func defaultMaxSessions(maxConns int) int { return max(1, maxConns*3/4) }

// httpServer is the http.Server of a listener of pool.
func (s *Server) httpServer(h http.Handler, pool *netguard.Pool) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ConnState:         pool.ConnState,
		ConnContext:       pool.ConnContext,
	}
}

// guard answers the requests of connections beyond the budget: /healthz
// as usual, everything else with ServiceUnavailableException; either way
// the connection closes after.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !netguard.Overflow(r.Context()) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		if r.Method == http.MethodGet && r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		restjson.WriteError(w, restjson.NewRequestID(), carillon.Errorf(carillon.ServiceUnavailable,
			"The server has too many open connections; retry later"))
	})
}

// answerUnparsed is what a client gets for a request net/http could not
// parse (an invalid percent escape in the path, a malformed request
// line, headers over MaxHeaderBytes): AWS's error format instead of
// net/http's plain text.
func (s *Server) answerUnparsed(w http.ResponseWriter, status int, message string) {
	msg := "The request could not be read: its request line, URL or headers are malformed"
	switch {
	case status == http.StatusRequestHeaderFieldsTooLarge:
		msg = fmt.Sprintf("The request line and headers exceed the limit of %d bytes", MaxHeaderBytes)
	case message != "":
		msg += " (" + message + ")"
	}
	var err error = &restjson.WireError{Status: status, Type: "BadRequestException", Message: msg}
	if status == http.StatusBadRequest {
		err = carillon.Errorf(carillon.BadRequest, "%s", msg)
	}
	reqID := restjson.NewRequestID()
	restjson.WriteError(w, reqID, err)
	s.log.Info("request", "request_id", reqID, "op", "", "status", status, "error", "BadRequestException", "message", msg)
}

// listenMetrics opens the --metrics-listen listener: /metrics and
// /healthz, on a budget of its own.
func (s *Server) listenMetrics() error {
	ln, err := net.Listen("tcp", s.cfg.MetricsListen)
	if err != nil {
		return err
	}
	pool := netguard.NewPool(netguard.Config{MaxConns: metricsMaxConns, Overflow: overflowBand(metricsMaxConns),
		Answer: s.answerUnparsed, Metrics: s.metrics, Name: "metrics"})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	s.addListener(pool.Listen(ln, "metrics", nil), &s.metricsLn, s.httpServer(guard(mux), pool))
	return nil
}

// mainPool is the budget of the API listeners.
func (s *Server) mainPool() *netguard.Pool {
	return netguard.NewPool(netguard.Config{MaxConns: s.cfg.MaxConnections, Overflow: overflowBand(s.cfg.MaxConnections),
		Answer: s.answerUnparsed, Metrics: s.metrics, Name: "api"})
}

// listenGuarded wraps a raw listener of the API in pool.
func (s *Server) listenGuarded(pool *netguard.Pool, ln net.Listener, name string, tlsConfig *tls.Config, raw *net.Listener) {
	s.addListener(pool.Listen(ln, name, tlsConfig), raw, s.httpServer(s.handler, pool))
}
