package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseAuthorizationSpacing(t *testing.T) {
	want := authorization{Algorithm: algorithmHMAC, Credential: "AKID/20240101/us-east-1/chime/aws4_request",
		SignedHeaders: "host;x-amz-date", Signature: "abcd"}
	for i, h := range []string{
		// 1. What every SDK emits.
		"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/chime/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
		// 2. No spaces after commas (older hand-rolled signers).
		"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/chime/aws4_request,SignedHeaders=host;x-amz-date,Signature=abcd",
		// 3. Space before commas, tabs, doubled spaces, trailing comma.
		"  AWS4-HMAC-SHA256\tCredential=AKID/20240101/us-east-1/chime/aws4_request ,  SignedHeaders=host;x-amz-date ,\tSignature=abcd, ",
		// 4. Other order, plus an unknown parameter (ignored).
		"AWS4-HMAC-SHA256 Signature=abcd, Foo=bar, SignedHeaders=host;x-amz-date, Credential=AKID/20240101/us-east-1/chime/aws4_request",
	} {
		got, err := parseAuthorization(h)
		if err != nil || got != want {
			t.Errorf("%d: got %+v, %v", i+1, got, err)
		}
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	for i, tc := range []struct{ h, msg string }{
		// 1. A space inside the credential, AWS's classic example.
		{"AWS4-HMAC-SHA256 Credential=AKID /20240101/us-east-1/chime/aws4_request, SignedHeaders=host, Signature=ab",
			"'/20240101/us-east-1/chime/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header"},
		// 2. A non-SigV4 scheme.
		{"Bearer abc.def", "Unsupported AWS 'algorithm': 'Bearer'."},
		// 3. Only commas and blanks.
		{" , ", "Authorization header requires 'Credential' parameter."},
		// 4. A parameter given twice.
		{"AWS4-HMAC-SHA256 Signature=a, Signature=b", "duplicate 'Signature'"},
	} {
		_, err := parseAuthorization(tc.h)
		if err == nil || err.Type != TypeIncompleteSignature || !strings.Contains(err.Message, tc.msg) {
			t.Errorf("%d: %v, want IncompleteSignatureException containing %q", i+1, err, tc.msg)
		}
	}
}

func TestMissingAuthMessage(t *testing.T) {
	got := missingAuthMessage(authorization{Credential: "ABCDEF"}, true, "AWS4-HMAC-SHA256 Credential=ABCDEF")
	want := "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. " +
		"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " +
		"Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestParseCredential(t *testing.T) {
	c, ok := parseCredential("AKID/20240101/us-east-1/chime/aws4_request")
	if !ok || c.AccessKeyID != "AKID" || c.Date != "20240101" || c.Region != "us-east-1" ||
		c.Service != "chime" || c.Terminator != "aws4_request" || c.Scope != "20240101/us-east-1/chime/aws4_request" {
		t.Fatalf("got %+v %v", c, ok)
	}
	for _, s := range []string{"", "AKID", "AKID/20240101/us-east-1/chime", "AKID/20240101/us-east-1/chime/aws4_request/x"} {
		if _, ok := parseCredential(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestParseAmzDate(t *testing.T) {
	if got, ok := parseAmzDate("20240229T235959Z"); !ok || !got.Equal(time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)) {
		t.Fatalf("got %v %v", got, ok)
	}
	for _, s := range []string{"", "20240101T000000", "2024-01-01T00:00:00Z", "20240230T000000Z", "20241301T000000Z",
		"20240101T240000Z", "20240101T006000Z", "2024010aT000000Z", "20240101t000000Z", "+0240101T000000Z"} {
		if _, ok := parseAmzDate(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/channels/" + channelARNPath + "/messages",
			"/channels/arn%253Aaws%253Achime%253Aus-east-1%253A111122223333%253Aapp-instance%252Fabc%252Fchannel%252Fc1/messages"},
		{"/a b/~x/!y", "/a%20b/~x/%21y"},
	} {
		if got := string(appendCanonicalURI(nil, tc.in)); got != tc.want {
			t.Errorf("%q: got %q want %q", tc.in, got, tc.want)
		}
	}
}

// TestNormalizePath pins botocore's remove_dot_segments behaviour, which
// @smithy/signature-v4's getCanonicalPath matches.
func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/a/b", "/a/b"},
		{"/a//b/", "/a/b/"},
		{"/a/./b/../c", "/a/c"},
		{"/..", "/"},
		{"/../a", "/a"},
		{"/a/..", "/"},
		{"//", "/"},
		{"/a/.hidden", "/a/.hidden"},
		{"/a/%2E%2E/b", "/a/%2E%2E/b"},
	} {
		if got := normalizePath(tc.in); got != tc.want {
			t.Errorf("%q: got %q want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendHeaderValue(t *testing.T) {
	for _, tc := range []struct {
		in          string
		tabs        bool
		want        string
		wantSawTabs bool
	}{
		{"  a   b  ", false, "a b", false},
		{"a\tb", false, "a\tb", true},
		{"a \t  b", true, "a b", true},
		{"\t a \t", false, "a", false},
		{"", false, "", false},
	} {
		got, saw := appendHeaderValue(nil, tc.in, tc.tabs)
		if string(got) != tc.want || saw != tc.wantSawTabs {
			t.Errorf("%q tabs=%v: got %q %v", tc.in, tc.tabs, got, saw)
		}
	}
}

// TestMovedHeaders checks that headers net/http keeps outside r.Header are
// rebuilt for the canonical form.
func TestMovedHeaders(t *testing.T) {
	r, _ := http.NewRequest("POST", "http://h.example/", nil)
	r.Host = "h.example:8080"
	r.ContentLength = 42
	r.TransferEncoding = []string{"chunked"}
	got, _ := appendCanonicalHeaders(nil, r, r.Host, "content-length;host;transfer-encoding", false)
	want := "content-length:42\nhost:h.example:8080\ntransfer-encoding:chunked\n"
	if string(got) != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

// TestSigningKeyMAC checks the precomputed-pad HMAC against crypto/hmac.
func TestSigningKeyMAC(t *testing.T) {
	sk := deriveSigningKey(secret, "20240101", testRegion, testService)
	k := []byte("AWS4" + secret)
	for _, p := range []string{"20240101", testRegion, testService, "aws4_request"} {
		k = hmacSHA256(k, p)
	}
	for _, msg := range []string{"", "x", strings.Repeat("string to sign ", 40)} {
		got := sk.mac(append(sk.ipad[:len(sk.ipad):len(sk.ipad)], msg...))
		m := hmac.New(sha256.New, k)
		m.Write([]byte(msg))
		if !hmac.Equal(got[:], m.Sum(nil)) {
			t.Fatalf("mac mismatch for %q", msg)
		}
	}
}

func TestKeyCacheBoundedAndConcurrent(t *testing.T) {
	var c keyCache
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < keyCacheSize; i++ {
				c.get(fmt.Sprint("secret", i%(keyCacheSize/2+g*100)), "20240101", testRegion, testService)
			}
		}()
	}
	wg.Wait()
	if n := len(c.m); n > keyCacheSize {
		t.Fatalf("cache holds %d entries, bound is %d", n, keyCacheSize)
	}
	a := c.get(secret, "20240101", testRegion, testService)
	if b := c.get(secret, "20240101", testRegion, testService); a != b {
		t.Fatal("second lookup did not hit the cache")
	}
	if *a != *deriveSigningKey(secret, "20240101", testRegion, testService) {
		t.Fatal("cached key differs from a fresh derivation")
	}
}

func TestCredentialSourceError(t *testing.T) {
	v := newTestVerifier(verifyTime)
	v.Credentials = failingSource{}
	req := mustRequest(t, "GET", "http://chime.local/app-instances", "")
	signGoV2(t, req, sha256Hex(nil), awsCreds(akid, ""), testRegion, testService, signTime)
	_, err := v.VerifyRequest(serverSide(t, req), nil)
	var e *Error
	if err == nil || strings.Contains(err.Error(), "Exception") || errors.As(err, &e) {
		t.Fatalf("got %v, want a plain (internal) error", err)
	}
}

func TestRedactToken(t *testing.T) {
	cr := "GET\n/connect\nX-Amz-Date=1&X-Amz-Security-Token=c2VjcmV0%2F&a=b\nhost:h\nx-amz-security-token:c2VjcmV0\n\nhost;x-amz-security-token\nff"
	got := redactToken(cr)
	if strings.Contains(got, "c2VjcmV0") || strings.Count(got, "<redacted>") != 2 {
		t.Fatalf("token not redacted:\n%s", got)
	}
}

func TestPresignDuplicateParam(t *testing.T) {
	_, err := collectPresignParams(parseQuery("X-Amz-Date=&X-Amz-Date=20240101T000000Z"))
	if err == nil || err.Type != TypeIncompleteSignature {
		t.Fatalf("got %v", err)
	}
}
