// Package console serves Carillon's web console: a page, embedded in the
// binary, that shows a running server's AppInstances, users, channels and
// messages, the server's status, and a live messaging session.
//
// The page holds no privilege of its own. It is static, and every call it
// makes is signed in the browser, with the official AWS SDK for
// JavaScript clients, by the key the user signs in with, exactly as a
// customer's web app calls the API: the console can do what that key may
// do, and nothing else. The one thing served besides the files is the
// region clients sign for (config.json), which every ARN already shows.
//
// The sources are in web/ (plain JavaScript modules and a stylesheet);
// web/dist/console.js is their bundle, built by esbuild (make console) and
// committed, so that go build alone makes a working binary. A test
// (TestBundleIsCurrent) and CI rebuild it and fail when it differs from
// the committed one.
package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

//go:embed web/index.html web/console.css web/icon.svg web/dist/console.js
var files embed.FS

// Prefix is the path the console is served under.
const Prefix = "/console/"

// Config is what the page needs from the server before anyone signs in.
type Config struct {
	// Region is the region requests are signed for.
	Region string
}

// contentSecurityPolicy allows the page only its own scripts and styles,
// and connections to its own origin and to the messaging session's
// wss:// endpoint, which may be another port or host (the TLS listener,
// or --public-endpoint), and to that listener's https:// /healthz, which
// the page fetches to find out whether the browser trusts its
// certificate.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' https: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is a file as served: its bytes, gzipped once, and its ETag.
type asset struct {
	contentType string
	body        []byte
	etag        string

	once sync.Once
	gz   []byte
}

func (a *asset) gzipped() []byte {
	a.once.Do(func() {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = w.Write(a.body)
		_ = w.Close()
		a.gz = b.Bytes()
	})
	return a.gz
}

// Handler serves the console under Prefix: the page at Prefix itself,
// its script, stylesheet and icon, and config.json.
func Handler(cfg Config) http.Handler {
	assets := map[string]*asset{}
	add := func(name, file, contentType string) {
		b, err := fs.ReadFile(files, file)
		if err != nil {
			panic("console: " + err.Error()) // the files are embedded: a build error
		}
		assets[name] = newAsset(b, contentType)
	}
	add("", "web/index.html", "text/html; charset=utf-8")
	add("console.js", "web/dist/console.js", "text/javascript; charset=utf-8")
	add("console.css", "web/console.css", "text/css; charset=utf-8")
	add("icon.svg", "web/icon.svg", "image/svg+xml")
	config, _ := json.Marshal(struct{ Region string }{cfg.Region})
	assets["config.json"] = newAsset(config, "application/json")

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		a := assets[name]
		if !ok || a == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Revalidated on every load: a new binary's page is seen at once,
		// and the ETag makes an unchanged one cost a 304.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		h.Add("Vary", "Accept-Encoding")
		if etagMatch(r.Header.Get("If-None-Match"), a.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := a.body
		if acceptsGzip(r) && len(body) > 1024 {
			body = a.gzipped()
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}

func newAsset(b []byte, contentType string) *asset {
	sum := sha256.Sum256(b)
	return &asset{contentType: contentType, body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

func etagMatch(header, etag string) bool {
	for v := range strings.SplitSeq(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip, unless given a zero q-value.
func acceptsGzip(r *http.Request) bool {
	for v := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(v, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			if k, q, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				f, err := strconv.ParseFloat(q, 64)
				return err == nil && f > 0
			}
		}
		return true
	}
	return false
}
