package webhook

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"EventType":"CHANNEL_MESSAGE_EVENT"}`)
	now := time.Unix(1_700_000_000, 0)
	h := Sign("s3cret", now, body)
	if !strings.HasPrefix(h, "t=1700000000,v1=") || len(h) != len("t=1700000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := Verify("s3cret", h, body, now.Add(time.Minute), 0); err != nil {
		t.Errorf("valid signature: %v", err)
	}
	// With a second v1 (a rotated secret), either secret verifies.
	rotated := h + ",v1=" + Sign("old", now, body)[len("t=1700000000,v1="):]
	if err := Verify("old", rotated, body, now, 0); err != nil {
		t.Errorf("rotated secret: %v", err)
	}
	cases := []struct {
		name, secret, header string
		body                 []byte
		at                   time.Time
		want                 error
	}{
		{"tampered body", "s3cret", h, []byte(`{"EventType":"X"}`), now, ErrSignatureMismatch},
		{"wrong secret", "other", h, body, now, ErrSignatureMismatch},
		{"too old", "s3cret", h, body, now.Add(6 * time.Minute), ErrSignatureExpired},
		{"from the future", "s3cret", h, body, now.Add(-6 * time.Minute), ErrSignatureExpired},
		{"no header", "s3cret", "", body, now, ErrNoSignature},
		{"no v1", "s3cret", "t=1700000000", body, now, ErrNoSignature},
		{"bad t", "s3cret", "t=x,v1=00", body, now, ErrNoSignature},
	}
	for _, c := range cases {
		if err := Verify(c.secret, c.header, c.body, c.at, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// The timestamp is part of what is signed.
	forged := strings.Replace(h, "t=1700000000", "t=1700000100", 1)
	if err := Verify("s3cret", forged, body, now, 0); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("moved timestamp: %v", err)
	}
}

func TestPost(t *testing.T) {
	t.Parallel()
	type request struct {
		sig, agent, contentType, extra string
		body                           string
	}
	got := make(chan request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- request{r.Header.Get(SignatureHeader), r.Header.Get("User-Agent"), r.Header.Get("Content-Type"), r.Header.Get("X-Extra"), string(b)}
		switch r.URL.Path {
		case "/slow":
			time.Sleep(200 * time.Millisecond)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 100)))
		case "/down":
			http.Error(w, "nope", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	body := []byte(`{"x":1}`)

	c := &Client{HTTP: srv.Client(), Secret: "k", UserAgent: "test agent", Header: http.Header{"X-Extra": {"e"}}, MaxAnswer: 10}
	a, err := c.Post(t.Context(), srv.URL+"/big", body)
	if err != nil || !a.OK() || a.StatusCode != 200 || string(a.Body) != "xxxxxxxxxx" {
		t.Fatalf("answer %+v, %v", a, err)
	}
	r := <-got
	if r.body != `{"x":1}` || r.agent != "test agent" || r.contentType != "application/json" || r.extra != "e" || Verify("k", r.sig, body, time.Now(), 0) != nil {
		t.Errorf("request %+v", r)
	}

	// Unsigned without a secret; a refusal is an answer, not an error.
	c = &Client{HTTP: srv.Client()}
	if a, err := c.Post(t.Context(), srv.URL+"/down", body); err != nil || a.OK() || a.StatusCode != 503 || !strings.Contains(string(a.Body), "nope") {
		t.Errorf("503: %+v %v", a, err)
	}
	if r := <-got; r.sig != "" || r.agent == "test agent" {
		t.Errorf("unsigned request %+v", r)
	}

	// Timeout bounds the request.
	c = &Client{HTTP: srv.Client(), Timeout: 20 * time.Millisecond}
	if a, err := c.Post(t.Context(), srv.URL+"/slow", body); err == nil || a != nil {
		t.Errorf("slow: %+v %v", a, err)
	}
	<-got

	if _, err := c.Post(t.Context(), "http://bad host/", body); !errors.Is(err, ErrRequest) {
		t.Errorf("bad URL: %v", err)
	}
}
