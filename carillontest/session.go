package carillontest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon/hub"
	"github.com/carillonhq/carillon/server"
)

// ConnectURL presigns a messaging-session URL the way amazon-chime-sdk-js
// does: GET wss://<endpoint>/connect?userArn=…&sessionId=…, service chime,
// X-Amz-Expires=10, signed for the host GetMessagingSessionEndpoint
// answers. extra adds query parameters, such as prefetch-on=connect.
func (s *Server) ConnectURL(t testing.TB, cfg aws.Config, userARN, sessionID string, extra url.Values) string {
	t.Helper()
	return s.ConnectURLAt(t, cfg, userARN, sessionID, extra, time.Now())
}

// ConnectURLAt is ConnectURL signed as at signedAt (X-Amz-Date), for
// tests of expiry and clock skew.
func (s *Server) ConnectURLAt(t testing.TB, cfg aws.Config, userARN, sessionID string, extra url.Values, signedAt time.Time) string {
	t.Helper()
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("carillontest: credentials: %v", err)
	}
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	q.Set("userArn", userARN)
	q.Set("sessionId", sessionID)
	q.Set("X-Amz-Expires", "10")
	u := "wss://" + strings.TrimPrefix(s.TLSEndpoint, "https://") + "/connect?" + q.Encode()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatalf("carillontest: %v", err)
	}
	empty := sha256.Sum256(nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hex.EncodeToString(empty[:]), "chime", s.Region, signedAt)
	if err != nil {
		t.Fatalf("carillontest: presign: %v", err)
	}
	return signed
}

// WithHubConfig tunes the messaging sessions (queue bound, ping
// interval, timeouts), for tests of slow consumers and keepalives.
func WithHubConfig(c hub.Config) Option {
	return func(sc *server.Config) { sc.Hub = c }
}

// Dialer returns a websocket dialer that trusts the server's certificate.
func (s *Server) Dialer() *websocket.Dialer {
	return &websocket.Dialer{
		TLSClientConfig:  &tls.Config{RootCAs: s.CertPool, MinVersion: tls.VersionTLS12},
		HandshakeTimeout: 10 * time.Second,
	}
}

// WithSessionResumeWindow sets how long a messaging session resumes after
// it ends (server.Config.SessionResumeWindow; negative: off).
func WithSessionResumeWindow(d time.Duration) Option {
	return func(sc *server.Config) { sc.SessionResumeWindow = d }
}
