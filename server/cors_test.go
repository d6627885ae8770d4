package server

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/restjson"
)

func TestParseOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:3000":        "http://localhost:3000",
		"HTTPS://Chat.Example.COM/":    "https://chat.example.com",
		"https://chat.example.com:443": "https://chat.example.com",
		"http://127.0.0.1:80":          "http://127.0.0.1",
		"http://127.0.0.1:443":         "http://127.0.0.1:443",
		" http://[::1]:8000 ":          "http://[::1]:8000",
	} {
		got, err := parseOrigin(in)
		if err != nil || got != want {
			t.Errorf("parseOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "localhost:3000", "chat.example.com", "https://chat.example.com/app", "https://u@chat.example.com", "https://chat.example.com?x=1", "https://"} {
		if got, err := parseOrigin(bad); err == nil {
			t.Errorf("parseOrigin(%q) = %q, want an error", bad, got)
		}
	}
	if _, err := newCORSPolicy([]string{"*", "http://a.example"}, nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("* with another origin was accepted")
	}
}

// TestCORSPreflightHeaderList: the allowed headers are those asked for
// that the API reads, once each, in lower case, whatever the spelling
// and the number of header lines.
func TestCORSPreflightHeaderList(t *testing.T) {
	p, err := newCORSPolicy(nil, []string{"PUT", "GET", "GET", "POST"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := p.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a preflight reached the handler") }))
	req := httptest.NewRequest(http.MethodOptions, "/channels", nil)
	req.Header.Set("Origin", "http://a.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Add("Access-Control-Request-Headers", "X-Amz-Date, Authorization ,x-custom")
	req.Header.Add("Access-Control-Request-Headers", "authorization,Content-Type")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for name, want := range map[string]string{
		"Access-Control-Allow-Headers": "x-amz-date, authorization, content-type",
		"Access-Control-Allow-Methods": "GET, POST, PUT",
		"Access-Control-Allow-Origin":  "*",
	} {
		if got := rec.Header().Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if rec.Code != http.StatusNoContent {
		t.Errorf("status %d", rec.Code)
	}
}

// TestCORSThrottled: the server throttles nothing at its front door yet,
// but a service's ThrottledClientException is an answer like any other.
func TestCORSThrottled(t *testing.T) {
	p, err := newCORSPolicy([]string{"http://a.example"}, []string{"GET"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := p.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		restjson.WriteError(w, "id", carillon.Errorf(carillon.ThrottledClient, "slow down"))
	}))
	req := httptest.NewRequest(http.MethodGet, "/channels", nil)
	req.Header.Set("Origin", "http://a.example")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Access-Control-Allow-Origin") != "http://a.example" ||
		rec.Header().Get("Access-Control-Expose-Headers") != corsExposed {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
}

// BenchmarkCORS is the cost CORS adds to a request from a page:
// compare with the Bare sub-benchmark.
func BenchmarkCORS(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("x-amzn-RequestId", "id") })
	req := httptest.NewRequest(http.MethodGet, "/channels", nil)
	req.Header.Set("Origin", "http://a.example")
	run := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	b.Run("Bare", func(b *testing.B) { run(b, noop) })
	for name, origins := range map[string][]string{"Any": nil, "List": {"http://b.example", "http://a.example"}} {
		p, err := newCORSPolicy(origins, []string{"GET"}, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) { run(b, p.wrap(noop)) })
	}
}

// TestWebsocketOriginSameOrigin: with a list of origins, a websocket from
// a page of the listener's own origin (the console on the TLS listener)
// is allowed, as same-origin requests are not CORS's concern; a page of
// the plain listener, another origin, is judged by the list.
func TestWebsocketOriginSameOrigin(t *testing.T) {
	p, err := newCORSPolicy([]string{"https://chat.example.com"}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tls    bool
		host   string
		origin string
		want   bool
	}{
		{true, "127.0.0.1:8443", "https://127.0.0.1:8443", true},
		{true, "carillon.example.com", "https://carillon.example.com:443", true},
		{true, "127.0.0.1:8443", "http://127.0.0.1:8080", false},
		{true, "127.0.0.1:8443", "http://127.0.0.1:8443", false},
		{false, "127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{true, "127.0.0.1:8443", "https://chat.example.com", true},
		{true, "127.0.0.1:8443", "https://evil.example.com", false},
		{true, "127.0.0.1:8443", "", true},
		{true, "127.0.0.1:8443", "null", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/connect", nil)
		r.Host = c.host
		if !c.tls {
			r.TLS = nil
		} else if r.TLS == nil {
			r.TLS = &tls.ConnectionState{}
		}
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := p.checkWebsocketOrigin(r); got != c.want {
			t.Errorf("tls=%v Host %s Origin %q: allowed %v, want %v", c.tls, c.host, c.origin, got, c.want)
		}
	}
}
