package carillon

import (
	"context"
	"time"
)

// Caller is who signed a request: the access key, and whether the key is
// the root key (a developer who may act as any bearer) or is bound to one
// AppInstanceUser or AppInstanceBot ARN that it may act as, and only as.
type Caller struct {
	AccessKeyID string
	Root        bool
	// Bearer is the ARN a per-user key is bound to; "" for root.
	Bearer string
	// Expires is when the key expires; zero for keys that do not.
	Expires time.Time
}

// MayActAs reports whether the caller may send requests whose
// x-amz-chime-bearer is arn.
func (c Caller) MayActAs(arn string) bool {
	return c.Root || (c.Bearer != "" && c.Bearer == arn)
}

type callerKey struct{}

// WithCaller returns a context carrying the caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller of the request ctx belongs to, and false
// when the context carries none (a call from inside the server).
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
