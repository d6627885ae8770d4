package flows

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carillonhq/carillon/api/messagingapi"
)

// SignatureHeader carries the signature of a request to an HTTP processor:
//
//	X-Carillon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The receiver recomputes the HMAC over the timestamp, a dot and the raw
// body with the shared secret, compares it in constant time, and rejects
// timestamps too far from its own clock, which stops replays
// (VerifySignature does all three).
const SignatureHeader = "X-Carillon-Signature"

// DefaultSignatureTolerance is how far from the receiver's clock
// VerifySignature accepts a signature's timestamp.
const DefaultSignatureTolerance = 5 * time.Minute

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

// Errors of VerifySignature.
var (
	ErrNoSignature       = errors.New("flows: no valid " + SignatureHeader + " header")
	ErrSignatureMismatch = errors.New("flows: the signature does not match the body")
	ErrSignatureExpired  = errors.New("flows: the signature's timestamp is outside the tolerance")
)

// VerifySignature checks a SignatureHeader value against the raw body:
// one of its v1 signatures (there may be several while a secret is
// rotated) must be the HMAC of "<t>.<body>", and t within tolerance of
// now (tolerance <= 0: DefaultSignatureTolerance).
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultSignatureTolerance
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

// maxAnswer bounds the body of a processor's answer.
const maxAnswer = 1 << 20

// httpInvoker POSTs processor events to HTTP processors.
type httpInvoker struct {
	client *http.Client
	secret string
}

// invoke POSTs the event to url. A 200 answer with a body is the
// processor's callback, given synchronously (a Carillon extension);
// 202, 204, and any other 2xx answer (200 without a body included) mean
// the processor will call ChannelFlowCallback itself.
func (h *httpInvoker) invoke(ctx context.Context, url string, event []byte) (*messagingapi.ChannelFlowCallbackRequest, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return nil, permanent(fmt.Errorf("processor URL %s: %w", url, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Carillon channel flows")
	if h.secret != "" {
		req.Header.Set(SignatureHeader, Sign(h.secret, time.Now(), event))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("reading the processor's answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusOK && len(bytes.TrimSpace(body)) > 0:
		var cb messagingapi.ChannelFlowCallbackRequest
		if err := json.Unmarshal(body, &cb); err != nil {
			return nil, fmt.Errorf("the processor answered 200 with a body that is not a callback: %v", err)
		}
		return &cb, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil, nil
	}
	return nil, fmt.Errorf("the processor answered %s: %s", resp.Status, snippet(body))
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
