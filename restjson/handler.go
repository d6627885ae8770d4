// Package restjson is the wire of Carillon: the restJson1 protocol as AWS
// SDKs speak it. It routes a request to its operation, authenticates it,
// binds the body, path labels, query and headers to the generated input
// shape, validates the model's constraints, calls the service, and writes
// the output or the error. It knows the protocol and nothing of the rules.
package restjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/google/uuid"

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
func NewRequestID() string { return uuid.NewString() }

// outcome is what one request did, for the log line.
type outcome struct {
	op       string
	status   int
	errType  string
	errMsg   string
	reason   string
	internal error
}

// ServeHTTP serves one request: it never panics towards the client.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := NewRequestID()
	var oc outcome
	defer func() {
		if p := recover(); p != nil {
			oc.internal = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			e := WriteError(w, reqID, oc.internal)
			oc.status, oc.errType = e.Status, e.Type
		}
		h.logRequest(r, reqID, start, &oc)
		if h.observe != nil {
			h.observe(oc.op, oc.status, time.Since(start))
		}
	}()
	out, op, err := h.serve(r, reqID, &oc)
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

func (h *Handler) logRequest(r *http.Request, reqID string, start time.Time, oc *outcome) {
	attrs := []slog.Attr{
		slog.String("request_id", reqID),
		slog.String("op", oc.op),
		slog.Int("status", oc.status),
		slog.Duration("latency", time.Since(start)),
	}
	if oc.op == "" {
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.EscapedPath()))
	}
	level := slog.LevelInfo
	if oc.errType != "" {
		attrs = append(attrs, slog.String("error", oc.errType), slog.String("message", oc.errMsg))
	}
	if oc.reason != "" {
		attrs = append(attrs, slog.String("reason", oc.reason))
	}
	if oc.internal != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("cause", oc.internal.Error()))
	}
	h.log.LogAttrs(r.Context(), level, "request", attrs...)
}

func (h *Handler) serve(r *http.Request, reqID string, oc *outcome) (any, *api.Operation, error) {
	body, err := readBody(r, h.maxBody)
	if err != nil {
		return nil, nil, err
	}
	caller, err := h.auth.Authenticate(r, body)
	if err != nil {
		return nil, nil, err
	}
	query := r.URL.Query()
	m, err := h.router.find(r.Method, r.URL.EscapedPath(), query)
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, unknownOperation(r.Method, r.URL.EscapedPath())
	}
	op := m.op
	oc.op = op.Name
	in := op.NewInput()
	if op.BodyMembers && len(bytes.TrimSpace(body)) > 0 {
		if err := decodeBody(body, in); err != nil {
			return nil, op, err
		}
	}
	if err := in.BindHTTP(binder{labels: m.labels, query: query, header: r.Header}); err != nil {
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

func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, serializationError("Could not read the request body")
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	return body, nil
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
	query  url.Values
	header http.Header
}

func (b binder) Label(name string) string {
	for _, l := range b.labels {
		if l.name == name {
			return l.value
		}
	}
	return ""
}

func (b binder) Query(name string) (string, bool) {
	v, ok := b.query[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func (b binder) Header(name string) (string, bool) {
	v := b.header.Values(name)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func (h *Handler) writeOutput(w http.ResponseWriter, reqID string, op *api.Operation, out any) {
	hd := w.Header()
	hd.Set("x-amzn-RequestId", reqID)
	if !op.OutputBody || op.SuccessCode == http.StatusNoContent {
		w.WriteHeader(op.SuccessCode)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if out == nil {
		buf.WriteString("{}")
	} else if err := enc.Encode(out); err != nil {
		// Output shapes are plain data; this is a bug, not user input.
		h.log.Error("encode output", "request_id", reqID, "op", op.Name, "cause", err)
		WriteError(w, reqID, err)
		return
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(op.SuccessCode)
	_, _ = w.Write(b)
}
