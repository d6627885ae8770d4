package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/carillonhq/carillon"
)

// FuzzAPI sends arbitrary signed requests through the whole server: the
// wire layer, the services and the store. Whatever the input, the answer
// must not be a 5xx other than 501 (an operation not implemented): a 500
// on user input is a bug.
//
//	go test -run='^$' -fuzz=FuzzAPI -fuzztime=2m ./server/
func FuzzAPI(f *testing.F) {
	const app = "arn:aws:chime:us-east-1:000000000000:app-instance/fuzz"
	const user = app + "/user/u1"
	const channel = app + "/channel/c1"
	esc := func(s string) string { return strings.ReplaceAll(url.PathEscape(s), "/", "%2F") }
	f.Add("POST", "/app-instances", `{"Name":"n","ClientRequestToken":"tok-1"}`, "")
	f.Add("POST", "/app-instance-users", `{"AppInstanceArn":"`+app+`","AppInstanceUserId":"u2","Name":"U","ClientRequestToken":"tok-2"}`, "")
	f.Add("POST", "/channels", `{"AppInstanceArn":"`+app+`","Name":"c","ClientRequestToken":"tok-3","ChannelId":"c2","MemberArns":["`+user+`"]}`, user)
	f.Add("POST", "/channels/"+esc(channel)+"/messages", `{"Content":"hi","Type":"STANDARD","Persistence":"PERSISTENT","ClientRequestToken":"tok-4","MessageAttributes":{"a":{"StringValues":["b"]}}}`, user)
	f.Add("GET", "/channels/"+esc(channel)+"/messages?max-results=3&sort-order=ASCENDING&not-before=2020-01-01T00:00:00Z", "", user)
	f.Add("POST", "/channels/"+esc(channel)+"/memberships?operation=batch-create", `{"MemberArns":["`+user+`","`+app+`/user/nobody"],"Type":"DEFAULT"}`, user)
	f.Add("PUT", "/channels/"+esc(channel)+"/memberships/"+esc(user)+"/preferences", `{"Preferences":{"PushNotifications":{"AllowNotifications":"FILTERED","FilterRule":"{\"a\":[\"b\"]}"}}}`, user)
	f.Add("POST", "/channels?operation=search", `{"Fields":[{"Key":"MEMBERS","Values":["`+user+`"],"Operator":"EQUALS"}]}`, user)
	f.Add("POST", "/channel-flows", `{"AppInstanceArn":"`+app+`","Name":"f","ClientRequestToken":"tok-5","Processors":[{"Name":"p","ExecutionOrder":1,"FallbackAction":"ABORT","Configuration":{"Lambda":{"ResourceArn":"arn:aws:lambda:us-east-1:123456789012:function:f","InvocationType":"ASYNC"}}}]}`, "")
	f.Add("PUT", "/app-instances/"+esc(app)+"/streaming-configurations", `{"StreamingConfigurations":[{"DataType":"Channel","ResourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}]}`, "")
	f.Add("POST", "/tags?operation=tag-resource", `{"ResourceARN":"`+channel+`","Tags":[{"Key":"k","Value":"v"}]}`, "")
	f.Add("GET", "/channels?scope=app-instance-user-memberships&app-instance-user-arn="+url.QueryEscape(user), "", user)

	ctx := context.Background()
	root := RootCredentials{AccessKeyID: "CKIAFUZZFUZZFUZZFUZZ", SecretAccessKey: "fuzz-secret"}
	srv, err := New(ctx, Config{DataDir: f.TempDir(), Root: root})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	if err := srv.Store().Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "fuzz"}); err != nil {
			return err
		}
		if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: user, AppInstanceARN: app, Name: "U1"}); err != nil {
			return err
		}
		if err := tx.CreateChannel(&carillon.Channel{ARN: channel, AppInstanceARN: app, Name: "c", Mode: "UNRESTRICTED", Privacy: "PUBLIC", CreatedBy: user}); err != nil {
			return err
		}
		if err := tx.CreateModerator(&carillon.Moderator{ChannelARN: channel, ModeratorARN: user, CreatedBy: user}); err != nil {
			return err
		}
		return tx.CreateMembership(&carillon.Membership{ChannelARN: channel, MemberARN: user, Type: "DEFAULT", InvitedBy: user})
	}); err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey}

	f.Fuzz(func(t *testing.T, method, target, body, bearer string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		if strings.HasPrefix(target, "/connect") || strings.HasPrefix(target, "/carillon/") {
			return // the websocket and the admin API have their own tests
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, bytes.NewReader([]byte(body)))
		if err != nil {
			return // not a request a server could receive
		}
		if bearer != "" {
			if strings.ContainsAny(bearer, "\r\n\x00") {
				return
			}
			req.Header.Set("x-amz-chime-bearer", bearer)
		}
		sum := sha256.Sum256([]byte(body))
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "chime", "us-east-1", time.Now()); err != nil {
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
			t.Fatalf("%s %s bearer=%q body=%q: %d %s", method, target, bearer, body, rec.Code, rec.Body)
		}
	})
}
