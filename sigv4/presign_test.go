package sigv4

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// encodeURIComponent is JavaScript's: everything but A-Z a-z 0-9 and
// -_.!~*'() is percent-encoded (UTF-8, upper-case hex).
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || strings.IndexByte("!*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + string(upperHex[c>>4]) + string(upperHex[c&15]))
		}
	}
	return b.String()
}

// javaURLEncode is java.net.URLEncoder.encode(s, "UTF-8"): A-Z a-z 0-9 and
// .-*_ kept, space as '+', everything else percent-encoded.
func javaURLEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', strings.IndexByte(".-*_", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteString("%" + string(upperHex[c>>4]) + string(upperHex[c&15]))
		}
	}
	return b.String()
}

// clientPresign mirrors amazon-chime-sdk-js src/sigv4/DefaultSigV4.ts
// signURL as DefaultMessagingSession calls it: method GET, path /connect,
// X-Amz-Expires=10, SignedHeaders=host, service chime, payload hash of "",
// host lower-cased in the canonical header. Every value (and the
// credential and token) goes through encode, the params are sorted, and
// the canonical query string itself becomes the URL's query with
// X-Amz-Signature appended. With encode = encodeURIComponent this is the
// JS SDK; with javaURLEncode it is the Android sample's variant of the
// same algorithm.
//
// The JS sorts [key, values] entries with Array.prototype.sort, which
// compares their string forms ("key,v1,v2"); that is reproduced here.
func clientPresign(encode func(string) string, accessKey, token, hostname string, at time.Time, params map[string][]string) string {
	now := formatAmzDate(at)
	today := now[:8]
	scope := today + "/" + testRegion + "/chime/aws4_request"
	entries := map[string][]string{
		"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
		"X-Amz-Credential":    {encode(accessKey + "/" + scope)},
		"X-Amz-Date":          {now},
		"X-Amz-Expires":       {"10"},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amzn-Version":      {encode("3.32.0")},
		"X-Amzn-User-Agent":   {encode("Chrome-120")},
	}
	if token != "" {
		entries["X-Amz-Security-Token"] = []string{encode(token)}
	}
	for k, vs := range params {
		vs = append([]string(nil), vs...)
		sort.Strings(vs)
		for _, v := range vs {
			entries[encode(k)] = append(entries[encode(k)], encode(v))
		}
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i]+","+strings.Join(entries[keys[i]], ",") < keys[j]+","+strings.Join(entries[keys[j]], ",")
	})
	var q []string
	for _, k := range keys {
		for _, v := range entries[k] {
			q = append(q, k+"="+v)
		}
	}
	canonicalQuery := strings.Join(q, "&")
	canonical := "GET\n/connect\n" + canonicalQuery + "\nhost:" + strings.ToLower(hostname) + "\n\nhost\n" + sha256Hex(nil)
	sig := refSign(secret, now, scope, canonical)
	return "/connect?" + canonicalQuery + "&X-Amz-Signature=" + sig
}

// connectParams are DefaultMessagingSession's query params: a user ARN
// with ':' and '/', and a session id carrying the characters
// encodeURIComponent leaves bare.
var connectParams = map[string][]string{
	"userArn":     {userARN},
	"sessionId":   {"sess!'()*-1 two~"},
	"prefetch-on": {"connect"},
}

func TestVerifyPresigned(t *testing.T) {
	srv := newReplayServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	proxied := "Chime.Example.com:8443" // what the client was told; the server sees host

	goV2URL := presignGoV2(t, srv.URL+"/connect?"+url.Values{
		"userArn": {userARN}, "sessionId": {"sess!'()*-1 two~"}, "X-Amz-Expires": {"10"}}.Encode(), akid, "")
	cases := []struct {
		name     string
		url      string // path and query, relative to the server
		opt      PresignOptions
		now      time.Time
		wantType string
		wantMsg  string
		wantKey  string
	}{
		// 1. aws-sdk-go-v2 PresignHTTP (RFC 3986 canonical query).
		{name: "go-v2 presign", url: goV2URL, wantKey: akid},
		// 2. amazon-chime-sdk-js (encodeURIComponent, byte-exact query).
		{name: "chime-sdk-js", url: clientPresign(encodeURIComponent, akid, "", host, signTime, connectParams)},
		// 3. amazon-chime-sdk-js with a session token.
		{name: "chime-sdk-js session token",
			url:     clientPresign(encodeURIComponent, akidToken, sessionTok, host, signTime, connectParams),
			wantKey: akidToken},
		// 4. Android sample style ('+' for space, '~' escaped).
		{name: "android style", url: clientPresign(javaURLEncode, akid, "", host, signTime, connectParams)},
		// 5. Signed for the public host, received by the server under
		// another Host: accepted with the override...
		{name: "host override", url: clientPresign(encodeURIComponent, akid, "", proxied, signTime, connectParams),
			opt: PresignOptions{Host: proxied}},
		// 6. ...and rejected without it.
		{name: "host mismatch", url: clientPresign(encodeURIComponent, akid, "", proxied, signTime, connectParams),
			wantType: TypeInvalidSignature, wantMsg: "does not match"},
		// 7. A parameter changed after signing.
		{name: "tampered userArn",
			url: strings.Replace(clientPresign(encodeURIComponent, akid, "", host, signTime, connectParams),
				"user%2Fu1", "user%2Fu2", 1),
			wantType: TypeInvalidSignature, wantMsg: "does not match"},
		// 8. Session token missing for a temporary credential.
		{name: "token stripped",
			url: dropParam(clientPresign(encodeURIComponent, akidToken, sessionTok, host, signTime, connectParams),
				"X-Amz-Security-Token"),
			wantType: TypeUnrecognizedClient, wantMsg: "The security token included in the request is invalid."},
		// 9. Last valid second: X-Amz-Date + X-Amz-Expires.
		{name: "expiry boundary", url: goV2URL, now: signTime.Add(10 * time.Second)},
		// 10. One second later.
		{name: "expired", url: goV2URL, now: signTime.Add(11 * time.Second), wantType: TypeInvalidSignature,
			wantMsg: "Signature expired: 20240101T120000Z is now earlier than 20240101T120001Z (20240101T120011Z - 10 sec.)"},
		// 11. ExtraSkew widens the late side...
		{name: "extra skew late edge", url: goV2URL, now: signTime.Add(15 * time.Second),
			opt: PresignOptions{ExtraSkew: 5 * time.Second}},
		// 12. ...by exactly ExtraSkew.
		{name: "extra skew late past", url: goV2URL, now: signTime.Add(16 * time.Second),
			opt: PresignOptions{ExtraSkew: 5 * time.Second}, wantType: TypeInvalidSignature, wantMsg: "Signature expired"},
		// 13. Early side: X-Amz-Date may be MaxSkew ahead of the clock.
		{name: "early edge", url: goV2URL, now: signTime.Add(-15 * time.Minute)},
		// 14. One second more is not yet valid.
		{name: "too early", url: goV2URL, now: signTime.Add(-15*time.Minute - time.Second),
			wantType: TypeInvalidSignature, wantMsg: "Signature not yet current"},
		// 15. ExtraSkew widens the early side too.
		{name: "extra skew early edge", url: goV2URL, now: signTime.Add(-15*time.Minute - 5*time.Second),
			opt: PresignOptions{ExtraSkew: 5 * time.Second}},
		// 16. Missing parameters are listed.
		{name: "missing params", url: dropParam(dropParam(goV2URL, "X-Amz-Signature"), "X-Amz-Expires"),
			wantType: TypeIncompleteSignature,
			wantMsg:  "AWS query-string parameters must include 'X-Amz-Expires', 'X-Amz-Signature'."},
		// 17. X-Amz-Expires out of range.
		{name: "expires too long", url: strings.Replace(goV2URL, "X-Amz-Expires=10", "X-Amz-Expires=604801", 1),
			wantType: TypeIncompleteSignature, wantMsg: "X-Amz-Expires must be less than a week"},
		// 18. X-Amz-Expires zero.
		{name: "expires zero", url: strings.Replace(goV2URL, "X-Amz-Expires=10", "X-Amz-Expires=0", 1),
			wantType: TypeIncompleteSignature, wantMsg: "X-Amz-Expires must be positive"},
		// 19. host not among the signed headers.
		{name: "host not signed", url: strings.Replace(goV2URL, "X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-foo", 1),
			wantType: TypeIncompleteSignature, wantMsg: "'Host' or ':authority' must be a 'SignedHeader'"},
		// 20. Wrong region in the credential.
		{name: "wrong region", url: strings.Replace(goV2URL, "%2Fus-east-1%2F", "%2Fus-west-2%2F", 1),
			wantType: TypeInvalidSignature, wantMsg: "Credential should be scoped to a valid region."},
		// 21. Unknown access key.
		{name: "unknown key", url: strings.Replace(goV2URL, akid, "AKIDNOPE", 1),
			wantType: TypeUnrecognizedClient, wantMsg: "The security token included in the request is invalid."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = signTime.Add(3 * time.Second)
			}
			req := mustRequest(t, "GET", srv.URL+tc.url, "")
			cred, err := srv.do(t, req, presignedWith(newTestVerifier(now), tc.opt))
			wantResult(t, cred, err, tc.wantType, tc.wantMsg, tc.wantKey)
		})
	}
}

// TestVerifyRequestPresignedQuery checks that VerifyRequest takes the
// query route when there is no Authorization header.
func TestVerifyRequestPresignedQuery(t *testing.T) {
	srv := newReplayServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	v := newTestVerifier(signTime.Add(time.Second))
	for _, u := range []string{
		presignGoV2(t, srv.URL+"/connect?X-Amz-Expires=60&userArn="+url.QueryEscape(userARN), akid, ""),
		clientPresign(encodeURIComponent, akid, "", host, signTime, connectParams),
	} {
		cred, err := srv.do(t, mustRequest(t, "GET", srv.URL+u, ""), verifyWith(v))
		wantResult(t, cred, err, "", "", akid)
	}
}

// presignGoV2 presigns a GET with aws-sdk-go-v2 and returns the path and
// query of the resulting URL.
func presignGoV2(t *testing.T, rawURL, id, tok string) string {
	t.Helper()
	req := mustRequest(t, "GET", rawURL, "")
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), awsCreds(id, tok), req, sha256Hex(nil),
		testService, testRegion, signTime)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// dropParam removes every k=... pair from a path?query string.
func dropParam(u, key string) string {
	path, query, _ := strings.Cut(u, "?")
	var kept []string
	for _, p := range strings.Split(query, "&") {
		if !strings.HasPrefix(p, key+"=") {
			kept = append(kept, p)
		}
	}
	return path + "?" + strings.Join(kept, "&")
}

// TestPresignQueryForms pins which canonical query forms are tried, on a
// query no SDK would produce (unsorted, with '+' and bare "!'()*").
func TestPresignQueryForms(t *testing.T) {
	ps := parseQuery("b=2&a=x+y!'()*&X-Amz-Signature=ff&a=%41")
	got := canonicalQueries(ps, true, presignQueryForms...)
	want := []string{
		"a=%41&a=x+y!'()*&b=2",           // as sent, sorted
		"b=2&a=x+y!'()*&a=%41",           // as sent, in order
		"a=A&a=x%20y%21%27%28%29%2A&b=2", // RFC 3986 re-encoded
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
