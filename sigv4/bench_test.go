package sigv4

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// benchRequest is a typical SendChannelMessage call as the server sees it:
// a go-v2-signed POST with a 300-byte JSON body to an ARN-labelled path.
func benchRequest(b *testing.B) (*http.Request, []byte) {
	body := `{"Content":"` + strings.Repeat("x", 300-len(`{"Content":""}`)) + `"}`
	req := mustRequest(b, "POST", "https://messaging-chime.example.com/channels/"+channelARNPath+"/messages", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Chime-Bearer", userARN)
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.0 os/linux lang/go#1.26 md/GOOS#linux api/chimesdkmessaging#1.0")
	signGoV2(b, req, sha256Hex([]byte(body)), awsCreds(akid, ""), testRegion, testService, signTime)
	r := serverSide(b, req)
	if len(body) != 300 {
		b.Fatalf("body is %d bytes", len(body))
	}
	return r, []byte(body)
}

func BenchmarkVerifyRequest(b *testing.B) {
	r, body := benchRequest(b)
	v := newTestVerifier(verifyTime)
	if _, err := v.VerifyRequest(r, body); err != nil { // warms the key cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyRequest(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRequestColdKey derives the signing key on every request,
// the cost the cache saves (a new Verifier has an empty cache).
func BenchmarkVerifyRequestColdKey(b *testing.B) {
	r, body := benchRequest(b)
	creds := testCredentials()
	now := func() time.Time { return verifyTime }
	b.ReportAllocs()
	for b.Loop() {
		v := &Verifier{Service: testService, Region: testRegion, Credentials: creds, Now: now}
		if _, err := v.VerifyRequest(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
