package console

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// TestHandlerServesThePage: the page, its script, stylesheet and icon and
// config.json are served with their types and the headers that keep the
// page to its own scripts; anything else is not found.
func TestHandlerServesThePage(t *testing.T) {
	h := Handler(Config{Region: "eu-west-1"})
	for path, want := range map[string]string{
		"/console/":            "text/html; charset=utf-8",
		"/console/console.js":  "text/javascript; charset=utf-8",
		"/console/console.css": "text/css; charset=utf-8",
		"/console/icon.svg":    "image/svg+xml",
		"/console/config.json": "application/json",
	} {
		resp := get(t, h, http.MethodGet, path, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want || len(body) == 0 {
			t.Errorf("GET %s: %d %q, %d bytes; want 200 %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), want)
		}
		for _, name := range []string{"Content-Security-Policy", "X-Content-Type-Options", "ETag", "Cache-Control"} {
			if resp.Header.Get(name) == "" {
				t.Errorf("GET %s: no %s", path, name)
			}
		}
	}
	if csp := get(t, h, http.MethodGet, "/console/", nil).Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q: want scripts of the page's own origin only", csp)
	}
	var cfg struct{ Region string }
	if err := json.NewDecoder(get(t, h, http.MethodGet, "/console/config.json", nil).Body).Decode(&cfg); err != nil || cfg.Region != "eu-west-1" {
		t.Errorf("config.json: %+v, %v", cfg, err)
	}
	for _, path := range []string{"/console/index.html", "/console/dist/console.js", "/console/web/console.css", "/console/../go.mod", "/console/src/main.js", "/other"} {
		if resp := get(t, h, http.MethodGet, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp := get(t, h, http.MethodPost, "/console/", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /console/: %d, want 404", resp.StatusCode)
	}
	if resp := get(t, h, http.MethodHead, "/console/console.js", nil); resp.StatusCode != http.StatusOK || resp.ContentLength <= 0 {
		t.Errorf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
}

// TestHandlerRevalidatesAndCompresses: an unchanged file costs a 304; a
// browser that accepts gzip gets the script compressed, the same bytes
// once inflated; one that refuses it (q=0) gets them as they are.
func TestHandlerRevalidatesAndCompresses(t *testing.T) {
	h := Handler(Config{})
	plain := get(t, h, http.MethodGet, "/console/console.js", nil)
	want, _ := io.ReadAll(plain.Body)
	etag := plain.Header.Get("ETag")
	if resp := get(t, h, http.MethodGet, "/console/console.js", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, resp.StatusCode)
	}
	if resp := get(t, h, http.MethodGet, "/console/console.js", map[string]string{"If-None-Match": `"other"`}); resp.StatusCode != http.StatusOK {
		t.Errorf("another ETag: %d, want 200", resp.StatusCode)
	}
	resp := get(t, h, http.MethodGet, "/console/console.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("gzipped script: %d bytes, %v; want the %d bytes of the plain one", len(got), err, len(want))
	}
	if resp := get(t, h, http.MethodGet, "/console/console.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
}

// TestPackages: the console is built with the versions of the SDKs the
// end-to-end tests use, and its build script bundles as they do.
func TestPackages(t *testing.T) {
	var console, tests struct {
		Scripts         map[string]string
		Dependencies    map[string]string
		DevDependencies map[string]string
	}
	read := func(name string, v any) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	read(filepath.Join("web", "package.json"), &console)
	read(filepath.Join("..", "e2e", "js", "package.json"), &tests)
	all := map[string]string{}
	for k, v := range console.Dependencies {
		all[k] = v
	}
	for k, v := range console.DevDependencies {
		all[k] = v
	}
	for _, pkg := range []string{"@aws-sdk/client-chime-sdk-identity", "@aws-sdk/client-chime-sdk-messaging", "amazon-chime-sdk-js", "@smithy/signature-v4", "esbuild"} {
		if all[pkg] == "" || all[pkg] != tests.Dependencies[pkg] {
			t.Errorf("console/web uses %s %q, e2e/js %q", pkg, all[pkg], tests.Dependencies[pkg])
		}
	}
	for pkg, v := range all {
		if strings.ContainsAny(v, "^~<>*x ") {
			t.Errorf("console/web: %s %q is a range; pin it", pkg, v)
		}
	}
	for _, flag := range []string{"--bundle", "--minify", "--main-fields=browser,module,main", "--define:global=globalThis", "--outfile=dist/console.js"} {
		if !strings.Contains(console.Scripts["build"], flag) {
			t.Errorf("console/web's build script %q lacks %s", console.Scripts["build"], flag)
		}
	}
}

// TestBundleIsCurrent: web/dist/console.js is what the build script makes
// of the sources today, so that a change to web/src that was not rebuilt
// (make console) fails here and not in a browser. It runs the script's
// esbuild, with its flags, into a temporary file.
func TestBundleIsCurrent(t *testing.T) {
	var pkg struct{ Scripts map[string]string }
	b, err := os.ReadFile(filepath.Join("web", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(pkg.Scripts["build"])
	if len(args) == 0 || args[0] != "esbuild" {
		t.Fatalf("console/web's build script %q does not run esbuild", pkg.Scripts["build"])
	}
	esbuild, err := filepath.Abs(filepath.Join("web", "node_modules", ".bin", "esbuild"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(esbuild); err != nil {
		t.Fatalf("console/web's npm packages are not installed (%v); run: make console-deps", err)
	}
	out := filepath.Join(t.TempDir(), "console.js")
	replaced := false
	for i, a := range args {
		if strings.HasPrefix(a, "--outfile=") {
			args[i], replaced = "--outfile="+out, true
		}
	}
	if !replaced {
		t.Fatalf("console/web's build script %q names no --outfile", pkg.Scripts["build"])
	}
	cmd := exec.Command(esbuild, args[1:]...)
	cmd.Dir = "web"
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, msg)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("web", "dist", "console.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Errorf("web/dist/console.js (%d bytes) differs from the bundle of the sources (%d bytes): run make console and commit it", len(committed), len(built))
	}
}
