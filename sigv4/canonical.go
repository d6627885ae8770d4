package sigv4

import (
	"cmp"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// isUnreserved reports RFC 3986 unreserved bytes, the only ones SigV4
// leaves unescaped.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// appendURIEscape appends s with every byte outside the unreserved set
// percent-encoded in upper case; '/' is kept when keepSlash is set.
func appendURIEscape(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || keepSlash && c == '/' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

// uriEncode is appendURIEscape for a standalone string. It returns s itself
// when nothing needs escaping, the common case, so it rarely allocates.
func uriEncode(s string) string {
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			return string(appendURIEscape(make([]byte, 0, len(s)+16), s, false))
		}
	}
	return s
}

// requestPath returns the path exactly as the client sent it. net/http
// keeps the sent form in RawPath whenever it differs from the default
// escaping of Path, so RawPath-else-EscapedPath is the wire form. (This is
// also what the client signers start from: the escaped path of the URL they
// are about to send.)
func requestPath(r *http.Request) string {
	if r.URL.RawPath != "" {
		return r.URL.RawPath
	}
	return r.URL.EscapedPath()
}

// appendCanonicalURI appends the canonical URI for the escaped request path
// p. Non-S3 signers (aws-sdk-go-v2, botocore, @smithy/signature-v4) escape
// the already-escaped path a second time, keeping '/', so an ARN label sent
// as "arn%3Aaws" is signed as "arn%253Aaws".
func appendCanonicalURI(dst []byte, p string) []byte {
	if p == "" {
		return append(dst, '/')
	}
	return appendURIEscape(dst, p, true)
}

// normalizePath removes "." and ".." segments and empty segments (double
// slashes) from an escaped path, as botocore's remove_dot_segments and
// @smithy/signature-v4's getCanonicalPath both do before escaping
// (aws-sdk-go-v2 does not normalise at all). A trailing slash survives
// unless nothing else does. It returns p itself when there is nothing to
// remove, which is the common case.
func normalizePath(p string) string {
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && !strings.HasPrefix(p, ".") {
		return p
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	var b strings.Builder
	if strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(segs, "/"))
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		b.WriteByte('/')
	}
	return b.String()
}

// queryParam is one k=v pair of the query string, undecoded.
type queryParam struct {
	key, value string
}

// parseQuery splits a raw query string into pairs in the order sent,
// without decoding. url.ParseQuery is not used: it loses the order and the
// exact bytes, both of which matter for presigned URLs whose canonical query
// is the sent string itself.
func parseQuery(raw string) []queryParam {
	if raw == "" {
		return nil
	}
	ps := make([]queryParam, 0, strings.Count(raw, "&")+1)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		ps = append(ps, queryParam{k, v})
	}
	return ps
}

// queryUnescape decodes a query component ('+' is a space). A malformed
// escape is left as is: the component then re-encodes to something no
// honest signer produced, and the signature check fails on its own.
func queryUnescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

func compareParams(a, b queryParam) int {
	return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(a.value, b.value))
}

func joinParams(ps []queryParam) string {
	n := 0
	for _, p := range ps {
		n += len(p.key) + len(p.value) + 2
	}
	b := make([]byte, 0, n)
	for i, p := range ps {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.key...)
		b = append(b, '=')
		b = append(b, p.value...)
	}
	return string(b)
}

// Canonical-query forms, in the order they are tried.
const (
	// queryEncoded decodes every key and value and re-encodes it RFC 3986
	// style, sorted by encoded key then value: what every AWS SDK signs.
	queryEncoded = iota
	// querySorted keeps each pair byte for byte as sent, sorted by key then
	// value: what amazon-chime-sdk-js (encodeURIComponent, which leaves
	// !'()* bare) and the Android sample (URLEncoder, '+' for space) sign.
	querySorted
	// queryAsSent keeps the pairs in the order sent; those clients send the
	// canonical query verbatim, and this covers sort-order quirks.
	queryAsSent
)

// canonicalQuery builds one canonical-query form. With dropSignature the
// X-Amz-Signature parameter is left out, as presigned URLs require.
func canonicalQuery(ps []queryParam, form int, dropSignature bool) string {
	if len(ps) == 0 {
		return ""
	}
	out := make([]queryParam, 0, len(ps))
	for _, p := range ps {
		key := queryUnescape(p.key)
		if dropSignature && key == "X-Amz-Signature" {
			continue
		}
		if form == queryEncoded {
			p = queryParam{uriEncode(key), uriEncode(queryUnescape(p.value))}
		}
		out = append(out, p)
	}
	if form != queryAsSent {
		slices.SortFunc(out, compareParams)
	}
	return joinParams(out)
}

// canonicalQueries returns the distinct canonical-query forms to try, in
// the given order of preference.
func canonicalQueries(ps []queryParam, dropSignature bool, forms ...int) []string {
	if len(ps) == 0 {
		return []string{""}
	}
	out := make([]string, 0, len(forms))
	for _, f := range forms {
		if q := canonicalQuery(ps, f, dropSignature); !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out
}

// appendHeaderValue appends v trimmed, with inner runs of spaces collapsed
// to one. With collapseTabs, tabs count as spaces (botocore and
// @smithy/signature-v4); without, a tab is kept as is (aws-sdk-go-v2).
// sawTab reports whether v contains a tab, i.e. whether the other form
// would differ.
func appendHeaderValue(dst []byte, v string, collapseTabs bool) (out []byte, sawTab bool) {
	i, j := 0, len(v)
	for i < j && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	for j > i && (v[j-1] == ' ' || v[j-1] == '\t') {
		j--
	}
	prevSpace := false
	for ; i < j; i++ {
		c := v[i]
		if c == '\t' {
			sawTab = true
			if collapseTabs {
				c = ' '
			}
		}
		if c == ' ' {
			if prevSpace {
				continue
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
		dst = append(dst, c)
	}
	return dst, sawTab
}

// appendCanonicalKey writes the canonical MIME form of a lower-case header
// name ("x-amz-date" -> "X-Amz-Date") into dst, so the header map can be
// indexed without textproto allocating a new string.
func appendCanonicalKey(dst []byte, name string) []byte {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst
}

// headerValues finds a header by its signed (lower-case) name.
func headerValues(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) <= len(buf) {
		if vs, ok := h[string(appendCanonicalKey(buf[:0], name))]; ok {
			return vs
		}
	} else if vs, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return vs
	}
	// Keys net/http could not canonicalise (odd bytes), or maps built by
	// hand, are found by a case-insensitive scan. Only reached for headers
	// that are signed but absent, so it is not on the hot path.
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			return vs
		}
	}
	return nil
}

// appendCanonicalHeaders appends one "name:value\n" line per signed header,
// in the order the client listed them (signers list them sorted, and the
// list is part of what is signed, so it is used as given).
//
// net/http's server moves Host into r.Host and may leave Content-Length and
// Transfer-Encoding only in r.ContentLength and r.TransferEncoding, so those
// are rebuilt from there when the header map lacks them.
func appendCanonicalHeaders(dst []byte, r *http.Request, host, signedHeaders string, collapseTabs bool) (out []byte, sawTab bool) {
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		dst = append(dst, name...)
		dst = append(dst, ':')
		var tab bool
		switch {
		case strings.EqualFold(name, "host"):
			dst, tab = appendHeaderValue(dst, host, collapseTabs)
		default:
			vs := headerValues(r.Header, name)
			if len(vs) == 0 {
				vs = movedHeader(r, name)
			}
			for i, v := range vs {
				if i > 0 {
					dst = append(dst, ',')
				}
				var t bool
				dst, t = appendHeaderValue(dst, v, collapseTabs)
				tab = tab || t
			}
			if len(vs) == 0 && strings.EqualFold(name, "content-length") && r.ContentLength >= 0 {
				dst = strconv.AppendInt(dst, r.ContentLength, 10)
			}
		}
		sawTab = sawTab || tab
		dst = append(dst, '\n')
	}
	return dst, sawTab
}

// movedHeader returns header values net/http keeps outside r.Header.
func movedHeader(r *http.Request, name string) []string {
	if strings.EqualFold(name, "transfer-encoding") && len(r.TransferEncoding) > 0 {
		return []string{strings.Join(r.TransferEncoding, ",")}
	}
	return nil
}
