package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/flows"
)

// TestFlowRestart stops the server while messages are held and starts it
// again on the same data: a processor that was waiting to call back does
// so after the restart, and an invocation that was to be retried is
// retried by the new runner. Each message is delivered once.
func TestFlowRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := newFakeClock()
	procs := newFlProcessors(t)
	var down atomic.Bool
	down.Store(true)
	procs.handle("flaky", func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
		if down.Load() {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		answer(w, map[string]any{"CallbackId": ev.CallbackID, "ChannelMessage": map[string]any{
			"MessageId": ev.ChannelMessage.MessageID, "Content": ev.ChannelMessage.Content + " (processed)",
		}})
	})
	// The retry is an hour away: it comes after the restart, when the
	// test moves the clock.
	setup := flSetup{dir: dir, procs: procs, clock: clock, opts: func(o *flows.Options) { o.RetryDelay = time.Hour }}
	e := newFlEnv(t, setup)
	later := e.channel(t, e.flow(t, flProc{name: "rewrite"}))
	flaky := e.channel(t, e.flow(t, flProc{name: "flaky"}))

	id1, _ := e.send(t, e.alice, later, "before the darn restart")
	ev1 := procs.event(t, "rewrite")
	id2, _ := e.send(t, e.alice, flaky, "flaky one")
	procs.event(t, "flaky")
	e.waitInvocation(t, later, id1, func(inv *carillon.Invocation) bool { return inv.State == carillon.InvocationAwaiting })
	e.waitInvocation(t, flaky, id2, func(inv *carillon.Invocation) bool { return inv.Attempts == 1 })
	e.wantStatus(t, e.alice, later, id1, mtypes.ChannelMessageStatusPending)
	e.wantStatus(t, e.alice, flaky, id2, mtypes.ChannelMessageStatusPending)
	e.srv.Stop()

	down.Store(false)
	e = e.restart(t, setup)
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)
	_, err := e.callback(t, later, ev1, "before the d*rn restart", false)
	mustOK(t, err, "ChannelFlowCallback after the restart")
	clock.Advance(time.Hour)

	want := map[string]string{id1: "before the d*rn restart", id2: "flaky one (processed)"}
	for _, c := range []*wsConn{alice, bob} {
		got := map[string]string{}
		for range 2 {
			f := c.expect(t, "CREATE_CHANNEL_MESSAGE")
			got[f.str("MessageId")] = f.str("Content")
		}
		if got[id1] != want[id1] || got[id2] != want[id2] {
			t.Errorf("%s got %v, want %v", c.name, got, want)
		}
	}
	e.wantStatus(t, e.alice, later, id1, mtypes.ChannelMessageStatusSent)
	e.wantStatus(t, e.alice, flaky, id2, mtypes.ChannelMessageStatusSent)
	for _, id := range []string{id1, id2} {
		if n := e.outboxCount(t, "CREATE_CHANNEL_MESSAGE", id); n != 1 {
			t.Errorf("message %s: %d CREATE_CHANNEL_MESSAGE events, want 1", id, n)
		}
		if n := e.outboxCount(t, "PENDING_CREATE_CHANNEL_MESSAGE", id); n != 1 {
			t.Errorf("message %s: %d PENDING_CREATE_CHANNEL_MESSAGE events, want 1", id, n)
		}
	}
	// The processor that called back was not invoked again; the flaky one
	// was tried once before the restart and once after.
	if n := procs.calls["rewrite"].Load(); n != 1 {
		t.Errorf("rewrite was invoked %d times, want 1", n)
	}
	if n := procs.calls["flaky"].Load(); n != 2 {
		t.Errorf("flaky was invoked %d times, want 2", n)
	}
	ctl := e.control(t, later, "after")
	expectControl(t, alice, ctl)
	expectControl(t, bob, ctl)
}

// waitInvocation waits until the invocation holding a message satisfies
// ok.
func (e *flEnv) waitInvocation(t *testing.T, ch, id string, ok func(*carillon.Invocation) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var inv *carillon.Invocation
		err := e.srv.Server.Store().View(t.Context(), func(tx carillon.Tx) error {
			var err error
			inv, err = tx.GetMessageInvocation(ch, id)
			return err
		})
		if err == nil && ok(inv) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the invocation of %s: %+v %v", id, inv, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// restart starts a server on the data directory of e's stopped server,
// with e's AppInstance and users.
func (e *flEnv) restart(t *testing.T, setup flSetup) *flEnv {
	t.Helper()
	o := setup.procs.options()
	if setup.opts != nil {
		setup.opts(&o)
	}
	n := *e
	opts := []carillontest.Option{carillontest.WithDataDir(setup.dir), carillontest.WithFlows(o)}
	if setup.clock != nil {
		opts = append(opts, carillontest.WithClock(setup.clock))
	}
	n.srv = carillontest.New(t, opts...)
	n.id = chimesdkidentity.NewFromConfig(n.srv.Config, func(o *chimesdkidentity.Options) { o.HTTPSignerV4 = flSigner{n.signAt} })
	n.msg = n.client(n.srv.Config)
	return &n
}

// TestFlowLambda: a processor without an HTTP mapping is invoked with the
// Lambda API (asynchronously, InvocationType Event) at the configured
// endpoint, and calls back through the SDK.
func TestFlowLambda(t *testing.T) {
	t.Parallel()
	type invoke struct {
		path, invocationType, auth string
		event                      flEvent
	}
	invokes := make(chan invoke, 4)
	lambda := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev flEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Errorf("Invoke payload %s: %v", b, err)
		}
		invokes <- invoke{r.URL.Path, r.Header.Get("X-Amz-Invocation-Type"), r.Header.Get("Authorization"), ev}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(lambda.Close)
	e := newFlEnv(t, flSetup{opts: func(o *flows.Options) {
		o.LambdaEndpoint = lambda.URL
		o.AWSConfig = &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("LAMBDAKEY", "secret", "")}
	}})
	ch := e.channel(t, e.flow(t, flProc{name: "moderator-fn"}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	id, _ := e.send(t, e.alice, ch, "hello lambda")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "hello lambda", "PENDING")
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusPending)
	var in invoke
	select {
	case in = <-invokes:
	case <-time.After(15 * time.Second):
		t.Fatal("Lambda was not invoked")
	}
	if want := "/2015-03-31/functions/" + lambdaARN("moderator-fn") + "/invocations"; in.path != want {
		t.Errorf("Invoke path %s, want %s", in.path, want)
	}
	if in.invocationType != "Event" {
		t.Errorf("X-Amz-Invocation-Type %q, want Event", in.invocationType)
	}
	if !strings.Contains(in.auth, "Credential=LAMBDAKEY/") || !strings.Contains(in.auth, "/us-east-1/lambda/aws4_request") {
		t.Errorf("Authorization %q", in.auth)
	}
	if in.event.EventType != "CHANNEL_MESSAGE_EVENT" || in.event.ChannelMessage.MessageID != id || in.event.ChannelMessage.Content != "hello lambda" {
		t.Errorf("Invoke payload %+v", in.event)
	}
	_, err := e.callback(t, ch, &in.event, "hello from lambda", false)
	mustOK(t, err, "ChannelFlowCallback")
	expectEvent(t, alice, "CREATE_CHANNEL_MESSAGE", id, "hello from lambda", "SENT")
	expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id, "hello from lambda", "SENT")
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusSent)
	if v := e.metrics(t)[`carillon_flow_invocations_total{processor="`+lambdaARN("moderator-fn")+`",result="accepted"}`]; v != 1 {
		t.Errorf("accepted invocations %v, want 1", v)
	}
}
