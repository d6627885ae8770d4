package restjson

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/carillonhq/carillon"
)

// WireError is a failure decided before a request reaches a service: at the
// front door (signature, routing, body decoding). Its Type is the
// X-Amzn-ErrorType clients match on; these types are not in the models, but
// they are the ones AWS's front door answers with.
type WireError struct {
	Status  int
	Type    string
	Message string
	// Reason is logged, never sent: which check failed.
	Reason string
}

func (e *WireError) Error() string { return e.Type + ": " + e.Message }

// Front-door errors.
func unknownOperation(method, path string) *WireError {
	return &WireError{Status: http.StatusNotFound, Type: "UnknownOperationException",
		Message: "No operation matches " + method + " " + path}
}

func serializationError(msg string) *WireError {
	return &WireError{Status: http.StatusBadRequest, Type: "SerializationException", Message: msg}
}

func notImplemented(op string) *WireError {
	return &WireError{Status: http.StatusNotImplemented, Type: "NotImplementedException",
		Message: "Carillon does not implement " + op + " yet; docs/compatibility.md lists what it does implement"}
}

// kindWire is the one table from a domain error kind to the wire: HTTP
// status, the exception shape name (X-Amzn-ErrorType) and the ErrorCode
// enum value the models put in the body's Code.
var kindWire = map[carillon.Kind]struct {
	status    int
	shape     string
	errorCode string
}{
	carillon.BadRequest:            {400, "BadRequestException", "BadRequest"},
	carillon.Forbidden:             {403, "ForbiddenException", "Forbidden"},
	carillon.NotFound:              {404, "NotFoundException", "NotFound"},
	carillon.Conflict:              {409, "ConflictException", "Conflict"},
	carillon.ResourceLimitExceeded: {400, "ResourceLimitExceededException", "ResourceLimitExceeded"},
	carillon.ThrottledClient:       {429, "ThrottledClientException", "Throttled"},
	carillon.UnauthorizedClient:    {401, "UnauthorizedClientException", "Unauthorized"},
	carillon.ServiceFailure:        {500, "ServiceFailureException", "ServiceFailure"},
	carillon.ServiceUnavailable:    {503, "ServiceUnavailableException", "ServiceUnavailable"},
}

// ErrorResponse is what the client receives for an error.
type ErrorResponse struct {
	Status  int
	Type    string
	Code    string
	Message string
	// Internal is true when the error was not meant for the client; its
	// text is logged and replaced by a generic message.
	Internal bool
}

func describeError(err error) ErrorResponse {
	var we *WireError
	if errors.As(err, &we) {
		return ErrorResponse{Status: we.Status, Type: we.Type, Code: we.Type, Message: we.Message}
	}
	var ce *carillon.Error
	if errors.As(err, &ce) {
		if m, ok := kindWire[ce.Kind]; ok {
			return ErrorResponse{Status: m.status, Type: m.shape, Code: m.errorCode, Message: ce.Message}
		}
	}
	m := kindWire[carillon.ServiceFailure]
	return ErrorResponse{Status: m.status, Type: m.shape, Code: m.errorCode,
		Message: "The service encountered an unexpected error.", Internal: true}
}

// WriteError writes err in the restJson1 error format every AWS SDK
// parses: the status, X-Amzn-ErrorType, x-amzn-RequestId and a body of
// {"Code","Message"}. It is the only place errors reach the wire.
func WriteError(w http.ResponseWriter, requestID string, err error) ErrorResponse {
	e := describeError(err)
	body, _ := json.Marshal(struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	}{e.Code, e.Message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.Type)
	if requestID != "" {
		h.Set("x-amzn-RequestId", requestID)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
	return e
}
