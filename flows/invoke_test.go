package flows

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/webhook"
)

func TestParseProcessor(t *testing.T) {
	t.Parallel()
	name, u, err := ParseProcessor(" arn:aws:lambda:us-east-1:123456789012:function:f = https://proc.example/hook?x=1 ")
	if err != nil || name != "arn:aws:lambda:us-east-1:123456789012:function:f" || u != "https://proc.example/hook?x=1" {
		t.Errorf("got %q %q %v", name, u, err)
	}
	for _, bad := range []string{"f", "=https://x", "f=", "f=ftp://x", "f=localhost:8080", "f=https://"} {
		if _, _, err := ParseProcessor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	d := &dispatcher{routes: map[string]string{
		"arn:aws:lambda:us-east-1:123456789012:function:byarn": "http://arn",
		"byname":      "http://name",
		"qualified:2": "http://qualified",
	}}
	for arn, want := range map[string]string{
		"arn:aws:lambda:us-east-1:123456789012:function:byarn":       "http://arn",
		"arn:aws:lambda:eu-west-1:123456789012:function:byname":      "http://name",
		"arn:aws:lambda:eu-west-1:123456789012:function:byname:PROD": "http://name",
		"arn:aws:lambda:eu-west-1:123456789012:function:qualified:2": "http://qualified",
		"arn:aws:lambda:eu-west-1:123456789012:function:qualified":   "",
		"arn:aws:lambda:eu-west-1:123456789012:function:other":       "",
	} {
		if got := d.route(arn); got != want {
			t.Errorf("route(%s) = %q, want %q", arn, got, want)
		}
	}
	// Without a route or a Lambda endpoint, an invocation fails for good.
	_, result, err := d.invoke(t.Context(), carillon.Processor{Name: "p", LambdaARN: "arn:aws:lambda:eu-west-1:123456789012:function:other"}, nil)
	if result != resultUnconfigured || !isPermanent(err) || !strings.Contains(err.Error(), "--lambda-endpoint") {
		t.Errorf("unconfigured: %s %v", result, err)
	}
}

func TestEncodeEvent(t *testing.T) {
	t.Parallel()
	created := time.Date(2024, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	inv := &carillon.Invocation{CallbackID: "cb", Message: carillon.Message{
		ChannelARN: "ch", ID: "m1", Content: "hi", Metadata: "md", Sender: "u", SenderName: "U", Persistence: "PERSISTENT",
		Type: "STANDARD", Created: created, LastEdited: created.Add(time.Second), ContentType: "text/plain",
		Attributes: map[string][]string{"k": {"v"}}, Target: "t", Status: "PENDING",
	}}
	b, err := encodeEvent(inv)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"EventType":"CHANNEL_MESSAGE_EVENT","CallbackId":"cb","ChannelMessage":{"MessageId":"m1","ChannelArn":"ch","Content":"hi","Metadata":"md",` +
		`"Sender":{"Arn":"u","Name":"U"},"Persistence":"PERSISTENT","LastEditedTimestamp":"2024-03-04T05:06:08.890Z","Type":"STANDARD",` +
		`"CreatedTimestamp":"2024-03-04T05:06:07.890Z","MessageAttributes":{"k":{"StringValues":["v"]}},"ContentType":"text/plain","Target":[{"MemberArn":"t"}]}}`
	if string(b) != want {
		t.Errorf("event\n%s\nwant\n%s", b, want)
	}
}

func TestHTTPInvoker(t *testing.T) {
	t.Parallel()
	var gotSig, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotSig, gotBody = r.Header.Get(webhook.SignatureHeader), string(b)
		switch r.URL.Path {
		case "/answer":
			_, _ = w.Write([]byte(`{"CallbackId":"cb","DeleteResource":true,"ChannelMessage":{"MessageId":"m"}}`))
		case "/empty":
			w.WriteHeader(http.StatusOK)
		case "/accepted":
			w.WriteHeader(http.StatusAccepted)
		case "/garbage":
			_, _ = w.Write([]byte(`not json`))
		default:
			http.Error(w, "nope", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	h := newHTTPInvoker(srv.Client(), "k")
	body := []byte(`{"x":1}`)

	cb, err := h.invoke(t.Context(), srv.URL+"/answer", body)
	if err != nil || cb == nil || *cb.CallbackId != "cb" || !*cb.DeleteResource || *cb.ChannelMessage.MessageId != "m" {
		t.Fatalf("answer: %+v %v", cb, err)
	}
	if gotBody != `{"x":1}` || webhook.Verify("k", gotSig, body, time.Now(), 0) != nil {
		t.Errorf("request body %q signature %q", gotBody, gotSig)
	}
	for _, path := range []string{"/empty", "/accepted"} {
		if cb, err := h.invoke(t.Context(), srv.URL+path, body); cb != nil || err != nil {
			t.Errorf("%s: %+v %v, want accepted", path, cb, err)
		}
	}
	if _, err := h.invoke(t.Context(), srv.URL+"/garbage", body); err == nil || !strings.Contains(err.Error(), "not a callback") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := h.invoke(t.Context(), srv.URL+"/down", body); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: %v", err)
	}
	// Unsigned without a secret.
	h.client.Secret = ""
	_, _ = h.invoke(t.Context(), srv.URL+"/accepted", body)
	if gotSig != "" {
		t.Errorf("signature %q without a secret", gotSig)
	}
}

// TestLambdaInvoker drives the real Lambda client against a server that
// implements Lambda's Invoke call.
func TestLambdaInvoker(t *testing.T) {
	t.Parallel()
	type call struct {
		path, invocationType, auth, body string
	}
	calls := make(chan call, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- call{r.URL.Path, r.Header.Get("X-Amz-Invocation-Type"), r.Header.Get("Authorization"), string(b)}
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		if strings.Contains(r.URL.Path, "broken") {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"Type":"User","Message":"Function not found"}`))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	l, err := newLambdaInvoker(context.Background(), srv.URL, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:lambda:eu-west-2:123456789012:function:moderate:PROD"
	event := []byte(`{"EventType":"CHANNEL_MESSAGE_EVENT","CallbackId":"cb"}`)
	if err := l.invoke(t.Context(), arn, event); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	c := <-calls
	if want := "/2015-03-31/functions/" + arn + "/invocations"; c.path != want {
		t.Errorf("path %s, want %s", c.path, want)
	}
	if c.invocationType != "Event" {
		t.Errorf("X-Amz-Invocation-Type %q, want Event", c.invocationType)
	}
	if c.body != string(event) {
		t.Errorf("payload %s", c.body)
	}
	// Signed for Lambda in the function's region.
	if !strings.Contains(c.auth, "Credential=AKID/") || !strings.Contains(c.auth, "/eu-west-2/lambda/aws4_request") {
		t.Errorf("Authorization %q", c.auth)
	}
	var decoded map[string]any
	if json.Unmarshal([]byte(c.body), &decoded) != nil {
		t.Error("payload is not JSON")
	}

	err = l.invoke(t.Context(), "arn:aws:lambda:us-east-1:123456789012:function:broken", event)
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("missing function: %v", err)
	}
	if len(calls) != 1 {
		t.Errorf("%d calls for a failed invocation: the client must not retry", len(calls)+1)
	}
}
