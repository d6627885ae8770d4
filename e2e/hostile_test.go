package e2e

// The hostile-client suite: what an attacker on the network tried, and
// must keep failing at. Each test names the finding it pins
// (docs/security.md lists them); the server-level ones (timeouts,
// connection limits, descriptor exhaustion) are in the reliability
// package, which starts the binary.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/aws/smithy-go"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/google/uuid"
)

// hostileSend signs a SendChannelMessage with the root key over
// content-type;host;x-amz-date only, then sets x-amz-chime-bearer
// outside the signature, as whoever captured the request would.
func hostileSend(t *testing.T, e *wsEnv, channel, bearer string, presign bool) *http.Response {
	t.Helper()
	body := []byte(`{"Content":"replayed","Type":"STANDARD","Persistence":"PERSISTENT","ClientRequestToken":"` + uuid.NewString() + `"}`)
	u := e.srv.Endpoint + "/channels/" + label(channel) + "/messages"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: e.srv.Root.AccessKeyID, SecretAccessKey: e.srv.Root.SecretAccessKey}
	if presign {
		req.URL.RawQuery = "X-Amz-Expires=600"
		signed, _, err := v4.NewSigner().PresignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "chime", e.srv.Region, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, signed, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "chime", e.srv.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-amz-chime-bearer", bearer)
	resp, err := e.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// hostileError reads a response whole and checks it is the AWS error
// typ with status and body Code code, whose message contains msg.
func hostileError(t *testing.T, resp *http.Response, status int, typ, code, msg string) {
	t.Helper()
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	got := wantWireError(t, wireResponse{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}, status, typ, code)
	if !strings.Contains(got, msg) {
		t.Errorf("message %q does not contain %q", got, msg)
	}
}

// Finding 1: a request whose x-amz-chime-bearer is outside its
// SignedHeaders is refused, in the header and the presigned forms, so a
// captured request cannot be replayed as another user.
func TestHostileUnsignedBearer(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, alice, "team", bob)
	for _, presign := range []bool{false, true} {
		for _, as := range []string{alice, bob} {
			hostileError(t, hostileSend(t, e, ch, as, presign), http.StatusForbidden, "InvalidSignatureException", "InvalidSignatureException",
				"There were headers present in the request which were not signed: x-amz-chime-bearer")
		}
	}
	out, err := e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "ListChannelMessages")
	if len(out.ChannelMessages) != 0 {
		t.Fatalf("%d messages were sent by the forged requests", len(out.ChannelMessages))
	}
	// The SDK, which signs the header, is answered.
	e.send(t, bob, ch, "signed")
}

// Finding 4: a target banned or removed from the channel does not receive
// the later edits and redactions of a message targeted to it.
func TestHostileTargetAfterRemoval(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"ban", "remove"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			e := wsNew(t)
			alice, bob := e.user(t, "alice"), e.user(t, "bob")
			ch := e.channel(t, alice, "team", bob)
			other := e.channel(t, alice, "other", bob)
			bobWS := e.connect(t, bob, "bob")
			id := e.send(t, alice, ch, "for bob", wsTarget(bob))
			bobWS.expectMessage(t, "for bob")

			var err error
			if how == "ban" {
				_, err = e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
					ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(bob)})
			} else {
				_, err = e.msg.DeleteChannelMembership(t.Context(), &chimesdkmessaging.DeleteChannelMembershipInput{
					ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(bob)})
			}
			mustOK(t, err, "%s", how)
			bobWS.expect(t, "DELETE_CHANNEL_MEMBERSHIP")

			_, err = e.msg.UpdateChannelMessage(t.Context(), &chimesdkmessaging.UpdateChannelMessageInput{
				ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MessageId: aws.String(id), Content: aws.String("edited")})
			mustOK(t, err, "UpdateChannelMessage")
			_, err = e.msg.RedactChannelMessage(t.Context(), &chimesdkmessaging.RedactChannelMessageInput{
				ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MessageId: aws.String(id)})
			mustOK(t, err, "RedactChannelMessage")
			// Frames come in commit order: a message of a channel bob is
			// still in, sent after, is the next frame he gets.
			e.send(t, alice, other, "after")
			bobWS.expectMessage(t, "after")
		})
	}
}

// Finding 7: DescribeChannelMembershipForAppInstanceUser and
// DescribeChannelModeratedByAppInstanceUser answer a PRIVATE channel the
// bearer may not see exactly as a channel that does not exist.
func TestHostilePrivateChannelExistence(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, eve := e.user(t, "alice"), e.user(t, "eve")
	private, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("secret"), ChimeBearer: aws.String(alice),
		Privacy: mtypes.ChannelPrivacyPrivate, Mode: mtypes.ChannelModeRestricted})
	mustOK(t, err, "CreateChannel")
	existing := aws.ToString(private.ChannelArn)
	missing := existing[:strings.LastIndexByte(existing, '/')+1] + "does-not-exist"

	answer := func(op string, ch string) (string, string) {
		var err error
		switch op {
		case "membership":
			_, err = e.msg.DescribeChannelMembershipForAppInstanceUser(t.Context(), &chimesdkmessaging.DescribeChannelMembershipForAppInstanceUserInput{
				ChannelArn: aws.String(ch), ChimeBearer: aws.String(eve), AppInstanceUserArn: aws.String(eve)})
		default:
			_, err = e.msg.DescribeChannelModeratedByAppInstanceUser(t.Context(), &chimesdkmessaging.DescribeChannelModeratedByAppInstanceUserInput{
				ChannelArn: aws.String(ch), ChimeBearer: aws.String(eve), AppInstanceUserArn: aws.String(eve)})
		}
		var ae smithy.APIError
		if err == nil || !errors.As(err, &ae) {
			t.Fatalf("%s of %s: %v, want an error", op, ch, err)
		}
		return ae.ErrorCode(), strings.ReplaceAll(ae.ErrorMessage(), ch, "<channel>")
	}
	for _, op := range []string{"membership", "moderated"} {
		c1, m1 := answer(op, existing)
		c2, m2 := answer(op, missing)
		if c1 != c2 || m1 != m2 {
			t.Errorf("%s: a PRIVATE channel answers %s %q, a missing one %s %q", op, c1, m1, c2, m2)
		}
	}
}

// lockedBuffer collects a server's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(l.b.String(), "\n")
}

// Finding 8: a long path does not make a long log line (what the client
// chose is cut, with a marker), one over the header limit is refused, and
// a path net/http cannot parse is answered in AWS's error format.
func TestHostileLogLineSize(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	srv := carillontest.New(t, carillontest.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	get := func(path string) *http.Response {
		resp, err := srv.HTTPClient().Get(srv.Endpoint + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	hostileError(t, get("/app-instances/"+strings.Repeat("x", 60<<10)), http.StatusForbidden,
		"MissingAuthenticationTokenException", "MissingAuthenticationTokenException", "Missing Authentication Token")
	hostileError(t, get("/app-instances/"+strings.Repeat("x", 900<<10)), http.StatusRequestHeaderFieldsTooLarge,
		"BadRequestException", "BadRequestException", "exceed the limit of 65536 bytes")
	found := false
	for _, line := range logs.lines() {
		if len(line) > 16<<10 {
			t.Errorf("log line of %d bytes: %.300s", len(line), line)
		}
		found = found || strings.Contains(line, `path="/app-instances/xxx`) && strings.Contains(line, "bytes cut]")
	}
	if !found {
		t.Errorf("no request line with the path cut")
	}
}

// Finding 8: an invalid percent escape in the path is answered in AWS's
// error format, on both listeners.
func TestHostileInvalidEscape(t *testing.T) {
	t.Parallel()
	srv := carillontest.New(t)
	for _, base := range []string{srv.Endpoint, srv.TLSEndpoint} {
		u, _ := url.Parse(base)
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme == "https" {
			c = tls.Client(c, &tls.Config{RootCAs: srv.CertPool, ServerName: "127.0.0.1"})
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /app-instances/%ZZ HTTP/1.1\r\nHost: "+u.Host+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		hostileError(t, resp, http.StatusBadRequest, "BadRequestException", "BadRequest", "malformed")
	}
}
