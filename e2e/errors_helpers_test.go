package e2e

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/carillonhq/carillon"
)

// modelledStatus is the HTTP status each modelled exception comes with.
var modelledStatus = map[string]int{
	"BadRequestException":            400,
	"ResourceLimitExceededException": 400,
	"UnauthorizedClientException":    401,
	"ForbiddenException":             403,
	"NotFoundException":              404,
	"ConflictException":              409,
	"ThrottledClientException":       429,
	"ServiceFailureException":        500,
	"ServiceUnavailableException":    503,
}

// wantError checks that err is the modelled exception code (the shape
// name, e.g. "ForbiddenException") as a client of either service sees
// it: typed by the SDK, with the HTTP status and body Code the models give
// it, a request id and a message. It reports with t.Errorf and returns
// the message, "" when err is not that error.
func wantError(t testing.TB, err error, code string) string {
	t.Helper()
	status, ok := modelledStatus[code]
	if !ok {
		panic("wantError: no modelled exception " + code)
	}
	if err == nil {
		t.Errorf("want %s, got success", code)
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("want %s, got a non-API error: %v", code, err)
		return ""
	}
	if ae.ErrorCode() != code {
		t.Errorf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
		return ""
	}
	bodyCode, typed := typedException(err, code)
	if !typed {
		t.Errorf("%s is not typed by the SDK: %T", code, err)
		return ""
	}
	if want := strings.TrimSuffix(code, "Exception"); bodyCode != want && !(code == "ThrottledClientException" && bodyCode == "Throttled") && !(code == "UnauthorizedClientException" && bodyCode == "Unauthorized") {
		t.Errorf("%s: body Code %q, want %q", code, bodyCode, want)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: no HTTP response in %v", code, err)
	} else {
		if re.HTTPStatusCode() != status {
			t.Errorf("%s: HTTP status %d, want %d", code, re.HTTPStatusCode(), status)
		}
		if re.ServiceRequestID() == "" {
			t.Errorf("%s: no request id", code)
		}
	}
	if ae.ErrorMessage() == "" {
		t.Errorf("%s: empty message", code)
	}
	return ae.ErrorMessage()
}

// typedException finds, in err's chain, the SDK's exception struct named
// code (chimesdkidentity's and chimesdkmessaging's types share the names)
// and returns its body Code.
func typedException(err error, code string) (string, bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct || v.Elem().Type().Name() != code {
			continue
		}
		if f := v.Elem().FieldByName("Code"); f.IsValid() && f.Kind() == reflect.String {
			return f.String(), true
		}
	}
	return "", false
}

// wantErrorContaining is wantError plus a check that the message contains
// want.
func wantErrorContaining(t testing.TB, err error, code, want string) {
	t.Helper()
	if msg := wantError(t, err, code); msg != "" && !strings.Contains(msg, want) {
		t.Errorf("%s message %q does not contain %q", code, msg, want)
	}
}

// skipMessagingValidation removes the messaging SDK's client-side checks
// of required members and constraints, so that the server's own
// validation answers.
func skipMessagingValidation(o *chimesdkmessaging.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, err := s.Initialize.Remove("OperationInputValidation")
		return err
	})
}

// sortedCopy returns a sorted copy.
func sortedCopy(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// isoTimestamp is a websocket payload timestamp: ISO-8601 UTC with
// milliseconds.
var isoTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// eventPayload decodes an event payload into a map, checking that every
// member named in timestamps is an ISO-8601 timestamp with milliseconds.
func eventPayload(t testing.TB, ev carillon.Event, timestamps ...string) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatalf("%s payload %s: %v", ev.Type, ev.Payload, err)
	}
	for _, k := range timestamps {
		if s, _ := p[k].(string); !isoTimestamp.MatchString(s) {
			t.Errorf("%s payload %s = %v, want an ISO-8601 timestamp with milliseconds", ev.Type, k, p[k])
		}
	}
	return p
}
