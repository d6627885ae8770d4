package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/carillonhq/carillon"
)

func signed(t *testing.T, method, url string, body []byte, key, secret, token string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token},
		req, hex.EncodeToString(sum[:]), "chime", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestCredentialsAPI issues a per-user key over POST /carillon/credentials
// with the root key, and checks that only root may call it and that an
// expiring key must present its session token.
func TestCredentialsAPI(t *testing.T) {
	ctx := context.Background()
	root := RootCredentials{AccessKeyID: "CKIAROOTROOTROOTROOT", SecretAccessKey: "root-secret"}
	srv, err := New(ctx, Config{DataDir: t.TempDir(), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const app = "arn:aws:chime:us-east-1:000000000000:app-instance/a"
	const user = app + "/user/u"
	if err := srv.Store().Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "a"}); err != nil {
			return err
		}
		return tx.CreateUser(&carillon.AppInstanceUser{ARN: user, AppInstanceARN: app, Name: "u"})
	}); err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	do := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	body, _ := json.Marshal(map[string]any{"Bearer": user, "ExpiresInSeconds": 3600})
	rec := do(signed(t, "POST", "http://127.0.0.1/carillon/credentials", body, root.AccessKeyID, root.SecretAccessKey, ""))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var issued IssuedCredentials
	if err := json.Unmarshal(rec.Body.Bytes(), &issued); err != nil || issued.SessionToken == "" || issued.Bearer != user {
		t.Fatalf("issued %+v %v", issued, err)
	}

	// The user's key may not issue keys.
	rec = do(signed(t, "POST", "http://127.0.0.1/carillon/credentials", body, issued.AccessKeyID, issued.SecretAccessKey, issued.SessionToken))
	if rec.Code != http.StatusForbidden || rec.Header().Get("X-Amzn-ErrorType") != "ForbiddenException" {
		t.Fatalf("user key on the admin API: %d %s", rec.Code, rec.Body)
	}
	// Without its session token the expiring key is not recognized.
	rec = do(signed(t, "GET", "http://127.0.0.1/app-instances", nil, issued.AccessKeyID, issued.SecretAccessKey, ""))
	if rec.Code != http.StatusForbidden || rec.Header().Get("X-Amzn-ErrorType") != "UnrecognizedClientException" {
		t.Fatalf("key without token: %d %s %s", rec.Code, rec.Header().Get("X-Amzn-ErrorType"), rec.Body)
	}
	// With it, the key is recognized but may not call the Identity API.
	rec = do(signed(t, "GET", "http://127.0.0.1/app-instances", nil, issued.AccessKeyID, issued.SecretAccessKey, issued.SessionToken))
	if rec.Code != http.StatusForbidden || rec.Header().Get("X-Amzn-ErrorType") != "ForbiddenException" {
		t.Fatalf("user key on identity: %d %s", rec.Code, rec.Body)
	}
	// Lifetimes out of bounds are refused, however large: counts of
	// seconds that overflowed a Duration once made keys that never
	// expired (2^55) or expired at once (2^64/10^9 + 1).
	for _, secs := range []any{-1, 129601, int64(1) << 55, int64(18446744074), 9223372036854775807, 1e30} {
		b, _ := json.Marshal(map[string]any{"Bearer": user, "ExpiresInSeconds": secs})
		rec = do(signed(t, "POST", "http://127.0.0.1/carillon/credentials", b, root.AccessKeyID, root.SecretAccessKey, ""))
		if rec.Code != http.StatusBadRequest || rec.Header().Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("ExpiresInSeconds %v: %d %s %s", secs, rec.Code, rec.Header().Get("X-Amzn-ErrorType"), rec.Body)
		}
	}
	// The longest lifetime is granted.
	b, _ := json.Marshal(map[string]any{"Bearer": user, "ExpiresInSeconds": 129600})
	rec = do(signed(t, "POST", "http://127.0.0.1/carillon/credentials", b, root.AccessKeyID, root.SecretAccessKey, ""))
	var longest IssuedCredentials
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &longest) != nil || longest.Expiration == nil ||
		time.Until(*longest.Expiration) < MaxCredentialLifetime-time.Minute {
		t.Fatalf("ExpiresInSeconds 129600: %d %s", rec.Code, rec.Body)
	}
	// A key for something that is not a user or bot is refused.
	bad, _ := json.Marshal(map[string]any{"Bearer": app})
	rec = do(signed(t, "POST", "http://127.0.0.1/carillon/credentials", bad, root.AccessKeyID, root.SecretAccessKey, ""))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("key for an AppInstance: %d %s", rec.Code, rec.Body)
	}
	// Revoke it; then it is unknown.
	rec = do(signed(t, "DELETE", "http://127.0.0.1/carillon/credentials/"+issued.AccessKeyID, nil, root.AccessKeyID, root.SecretAccessKey, ""))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	rec = do(signed(t, "GET", "http://127.0.0.1/app-instances", nil, issued.AccessKeyID, issued.SecretAccessKey, issued.SessionToken))
	if rec.Header().Get("X-Amzn-ErrorType") != "UnrecognizedClientException" {
		t.Fatalf("revoked key: %d %s", rec.Code, rec.Body)
	}
	// Unsigned calls are refused before anything else.
	rec = do(httptest.NewRequest("POST", "http://127.0.0.1/carillon/credentials", bytes.NewReader(body)))
	if rec.Code != http.StatusForbidden || rec.Header().Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %d %s", rec.Code, rec.Header().Get("X-Amzn-ErrorType"))
	}
}
