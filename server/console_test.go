package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
)

// consoleServer is a server with an AppInstance, a user and a key of
// that user's.
func consoleServer(t *testing.T, cfg Config) (srv *Server, root RootCredentials, user string, userKey IssuedCredentials) {
	t.Helper()
	ctx := context.Background()
	root = RootCredentials{AccessKeyID: "CKIAROOTROOTROOTROOT", SecretAccessKey: "root-secret"}
	cfg.DataDir, cfg.Root = t.TempDir(), root
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	const app = "arn:aws:chime:us-east-1:000000000000:app-instance/a"
	user = app + "/user/u"
	if err := srv.Store().Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "a"}); err != nil {
			return err
		}
		return tx.CreateUser(&carillon.AppInstanceUser{ARN: user, AppInstanceARN: app, Name: "u"})
	}); err != nil {
		t.Fatal(err)
	}
	userKey, err = CreateUserCredentials(ctx, srv.Store(), user, 0)
	if err != nil {
		t.Fatal(err)
	}
	return srv, root, user, userKey
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestCallerIdentity: any valid key learns who it is; a bad signature
// gets AWS's error.
func TestCallerIdentity(t *testing.T) {
	srv, root, user, key := consoleServer(t, Config{})
	h := srv.Handler()
	var got CallerIdentity
	rec := serve(h, signed(t, "GET", "http://127.0.0.1/carillon/caller-identity", nil, root.AccessKeyID, root.SecretAccessKey, ""))
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != 200 || err != nil || !got.Root || got.Bearer != "" || got.AccessKeyID != root.AccessKeyID || got.Region != "us-east-1" {
		t.Errorf("root: %d %s", rec.Code, rec.Body)
	}
	got = CallerIdentity{}
	rec = serve(h, signed(t, "GET", "http://127.0.0.1/carillon/caller-identity", nil, key.AccessKeyID, key.SecretAccessKey, ""))
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != 200 || err != nil || got.Root || got.Bearer != user || got.AccessKeyID != key.AccessKeyID {
		t.Errorf("per-user key: %d %s", rec.Code, rec.Body)
	}
	rec = serve(h, signed(t, "GET", "http://127.0.0.1/carillon/caller-identity", nil, root.AccessKeyID, "wrong", ""))
	if rec.Code != http.StatusForbidden || rec.Header().Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
		t.Errorf("wrong secret: %d %s %s", rec.Code, rec.Header().Get("X-Amzn-ErrorType"), rec.Body)
	}
	rec = serve(h, httptest.NewRequest("GET", "http://127.0.0.1/carillon/caller-identity", nil))
	if rec.Code != http.StatusForbidden || rec.Header().Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", rec.Code, rec.Header().Get("X-Amzn-ErrorType"))
	}
}

// TestStatus: the status is for root only, and says what the console
// shows: version, uptime, store, listeners, sessions and metrics.
func TestStatus(t *testing.T) {
	srv, root, _, key := consoleServer(t, Config{Version: "v1.2.3", Listen: "127.0.0.1:0"})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	// A request, so that the API's metrics have a sample.
	serve(h, signed(t, "GET", "http://127.0.0.1/app-instances", nil, root.AccessKeyID, root.SecretAccessKey, ""))

	rec := serve(h, signed(t, "GET", "http://127.0.0.1/carillon/status", nil, key.AccessKeyID, key.SecretAccessKey, ""))
	if rec.Code != http.StatusForbidden || rec.Header().Get("X-Amzn-ErrorType") != "ForbiddenException" {
		t.Errorf("per-user key: %d %s", rec.Code, rec.Body)
	}
	rec = serve(h, httptest.NewRequest("GET", "http://127.0.0.1/carillon/status", nil))
	if rec.Code != http.StatusForbidden {
		t.Errorf("unsigned: %d", rec.Code)
	}

	rec = serve(h, signed(t, "GET", "http://127.0.0.1/carillon/status", nil, root.AccessKeyID, root.SecretAccessKey, ""))
	if rec.Code != http.StatusOK || rec.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("root: %d %s", rec.Code, rec.Body)
	}
	var st Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Version != "v1.2.3" || st.StartedAt.IsZero() || time.Since(st.StartedAt) > time.Minute || st.UptimeSeconds <= 0 {
		t.Errorf("version and uptime: %+v", st)
	}
	if st.Store.Kind != "sqlite" || !st.Store.Cached || !st.Store.OK || st.Store.Error != "" {
		t.Errorf("store: %+v", st.Store)
	}
	if st.Listeners.HTTP != srv.Addr() || st.Listeners.HTTPS != "" || st.Region != "us-east-1" || st.AccountID != "000000000000" {
		t.Errorf("listeners: %+v", st)
	}
	names := map[string]Metric{}
	for _, m := range st.Metrics {
		names[m.Name] = m
	}
	for _, name := range []string{"carillon_session_open", "carillon_api_requests_total", "carillon_api_request_duration_seconds", "go_goroutines"} {
		if _, ok := names[name]; !ok {
			t.Errorf("no metric %s among %d", name, len(st.Metrics))
		}
	}
	if _, ok := names["go_gc_duration_seconds"]; ok {
		t.Error("the status lists go_gc_duration_seconds: only carillon_* and a few process metrics belong")
	}
	var listed bool
	for _, s := range names["carillon_api_requests_total"].Samples {
		listed = listed || (s.Labels["operation"] == "ListAppInstances" && s.Labels["status"] == "200" && s.Value == 1)
	}
	if !listed {
		t.Errorf("carillon_api_requests_total: %+v, want ListAppInstances 200 once", names["carillon_api_requests_total"])
	}
	if h := names["carillon_api_request_duration_seconds"]; h.Type != "histogram" || len(h.Samples) == 0 || h.Samples[0].Count == 0 {
		t.Errorf("carillon_api_request_duration_seconds: %+v", h)
	}
	if st.SessionsOpen != 0 {
		t.Errorf("SessionsOpen %d, want 0", st.SessionsOpen)
	}
}

// TestStatusUncached: without the store cache, the status names the
// store all the same, and says there is no cache.
func TestStatusUncached(t *testing.T) {
	srv, root, _, _ := consoleServer(t, Config{StoreCacheSize: -1})
	rec := serve(srv.Handler(), signed(t, "GET", "http://127.0.0.1/carillon/status", nil, root.AccessKeyID, root.SecretAccessKey, ""))
	var st Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("%d %s %v", rec.Code, rec.Body, err)
	}
	if st.Store.Kind != "sqlite" || st.Store.Cached || !st.Store.OK {
		t.Errorf("store: %+v", st.Store)
	}
}

// TestConsoleMount: the console is served unless disabled; disabled, its
// paths are the API's, which knows no such operation.
func TestConsoleMount(t *testing.T) {
	on, _, _, _ := consoleServer(t, Config{})
	rec := serve(on.Handler(), httptest.NewRequest("GET", "http://127.0.0.1/console/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "console.js") {
		t.Errorf("GET /console/: %d", rec.Code)
	}
	rec = serve(on.Handler(), httptest.NewRequest("GET", "http://127.0.0.1/console", nil))
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console: %d %s", rec.Code, rec.Header().Get("Location"))
	}

	off, _, _, _ := consoleServer(t, Config{DisableConsole: true})
	for _, path := range []string{"/console/", "/console/console.js", "/console"} {
		rec = serve(off.Handler(), httptest.NewRequest("GET", "http://127.0.0.1"+path, nil))
		if rec.Code == http.StatusOK || rec.Header().Get("X-Amzn-ErrorType") == "" {
			t.Errorf("disabled, GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if off.ConsoleURL() != "" {
		t.Errorf("disabled, ConsoleURL %q", off.ConsoleURL())
	}
}
