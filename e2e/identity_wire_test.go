package e2e

// Wire tests: what SDKs hide from their callers, checked on the raw HTTP
// exchange of requests signed like an SDK signs them.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// wireResponse is a response read whole.
type wireResponse struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request signed with the root key. path is the escaped
// path, as the SDKs send it; a non-nil body is sent as JSON.
func (e *env) call(t testing.TB, method, path string, query url.Values, body []byte) wireResponse {
	t.Helper()
	u := e.srv.Endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: e.srv.Root.AccessKeyID, SecretAccessKey: e.srv.Root.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "chime", e.srv.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return wireResponse{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}
}

// label escapes an ARN as one path segment, the way the SDKs do: every
// byte but A-Z a-z 0-9 - . _ ~ percent-encoded.
func label(arn string) string {
	var b strings.Builder
	for i := 0; i < len(arn); i++ {
		c := arn[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// wantRequestID checks the response carries a request id.
func wantRequestID(t testing.TB, r wireResponse) {
	t.Helper()
	if r.header.Get("x-amzn-RequestId") == "" {
		t.Errorf("no x-amzn-RequestId in %v", r.header)
	}
}

// wantWireError checks an error response: status, X-Amzn-ErrorType, and a
// JSON body of exactly Code and Message. It returns the message.
func wantWireError(t testing.TB, r wireResponse, status int, errorType, code string) string {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if got := r.header.Get("X-Amzn-ErrorType"); got != errorType {
		t.Errorf("X-Amzn-ErrorType %q, want %q", got, errorType)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q", ct)
	}
	wantRequestID(t, r)
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Errorf("error body %q is not a JSON object: %v", r.body, err)
		return ""
	}
	if body["Code"] != code {
		t.Errorf("body Code %v, want %q", body["Code"], code)
	}
	msg, _ := body["Message"].(string)
	if msg == "" {
		t.Errorf("body has no Message: %s", r.body)
	}
	if len(body) != 2 {
		t.Errorf("error body has members beyond Code and Message: %s", r.body)
	}
	return msg
}

// decodeJSON decodes a success body keeping numbers as json.Number.
func decodeJSON(t testing.TB, r wireResponse) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// wantEpochNumber checks that v is a JSON number of epoch seconds close
// to now.
func wantEpochNumber(t testing.TB, what string, v any) {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Errorf("%s = %#v, want a JSON number", what, v)
		return
	}
	f, err := n.Float64()
	if err != nil {
		t.Errorf("%s = %s: %v", what, n, err)
		return
	}
	if d := time.Since(time.Unix(int64(f), 0)); d < -time.Minute || d > time.Minute {
		t.Errorf("%s = %s, not epoch seconds near now", what, n)
	}
}

func TestWireIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// CreateAppInstance answers 201 with the ARN.
	r := e.call(t, "POST", "/app-instances", nil, []byte(`{"Name":"Wire","ClientRequestToken":"wire-token-1"}`))
	if r.status != http.StatusCreated {
		t.Fatalf("CreateAppInstance: status %d, want 201; body %s", r.status, r.body)
	}
	wantRequestID(t, r)
	created := decodeJSON(t, r)
	ai, _ := created["AppInstanceArn"].(string)
	if !appInstanceARNPattern.MatchString(ai) || len(created) != 1 {
		t.Fatalf("CreateAppInstance body %s", r.body)
	}

	// Timestamps are JSON numbers; unset members are absent, not null.
	r = e.call(t, "GET", "/app-instances/"+label(ai), nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("DescribeAppInstance: status %d; body %s", r.status, r.body)
	}
	wantRequestID(t, r)
	desc, _ := decodeJSON(t, r)["AppInstance"].(map[string]any)
	if desc == nil {
		t.Fatalf("DescribeAppInstance body %s", r.body)
	}
	wantEpochNumber(t, "CreatedTimestamp", desc["CreatedTimestamp"])
	wantEpochNumber(t, "LastUpdatedTimestamp", desc["LastUpdatedTimestamp"])
	if _, ok := desc["Metadata"]; ok {
		t.Errorf("Metadata was never set but is in %s", r.body)
	}
	if bytes.Contains(r.body, []byte("null")) {
		t.Errorf("body has a null: %s", r.body)
	}

	// A validation failure: 400, X-Amzn-ErrorType, {"Code","Message"}.
	r = e.call(t, "POST", "/app-instances", nil, []byte(`{"Name":"","ClientRequestToken":"wire-token-2"}`))
	if msg := wantWireError(t, r, 400, "BadRequestException", "BadRequest"); !strings.Contains(msg, "'Name'") {
		t.Errorf("message %q does not name 'Name'", msg)
	}
	// Every missing required member is named.
	r = e.call(t, "POST", "/app-instance-users", nil, []byte(`{}`))
	msg := wantWireError(t, r, 400, "BadRequestException", "BadRequest")
	for _, m := range []string{"AppInstanceArn", "AppInstanceUserId", "Name", "ClientRequestToken"} {
		if !strings.Contains(msg, "'"+m+"'") {
			t.Errorf("message %q does not name '%s'", msg, m)
		}
	}
	// A missing resource: 403 Forbidden.
	r = e.call(t, "GET", "/app-instances/"+label(missingAppInstance), nil, nil)
	wantWireError(t, r, 403, "ForbiddenException", "Forbidden")
	// NotFound where the model has it.
	r = e.call(t, "GET", "/app-instance-bots/"+label(ai+"/bot/nope"), nil, nil)
	wantWireError(t, r, 404, "NotFoundException", "NotFound")
	// A query member out of range.
	r = e.call(t, "GET", "/app-instances", url.Values{"max-results": {"0"}}, nil)
	wantWireError(t, r, 400, "BadRequestException", "BadRequest")
	r = e.call(t, "GET", "/app-instances", url.Values{"max-results": {"ten"}}, nil)
	wantWireError(t, r, 400, "BadRequestException", "BadRequest")

	// A user whose id has ':' and '@', created and deleted through
	// escaped paths; DeleteAppInstanceUser answers 204 without a body.
	r = e.call(t, "POST", "/app-instance-users", nil, []byte(`{"AppInstanceArn":"`+ai+`","AppInstanceUserId":"bob@example.com:1","Name":"Bob","ClientRequestToken":"wire-user"}`))
	if r.status != http.StatusCreated {
		t.Fatalf("CreateAppInstanceUser: status %d; body %s", r.status, r.body)
	}
	user, _ := decodeJSON(t, r)["AppInstanceUserArn"].(string)
	if user != ai+"/user/bob@example.com:1" {
		t.Fatalf("CreateAppInstanceUser ARN %q", user)
	}

	// ListTagsForResource of an untagged resource: "Tags":[] present.
	r = e.call(t, "GET", "/tags", url.Values{"arn": {user}}, nil)
	if r.status != http.StatusOK || string(r.body) != `{"Tags":[]}` {
		t.Errorf("ListTagsForResource untagged: %d %s, want 200 {\"Tags\":[]}", r.status, r.body)
	}
	// TagResource answers 204.
	r = e.call(t, "POST", "/tags", url.Values{"operation": {"tag-resource"}}, []byte(`{"ResourceARN":"`+user+`","Tags":[{"Key":"a","Value":"b"}]}`))
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("TagResource: %d %q, want 204 and no body", r.status, r.body)
	}
	wantRequestID(t, r)

	// Retention settings never set: an empty structure, no timestamp.
	r = e.call(t, "GET", "/app-instances/"+label(ai)+"/retention-settings", nil, nil)
	if r.status != http.StatusOK || string(r.body) != `{"AppInstanceRetentionSettings":{}}` {
		t.Errorf("GetAppInstanceRetentionSettings unset: %d %s", r.status, r.body)
	}
	r = e.call(t, "PUT", "/app-instances/"+label(ai)+"/retention-settings", nil, []byte(`{"AppInstanceRetentionSettings":{"ChannelRetentionSettings":{"RetentionDays":3}}}`))
	if r.status != http.StatusOK {
		t.Fatalf("PutAppInstanceRetentionSettings: %d %s", r.status, r.body)
	}
	wantEpochNumber(t, "InitiateDeletionTimestamp", decodeJSON(t, r)["InitiateDeletionTimestamp"])

	r = e.call(t, "DELETE", "/app-instance-users/"+label(user), nil, nil)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("DeleteAppInstanceUser: %d %q, want 204 and no body", r.status, r.body)
	}
	wantRequestID(t, r)
	r = e.call(t, "GET", "/app-instance-users/"+label(user), nil, nil)
	wantWireError(t, r, 403, "ForbiddenException", "Forbidden")
}

func TestWireFrontDoor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// No operation at this path: 404 UnknownOperationException.
	r := e.call(t, "GET", "/no-such-operation", nil, nil)
	wantWireError(t, r, 404, "UnknownOperationException", "UnknownOperationException")
	// A known path with a method it does not have.
	r = e.call(t, "PATCH", "/app-instances", nil, []byte(`{}`))
	wantWireError(t, r, 404, "UnknownOperationException", "UnknownOperationException")

	// Malformed JSON: 400 SerializationException.
	r = e.call(t, "POST", "/app-instances", nil, []byte(`{"Name":"x",`))
	wantWireError(t, r, 400, "SerializationException", "SerializationException")
	// A member of the wrong JSON type.
	r = e.call(t, "POST", "/app-instances", nil, []byte(`{"Name":5,"ClientRequestToken":"tok-1"}`))
	if msg := wantWireError(t, r, 400, "SerializationException", "SerializationException"); !strings.Contains(msg, "Name") {
		t.Errorf("message %q does not name Name", msg)
	}
	// Not an object.
	r = e.call(t, "POST", "/app-instances", nil, []byte(`["Name"]`))
	wantWireError(t, r, 400, "SerializationException", "SerializationException")

	// A body over 1 MiB: 400, and nothing created.
	big := []byte(`{"Name":"big","ClientRequestToken":"tok-big","Metadata":"` + strings.Repeat("m", 1<<20) + `"}`)
	r = e.call(t, "POST", "/app-instances", nil, big)
	wantWireError(t, r, 400, "BadRequestException", "BadRequest")
	r = e.call(t, "GET", "/app-instances", nil, nil)
	if r.status != http.StatusOK || string(r.body) != `{"AppInstances":[]}` {
		t.Errorf("ListAppInstances after refused requests: %d %s", r.status, r.body)
	}
	wantRequestID(t, r)

	// Request ids are unique.
	a, b := e.call(t, "GET", "/app-instances", nil, nil), e.call(t, "GET", "/app-instances", nil, nil)
	if a.header.Get("x-amzn-RequestId") == b.header.Get("x-amzn-RequestId") {
		t.Errorf("two requests share the id %q", a.header.Get("x-amzn-RequestId"))
	}
}
