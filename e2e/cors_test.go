package e2e

// CORS tests: what a browser asks before and reads after a cross-origin
// request, on the raw HTTP exchange, on both listeners. The browser
// itself is in e2e/browser.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/hub"
	"github.com/carillonhq/carillon/server"
)

const (
	corsExposed = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date"
	corsMethods = "DELETE, GET, POST, PUT"
	pageOrigin  = "http://127.0.0.1:5173"
)

// corsRequestedHeaders is what the AWS SDK for JavaScript asks for in a
// browser, and one header the API does not read.
const corsRequestedHeaders = "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-chime-bearer,x-amz-content-sha256,x-amz-date,x-amz-security-token,x-amz-user-agent,x-app-trace"

func withCORSOrigins(origins ...string) carillontest.Option {
	return func(c *server.Config) { c.CORSOrigins = origins }
}

// corsCall sends one request to base+path with the given headers, signed
// with key when key is not empty.
func corsCall(t *testing.T, srv *carillontest.Server, base, method, path string, header http.Header, key aws.Credentials) wireResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if key.AccessKeyID != "" {
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(t.Context(), key, req, hex.EncodeToString(sum[:]), "chime", srv.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return wireResponse{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}
}

func listeners(srv *carillontest.Server) map[string]string {
	return map[string]string{"http": srv.Endpoint, "https": srv.TLSEndpoint}
}

func preflightHeader(origin, method string) http.Header {
	return http.Header{
		"Origin":                         {origin},
		"Access-Control-Request-Method":  {method},
		"Access-Control-Request-Headers": {corsRequestedHeaders},
	}
}

// wantPreflight checks a preflight's answer for a page of allowOrigin.
func wantPreflight(t *testing.T, r wireResponse, allowOrigin string) {
	t.Helper()
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("preflight: %d %q, want 204 without a body", r.status, r.body)
	}
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":  allowOrigin,
		"Access-Control-Allow-Methods": corsMethods,
		// Asked for and read by the API; x-app-trace is not.
		"Access-Control-Allow-Headers": "amz-sdk-invocation-id, amz-sdk-request, authorization, content-type, x-amz-chime-bearer, x-amz-content-sha256, x-amz-date, x-amz-security-token, x-amz-user-agent",
		"Access-Control-Max-Age":       "7200",
		// A preflight reaches no service: no request id.
		"X-Amzn-Requestid": "",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("preflight %s: %q, want %q", name, got, want)
		}
	}
}

// wantCORS checks that a page of allowOrigin may read r and the headers
// the SDK needs.
func wantCORS(t *testing.T, what string, r wireResponse, allowOrigin string) {
	t.Helper()
	if got := r.header.Get("Access-Control-Allow-Origin"); got != allowOrigin {
		t.Errorf("%s (%d): Access-Control-Allow-Origin %q, want %q", what, r.status, got, allowOrigin)
	}
	if got := r.header.Get("Access-Control-Expose-Headers"); got != corsExposed {
		t.Errorf("%s (%d): Access-Control-Expose-Headers %q, want %q", what, r.status, got, corsExposed)
	}
	if r.header.Get("Date") == "" {
		t.Errorf("%s (%d): no Date header", what, r.status)
	}
}

// TestCORSPreflight: a browser's preflight is answered before any
// signature check, for every route (an unknown one too), on both
// listeners.
func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	srv := carillontest.New(t)
	channel := "/channels/" + label("arn:aws:chime:us-east-1:000000000000:app-instance/a/channel/c") + "/messages"
	for name, base := range listeners(srv) {
		for _, c := range []struct{ method, path string }{
			{"POST", channel},
			{"GET", channel},
			{"PUT", "/app-instances/x"},
			{"DELETE", "/carillon/credentials/CKIA"},
			{"GET", "/no/such/route"},
		} {
			r := corsCall(t, srv, base, http.MethodOptions, c.path, preflightHeader(pageOrigin, c.method), aws.Credentials{})
			t.Run(name+" "+c.method+" "+c.path, func(t *testing.T) { wantPreflight(t, r, "*") })
		}
		// An OPTIONS that is not a preflight is an API request like any
		// other: unsigned, it is refused as AWS refuses it.
		r := corsCall(t, srv, base, http.MethodOptions, "/app-instances", http.Header{"Origin": {pageOrigin}}, aws.Credentials{})
		wantWireError(t, r, http.StatusForbidden, "MissingAuthenticationTokenException", "MissingAuthenticationTokenException")
		wantCORS(t, name+" OPTIONS without Access-Control-Request-Method", r, "*")
	}
}

// TestCORSExposedHeaders: every answer a page may get, success or each
// kind of error, lets it read the request id, the error type and Date,
// on both listeners.
func TestCORSExposedHeaders(t *testing.T) {
	t.Parallel()
	srv := carillontest.New(t)
	root := aws.Credentials{AccessKeyID: srv.Root.AccessKeyID, SecretAccessKey: srv.Root.SecretAccessKey}
	wrong := aws.Credentials{AccessKeyID: srv.Root.AccessKeyID, SecretAccessKey: "not-the-secret"}
	unknown := aws.Credentials{AccessKeyID: "CKIANOSUCHKEYNOSUCHK", SecretAccessKey: "x"}
	origin := http.Header{"Origin": {pageOrigin}}
	missing := "/app-instances/" + label("arn:aws:chime:us-east-1:000000000000:app-instance/none")
	for name, base := range listeners(srv) {
		for _, c := range []struct {
			what, method, path string
			key                aws.Credentials
			status             int
			errType            string
		}{
			{"success", "GET", "/app-instances", root, 200, ""},
			{"no signature", "GET", "/app-instances", aws.Credentials{}, 403, "MissingAuthenticationTokenException"},
			{"bad signature", "GET", "/app-instances", wrong, 403, "InvalidSignatureException"},
			{"unknown key", "GET", "/app-instances", unknown, 403, "UnrecognizedClientException"},
			{"unknown route", "GET", "/no/such/route", root, 404, "UnknownOperationException"},
			{"service error", "GET", missing, root, 403, "ForbiddenException"},
			{"own API, unsigned", "POST", "/carillon/credentials", aws.Credentials{}, 403, "MissingAuthenticationTokenException"},
			{"own API, unknown route", "GET", "/carillon/nothing", root, 404, "UnknownOperationException"},
			{"health", "GET", "/healthz", aws.Credentials{}, 200, ""},
			{"websocket without upgrade", "GET", "/connect", aws.Credentials{}, 400, ""},
		} {
			r := corsCall(t, srv, base, c.method, c.path, origin, c.key)
			if r.status != c.status {
				t.Errorf("%s %s: status %d, want %d (%s)", name, c.what, r.status, c.status, r.body)
			}
			if got := r.header.Get("X-Amzn-ErrorType"); got != c.errType {
				t.Errorf("%s %s: X-Amzn-ErrorType %q, want %q", name, c.what, got, c.errType)
			}
			if strings.HasPrefix(c.path, "/carillon") || c.path == "/app-instances" || c.path == missing || c.path == "/no/such/route" {
				wantRequestID(t, r)
			}
			wantCORS(t, name+" "+c.what, r, "*")
		}
	}

	// A 5xx: the store fails under the API.
	broken := carillontest.New(t)
	if err := broken.Server.Store().Close(); err != nil {
		t.Fatal(err)
	}
	rootB := aws.Credentials{AccessKeyID: broken.Root.AccessKeyID, SecretAccessKey: broken.Root.SecretAccessKey}
	for name, base := range listeners(broken) {
		r := corsCall(t, broken, base, "GET", "/app-instances", origin, rootB)
		wantWireError(t, r, http.StatusInternalServerError, "ServiceFailureException", "ServiceFailure")
		wantCORS(t, name+" store failure", r, "*")
		r = corsCall(t, broken, base, "GET", "/healthz", origin, aws.Credentials{})
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s healthz with a closed store: %d", name, r.status)
		}
		wantCORS(t, name+" health failure", r, "*")
	}
}

// TestCORSOrigins: with a list of origins, a listed one gets its own
// origin back, any other gets no CORS header (and a refused preflight);
// the same list applies to the Origin of a websocket.
func TestCORSOrigins(t *testing.T) {
	t.Parallel()
	const allowed, other = "http://127.0.0.1:5173", "https://evil.example"
	e := wsNew(t, withCORSOrigins(allowed, "https://chat.example.com:443"))
	srv := e.srv
	root := aws.Credentials{AccessKeyID: srv.Root.AccessKeyID, SecretAccessKey: srv.Root.SecretAccessKey}
	for name, base := range listeners(srv) {
		for _, o := range []string{allowed, "https://chat.example.com"} {
			r := corsCall(t, srv, base, http.MethodOptions, "/app-instances", preflightHeader(o, "POST"), aws.Credentials{})
			wantPreflight(t, r, o)
			if !strings.Contains(r.header.Get("Vary"), "Origin") {
				t.Errorf("%s preflight from %s: Vary %q", name, o, r.header.Get("Vary"))
			}
			r = corsCall(t, srv, base, "GET", "/app-instances", http.Header{"Origin": {o}}, root)
			if r.status != 200 {
				t.Errorf("%s from %s: %d %s", name, o, r.status, r.body)
			}
			wantCORS(t, name+" from "+o, r, o)
			r = corsCall(t, srv, base, "GET", "/app-instances", http.Header{"Origin": {o}}, aws.Credentials{})
			wantCORS(t, name+" unsigned from "+o, r, o)
		}

		r := corsCall(t, srv, base, http.MethodOptions, "/app-instances", preflightHeader(other, "POST"), aws.Credentials{})
		wantWireError(t, r, http.StatusForbidden, "ForbiddenException", "ForbiddenException")
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
			if v := r.header.Get(h); v != "" {
				t.Errorf("%s refused preflight: %s %q", name, h, v)
			}
		}
		// The request itself is served (the signature decides what it
		// may do), but the page may not read the answer.
		r = corsCall(t, srv, base, "GET", "/app-instances", http.Header{"Origin": {other}}, root)
		if r.status != 200 {
			t.Errorf("%s from %s: %d %s", name, other, r.status, r.body)
		}
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers"} {
			if v := r.header.Get(h); v != "" {
				t.Errorf("%s from %s: %s %q", name, other, h, v)
			}
		}
		if !strings.Contains(r.header.Get("Vary"), "Origin") {
			t.Errorf("%s from %s: Vary %q", name, other, r.header.Get("Vary"))
		}
		// Without Origin (not a browser), nothing changes.
		r = corsCall(t, srv, base, "GET", "/app-instances", nil, root)
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s without Origin: %d, Access-Control-Allow-Origin %q", name, r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
	}

	user := e.user(t, "alice")
	for _, c := range []struct {
		origin string
		code   int // 0: established
	}{
		{"", 0},
		{allowed, 0},
		{"https://chat.example.com", 0},
		{other, hub.CloseForbidden},
	} {
		wantSessionStart(t, e, user, c.origin, c.code)
	}
}

// TestCORSAnyOrigin: the default, "*", lets a websocket of any origin
// connect.
func TestCORSAnyOrigin(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	wantSessionStart(t, e, e.user(t, "alice"), "https://anywhere.example", 0)
}

// wantSessionStart connects user from a page of origin ("": not a
// browser) and reads the first frame: SESSION_ESTABLISHED when code is
// 0, else the close code.
func wantSessionStart(t *testing.T, e *wsEnv, user, origin string, code int) {
	t.Helper()
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	conn, _, err := e.srv.Dialer().DialContext(t.Context(), e.srv.ConnectURL(t, e.srv.Config, user, "s", nil), hdr)
	if err != nil {
		t.Fatalf("connect from %q: %v", origin, err)
	}
	c := &wsConn{Conn: conn, name: "origin " + origin}
	defer c.Close()
	if code == 0 {
		c.expect(t, "SESSION_ESTABLISHED")
		return
	}
	c.expectClose(t, code)
}
