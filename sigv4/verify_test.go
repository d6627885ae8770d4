package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const jsonBody = `{"Content":"hello","Type":"STANDARD","Persistence":"PERSISTENT","ClientRequestToken":"8b7f8a1e"}`

// goV2Case is one request signed by aws-sdk-go-v2 and replayed through a
// real server into VerifyRequest.
type goV2Case struct {
	name   string
	method string
	path   string // escaped, as the SDK serialises it
	query  string // raw query
	body   string
	header map[string]string // set before signing, so they are signed

	creds    aws.Credentials // zero: awsCreds(akid, "")
	region   string          // "" = testRegion
	service  string          // "" = testService
	at       time.Time       // zero = signTime
	hashHdr  string          // X-Amz-Content-Sha256 to send and sign; "body" = the real hash
	tamper   func(r *http.Request)
	wantType string
	wantMsg  string
	wantKey  string
}

func TestVerifyRequestGoV2(t *testing.T) {
	srv := newReplayServer(t)
	v := newTestVerifier(verifyTime)
	msgsPath := "/channels/" + channelARNPath + "/messages"
	cases := []goV2Case{
		// 1. GET with a query string; url.Values.Encode writes '+' for a
		// space, which the SDKs sign as %20.
		{name: "get with query", method: "GET", path: msgsPath,
			query:  url.Values{"max-results": {"50"}, "next-token": {"a b/c+d"}, "sort-order": {"DESCENDING"}}.Encode(),
			header: map[string]string{"X-Amz-Chime-Bearer": userARN}, wantKey: akid},
		// 2. POST with a JSON body (Content-Length is signed by go-v2).
		{name: "post json", method: "POST", path: msgsPath, body: jsonBody,
			header: map[string]string{"Content-Type": "application/json", "X-Amz-Chime-Bearer": userARN}},
		// 3. DELETE with two ARN labels in the path.
		{name: "delete arn labels", method: "DELETE",
			path:   "/channels/" + channelARNPath + "/memberships/" + url.PathEscape(userARN),
			header: map[string]string{"X-Amz-Chime-Bearer": userARN}},
		// 4. X-Amz-Content-Sha256 sent and signed.
		{name: "content sha256 header", method: "POST", path: msgsPath, body: jsonBody, hashHdr: "body",
			header: map[string]string{"Content-Type": "application/json"}},
		// 5. UNSIGNED-PAYLOAD, literally as the header value.
		{name: "unsigned payload", method: "POST", path: msgsPath, body: jsonBody, hashHdr: unsignedPayload,
			header: map[string]string{"Content-Type": "application/json"}},
		// 6. Temporary credential with a session token.
		{name: "session token", method: "POST", path: msgsPath, body: jsonBody,
			creds: awsCreds(akidToken, sessionTok), wantKey: akidToken},
		// 7. Header value with runs of spaces, collapsed in the canonical form.
		{name: "spaces in header", method: "GET", path: "/app-instances",
			header: map[string]string{"X-Amz-Meta-Note": "a   b    c"}},

		// 8. Wrong secret.
		{name: "wrong secret", method: "POST", path: msgsPath, body: jsonBody,
			creds:    aws.Credentials{AccessKeyID: akid, SecretAccessKey: "not-the-secret"},
			wantType: TypeInvalidSignature, wantMsg: "does not match the signature you provided"},
		// 9. Unknown access key.
		{name: "unknown key", method: "POST", path: msgsPath, body: jsonBody,
			creds:    aws.Credentials{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: secret},
			wantType: TypeUnrecognizedClient, wantMsg: "The security token included in the request is invalid."},
		// 10. Wrong region; the message must not reveal the right one.
		{name: "wrong region", method: "POST", path: msgsPath, body: jsonBody, region: "eu-west-1",
			wantType: TypeInvalidSignature, wantMsg: "Credential should be scoped to a valid region."},
		// 11. Wrong service.
		{name: "wrong service", method: "POST", path: msgsPath, body: jsonBody, service: "s3",
			wantType: TypeInvalidSignature, wantMsg: "Credential should be scoped to correct service: 'chime'."},
		// 12. Signed 20 minutes ago.
		{name: "stale date", method: "POST", path: msgsPath, body: jsonBody, at: verifyTime.Add(-20 * time.Minute),
			wantType: TypeInvalidSignature,
			wantMsg:  "Signature expired: 20240101T114030Z is now earlier than 20240101T114530Z (20240101T120030Z - 15 min.)"},
		// 13. Signed 20 minutes in the future.
		{name: "future date", method: "POST", path: msgsPath, body: jsonBody, at: verifyTime.Add(20 * time.Minute),
			wantType: TypeInvalidSignature,
			wantMsg:  "Signature not yet current: 20240101T122030Z is still later than 20240101T121530Z (20240101T120030Z + 15 min.)"},
		// 14. Body replaced after signing.
		{name: "tampered body", method: "POST", path: msgsPath, body: jsonBody,
			header:   map[string]string{"Content-Type": "application/json"},
			tamper:   func(r *http.Request) { setBody(r, strings.Replace(jsonBody, "hello", "HELLO", 1)) },
			wantType: TypeInvalidSignature, wantMsg: "does not match the signature you provided"},
		// 15. Body replaced after signing, with a signed X-Amz-Content-Sha256.
		{name: "tampered body with content sha256", method: "POST", path: msgsPath, body: jsonBody, hashHdr: "body",
			tamper:   func(r *http.Request) { setBody(r, strings.Replace(jsonBody, "hello", "HELLO", 1)) },
			wantType: TypeInvalidSignature, wantMsg: "does not match the signature you provided"},
		// 16. A signed header changed after signing.
		{name: "tampered signed header", method: "GET", path: msgsPath,
			header:   map[string]string{"X-Amz-Chime-Bearer": userARN},
			tamper:   func(r *http.Request) { r.Header.Set("X-Amz-Chime-Bearer", userARN+"x") },
			wantType: TypeInvalidSignature, wantMsg: "does not match"},
		// 17. Path changed after signing.
		{name: "tampered path", method: "DELETE", path: "/channels/" + channelARNPath,
			tamper: func(r *http.Request) {
				r.URL.RawPath = strings.Replace(r.URL.RawPath, "c1", "c2", 1)
				r.URL.Path = strings.Replace(r.URL.Path, "c1", "c2", 1)
			},
			wantType: TypeInvalidSignature, wantMsg: "does not match"},
		// 18. Query changed after signing.
		{name: "tampered query", method: "GET", path: msgsPath, query: "max-results=5",
			tamper:   func(r *http.Request) { r.URL.RawQuery = "max-results=50" },
			wantType: TypeInvalidSignature, wantMsg: "does not match"},
		// 19. No Authorization header at all.
		{name: "missing authorization", method: "GET", path: msgsPath,
			tamper:   func(r *http.Request) { r.Header.Del("Authorization") },
			wantType: TypeMissingAuthenticationToken, wantMsg: "Missing Authentication Token"},
		// 20. Malformed Authorization: a parameter without '='.
		{name: "malformed authorization", method: "GET", path: msgsPath,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Signature ", 1))
			},
			wantType: TypeIncompleteSignature, wantMsg: "not a valid key=value pair (missing equal-sign)"},
		// 21. Authorization without a Signature parameter.
		{name: "authorization without signature", method: "GET", path: msgsPath,
			tamper: func(r *http.Request) {
				h := r.Header.Get("Authorization")
				r.Header.Set("Authorization", h[:strings.Index(h, ", Signature=")])
			},
			wantType: TypeIncompleteSignature, wantMsg: "Authorization header requires 'Signature' parameter."},
		// 22. Another algorithm.
		{name: "unsupported algorithm", method: "GET", path: msgsPath,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "HMAC-SHA256", "HMAC-SHA512", 1))
			},
			wantType: TypeIncompleteSignature, wantMsg: "Unsupported AWS 'algorithm'"},
		// 23. host left out of SignedHeaders.
		{name: "host not signed", method: "GET", path: msgsPath,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
			},
			wantType: TypeIncompleteSignature, wantMsg: "'Host' or ':authority' must be a 'SignedHeader'"},
		// 24. Session-token credential, token not sent.
		{name: "missing security token", method: "POST", path: msgsPath, body: jsonBody,
			creds:    awsCreds(akidToken, sessionTok),
			tamper:   func(r *http.Request) { r.Header.Del("X-Amz-Security-Token") },
			wantType: TypeUnrecognizedClient, wantMsg: "The security token included in the request is invalid."},
		// 25. Session-token credential, wrong token (signed, so only the
		// token check can catch it).
		{name: "wrong security token", method: "POST", path: msgsPath, body: jsonBody,
			creds:    awsCreds(akidToken, sessionTok+"x"),
			wantType: TypeUnrecognizedClient, wantMsg: "The security token included in the request is invalid."},
		// 26. A token sent with a long-term key.
		{name: "token with long-term key", method: "POST", path: msgsPath, body: jsonBody,
			creds:    awsCreds(akid, "stray-token"),
			wantType: TypeUnrecognizedClient, wantMsg: "The security token included in the request is invalid."},
		// 27. Expired temporary credential.
		{name: "expired credential", method: "POST", path: msgsPath, body: jsonBody,
			creds:    awsCreds(akidOld, sessionTok),
			wantType: TypeExpiredToken, wantMsg: "The security token included in the request is expired"},
		// 28. Credential scope date not the request date.
		{name: "scope date mismatch", method: "GET", path: msgsPath,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20240101/", "/20231231/", 1))
			},
			wantType: TypeInvalidSignature,
			wantMsg:  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20231231' != '20240101', from '20240101T120000Z'."},
		// 29. Wrong scope terminator.
		{name: "bad terminator", method: "GET", path: msgsPath,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "aws4_request", "aws4_reqest", 1))
			},
			wantType: TypeInvalidSignature, wantMsg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'."},
		// 30. Credential with too few elements.
		{name: "short credential", method: "GET", path: msgsPath,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/chime/aws4_request", "", 1))
			},
			wantType: TypeIncompleteSignature, wantMsg: "Credential must have exactly 5 slash-delimited elements"},
		// 31. No X-Amz-Date and no Date.
		{name: "missing date", method: "GET", path: msgsPath,
			tamper:   func(r *http.Request) { r.Header.Del("X-Amz-Date") },
			wantType: TypeIncompleteSignature, wantMsg: "requires existence of either a 'X-Amz-Date' or a 'Date' header"},
		// 32. Signature flipped in one digit.
		{name: "signature off by one digit", method: "GET", path: msgsPath,
			tamper: func(r *http.Request) {
				h := r.Header.Get("Authorization")
				last := h[len(h)-1]
				flip := byte('0')
				if last == '0' {
					flip = '1'
				}
				r.Header.Set("Authorization", h[:len(h)-1]+string(flip))
			},
			wantType: TypeInvalidSignature, wantMsg: "does not match"},
		// 33. Host changed after signing (e.g. replay against another vhost).
		{name: "tampered host", method: "GET", path: msgsPath,
			tamper:   func(r *http.Request) { r.Host = "evil.example.com" },
			wantType: TypeInvalidSignature, wantMsg: "does not match"},
		// 34. Dot segments, a double slash and a tab, which go-v2 signs
		// without normalising (botocore and smithy normalise; see
		// TestCrossSigner* case 4).
		{name: "dot segments and tab", method: "GET", path: "/app-instances//x/./y/../z%3Aq",
			header: map[string]string{"X-Amz-Meta-Note": "a\tb  c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := buildGoV2Request(t, srv.URL, tc)
			cred, err := srv.do(t, req, verifyWith(v))
			wantResult(t, cred, err, tc.wantType, tc.wantMsg, tc.wantKey)
		})
	}
}

func buildGoV2Request(t *testing.T, base string, tc goV2Case) *http.Request {
	t.Helper()
	u := base + tc.path
	if tc.query != "" {
		u += "?" + tc.query
	}
	var body *strings.Reader
	if tc.body != "" {
		body = strings.NewReader(tc.body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(tc.method, u, body)
	} else {
		req, err = http.NewRequest(tc.method, u, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, val := range tc.header {
		req.Header.Set(k, val)
	}
	switch tc.hashHdr {
	case "":
	case "body":
		req.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte(tc.body)))
	default:
		req.Header.Set("X-Amz-Content-Sha256", tc.hashHdr)
	}
	creds := tc.creds
	if creds.AccessKeyID == "" {
		creds = awsCreds(akid, "")
	}
	region, service, at := tc.region, tc.service, tc.at
	if region == "" {
		region = testRegion
	}
	if service == "" {
		service = testService
	}
	if at.IsZero() {
		at = signTime
	}
	payload := sha256Hex([]byte(tc.body))
	if tc.hashHdr != "" && tc.hashHdr != "body" {
		payload = tc.hashHdr
	}
	signGoV2(t, req, payload, creds, region, service, at)
	if tc.tamper != nil {
		tc.tamper(req)
	}
	return req
}

func setBody(r *http.Request, s string) {
	r.ContentLength = int64(len(s))
	r.Body = nopCloser{strings.NewReader(s)}
	r.GetBody = nil
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// TestVerifyRequestDateHeader covers a request dated by the Date header
// (RFC 1123) rather than X-Amz-Date; the string to sign then carries the
// ISO 8601 form of that date.
func TestVerifyRequestDateHeader(t *testing.T) {
	r := serverSide(t, mustRequest(t, "GET", "http://chime.local/app-instances", ""))
	date := signTime.Format(http.TimeFormat)
	r.Header.Set("Date", date)
	scope := "20240101/us-east-1/chime/aws4_request"
	canonical := "GET\n/app-instances\n\n" +
		"date:" + date + "\nhost:chime.local\n\n" +
		"date;host\n" + sha256Hex(nil)
	sig := refSign(secret, "20240101T120000Z", scope, canonical)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+akid+"/"+scope+", SignedHeaders=date;host, Signature="+sig)
	_, err := newTestVerifier(verifyTime).VerifyRequest(r, nil)
	wantResult(t, Credential{}, err, "", "", "")

	// The scope date is checked against the Date header's day too.
	r.Header.Set("Date", signTime.Add(-24*time.Hour).Format(http.TimeFormat))
	_, err = newTestVerifier(verifyTime).VerifyRequest(r, nil)
	wantResult(t, Credential{}, err, TypeInvalidSignature, "Date in Credential scope does not match", "")
}

func mustRequest(t testing.TB, method, u, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	return req
}

// TestMismatchReason: on a signature mismatch the log-only Reason carries
// the canonical request (double-escaped ARN path included) and string to
// sign, with the live session token redacted, while the client message is
// AWS's fixed text.
func TestMismatchReason(t *testing.T) {
	req := mustRequest(t, "POST", "http://chime.local/channels/"+channelARNPath+"/messages", jsonBody)
	signGoV2(t, req, sha256Hex([]byte(jsonBody)), awsCreds(akidToken, sessionTok), testRegion, testService, signTime)
	v := newTestVerifier(verifyTime)
	creds := testCredentials()
	c := creds[akidToken]
	c.SecretAccessKey = "rotated"
	creds[akidToken] = c
	v.Credentials = creds
	_, err := v.VerifyRequest(serverSide(t, req), []byte(jsonBody))
	var e *Error
	if !errors.As(err, &e) || e.Message != msgSignatureMismatch {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{
		"canonical request:\nPOST\n/channels/arn%253Aaws%253Achime%253Aus-east-1%253A111122223333%253Aapp-instance%252Fabc%252Fchannel%252Fc1/messages\n\n",
		"x-amz-security-token:<redacted>\n",
		"string to sign:\nAWS4-HMAC-SHA256\n20240101T120000Z\n20240101/us-east-1/chime/aws4_request\n",
	} {
		if !strings.Contains(e.Reason, want) {
			t.Errorf("reason lacks %q:\n%s", want, e.Reason)
		}
	}
	if strings.Contains(e.Reason, sessionTok) || strings.Contains(e.Error(), "canonical") {
		t.Errorf("token or reason leaked: %q / %q", e.Reason, e.Error())
	}
}
