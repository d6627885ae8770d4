package sigv4

import "net/http"

// AWS error type names. Clients see them in the X-Amzn-ErrorType header and
// the JSON "__type" field, and the SDKs map them to typed exceptions.
const (
	TypeIncompleteSignature        = "IncompleteSignatureException"
	TypeInvalidSignature           = "InvalidSignatureException"
	TypeUnrecognizedClient         = "UnrecognizedClientException"
	TypeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	TypeExpiredToken               = "ExpiredTokenException"
)

// Messages AWS returns verbatim; applications and SDK retry logic match on
// some of them (for example clock-skew correction looks for "Signature
// expired"), so they are kept word for word.
const (
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
	msgMissingToken = "Missing Authentication Token"
	msgBadRegion    = "Credential should be scoped to a valid region."
)

// maxEcho bounds how much of a client-supplied value is quoted back in an
// error message, so a huge header cannot inflate every error response.
const maxEcho = 256

// Error is a verification failure. Type is the AWS error type name clients
// see in X-Amzn-ErrorType.
type Error struct {
	// Type is one of the Type* constants.
	Type string
	// Status is the HTTP status to answer with. AWS's JSON front door
	// answers 403 for every authentication failure, including
	// IncompleteSignatureException.
	Status int
	// Message is safe to return to the client; it uses AWS's wording.
	Message string
	// Reason is for the server log only: which check failed and, on a
	// signature mismatch, the canonical request and string to sign. It can
	// name the configured region and the request's contents, so it must not
	// be sent to the client.
	Reason string
}

// Error returns the type and client-facing message; Reason is deliberately
// left out so that logging err.Error() cannot leak it by accident into a
// response built from it.
func (e *Error) Error() string {
	return "sigv4: " + e.Type + ": " + e.Message
}

func newError(typ, message, reason string) *Error {
	return &Error{Type: typ, Status: http.StatusForbidden, Message: message, Reason: reason}
}

func errIncomplete(message, reason string) *Error {
	return newError(TypeIncompleteSignature, message, reason)
}

func errInvalid(message, reason string) *Error {
	return newError(TypeInvalidSignature, message, reason)
}

func errMismatch(reason string) *Error {
	return newError(TypeInvalidSignature, msgSignatureMismatch, reason)
}

func errUnrecognized(reason string) *Error {
	return newError(TypeUnrecognizedClient, msgInvalidToken, reason)
}

// echo shortens a client-supplied value for quoting in a message.
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + "..."
}
