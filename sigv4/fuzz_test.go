package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseAuthorization: the parser never panics, fails only with
// IncompleteSignatureException, and a complete parse survives a
// format-and-parse round trip.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/chime/aws4_request, SignedHeaders=host;x-amz-date, Signature=0f")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/chime/aws4_request,SignedHeaders=host,Signature=")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if err.Type != TypeIncompleteSignature || err.Status != http.StatusForbidden {
				t.Fatalf("unexpected error %+v", err)
			}
			return
		}
		if a.Algorithm != algorithmHMAC {
			t.Fatalf("accepted algorithm %q", a.Algorithm)
		}
		for _, v := range []string{a.Credential, a.SignedHeaders, a.Signature} {
			if strings.ContainsAny(v, ", \t") {
				t.Fatalf("value %q contains a separator", v)
			}
		}
		if a.Credential == "" || a.SignedHeaders == "" || a.Signature == "" {
			return
		}
		b, err := parseAuthorization(a.String())
		if err != nil || b != a {
			t.Fatalf("round trip: %+v -> %q -> %+v, %v", a, a.String(), b, err)
		}
	})
}

// fuzzNow is inside every seed's validity window, including the 10-second
// presigned one.
var fuzzNow = signTime.Add(5 * time.Second)

// fuzzInput is one FuzzVerifyRequest input: method, request target,
// Authorization, X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256
// and body.
type fuzzInput [7]string

// fuzzSeeds are genuinely signed requests, so the fuzzer starts on the
// accepting path and mutates outwards from it.
func fuzzSeeds(tb testing.TB) []fuzzInput {
	from := func(req *http.Request, body string) fuzzInput {
		return fuzzInput{req.Method, req.URL.RequestURI(), req.Header.Get("Authorization"), req.Header.Get("X-Amz-Date"),
			req.Header.Get("X-Amz-Security-Token"), req.Header.Get("X-Amz-Content-Sha256"), body}
	}
	post := mustRequest(tb, "POST", "http://chime.local/channels/"+channelARNPath+"/messages", jsonBody)
	signGoV2(tb, post, sha256Hex([]byte(jsonBody)), awsCreds(akid, ""), testRegion, testService, signTime)

	get := mustRequest(tb, "GET", "http://chime.local/channels?max-results=5&app-instance-arn="+url.QueryEscape(userARN), "")
	get.Header.Set("X-Amz-Content-Sha256", sha256Hex(nil))
	signGoV2(tb, get, sha256Hex(nil), awsCreds(akidToken, sessionTok), testRegion, testService, signTime)

	return []fuzzInput{
		from(post, jsonBody),
		from(get, ""),
		// Presigned: no Authorization header.
		{"GET", clientPresign(encodeURIComponent, akid, "", "chime.local", signTime, connectParams), "", "", "", "", ""},
	}
}

// fuzzRequest builds a server-side-looking request from a fuzz input, or
// nil when the target is not a valid request URI.
func fuzzRequest(in fuzzInput) *http.Request {
	method, target, body := in[0], in[1], in[6]
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil
	}
	r := (&http.Request{Method: method, URL: u, Host: "chime.local", Header: http.Header{},
		ContentLength: int64(len(body)), RequestURI: target}).WithContext(context.Background())
	for i, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
		if in[2+i] != "" {
			r.Header.Set(k, in[2+i])
		}
	}
	return r
}

func TestFuzzSeedsVerify(t *testing.T) {
	v := newTestVerifier(fuzzNow)
	for i, in := range fuzzSeeds(t) {
		if _, err := v.VerifyRequest(fuzzRequest(in), []byte(in[6])); err != nil {
			t.Errorf("seed %d rejected: %v", i, err)
		}
	}
}

// FuzzVerifyRequest: arbitrary method, request target, auth headers and
// body never panic, and whatever verifies depends on the secret and the
// body: the same request must fail under a different secret, and (unless
// the payload is unsigned) with one more byte of body.
func FuzzVerifyRequest(f *testing.F) {
	for _, in := range fuzzSeeds(f) {
		f.Add(in[0], in[1], in[2], in[3], in[4], in[5], in[6])
	}
	v := newTestVerifier(fuzzNow)
	wrong := newTestVerifier(fuzzNow)
	wrongCreds := testCredentials()
	for k, c := range wrongCreds {
		c.SecretAccessKey += "x"
		wrongCreds[k] = c
	}
	wrong.Credentials = wrongCreds
	strict := newTestVerifier(fuzzNow)
	strict.RequireSigned = []string{"x-amz-chime-bearer"}

	f.Fuzz(func(t *testing.T, method, target, authz, amzDate, token, contentSHA, body string) {
		r := fuzzRequest(fuzzInput{method, target, authz, amzDate, token, contentSHA, body})
		if r == nil {
			return
		}
		_, perr := v.VerifyPresigned(r, PresignOptions{Host: "Chime.Local"})
		checkErr(t, perr)
		cred, err := v.VerifyRequest(r, []byte(body))
		checkErr(t, err)
		if err != nil {
			return
		}
		if cred.AccessKeyID == "" {
			t.Fatal("accepted without an access key id")
		}
		if _, err := wrong.VerifyRequest(r, []byte(body)); err == nil {
			t.Fatal("verified under a different secret")
		}
		// A bearer header the signature does not cover is refused; one it
		// covers was already there, and verifies as before.
		if _, err := strict.VerifyRequest(r, []byte(body)); err != nil && r.Header.Get("X-Amz-Chime-Bearer") == "" {
			t.Fatalf("RequireSigned refused a request without the header: %v", err)
		}
		if r.Header.Values("X-Amz-Chime-Bearer") == nil {
			r.Header.Set("X-Amz-Chime-Bearer", "arn:aws:chime:us-east-1:111122223333:app-instance/abc/user/eve")
			_, err := strict.VerifyRequest(r, []byte(body))
			checkErr(t, err)
			if err == nil {
				t.Fatal("verified with an unsigned x-amz-chime-bearer")
			}
			r.Header.Del("X-Amz-Chime-Bearer")
		}
		if contentSHA != unsignedPayload && r.URL.Query().Get("X-Amz-Content-Sha256") != unsignedPayload {
			if _, err := v.VerifyRequest(r, []byte(body+"x")); err == nil {
				t.Fatal("verified with a different body")
			}
		}
	})
}

// checkErr: every failure is an *Error with a known type and status 403.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("non-*Error failure: %v", err)
	}
	switch e.Type {
	case TypeIncompleteSignature, TypeInvalidSignature, TypeUnrecognizedClient,
		TypeMissingAuthenticationToken, TypeExpiredToken:
	default:
		t.Fatalf("unknown type %q", e.Type)
	}
	if e.Status != http.StatusForbidden || e.Message == "" {
		t.Fatalf("bad error %+v", e)
	}
}
