// Package webhook is how Carillon calls the HTTP endpoints an operator
// points it at: channel flow processors (package flows), the push webhook
// (package push) and the streaming export's webhooks (package stream). It
// POSTs JSON bodies, signed with a shared secret, and reads the answer.
//
// A request is signed with one header:
//
//	X-Carillon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The receiver recomputes the HMAC over the timestamp, a dot and the raw
// body with the shared secret, compares it in constant time, and rejects
// timestamps too far from its own clock, which stops replays (Verify does
// all three; docs/channel-flows.md shows it in other languages).
//
// The package is public so that receivers written in Go can verify with
// Verify. Retrying is left to the callers: each keeps its own progress (a
// flow's invocation in the store, the export's cursor, the devices a push
// has yet to reach) and retries from there.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a request.
const SignatureHeader = "X-Carillon-Signature"

// DefaultTolerance is how far from the receiver's clock Verify accepts a
// signature's timestamp.
const DefaultTolerance = 5 * time.Minute

// Sign returns the SignatureHeader value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signature(secret, ts, body))
}

func signature(secret, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// Errors of Verify.
var (
	ErrNoSignature       = errors.New("webhook: no valid " + SignatureHeader + " header")
	ErrSignatureMismatch = errors.New("webhook: the signature does not match the body")
	ErrSignatureExpired  = errors.New("webhook: the signature's timestamp is outside the tolerance")
)

// Verify checks a SignatureHeader value against the raw body: one of its
// v1 signatures (there may be several while a secret is rotated) must be
// the HMAC of "<t>.<body>", and t within tolerance of now (tolerance <= 0:
// DefaultTolerance).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := signature(secret, ts, body)
	ok := false
	for _, s := range sigs {
		ok = hmac.Equal(s, want) || ok
	}
	if !ok {
		return ErrSignatureMismatch
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	return nil
}

// DefaultMaxAnswer is how much of an answer's body Client reads when
// MaxAnswer is 0.
const DefaultMaxAnswer = 64 << 10

// Client POSTs JSON bodies to webhooks. The zero value sends unsigned
// requests with http.DefaultClient.
type Client struct {
	// HTTP sends the requests (nil: http.DefaultClient).
	HTTP *http.Client
	// Secret signs every request (SignatureHeader); "" sends them
	// unsigned.
	Secret string
	// UserAgent names the sender; "" leaves the HTTP client's.
	UserAgent string
	// Header is added to every request.
	Header http.Header
	// Timeout bounds one request, its answer read included; 0 leaves
	// the bound to the caller's context.
	Timeout time.Duration
	// MaxAnswer bounds the body of the answer that is read (0:
	// DefaultMaxAnswer); the rest is left unread.
	MaxAnswer int64
}

// Answer is a webhook's answer.
type Answer struct {
	StatusCode int
	Status     string // e.g. "200 OK"
	Body       []byte // at most the client's MaxAnswer bytes
}

// OK reports a 2xx answer.
func (a *Answer) OK() bool { return a.StatusCode/100 == 2 }

// ErrRequest is the failure to build a request, for a URL that cannot be
// sent to: retrying cannot mend it.
var ErrRequest = errors.New("webhook: the request cannot be made")

// Post POSTs body (JSON) to url and returns the answer, of whatever
// status. With an error, the answer is nil when none came, and has no
// Body when the body could not be read.
func (c *Client) Post(ctx context.Context, url string, body []byte) (*Answer, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(c.Secret, time.Now(), body))
	}
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := c.MaxAnswer
	if limit <= 0 {
		limit = DefaultMaxAnswer
	}
	a := &Answer{StatusCode: resp.StatusCode, Status: resp.Status}
	if a.Body, err = io.ReadAll(io.LimitReader(resp.Body, limit)); err != nil {
		a.Body = nil
		return a, fmt.Errorf("reading the answer: %w", err)
	}
	return a, nil
}
