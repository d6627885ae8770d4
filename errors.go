package carillon

import (
	"errors"
	"fmt"
)

// Kind names one of the nine exceptions both Chime SDK models declare. Every
// failure a service reports to a client carries one of these kinds; the wire
// layer maps it to the HTTP status, the X-Amzn-ErrorType header and the body
// Code in exactly one place.
type Kind string

// The kinds, named as the models name their exception shapes minus the
// "Exception" suffix.
const (
	BadRequest            Kind = "BadRequest"
	Forbidden             Kind = "Forbidden"
	NotFound              Kind = "NotFound"
	Conflict              Kind = "Conflict"
	ResourceLimitExceeded Kind = "ResourceLimitExceeded"
	ThrottledClient       Kind = "ThrottledClient"
	UnauthorizedClient    Kind = "UnauthorizedClient"
	ServiceFailure        Kind = "ServiceFailure"
	ServiceUnavailable    Kind = "ServiceUnavailable"
)

// Error is a failure meant for the client: its Message is safe to show.
// Anything that is not an *Error reaching the wire layer is reported as a
// ServiceFailure with a generic message, and its text is only logged.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return string(e.Kind) + ": " + e.Message }

// Errorf builds an *Error of the given kind.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf reports the kind of err: the Kind of the first *Error in its chain,
// or ServiceFailure for any other non-nil error.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ServiceFailure
}

// IsKind reports whether err is an *Error of the given kind.
func IsKind(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
