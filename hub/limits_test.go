package hub

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
)

// keyAuth signs every user in with a per-user key of their own,
// "key-<user>", that expires in an hour.
type keyAuth struct{}

func (keyAuth) AuthenticatePresigned(r *http.Request, _ string, _ time.Duration) (carillon.Caller, error) {
	u := r.URL.Query().Get("userArn")
	return carillon.Caller{Bearer: u, AccessKeyID: "key-" + u, Expires: time.Now().Add(time.Hour)}, nil
}

// A session that ends, however it ends, gives back what the limits
// counted for it: its place under MaxSessions, and the watch on the key
// that opened it.
func TestEndedSessionsReleaseLimits(t *testing.T) {
	h := New(Config{MaxSessions: 1}, nil, prometheus.NewRegistry())
	src := &fakeSource{h: h, users: map[string][]string{"alice": {"A"}}}
	srv := httptest.NewServer(&Endpoint{Hub: h, Auth: keyAuth{}, Source: src})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Close()
	})
	watched := func() int {
		h.lim.mu.Lock()
		defer h.lim.mu.Unlock()
		return len(h.lim.byKey)
	}
	// With room for one session, each of these needs the one before it
	// to have given its place back.
	for i := range 3 {
		u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/connect?" + query("userArn", "alice", "sessionId", fmt.Sprint(i)).Encode()
		c, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		wantEvent(t, c, eventSessionEstablished)
		if n := watched(); n != 1 {
			t.Fatalf("session %d: %d keys watched, want 1", i, n)
		}
		c.Close()
		waitFor(t, "the session to end", func() bool { return h.lim.open.Load() == 0 && watched() == 0 })
	}
}
