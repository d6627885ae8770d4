package hub

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// TestConnectCheckOrigin: an Origin that Endpoint.CheckOrigin refuses
// gets 4003, even with a good signature; an accepted one, or none,
// connects.
func TestConnectCheckOrigin(t *testing.T) {
	h := New(Config{}, nil, prometheus.NewRegistry())
	src := &fakeSource{h: h, users: map[string][]string{"alice": {"A"}}}
	srv := httptest.NewServer(&Endpoint{Hub: h, Auth: fakeAuth{}, Source: src,
		CheckOrigin: func(r *http.Request) bool {
			o := r.Header.Get("Origin")
			return o == "" || o == "https://chat.example.com"
		}})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Close()
	})
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/connect?" + query("key", "alice", "userArn", "alice", "sessionId", "1").Encode()
	for _, tc := range []struct {
		origin string
		code   int // 0: established
	}{
		{"", 0},
		{"https://chat.example.com", 0},
		{"https://evil.example.com", CloseForbidden},
	} {
		t.Run("origin="+tc.origin, func(t *testing.T) {
			hdr := http.Header{}
			if tc.origin != "" {
				hdr.Set("Origin", tc.origin)
			}
			c, _, err := websocket.DefaultDialer.Dial(u, hdr)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if tc.code != 0 {
				wantClose(t, c, tc.code)
				// The refused connection is not left for Shutdown to wait on.
				waitFor(t, "the refused connection to be released", func() bool { return h.handlerCount() == 0 })
				return
			}
			wantEvent(t, c, eventSessionEstablished)
		})
	}
}
