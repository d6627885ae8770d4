package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/carillonhq/carillon/restjson"
)

// Web applications call the API from their own origin with a signed fetch,
// so every response must let the browser read it (Cross-Origin Resource
// Sharing, the Fetch standard): a preflight OPTIONS is answered here,
// before authentication, and every other response carries
// Access-Control-Allow-Origin and exposes the headers the AWS SDK for
// JavaScript reads. The rules are few enough to write here rather than
// take a middleware library whose defaults (credentials, wildcard
// headers) would have to be undone.

// DefaultCORSOrigins is Config.CORSOrigins when it is empty: any origin.
// Requests are signed and no cookie is involved, so a page of another
// origin gains nothing a signature would not already give it.
var DefaultCORSOrigins = []string{"*"}

// corsMaxAge is how long a browser may cache a preflight, in seconds:
// Chromium's ceiling.
const corsMaxAge = "7200"

// corsExposed are the response headers the SDK reads: the request id
// ($metadata.requestId), the error type and message (the exception's
// name), and Date, from which it corrects clock skew.
const corsExposed = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date"

// corsRequestHeaders are the request headers a preflight may ask for:
// those the API reads (signature, body type, bearer) and those the AWS
// SDK for JavaScript adds in a browser. Anything else is left out of the
// answer, and the browser refuses to send it.
var corsRequestHeaders = map[string]bool{
	"authorization":         true,
	"content-type":          true,
	"x-amz-date":            true,
	"x-amz-content-sha256":  true,
	"x-amz-security-token":  true,
	"x-amz-user-agent":      true,
	"amz-sdk-invocation-id": true,
	"amz-sdk-request":       true,
	"x-amz-chime-bearer":    true,
}

// corsPolicy decides which origins may read the server's responses, and
// answers preflights.
type corsPolicy struct {
	anyOrigin bool
	origins   map[string]bool // serialized origins, as parseOrigin gives them
	methods   []string        // Access-Control-Allow-Methods
	log       *slog.Logger
}

// newCORSPolicy checks origins: "*" alone, or origins such as
// "https://app.example.com" or "http://localhost:3000". methods are the
// methods the routes use.
func newCORSPolicy(origins []string, methods []string, log *slog.Logger) (*corsPolicy, error) {
	if len(origins) == 0 {
		origins = DefaultCORSOrigins
	}
	p := &corsPolicy{origins: map[string]bool{}, log: log}
	for _, o := range origins {
		if strings.TrimSpace(o) == "*" {
			p.anyOrigin = true
			continue
		}
		s, err := parseOrigin(o)
		if err != nil {
			return nil, err
		}
		p.origins[s] = true
	}
	if p.anyOrigin && len(p.origins) > 0 {
		return nil, fmt.Errorf("CORS origins: * allows every origin; list no other")
	}
	ms := slices.Clone(methods)
	slices.Sort(ms)
	p.methods = []string{strings.Join(slices.Compact(ms), ", ")}
	return p, nil
}

// parseOrigin returns the serialized form a browser sends in Origin:
// scheme://host[:port] in lower case, without the scheme's default port.
func parseOrigin(o string) (string, error) {
	o = strings.TrimSpace(o)
	u, err := url.Parse(strings.TrimSuffix(o, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("CORS origin %q: want * or scheme://host[:port], as browsers send it in Origin", o)
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme + "://" + host, nil
}

// allows says whether a page of origin may read the responses and open
// messaging sessions.
func (p *corsPolicy) allows(origin string) bool {
	if p.anyOrigin {
		return true
	}
	if p.origins[origin] {
		return true
	}
	// Browsers send the serialized form; a hand-written client may not.
	s, err := parseOrigin(origin)
	return err == nil && p.origins[s]
}

// checkWebsocketOrigin is hub.Endpoint.CheckOrigin: a connection without
// Origin is not a browser's, and CORS does not concern it; nor does one
// from a page of the listener's own origin (the console, opened on the
// TLS listener).
func (p *corsPolicy) checkWebsocketOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || p.allows(o) || sameOrigin(r, o)
}

// sameOrigin says whether origin is the one the request was sent to.
func sameOrigin(r *http.Request, origin string) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	own, err := parseOrigin(scheme + "://" + r.Host)
	if err != nil {
		return false
	}
	o, err := parseOrigin(origin)
	return err == nil && o == own
}

// Header values shared by every response; nothing appends to them in
// place (their capacity is their length).
var (
	corsAnyOrigin   = []string{"*"}
	corsExposedList = []string{corsExposed}
	corsMaxAgeList  = []string{corsMaxAge}
)

// wrap puts the policy in front of next.
func (p *corsPolicy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			p.preflight(w, r, origin)
			return
		}
		h := w.Header()
		switch {
		case p.anyOrigin:
			// The same answer whatever the Origin: no Vary needed.
			h["Access-Control-Allow-Origin"] = corsAnyOrigin
			h["Access-Control-Expose-Headers"] = corsExposedList
		case origin == "":
			h.Add("Vary", "Origin")
		case p.allows(origin):
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Origin", origin)
			h["Access-Control-Expose-Headers"] = corsExposedList
		default:
			// Served all the same: the signature decides what a request
			// may do, CORS only whether the page may read the answer.
			h.Add("Vary", "Origin")
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers a browser's OPTIONS before a cross-origin request;
// it needs no signature and reaches no service.
func (p *corsPolicy) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	h := w.Header()
	h["Vary"] = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
	if !p.allows(origin) {
		reqID := restjson.NewRequestID()
		p.log.Info("CORS preflight refused", "request_id", reqID, "origin", origin, "path", r.URL.EscapedPath())
		restjson.WriteError(w, reqID, &restjson.WireError{Status: http.StatusForbidden, Type: "ForbiddenException",
			Message: "The origin " + origin + " is not among the origins this server allows (CORS)"})
		return
	}
	if p.anyOrigin {
		h["Access-Control-Allow-Origin"] = corsAnyOrigin
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	h["Access-Control-Allow-Methods"] = p.methods
	var allowed []string
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if corsRequestHeaders[name] && !slices.Contains(allowed, name) {
				allowed = append(allowed, name)
			}
		}
	}
	if len(allowed) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(allowed, ", "))
	}
	h["Access-Control-Max-Age"] = corsMaxAgeList
	w.WriteHeader(http.StatusNoContent)
	p.log.Debug("CORS preflight", "origin", origin, "method", r.Header.Get("Access-Control-Request-Method"), "path", r.URL.EscapedPath())
}
