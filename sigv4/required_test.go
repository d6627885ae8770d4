package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestRequireSignedHeader: a header the service acts on, carried outside
// the signature, is refused in both forms, so that a captured signed
// request cannot be replayed as another bearer by changing it.
func TestRequireSignedHeader(t *testing.T) {
	const bearer = "X-Amz-Chime-Bearer"
	path := "/channels/" + channelARNPath + "/messages"
	strict := newTestVerifier(verifyTime)
	strict.RequireSigned = []string{"x-amz-chime-bearer"}
	lax := newTestVerifier(verifyTime)

	headerSigned := func(signBearer bool) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://chime.example.com"+path, strings.NewReader(jsonBody))
		req.Header.Set("Content-Type", "application/json")
		if signBearer {
			req.Header.Set(bearer, userARN)
		}
		signGoV2(t, req, sha256Hex([]byte(jsonBody)), awsCreds(akid, ""), testRegion, testService, signTime)
		return req
	}
	// aws-sdk-go-v2's presigner moves X-Amz-* headers into the query,
	// where they are signed; a bearer header next to such a URL is not.
	presigned := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, "http://chime.example.com"+path+"?max-results=5&X-Amz-Expires=300", nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), awsCreds(akid, ""), req, sha256Hex(nil), testService, testRegion, signTime)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := http.NewRequest(http.MethodGet, u, nil)
		return out
	}
	addBearer := func(r *http.Request, value string) *http.Request {
		r.Header.Set(bearer, value)
		return r
	}
	other := strings.Replace(userARN, "/u1", "/u2", 1)
	body := []byte(jsonBody)
	cases := []struct {
		name     string
		req      *http.Request
		v        *Verifier
		wantType string
	}{
		{"header form, bearer signed", headerSigned(true), strict, ""},
		{"header form, no bearer", headerSigned(false), strict, ""},
		{"header form, bearer added unsigned", addBearer(headerSigned(false), other), strict, TypeInvalidSignature},
		{"header form, empty bearer added unsigned", addBearer(headerSigned(false), ""), strict, TypeInvalidSignature},
		// Without the option the replay goes through: what the option
		// is for.
		{"header form, unchecked", addBearer(headerSigned(false), other), lax, ""},
		{"presigned, no bearer", presigned(), strict, ""},
		{"presigned, bearer added unsigned", addBearer(presigned(), other), strict, TypeInvalidSignature},
		{"presigned, unchecked", addBearer(presigned(), other), lax, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := serverSide(t, c.req)
			b := body
			if r.Method == http.MethodGet {
				b = nil
			}
			cred, err := c.v.VerifyRequest(r, b)
			wantResult(t, cred, err, c.wantType, "There were headers present in the request which were not signed: x-amz-chime-bearer", "")
		})
	}
	// The websocket's presigned URL is refused the same way.
	r := serverSide(t, addBearer(presigned(), other))
	_, err := strict.VerifyPresigned(r, PresignOptions{ExtraSkew: time.Minute})
	wantResult(t, Credential{}, err, TypeInvalidSignature, "not signed", "")
}
