// Package browser tests Carillon from a real browser: web pages of their
// own origin, bundled from the npm packages web apps use (the AWS SDK for
// JavaScript v3 and amazon-chime-sdk-js), in headless Chromium. CORS, the
// exposed headers and the websocket's Origin are only ever judged by a
// browser; the raw HTTP exchange is pinned in e2e/cors_test.go.
package browser

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/e2e/browser/browsertest"
)

// nodeModules returns e2e/js/node_modules, where make test installs the
// npm packages of the JavaScript tests (npm ci), failing the test when
// they are missing.
func nodeModules(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "js", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"amazon-chime-sdk-js", "@aws-sdk/client-chime-sdk-messaging", "@aws-sdk/client-chime-sdk-identity", "@smithy/signature-v4", "esbuild"} {
		if _, err := os.Stat(filepath.Join(dir, pkg, "package.json")); err != nil {
			t.Fatalf("the npm packages of e2e/js are not installed (%s is missing); run: make js-deps", pkg)
		}
	}
	return dir
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checksResult is what runChecks answers.
type checksResult struct {
	OK                         bool
	Error                      string
	CreateAppInstanceRequestID string `json:"createAppInstanceRequestId"`
	SendRequestID              string `json:"sendRequestId"`
	ListRequestID              string `json:"listRequestId"`
	ForbiddenRequestID         string `json:"forbiddenRequestId"`
	Received                   string
	Listed                     int
	Forbidden                  string
	StopCode                   int
}

// TestBrowserApp runs testdata/checks.js in Chromium against the HTTPS
// listener, as a web app does: root creates an AppInstance, two users
// and their keys; bob creates a channel with alice and a private one;
// alice's DefaultMessagingSession finds its endpoint itself and receives
// bob's message; alice lists the messages, and is refused the private
// channel with a ForbiddenException the SDK names. The test fails on
// any page error, console error or CORS issue the browser reports.
func TestBrowserApp(t *testing.T) {
	t.Parallel()
	modules := nodeModules(t)
	srv := carillontest.New(t)
	page := browsertest.Serve(t, map[string][]byte{
		"/":          readFile(t, "testdata/checks.html"),
		"/checks.js": browsertest.Bundle(t, "testdata/checks.js", modules),
	})
	b := browsertest.Launch(t, browsertest.Options{IgnoreCertificateErrors: true})
	p := b.NewPage(t)

	// The refused request is logged by the browser as a failed load; it
	// is the one expected.
	const forbidden = "secret-channel"
	p.Ignore(func(pr browsertest.Problem) bool {
		return pr.Kind == "log" && strings.Contains(pr.Text, "status of 403") &&
			strings.Contains(pr.URL, "%2Fchannel%2F"+forbidden+"/messages")
	})
	settings, _ := json.Marshal(map[string]string{
		"endpoint":           srv.TLSEndpoint,
		"region":             srv.Region,
		"accessKeyId":        srv.Root.AccessKeyID,
		"secretAccessKey":    srv.Root.SecretAccessKey,
		"forbiddenChannelId": forbidden,
	})
	p.Do(t, chromedp.Navigate(page+"/"),
		chromedp.Poll[chromedp.Void]("typeof window.runChecks === 'function'", chromedp.WithPollingTimeout(20*time.Second)))
	ctx, cancel := context.WithTimeout(p.Ctx, 2*time.Minute)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Evaluate[checksResult]("runChecks("+string(settings)+")", chromedp.EvalAwaitPromise))
	p.Screenshot(t, "checks")
	p.Check(t)
	if err != nil {
		t.Fatalf("runChecks: %v", err)
	}
	if !res.OK {
		t.Fatalf("runChecks: %s", res.Error)
	}
	if res.Forbidden != "ForbiddenException" || res.Listed != 1 || !strings.HasPrefix(res.Received, "hello from "+page) {
		t.Errorf("runChecks answered %+v", res)
	}
	ids := map[string]bool{}
	for _, id := range []string{res.CreateAppInstanceRequestID, res.SendRequestID, res.ListRequestID, res.ForbiddenRequestID} {
		if id == "" || ids[id] {
			t.Errorf("request ids %+v: each must be read, and distinct", res)
		}
		ids[id] = true
	}
}
