// Package api holds what the generated packages identityapi and messagingapi
// share: the description of an operation as the model defines it, the
// interface every request shape implements, timestamps in the restJson1
// encoding, and the validator the generated constraint checks call.
//
// The shapes themselves are generated from the service models under
// api/models (botocore service-2.json files with their documentation
// stripped) by internal/apigen; run `go generate ./api/...` after changing a
// model. Nothing here knows about net/http: the restjson package binds HTTP
// requests to these shapes, and the services consume them.
package api

//go:generate go run ../internal/apigen -model models/chime-sdk-identity-2021-04-20.json -pkg identityapi -out identityapi/identityapi_gen.go
//go:generate go run ../internal/apigen -model models/chime-sdk-messaging-2021-05-15.json -pkg messagingapi -out messagingapi/messagingapi_gen.go

import (
	"context"
)

// Operation describes one operation of a service model and, when the
// service implements it, how to call it.
type Operation struct {
	// Service is the model's serviceId, e.g. "Chime SDK Identity".
	Service string
	// Name is the operation name, e.g. "CreateAppInstance".
	Name string
	// Method and Path are the HTTP binding; Path keeps its {label}s and
	// excludes the query. Query is the literal query of the model's
	// requestUri ("operation=batch-create"), or "".
	Method, Path, Query string
	// SuccessCode is the status of a successful response.
	SuccessCode int
	// Bearer reports whether the input carries x-amz-chime-bearer.
	Bearer bool
	// BodyMembers reports whether the input has members bound to the body.
	BodyMembers bool
	// OutputBody reports whether a successful response has a JSON body.
	OutputBody bool
	// NewInput returns a new, empty input shape.
	NewInput func() Input
	// Invoke calls the service; nil when the service does not implement the
	// operation. The output is a pointer to the output shape, or nil.
	Invoke func(ctx context.Context, in Input) (any, error)
}

// Input is implemented by every generated input shape.
type Input interface {
	// BindHTTP reads the members bound to labels, the query and headers.
	BindHTTP(b Binder) error
	// Validate checks every constraint of the model and returns a
	// BadRequest *carillon.Error that names each failing member.
	Validate() error
}

// Binder gives generated code the parts of a request outside the body.
type Binder interface {
	// Label returns the unescaped value of a path label.
	Label(name string) string
	// Query returns the first value of a query parameter.
	Query(name string) (string, bool)
	// Header returns the first value of a header.
	Header(name string) (string, bool)
}

// String returns a pointer to s; a convenience for building shapes.
func String(s string) *string { return &s }

// Int32 returns a pointer to n.
func Int32(n int32) *int32 { return &n }

// Bool returns a pointer to b.
func Bool(b bool) *bool { return &b }

// Deref returns *p, or the zero value when p is nil.
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
