// Package netguard is the front of the server's listeners: it bounds the
// connections open at once, makes room for new clients by closing the
// connections that hold a slot without using it, and has every refusal
// answered in a form the client can read.
//
// A Pool is one budget of connections (of file descriptors, in the end)
// shared by the listeners it wraps. When the budget is spent, a new
// connection takes the slot of the connection idle the longest (a
// keep-alive connection between requests) or, failing that, of the
// oldest one that has not sent a request after a grace period; when
// every slot is busy (requests in flight, messaging sessions), it is let
// in on a small overflow band where the server answers it with a typed
// refusal (Overflow tells the handler), and beyond that band it is closed
// at once. Evictions and refusals are counted.
//
// The Pool learns each connection's state from net/http through
// http.Server.ConnState, which is how http.Server itself finds idle
// connections on Shutdown; netutil.LimitListener only blocks Accept,
// which leaves every new client, /healthz included, waiting behind idle
// ones.
//
// The Pool also terminates TLS itself, so that what net/http writes is
// seen in plaintext: net/http answers a request it cannot parse (an
// invalid percent escape in the path, a malformed request line, headers
// over the limit) with a plain-text response written straight to the
// connection, before any handler runs; the Pool rewrites that response
// into the answer Config.Answer writes (AWS's error format). net/http
// then does not see a *tls.Conn: Request.TLS is nil and HTTP/2 is not
// negotiated, neither of which the server uses, and the Pool does what
// net/http does with one: it completes the handshake before the first
// read, logs a failed one to the server's ErrorLog, and answers a plain
// HTTP request sent to the TLS listener with a 400.
package netguard

import (
	"bufio"
	"bytes"
	"container/list"
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Pool.
type Config struct {
	// MaxConns bounds the connections open at once across the Pool's
	// listeners, messaging sessions included; at least 1.
	MaxConns int
	// Overflow is how many connections beyond MaxConns are let in to be
	// refused with an answer (Overflow reports them); the ones beyond are
	// closed at accept.
	Overflow int
	// Grace is how long a connection may stay without sending a request
	// before its slot may go to a new one (default 2s). Idle keep-alive
	// connections may give their slot at once.
	Grace time.Duration
	// Answer writes the response to a request net/http could not parse,
	// given its status and what net/http said of it; nil keeps net/http's
	// plain-text answer.
	Answer func(w http.ResponseWriter, status int, message string)
	// Metrics receives the Pool's metrics; nil leaves them unregistered.
	Metrics prometheus.Registerer
	// Name labels the Pool's metrics ("main" for the API listeners).
	Name string
	// Now tells time; nil: time.Now.
	Now func() time.Time
}

// Pool is a budget of connections shared by listeners.
type Pool struct {
	cfg Config

	mu       sync.Mutex
	open     int // connections holding a slot
	overflow int // connections on the overflow band
	idle     list.List
	fresh    list.List

	metrics poolMetrics
}

type poolMetrics struct {
	open     *prometheus.GaugeVec
	evicted  *prometheus.CounterVec
	refused  *prometheus.CounterVec
	overflow prometheus.Gauge
}

// NewPool returns a Pool.
func NewPool(cfg Config) *Pool {
	if cfg.MaxConns < 1 {
		cfg.MaxConns = 1
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	labels := prometheus.Labels{"pool": cfg.Name}
	p := &Pool{cfg: cfg}
	p.metrics = poolMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "carillon_connections_open", ConstLabels: labels,
			Help: "Connections holding a slot of the pool, by listener.",
		}, []string{"listener"}),
		evicted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carillon_connections_evicted_total", ConstLabels: labels,
			Help: "Connections closed to give their slot to a new one: idle (keep-alive, between requests) or new (no request after the grace period).",
		}, []string{"listener", "state"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carillon_connections_refused_total", ConstLabels: labels,
			Help: "Connections refused because every slot was busy: answered (503 ServiceUnavailableException, on the overflow band) or closed (beyond it).",
		}, []string{"listener", "how"}),
		overflow: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "carillon_connections_overflow", ConstLabels: labels,
			Help: "Connections on the overflow band, waiting for their refusal.",
		}),
	}
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(p.metrics.open, p.metrics.evicted, p.metrics.refused, p.metrics.overflow)
	}
	return p
}

// MaxConns is the Pool's budget.
func (p *Pool) MaxConns() int { return p.cfg.MaxConns }

// Listen wraps ln. name labels its metrics; with tlsConfig, connections
// are TLS connections, terminated by the Pool.
func (p *Pool) Listen(ln net.Listener, name string, tlsConfig *tls.Config) net.Listener {
	return &listener{Listener: ln, pool: p, name: name, tls: tlsConfig}
}

type listener struct {
	net.Listener
	pool *Pool
	name string
	tls  *tls.Config
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := l.pool.admit(raw, l.name)
		if c == nil {
			continue
		}
		w := &wireConn{Conn: c, slot: c, answer: l.pool.cfg.Answer}
		if l.tls != nil {
			w.tlsConn = tls.Server(c, l.tls)
			w.Conn = w.tlsConn
		}
		return w, nil
	}
}

// slot is a connection the Pool counts. Its fields but Conn are guarded
// by Pool.mu.
type slot struct {
	net.Conn
	pool     *Pool
	listener string
	overflow bool
	released bool
	// elem is the connection's place in Pool.idle or Pool.fresh, nil
	// when it is in neither (a request in flight, a messaging session).
	elem  *list.Element
	since time.Time
}

// admit counts a new connection in, making room if it must; nil when the
// connection was refused and closed.
func (p *Pool) admit(raw net.Conn, name string) *slot {
	now := p.cfg.Now()
	c := &slot{Conn: raw, pool: p, listener: name, since: now}
	p.mu.Lock()
	var victim *slot
	var victimState string
	if p.open >= p.cfg.MaxConns {
		victim, victimState = p.victimLocked(now)
		if victim != nil {
			p.releaseLocked(victim)
		}
	}
	switch {
	case p.open < p.cfg.MaxConns:
		p.open++
		c.elem = p.fresh.PushBack(c)
		p.metrics.open.WithLabelValues(name).Inc()
	case p.overflow < p.cfg.Overflow:
		p.overflow++
		c.overflow = true
		p.metrics.overflow.Inc()
		_ = raw.SetDeadline(c.clamp(time.Time{}))
	default:
		c = nil
	}
	p.mu.Unlock()
	if victim != nil {
		p.metrics.evicted.WithLabelValues(victim.listener, victimState).Inc()
		victim.Conn.Close()
	}
	if c == nil {
		p.metrics.refused.WithLabelValues(name, "closed").Inc()
		raw.Close()
	}
	return c
}

// victimLocked picks the connection whose slot goes to a new one: the
// one idle the longest, else the oldest that sent no request within the
// grace period.
func (p *Pool) victimLocked(now time.Time) (*slot, string) {
	if e := p.idle.Front(); e != nil {
		return e.Value.(*slot), "idle"
	}
	if e := p.fresh.Front(); e != nil {
		if c := e.Value.(*slot); now.Sub(c.since) >= p.cfg.Grace {
			return c, "new"
		}
	}
	return nil, ""
}

// releaseLocked gives c's slot back, once.
func (p *Pool) releaseLocked(c *slot) {
	if c.released {
		return
	}
	c.released = true
	p.unlistLocked(c)
	if c.overflow {
		p.overflow--
		p.metrics.overflow.Dec()
		return
	}
	p.open--
	p.metrics.open.WithLabelValues(c.listener).Dec()
}

func (p *Pool) unlistLocked(c *slot) {
	if c.elem == nil {
		return
	}
	// Remove does nothing for an element of another list.
	p.idle.Remove(c.elem)
	p.fresh.Remove(c.elem)
	c.elem = nil
}

// SetDeadline and SetReadDeadline hold a connection of the overflow band
// to the grace period, whatever the server asks: the band is small, and a
// client that sends nothing must not keep its place for the header
// timeout.
func (c *slot) SetDeadline(t time.Time) error {
	if c.overflow {
		return c.Conn.SetDeadline(c.clamp(t))
	}
	return c.Conn.SetDeadline(t)
}

func (c *slot) SetReadDeadline(t time.Time) error {
	if c.overflow {
		return c.Conn.SetReadDeadline(c.clamp(t))
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *slot) clamp(t time.Time) time.Time {
	limit := c.since.Add(c.pool.cfg.Grace)
	if t.IsZero() || t.After(limit) {
		return limit
	}
	return t
}

func (c *slot) Close() error {
	p := c.pool
	p.mu.Lock()
	p.releaseLocked(c)
	p.mu.Unlock()
	return c.Conn.Close()
}

// ConnState is the http.Server.ConnState of the Pool's servers.
func (p *Pool) ConnState(nc net.Conn, state http.ConnState) {
	w, ok := nc.(*wireConn)
	if !ok {
		return
	}
	if state == http.StateHijacked {
		w.hijacked.Store(true)
	}
	c := w.slot
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.released || c.overflow {
		return
	}
	p.unlistLocked(c)
	switch state {
	case http.StateIdle:
		c.since = p.cfg.Now()
		c.elem = p.idle.PushBack(c)
	case http.StateNew:
		c.elem = p.fresh.PushBack(c)
	}
}

type overflowKey struct{}

// ConnContext is the http.Server.ConnContext of the Pool's servers: it
// marks the requests of overflow connections.
func (p *Pool) ConnContext(ctx context.Context, nc net.Conn) context.Context {
	w, ok := nc.(*wireConn)
	if !ok {
		return ctx
	}
	if srv, ok := ctx.Value(http.ServerContextKey).(*http.Server); ok {
		w.errorLog = srv.ErrorLog
	}
	if w.tlsConn != nil {
		ctx = context.WithValue(ctx, tlsKey{}, true)
	}
	if w.slot.overflow {
		return context.WithValue(ctx, overflowKey{}, w.slot)
	}
	return ctx
}

type tlsKey struct{}

// OverTLS reports whether the request of ctx came over TLS: net/http's
// Request.TLS is nil, since the Pool terminates TLS itself.
func OverTLS(ctx context.Context) bool {
	v, _ := ctx.Value(tlsKey{}).(bool)
	return v
}

// Overflow reports whether the request of ctx came on an overflow
// connection: one let in beyond the budget, to be answered with a
// refusal (or a health check) and closed. The handler must refuse it:
// Overflow counts the refusal.
func Overflow(ctx context.Context) bool {
	c, ok := ctx.Value(overflowKey{}).(*slot)
	if ok {
		c.pool.metrics.refused.WithLabelValues(c.listener, "answered").Inc()
	}
	return ok
}

// Stats are the Pool's counts, for tests.
type Stats struct{ Open, Idle, New, Overflow int }

// Stats returns the Pool's counts.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Open: p.open, Idle: p.idle.Len(), New: p.fresh.Len(), Overflow: p.overflow}
}

// wireConn is the connection net/http serves: TLS is inside it, so that
// it sees the plaintext net/http writes.
type wireConn struct {
	net.Conn
	slot     *slot
	answer   func(w http.ResponseWriter, status int, message string)
	hijacked atomic.Bool
	// tlsConn is Conn on the https listener, nil on the plain one;
	// handshook is set once its handshake has succeeded.
	tlsConn   *tls.Conn
	handshook atomic.Bool
	// errorLog is the ErrorLog of the http.Server serving the connection
	// (set by ConnContext; nil: the log package's standard logger, as
	// net/http does).
	errorLog *log.Logger
}

// Read completes the TLS handshake before the first read, as net/http
// does itself when it is given a *tls.Conn, and for the same reasons: a
// failed handshake is logged in net/http's words ("http: TLS handshake
// error from ADDR: REASON", which is how an operator learns that a client
// does not trust the certificate), and a client that speaks plain HTTP
// to the https listener is told so, here in the form Config.Answer gives.
func (w *wireConn) Read(p []byte) (int, error) {
	if w.tlsConn != nil && !w.handshook.Load() {
		if err := w.tlsConn.Handshake(); err != nil {
			w.handshakeFailed(err)
			return 0, err
		}
		w.handshook.Store(true)
	}
	return w.Conn.Read(p)
}

func (w *wireConn) handshakeFailed(err error) {
	reason := err.Error()
	var re tls.RecordHeaderError
	if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
		reason = "client sent an HTTP request to an HTTPS server"
		answer := []byte("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		if w.answer != nil {
			answer = renderAnswer(w.answer, http.StatusBadRequest, "Client sent an HTTP request to an HTTPS server.")
		}
		_, _ = re.Conn.Write(answer)
	}
	msg := "http: TLS handshake error from " + w.RemoteAddr().String() + ": " + reason
	if w.errorLog != nil {
		w.errorLog.Print(msg)
	} else {
		log.Print(msg)
	}
}

// looksLikeHTTP reports whether the first bytes of what should have been
// a TLS record begin an HTTP request (as net/http's check does).
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH", "CONNE", "TRACE":
		return true
	}
	return false
}

// SyscallConn gives the socket under the connection (under TLS, for the
// https listener), so that a reader may wait for it to be readable
// without reading, as package hub's sessions do.
func (w *wireConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := w.slot.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

func (w *wireConn) Write(p []byte) (int, error) {
	if w.answer != nil && !w.hijacked.Load() {
		if status, message, ok := parseCanned(p); ok {
			if _, err := w.Conn.Write(renderAnswer(w.answer, status, message)); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return w.Conn.Write(p)
}

// cannedHeaders follow the status line of the responses net/http writes
// itself to a request it could not parse (net/http's conn.serve); a
// handler's response always has a Date header before its Content-Type.
const cannedHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// parseCanned recognizes such a response, written whole in one Write,
// and returns its status and what it says, without "NNN Status Text: ".
func parseCanned(p []byte) (status int, message string, ok bool) {
	const proto = "HTTP/1.1 "
	if len(p) < len(proto)+3 || string(p[:len(proto)]) != proto {
		return 0, "", false
	}
	i := bytes.Index(p, []byte(cannedHeaders))
	if i < 0 || bytes.IndexByte(p[:i], '\n') >= 0 {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(p[len(proto) : len(proto)+3]))
	if err != nil || status < 400 || status > 599 {
		return 0, "", false
	}
	body := string(p[i+len(cannedHeaders):])
	text := http.StatusText(status)
	prefix := strconv.Itoa(status) + " " + text
	switch {
	case body == prefix:
		body = ""
	case len(body) > len(prefix)+2 && body[:len(prefix)+2] == prefix+": ":
		body = body[len(prefix)+2:]
	}
	return status, body, true
}

// renderAnswer runs answer on a recorder and lays its response out as
// HTTP/1.1 bytes that close the connection.
func renderAnswer(answer func(w http.ResponseWriter, status int, message string), status int, message string) []byte {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	answer(rec, status, message)
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	bw.WriteString("HTTP/1.1 " + strconv.Itoa(rec.status) + " " + http.StatusText(rec.status) + "\r\n")
	rec.header.Set("Content-Length", strconv.Itoa(rec.body.Len()))
	rec.header.Set("Connection", "close")
	keys := make([]string, 0, len(rec.header))
	for k := range rec.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range rec.header[k] {
			bw.WriteString(k + ": " + v + "\r\n")
		}
	}
	bw.WriteString("\r\n")
	bw.Write(rec.body.Bytes())
	bw.Flush()
	return b.Bytes()
}

type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
