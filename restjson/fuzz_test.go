package restjson

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carillonhq/carillon/api"
)

// FuzzDecodeRequest sends arbitrary methods, targets, headers and bodies
// through routing, binding and validation. Whatever the input, the
// handler must answer with a status below 500 (services here always
// succeed) and, for errors, a typed X-Amzn-ErrorType.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("POST", "/app-instances", `{"Name":"n","ClientRequestToken":"tok-1","Tags":[{"Key":"k","Value":"v"}]}`, "")
	f.Add("POST", "/channels/arn%3Aaws%3Achime%3Aus-east-1%3A0%3Aapp-instance%2Fa%2Fchannel%2Fc/messages", `{"Content":"hi","Type":"STANDARD","Persistence":"PERSISTENT","ClientRequestToken":"tok-1","MessageAttributes":{"a":{"StringValues":["b"]}}}`, "arn:aws:chime:us-east-1:0:app-instance/a/user/u")
	f.Add("GET", "/channels/x/messages?max-results=5&not-before=2024-01-01T00:00:00Z&sort-order=ASCENDING", "", "b")
	f.Add("POST", "/channels?operation=search&max-results=0", `{"Fields":[{"Key":"MEMBERS","Values":["a"],"Operator":"EQUALS"}]}`, "")
	f.Add("PUT", "/app-instance-bots/arn%3Ax", `{"Name":"n","Metadata":"m","Configuration":{"Lex":{"LexBotAliasArn":"x","LocaleId":"en_US","InvokedBy":{"StandardMessages":"ALL","TargetedMessages":"NONE"}}}}`, "")
	f.Add("POST", "/channel-flows", `{"Processors":[{"Name":"p","ExecutionOrder":1,"FallbackAction":"ABORT","Configuration":{"Lambda":{"ResourceArn":"arn:aws:lambda:us-east-1:123456789012:function:f","InvocationType":"ASYNC"}}}]}`, "")
	f.Add("DELETE", "/channels/%2F%2F/memberships/%00", "null", "")
	var calls []string
	var inputs []api.Input
	h := newTestHandler(f, recordingOps(&calls, &inputs))
	f.Fuzz(func(t *testing.T, method, target, body, bearer string) {
		calls, inputs = calls[:0], inputs[:0]
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://carillon.test"+target, strings.NewReader(body))
		if err != nil {
			return // not a request a server could receive
		}
		if bearer != "" {
			req.Header["X-Amz-Chime-Bearer"] = []string{bearer}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
			t.Fatalf("%s %s %q: status %d %s", method, target, body, rec.Code, rec.Body)
		}
		if rec.Code >= 300 && rec.Header().Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("%s %s: error %d without X-Amzn-ErrorType", method, target, rec.Code)
		}
	})
}
