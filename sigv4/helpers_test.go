package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Fixed test clock: requests are signed at signTime and verified a little
// later, so every test is deterministic.
var (
	signTime   = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	verifyTime = signTime.Add(30 * time.Second)
)

const (
	testRegion  = "us-east-1"
	testService = "chime"

	akid       = "AKIDEXAMPLE"
	secret     = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	akidToken  = "ASIASESSION"
	sessionTok = "FwoGZXIvYXdzEBYaDH+session/token=="
	akidOld    = "ASIAEXPIRED"

	// A Chime channel ARN as the SDKs put it in a path label: ':' and '/'
	// percent-encoded.
	channelARN     = "arn:aws:chime:us-east-1:111122223333:app-instance/abc/channel/c1"
	channelARNPath = "arn%3Aaws%3Achime%3Aus-east-1%3A111122223333%3Aapp-instance%2Fabc%2Fchannel%2Fc1"
	userARN        = "arn:aws:chime:us-east-1:111122223333:app-instance/abc/user/u1"
)

func testCredentials() StaticCredentials {
	return StaticCredentials{
		akid:      {AccessKeyID: akid, SecretAccessKey: secret},
		akidToken: {AccessKeyID: akidToken, SecretAccessKey: secret, SessionToken: sessionTok, Expires: signTime.Add(time.Hour)},
		akidOld:   {AccessKeyID: akidOld, SecretAccessKey: secret, SessionToken: sessionTok, Expires: signTime.Add(-time.Minute)},
	}
}

func newTestVerifier(now time.Time) *Verifier {
	return &Verifier{
		Service:     testService,
		Region:      testRegion,
		Credentials: testCredentials(),
		Now:         func() time.Time { return now },
	}
}

func awsCreds(id, tok string) aws.Credentials {
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: tok}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signGoV2 signs req in place with aws-sdk-go-v2's signer, the way the Go
// SDK does for a REST-JSON call.
func signGoV2(t testing.TB, req *http.Request, payloadHash string, creds aws.Credentials, region, service string, at time.Time) {
	t.Helper()
	err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, service, region, at)
	if err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
}

// replayServer is a real net/http server that hands each request it
// receives, body read, to the current check. Tests must see requests the
// way the server does: net/http moves Host into r.Host, may move
// Content-Length, and keeps the path's escaping only in RawPath.
type replayServer struct {
	*httptest.Server
	mu    sync.Mutex
	check func(r *http.Request, body []byte) (Credential, error)
	out   chan verifyResult
}

type verifyResult struct {
	cred Credential
	err  error
}

func newReplayServer(t testing.TB) *replayServer {
	s := &replayServer{out: make(chan verifyResult, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s.out <- verifyResult{err: err}
			return
		}
		s.mu.Lock()
		check := s.check
		s.mu.Unlock()
		c, err := check(r, body)
		s.out <- verifyResult{c, err}
	}))
	t.Cleanup(s.Close)
	return s
}

// do sends req and returns what check made of it on the server side.
func (s *replayServer) do(t testing.TB, req *http.Request, check func(r *http.Request, body []byte) (Credential, error)) (Credential, error) {
	t.Helper()
	s.mu.Lock()
	s.check = check
	s.mu.Unlock()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("sending request: %v", err)
	}
	resp.Body.Close()
	r := <-s.out
	return r.cred, r.err
}

func verifyWith(v *Verifier) func(*http.Request, []byte) (Credential, error) {
	return v.VerifyRequest
}

func presignedWith(v *Verifier, opt PresignOptions) func(*http.Request, []byte) (Credential, error) {
	return func(r *http.Request, _ []byte) (Credential, error) { return v.VerifyPresigned(r, opt) }
}

// serverSide round-trips req through the HTTP/1.1 wire format and
// net/http's request parser (the one the server uses), for tests that need
// a server-view request without a network round trip.
func serverSide(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("writing request: %v", err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("reading request: %v", err)
	}
	return r
}

// wantResult asserts acceptance (wantType == "") or rejection with an
// *Error of wantType whose message contains wantMsg.
func wantResult(t testing.TB, cred Credential, err error, wantType, wantMsg, wantKey string) {
	t.Helper()
	if wantType == "" {
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				t.Fatalf("rejected: %v\nreason: %s", err, e.Reason)
			}
			t.Fatalf("rejected: %v", err)
		}
		if wantKey != "" && cred.AccessKeyID != wantKey {
			t.Fatalf("credential %q, want %q", cred.AccessKeyID, wantKey)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error of type %s", err, wantType)
	}
	if e.Type != wantType {
		t.Fatalf("type %s (%q, reason %q), want %s", e.Type, e.Message, e.Reason, wantType)
	}
	if e.Status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", e.Status)
	}
	if !strings.Contains(e.Message, wantMsg) {
		t.Fatalf("message %q does not contain %q", e.Message, wantMsg)
	}
}

// refSign is a deliberately plain SigV4 signer over an explicit canonical
// request, independent of the package's buffers and caches.
func refSign(secret, amzDate, scope, canonicalRequest string) string {
	mac := func(key []byte, s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	parts := strings.Split(scope, "/")
	k := []byte("AWS4" + secret)
	for _, p := range parts {
		k = mac(k, p)
	}
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonicalRequest))
	return hex.EncodeToString(mac(k, sts))
}

type failingSource struct{}

func (failingSource) LookupCredential(context.Context, string) (Credential, error) {
	return Credential{}, errors.New("database is down")
}
