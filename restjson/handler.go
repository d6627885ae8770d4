// Package restjson is the wire of Carillon: the restJson1 protocol as AWS
// SDKs speak it. It routes a request to its operation, authenticates it,
// binds the body, path labels, query and headers to the generated input
// shape, validates the model's constraints, calls the service, and writes
// the output or the error. It knows the protocol and nothing of the rules.
package restjson

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
)

// DefaultMaxBodyBytes bounds request bodies. The largest legitimate request
// (BatchCreateChannelMembership with 100 ARNs of 1,600 characters) is far
// below it.
const DefaultMaxBodyBytes = 1 << 20

// Authenticator verifies who signed a request. body is the whole body.
// Its errors are *WireError (front-door failures) or *carillon.Error.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (carillon.Caller, error)
}

// Authorizer decides whether an authenticated caller may call an
// operation at all, before the service applies its own rules. bearer is the
// request's x-amz-chime-bearer, "" when the operation has none.
type Authorizer func(c carillon.Caller, op *api.Operation, bearer string) error

// Config configures a Handler.
type Config struct {
	// Operations of every service served, from the generated Handlers.
	Operations []api.Operation
	Auth       Authenticator
	// Authorize is optional; nil allows every authenticated caller.
	Authorize    Authorizer
	Logger       *slog.Logger
	MaxBodyBytes int64
	// Observe, if not nil, is told of every request once it is answered:
	// the operation ("" when no route matched), the HTTP status and the
	// time taken (for metrics).
	Observe func(operation string, status int, d time.Duration)
}

// Handler serves the restJson1 operations.
type Handler struct {
	router    *router
	auth      Authenticator
	authorize Authorizer
	log       *slog.Logger
	maxBody   int64
	observe   func(operation string, status int, d time.Duration)
}

// New builds a Handler; it fails if two operations claim the same route.
func New(cfg Config) (*Handler, error) {
	rt, err := newRouter(cfg.Operations)
	if err != nil {
		return nil, err
	}
	if cfg.Auth == nil {
		return nil, errors.New("restjson: an Authenticator is required")
	}
	h := &Handler{router: rt, auth: cfg.Auth, authorize: cfg.Authorize, log: cfg.Logger, maxBody: cfg.MaxBodyBytes, observe: cfg.Observe}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	return h, nil
}

// Route is one route of the table, for documentation and its tests.
type Route struct {
	Service, Operation, Method, Path, Query string
	Implemented                             bool
}

// Routes lists the route table.
func (h *Handler) Routes() []Route {
	out := make([]Route, 0, len(h.router.all))
	for _, r := range h.router.all {
		out = append(out, Route{Service: r.op.Service, Operation: r.op.Name, Method: r.op.Method,
			Path: r.op.Path, Query: r.op.Query, Implemented: r.op.Invoke != nil})
	}
	return out
}

type requestIDKey struct{}

// RequestID returns the request id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequestID returns a random id in the UUID form AWS uses (version 4).
// The bits come from math/rand/v2's generator (ChaCha8, seeded by the
// system): a request id tells requests apart in logs and support cases, it
// authenticates nothing, and reading the system's random source for each
// request would cost a system call.
func NewRequestID() string {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // the RFC 9562 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// outcome is what one request did, for the log line.
type outcome struct {
	op       string
	status   int
	errType  string
	errMsg   string
	reason   string
	internal error
}

// request is the state of one request the handler keeps besides its
// outcome: the path labels and the query, read lazily, that binding needs.
// Requests are pooled: nothing here outlives ServeHTTP (bound values are
// copies).
type request struct {
	labels [4]labelValue
	binder binder
	query  lazyQuery
	// body is the pooled buffer the body was read into.
	body []byte
}

var requests = sync.Pool{New: func() any { return new(request) }}

// maxPooledBody bounds the buffers kept for bodies and responses, so that
// one large request does not pin its memory in the pool.
const maxPooledBody = 64 << 10

// ServeHTTP serves one request: it never panics towards the client.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := NewRequestID()
	rq := requests.Get().(*request)
	var oc outcome
	defer func() {
		if p := recover(); p != nil {
			oc.internal = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			e := WriteError(w, reqID, oc.internal)
			oc.status, oc.errType = e.Status, e.Type
		}
		latency := time.Since(start)
		h.logRequest(r, reqID, latency, &oc)
		if h.observe != nil {
			h.observe(oc.op, oc.status, latency)
		}
		rq.release()
	}()
	out, op, err := h.serve(r, rq, reqID, &oc)
	if err != nil {
		e := WriteError(w, reqID, err)
		oc.status, oc.errType, oc.errMsg = e.Status, e.Type, e.Message
		if e.Internal {
			oc.internal = err
		}
		var we *WireError
		if errors.As(err, &we) {
			oc.reason = we.Reason
		}
		return
	}
	oc.status = op.SuccessCode
	h.writeOutput(w, reqID, op, out)
}

// release returns rq, and its body buffer, to their pools.
func (rq *request) release() {
	body := rq.body
	if cap(body) > maxPooledBody {
		body = nil
	}
	*rq = request{body: body[:0]}
	requests.Put(rq)
}

func (h *Handler) logRequest(r *http.Request, reqID string, latency time.Duration, oc *outcome) {
	level := slog.LevelInfo
	if oc.internal != nil {
		level = slog.LevelError
	}
	ctx := r.Context()
	if !h.log.Enabled(ctx, level) {
		return
	}
	var buf [9]slog.Attr
	attrs := append(buf[:0],
		slog.String("request_id", reqID),
		slog.String("op", oc.op),
		slog.Int("status", oc.status),
		slog.Duration("latency", latency),
	)
	if oc.op == "" {
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.EscapedPath()))
	}
	if oc.errType != "" {
		attrs = append(attrs, slog.String("error", oc.errType), slog.String("message", oc.errMsg))
	}
	if oc.reason != "" {
		attrs = append(attrs, slog.String("reason", oc.reason))
	}
	if oc.internal != nil {
		attrs = append(attrs, slog.String("cause", oc.internal.Error()))
	}
	h.log.LogAttrs(ctx, level, "request", attrs...)
}

func (h *Handler) serve(r *http.Request, rq *request, reqID string, oc *outcome) (any, *api.Operation, error) {
	body, err := readBody(r, h.maxBody, rq.body)
	rq.body = body
	if err != nil {
		return nil, nil, err
	}
	caller, err := h.auth.Authenticate(r, body)
	if err != nil {
		return nil, nil, err
	}
	rq.query = lazyQuery{raw: r.URL.RawQuery}
	path := r.URL.EscapedPath()
	route, labels, err := h.router.route(r.Method, path, &rq.query, rq.labels[:0])
	if err != nil {
		return nil, nil, err
	}
	if route == nil {
		return nil, nil, unknownOperation(r.Method, path)
	}
	op := route.op
	oc.op = op.Name
	in := op.NewInput()
	if op.BodyMembers && len(bytes.TrimSpace(body)) > 0 {
		// json.Unmarshal decodes a valid body as the Decoder of
		// decodeBody does, without copying it; for a body it refuses,
		// decodeBody, on a new input, gives the error its words.
		if json.Unmarshal(body, in) != nil {
			in = op.NewInput()
			if err := decodeBody(body, in); err != nil {
				return nil, op, err
			}
		}
	}
	rq.binder = binder{labels: labels, query: &rq.query, header: r.Header}
	if err := in.BindHTTP(&rq.binder); err != nil {
		return nil, op, err
	}
	if err := in.Validate(); err != nil {
		return nil, op, err
	}
	if op.Invoke == nil {
		return nil, op, notImplemented(op.Name)
	}
	if h.authorize != nil {
		bearer := ""
		if op.Bearer {
			bearer = r.Header.Get("x-amz-chime-bearer")
		}
		if err := h.authorize(caller, op, bearer); err != nil {
			return nil, op, err
		}
	}
	ctx := carillon.WithCaller(r.Context(), caller)
	ctx = context.WithValue(ctx, requestIDKey{}, reqID)
	out, err := op.Invoke(ctx, in)
	return out, op, err
}

// readBody reads the whole body into buf (which it may grow), refusing
// one over limit bytes.
func readBody(r *http.Request, limit int64, buf []byte) ([]byte, error) {
	if r.Body == nil {
		return buf[:0], nil
	}
	if r.ContentLength > limit {
		return buf[:0], tooLarge(limit)
	}
	buf = buf[:0]
	if n := int(r.ContentLength) + 1; r.ContentLength >= 0 && cap(buf) < n {
		// One more byte than announced, to see the end without growing.
		buf = make([]byte, 0, max(n, 512))
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):min(cap(buf), int(limit)+1)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, tooLarge(limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, serializationError("Could not read the request body")
		}
	}
}

func tooLarge(limit int64) error {
	return carillon.Errorf(carillon.BadRequest, "The request body exceeds the limit of %d bytes", limit)
}

// decodeBody reads a JSON object into the input shape. Unknown members are
// ignored, as AWS services do; anything that is not one JSON object of the
// right member types is a SerializationException naming the member.
func decodeBody(body []byte, in api.Input) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				return serializationError("Expected a JSON object as the request body")
			}
			return serializationError("Invalid type for '" + field + "': expected " + jsonTypeName(te.Type.String()))
		}
		return serializationError("Malformed JSON in the request body: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return serializationError("Unexpected data after the JSON object in the request body")
	}
	return nil
}

func jsonTypeName(goType string) string {
	switch goType {
	case "string", "*string":
		return "a string"
	case "int32", "*int32", "int64", "*int64":
		return "an integer"
	case "bool", "*bool":
		return "a boolean"
	}
	switch {
	case len(goType) > 2 && goType[:2] == "[]":
		return "a list"
	case len(goType) > 3 && goType[:3] == "map":
		return "a map"
	}
	return "a value of type " + goType
}

type binder struct {
	labels []labelValue
	query  *lazyQuery
	header http.Header
}

func (b *binder) Label(name string) string {
	for _, l := range b.labels {
		if l.name == name {
			return l.value
		}
	}
	return ""
}

func (b *binder) Query(name string) (string, bool) {
	return b.query.get(name)
}

func (b *binder) Header(name string) (string, bool) {
	v := b.header.Values(name)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// lazyQuery is a request's query, parsed the first time a value is asked
// for: most requests carry none, or none that routing needs.
type lazyQuery struct {
	raw    string
	parsed bool
	values url.Values
}

// get returns the first value of a query parameter, as url.Values does.
func (q *lazyQuery) get(name string) (string, bool) {
	if q.raw == "" {
		return "", false
	}
	if !q.parsed {
		q.values, _ = url.ParseQuery(q.raw) // as URL.Query: bad pairs are dropped
		q.parsed = true
	}
	v, ok := q.values[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// Header values the handler writes on every response, shared: net/http
// only reads them.
var (
	jsonContentType = []string{"application/json"}
	emptyObject     = []byte("{}")
)

// outputs pools the buffers responses are encoded into.
var outputs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *Handler) writeOutput(w http.ResponseWriter, reqID string, op *api.Operation, out any) {
	hd := w.Header()
	hd["X-Amzn-Requestid"] = []string{reqID}
	if !op.OutputBody || op.SuccessCode == http.StatusNoContent {
		w.WriteHeader(op.SuccessCode)
		return
	}
	var b []byte
	switch o := out.(type) {
	case nil:
		b = emptyObject
	case api.JSONAppender:
		// The generated encoder writes what the Encoder below would.
		bp := outputs.Get().(*[]byte)
		b = o.AppendJSON((*bp)[:0], false)
		defer func() {
			if cap(b) <= maxPooledBody {
				*bp = b[:0]
				outputs.Put(bp)
			}
		}()
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			// Output shapes are plain data; this is a bug, not user input.
			h.log.Error("encode output", "request_id", reqID, "op", op.Name, "cause", err)
			WriteError(w, reqID, err)
			return
		}
		b = bytes.TrimRight(buf.Bytes(), "\n")
	}
	hd["Content-Type"] = jsonContentType
	hd["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(op.SuccessCode)
	_, _ = w.Write(b)
}
