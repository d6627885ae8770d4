package e2e

// The hostile-client suite, continued: credentials that end under open
// sessions, and the limits on messaging sessions.

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/hub"
	"github.com/carillonhq/carillon/server"
)

// Finding 2: a per-user key's sessions close when it is deleted (4401:
// the client stops) or expires (4440: the client reconnects, fetching
// fresh credentials); sessions of other keys go on.
func TestHostileKeyEndsSessions(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, alice, "team", bob)
	issue := func(user string, ttl time.Duration) (server.IssuedCredentials, *wsConn) {
		k, err := server.CreateUserCredentials(t.Context(), e.srv.Server.Store(), user, ttl)
		mustOK(t, err, "CreateUserCredentials")
		cfg := e.srv.ConfigFor(k.AccessKeyID, k.SecretAccessKey, k.SessionToken)
		c := e.wsDial(t, user+ttl.String(), e.srv.ConnectURL(t, cfg, user, "s"+ttl.String(), nil))
		c.expect(t, "SESSION_ESTABLISHED")
		return k, c
	}
	deleted, deletedWS := issue(bob, 0)
	_, keptWS := issue(bob, time.Hour)
	_, expiringWS := issue(alice, 2*time.Second)
	opened := time.Now()

	mustOK(t, server.DeleteUserCredentials(t.Context(), e.srv.Server.Store(), deleted.AccessKeyID), "DeleteUserCredentials")
	deletedWS.expectClose(t, hub.CloseUnauthorized)
	expiringWS.expectClose(t, hub.CloseCredentialsExpired)
	if d := time.Since(opened); d < time.Second {
		t.Errorf("the expiring session closed after %v, before its key expired", d)
	}
	// Still pinged, the other sessions receive what follows.
	e.send(t, alice, ch, "after")
	keptWS.expectMessage(t, "after")
	e.wsWaitMetric(t, `carillon_session_credential_closes_total{reason="deleted"}`, 1)
	e.wsWaitMetric(t, `carillon_session_credential_closes_total{reason="expired"}`, 1)
}

// Finding 3: one user may open DefaultMaxSessionsPerUser sessions (the
// AWS quota), and the server MaxSessions; beyond, sessions are refused
// with a close code and counted, and other users, REST calls and /healthz
// are still answered.
func TestHostileSessionLimits(t *testing.T) {
	t.Parallel()
	t.Run("per user", func(t *testing.T) {
		t.Parallel()
		e := wsNew(t)
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		for i := range hub.DefaultMaxSessionsPerUser {
			e.connect(t, alice, fmt.Sprint(i))
		}
		e.wsDial(t, "one more", e.srv.ConnectURL(t, e.srv.Config, alice, "more", nil)).expectClose(t, hub.CloseTooManySessions)
		// Replacing a session by its sessionId is not one more.
		e.connect(t, alice, "0")
		e.connect(t, bob, "bob")
		e.channel(t, alice, "still answered")
		healthy(t, e.srv)
		e.wsWaitMetric(t, `carillon_session_connects_total{result="over_user_limit"}`, 1)
	})
	t.Run("in total", func(t *testing.T) {
		t.Parallel()
		e := wsNew(t, carillontest.WithHubConfig(hub.Config{MaxSessions: 3}))
		users := []string{e.user(t, "a"), e.user(t, "b"), e.user(t, "c"), e.user(t, "d")}
		var first *wsConn
		for i, u := range users[:3] {
			c := e.connect(t, u, "s")
			if i == 0 {
				first = c
			}
		}
		e.wsDial(t, "fourth", e.srv.ConnectURL(t, e.srv.Config, users[3], "s", nil)).expectClose(t, hub.CloseTryAgainLater)
		healthy(t, e.srv)
		e.wsWaitMetric(t, `carillon_session_connects_total{result="over_session_limit"}`, 1)
		// A session that ends makes room.
		first.Close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, _, err := e.srv.Dialer().Dial(e.srv.ConnectURL(t, e.srv.Config, users[3], "s", nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			w := &wsConn{Conn: c, name: "fourth again"}
			if _, code := w.next(t); code == 0 {
				c.Close()
				break
			} else if code != hub.CloseTryAgainLater || time.Now().After(deadline) {
				t.Fatalf("fourth again: close %d", code)
			}
			c.Close()
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func healthy(t *testing.T, srv *carillontest.Server) {
	t.Helper()
	resp, err := srv.HTTPClient().Get(srv.Endpoint + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
}
