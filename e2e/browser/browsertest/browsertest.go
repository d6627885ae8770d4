// Package browsertest runs web pages in a real browser inside a Go test:
// a headless Chromium driven over the DevTools protocol (chromedp), pages
// bundled with esbuild's Go API and served from a loopback origin of
// their own, and a record of every problem the browser reports.
//
//	b := browsertest.Launch(t)
//	origin := browsertest.Serve(t, map[string][]byte{"/": html, "/app.js": browsertest.Bundle(t, "app.js", nodeModules)})
//	p := b.NewPage(t)
//	p.Do(t, chromedp.Navigate(origin+"/"))
//	…
//	p.Screenshot(t, "done")
//	p.Check(t) // fails the test on a page error, a console error or a CORS issue
//
// Chromium is the system's (Debian's chromium package; make test installs
// it): browser builds of test tools download their own and need the
// network. $CARILLON_CHROMIUM names another binary.
//
// Why chromedp: it speaks the DevTools protocol from Go with no driver
// process and no dependency beyond its protocol types, so the test is
// plain go test. Pages are bundled by the esbuild npm package a web app
// would use; its Go API would be the same code, instrumented (and eight
// times slower) under go test -race.
package browsertest

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Environment variables.
const (
	// EnvChromium names the browser binary; default: chromium,
	// chromium-browser or google-chrome on PATH.
	EnvChromium = "CARILLON_CHROMIUM"
	// EnvScreenshots is a directory to keep screenshots in; default: the
	// test's temporary directory, removed with it.
	EnvScreenshots = "CARILLON_SCREENSHOTS"
)

// Chromium returns the browser binary, failing the test when there is
// none: the browser tests are part of the suite, not optional.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("no Chromium found (chromium, chromium-browser or google-chrome on PATH, or $%s): "+
		"make test installs Debian's chromium package, or run: apt-get install chromium", EnvChromium)
	return ""
}

// Options change how the browser is launched.
type Options struct {
	// IgnoreCertificateErrors trusts any certificate, as a developer who
	// accepted a self-signed one does.
	IgnoreCertificateErrors bool
}

// Browser is a running Chromium, closed when the test ends.
type Browser struct {
	ctx context.Context
}

// Launch starts a headless Chromium with a fresh profile. Everything
// that would reach the network by itself (updates, sync, metrics,
// QUIC probes) is off.
func Launch(t testing.TB, o Options) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // as root, Chromium refuses to start with its sandbox
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater"),
		chromedp.WindowSize(1024, 768),
	)
	if o.IgnoreCertificateErrors {
		opts = append(opts, chromedp.IgnoreCertErrors)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		t.Logf("chromedp: "+format, args...)
	}))
	// Start the browser now, so that a failure to start is reported as
	// such and not as the first page's. (The first use of ctx starts
	// it, and a context derived from ctx would stop it when done.)
	if _, err := chromedp.Targets(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("browsertest: start Chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return &Browser{ctx: ctx}
}

// Problem is something the browser reported that a working page does not
// cause.
type Problem struct {
	// Kind is "exception" (uncaught, or an unhandled rejection),
	// "console" (console.error or a failed console.assert), "log" (the
	// browser's own error log: failed loads, blocked requests), "cors"
	// (a CORS issue, or a request that CORS blocked) or "network" (a
	// request that failed).
	Kind string
	Text string
	URL  string
}

func (p Problem) String() string {
	if p.URL != "" {
		return p.Kind + ": " + p.Text + " (" + p.URL + ")"
	}
	return p.Kind + ": " + p.Text
}

// Page is a browser tab that records the problems its pages cause.
type Page struct {
	// Ctx is the tab's chromedp context, for chromedp.Run and Do.
	Ctx context.Context

	mu       sync.Mutex
	problems []Problem
	notes    []string
	ignore   []func(Problem) bool
}

// NewPage opens a tab.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	p := &Page{Ctx: ctx}
	if err := chromedp.Listen(ctx, p.record); err != nil {
		t.Fatalf("browsertest: listen: %v", err)
	}
	// Issues (CORS, mixed content…) come from the Audits domain, which
	// is off until enabled.
	if _, err := chromedp.Call(ctx, audits.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("browsertest: enable audits: %v", err)
	}
	return p
}

// record runs on the tab's reading goroutine: it must be quick.
func (p *Page) record(ev any) {
	var pr *Problem
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		pr = &Problem{Kind: "exception", Text: text, URL: d.URL}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			pr = &Problem{Kind: "console", Text: remoteText(ev.Args)}
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			pr = &Problem{Kind: "log", Text: string(ev.Entry.Source) + ": " + ev.Entry.Text, URL: ev.Entry.URL}
		}
	case *network.EventLoadingFailed:
		switch {
		case ev.CorsErrorStatus != nil:
			pr = &Problem{Kind: "cors", Text: fmt.Sprintf("request blocked: %s %s", ev.CorsErrorStatus.CorsError, ev.CorsErrorStatus.FailedParameter)}
		case !ev.Canceled:
			pr = &Problem{Kind: "network", Text: ev.ErrorText + " " + string(ev.BlockedReason)}
		}
	case *audits.EventIssueAdded:
		is := ev.Issue
		if is.Code == audits.InspectorIssueCodeCorsIssue && is.Details != nil && is.Details.CorsIssueDetails != nil {
			d := is.Details.CorsIssueDetails
			text := "CORS issue"
			if d.CorsErrorStatus != nil {
				text += ": " + string(d.CorsErrorStatus.CorsError) + " " + d.CorsErrorStatus.FailedParameter
			}
			u := ""
			if d.Request != nil {
				u = d.Request.URL
			}
			pr = &Problem{Kind: "cors", Text: text, URL: u}
		} else {
			note := "issue: " + string(is.Code)
			if is.Details != nil && is.Details.GenericIssueDetails != nil {
				note += " " + string(is.Details.GenericIssueDetails.ErrorType)
			}
			p.mu.Lock()
			p.notes = append(p.notes, note)
			p.mu.Unlock()
		}
	}
	if pr == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ignore := range p.ignore {
		if ignore(*pr) {
			p.notes = append(p.notes, "expected: "+pr.String())
			return
		}
	}
	p.problems = append(p.problems, *pr)
}

func remoteText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, strings.Trim(string(a.Value), `"`))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// Ignore declares problems the test causes on purpose, such as the
// browser's log line for an error status the page expects.
func (p *Page) Ignore(match func(Problem) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ignore = append(p.ignore, match)
}

// Problems returns what the page's problems so far.
func (p *Page) Problems() []Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Problem(nil), p.problems...)
}

// Check fails the test with every problem recorded, and logs the rest.
func (p *Page) Check(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.notes {
		t.Log("browser:", n)
	}
	for _, pr := range p.problems {
		t.Errorf("browser: %s", pr)
	}
}

// Do runs chromedp actions on the page, failing the test on an error or
// after two minutes.
func (p *Page) Do(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Screenshot saves the visible part of the page as a PNG, in
// $CARILLON_SCREENSHOTS or the test's temporary directory, and returns
// its path. It does not fail the test: a screenshot is evidence, not a
// check.
func (p *Page) Screenshot(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("browser: screenshot: %v", err)
		return ""
	}
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("browser: screenshot: %v", err)
		return ""
	}
	file := filepath.Join(dir, unsafeChars.ReplaceAllString(t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Logf("browser: screenshot: %v", err)
		return ""
	}
	t.Logf("browser: screenshot %s", file)
	return file
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Bundle bundles the ES module entry and what it imports into one script
// for a <script type="module">, with the esbuild of the npm packages in
// nodeModules (a node_modules directory), where it also finds the
// packages entry imports. Like a web app's bundler, it prefers the
// browser builds of packages (main fields browser, module, main), and
// defines Node's global as globalThis.
func Bundle(t testing.TB, entry, nodeModules string) []byte {
	t.Helper()
	esbuild := filepath.Join(nodeModules, ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		t.Fatalf("browsertest: esbuild is not installed in %s (npm ci installs it): %v", nodeModules, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, esbuild, entry,
		"--bundle", "--format=esm", "--platform=browser", "--target=es2022",
		"--main-fields=browser,module,main",
		// amazon-chime-sdk-js tests `"document" in global`, which
		// webpack 4 used to provide; esbuild does not.
		"--define:global=globalThis",
		"--sourcemap=inline", // stack traces of page errors name the sources
		"--log-level=error")
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodeModules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("esbuild %s: %v\n%s", entry, err, stderr.String())
	}
	return out
}

// Serve serves files (path → content; "/" is the index) on a loopback
// port of their own, and returns the origin, e.g. http://127.0.0.1:41234:
// the page's origin differs from every other server's, as a web app's
// does.
func Serve(t testing.TB, files map[string][]byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		ct := mime.TypeByExtension(path.Ext(r.URL.Path))
		if r.URL.Path == "/" || ct == "" {
			ct = "text/html; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
