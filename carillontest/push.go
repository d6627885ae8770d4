package carillontest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon/push"
	"github.com/carillonhq/carillon/server"
)

// PushRecorder records the push notifications a test server sends, in
// place of APNs and FCM, so that a test can assert who would have been
// notified of what:
//
//	rec := carillontest.NewPushRecorder(t)
//	srv := carillontest.New(t, rec.Option())
//	… SendChannelMessage with a PushNotification …
//	got := rec.Wait(t, 2) // the first two notifications, one per device
type PushRecorder struct {
	url string

	mu    sync.Mutex
	notes []push.Notification
	added chan struct{} // signalled on every request
}

// NewPushRecorder starts the recorder's webhook; it stops when the test
// ends.
func NewPushRecorder(t testing.TB) *PushRecorder {
	r := &PushRecorder{added: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body push.Request
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.notes = append(r.notes, body.Notifications...)
		r.mu.Unlock()
		select {
		case r.added <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// Option points the server's push notifications at the recorder.
func (r *PushRecorder) Option() Option {
	return func(c *server.Config) { c.Push = push.Options{Webhook: r.url} }
}

// Notifications returns what has been recorded so far, in order.
func (r *PushRecorder) Notifications() []push.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]push.Notification(nil), r.notes...)
}

// Wait returns the first n notifications once there are n, failing the
// test if they do not come within 5 seconds (pushes are sent after the
// message's commit, not within its request).
func (r *PushRecorder) Wait(t testing.TB, n int) []push.Notification {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if got := r.Notifications(); len(got) >= n {
			return got[:n]
		}
		select {
		case <-r.added:
		case <-deadline:
			t.Fatalf("%d push notifications recorded, want %d", len(r.Notifications()), n)
			return nil
		}
	}
}
