package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/google/uuid"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/flows"
	"github.com/carillonhq/carillon/webhook"
)

// The processors of the flow tests are HTTP endpoints of one test server,
// mapped to Lambda function names with flows.Options.Processors.
const (
	flSecret       = "processor-secret"
	flLambdaPrefix = "arn:aws:lambda:us-east-1:123456789012:function:"
)

// flProcessorNames are the function names the test server answers for.
var flProcessorNames = []string{"rewrite", "sync", "deny", "hang", "silent", "fail", "first", "second", "flaky"}

// flEvent is a processor event as a processor decodes it.
type flEvent struct {
	EventType      string
	CallbackID     string `json:"CallbackId"`
	ChannelMessage struct {
		MessageID           string `json:"MessageId"`
		ChannelArn          string
		Content             string
		Metadata            string
		Sender              struct{ Arn, Name string }
		Persistence         string
		LastEditedTimestamp string
		Type                string
		CreatedTimestamp    string
		MessageAttributes   map[string]struct{ StringValues []string }
		SubChannelID        string `json:"SubChannelId"`
		ContentType         string
		Target              []struct{ MemberArn string }
	}
	raw map[string]any
}

// flProcessors is the test server of the processors. Each request is
// checked for its signature, decoded, recorded and handed to the
// processor's handler.
type flProcessors struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	handlers map[string]func(w http.ResponseWriter, r *http.Request, ev *flEvent)
	events   map[string]chan *flEvent
	// calls counts requests per processor.
	calls map[string]*atomic.Int32
}

func newFlProcessors(t testing.TB) *flProcessors {
	p := &flProcessors{t: t, handlers: map[string]func(http.ResponseWriter, *http.Request, *flEvent){},
		events: map[string]chan *flEvent{}, calls: map[string]*atomic.Int32{}}
	for _, n := range flProcessorNames {
		p.events[n] = make(chan *flEvent, 64)
		p.calls[n] = &atomic.Int32{}
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *flProcessors) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		p.t.Errorf("processor %s: %s with Content-Type %q", name, r.Method, r.Header.Get("Content-Type"))
	}
	if err := webhook.Verify(flSecret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
		p.t.Errorf("processor %s: signature %q: %v", name, r.Header.Get(webhook.SignatureHeader), err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	ev := &flEvent{}
	if err := json.Unmarshal(body, ev); err != nil {
		p.t.Errorf("processor %s: event %s: %v", name, body, err)
	}
	_ = json.Unmarshal(body, &ev.raw)
	p.mu.Lock()
	h, events, calls := p.handlers[name], p.events[name], p.calls[name]
	p.mu.Unlock()
	if events == nil {
		http.NotFound(w, r)
		return
	}
	calls.Add(1)
	select {
	case events <- ev:
	default:
	}
	if h == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	h(w, r, ev)
}

// handle sets the handler of a processor; without one, a processor
// answers 202 and the test calls back.
func (p *flProcessors) handle(name string, h func(w http.ResponseWriter, r *http.Request, ev *flEvent)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[name] = h
}

// event waits for the next event a processor receives.
func (p *flProcessors) event(t testing.TB, name string) *flEvent {
	t.Helper()
	select {
	case ev := <-p.events[name]:
		return ev
	case <-time.After(15 * time.Second):
		t.Fatalf("processor %s received no event", name)
		return nil
	}
}

// options maps every processor name to its URL.
func (p *flProcessors) options() flows.Options {
	o := flows.Options{Processors: map[string]string{}, Secret: flSecret,
		Timeout: 5 * time.Second, Attempts: 3, RetryDelay: 20 * time.Millisecond}
	for _, n := range flProcessorNames {
		o.Processors[n] = p.srv.URL + "/" + n
	}
	return o
}

// answer writes a synchronous answer: a ChannelFlowCallback body.
func answer(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// flEnv is a server with HTTP processors, one AppInstance, root clients,
// and a channel of alice (creator and moderator) and bob.
type flEnv struct {
	srv        *carillontest.Server
	procs      *flProcessors
	id         *chimesdkidentity.Client
	msg        *chimesdkmessaging.Client
	app        string
	alice, bob string
	clock      carillon.Clock
	// signAt tells clients the time to sign with (the server's clock).
	signAt func() time.Time
}

type flSetup struct {
	opts  func(*flows.Options)
	clock carillon.Clock
	dir   string
	procs *flProcessors
	more  []carillontest.Option // any other option of the server
}

func newFlEnv(t *testing.T, setup flSetup) *flEnv {
	t.Helper()
	procs := setup.procs
	if procs == nil {
		procs = newFlProcessors(t)
	}
	o := procs.options()
	if setup.opts != nil {
		setup.opts(&o)
	}
	opts := append([]carillontest.Option{carillontest.WithFlows(o)}, setup.more...)
	e := &flEnv{procs: procs, clock: setup.clock, signAt: time.Now}
	if setup.clock != nil {
		opts = append(opts, carillontest.WithClock(setup.clock))
		e.signAt = setup.clock.Now
	}
	if setup.dir != "" {
		opts = append(opts, carillontest.WithDataDir(setup.dir))
	}
	e.srv = carillontest.New(t, opts...)
	e.id = chimesdkidentity.NewFromConfig(e.srv.Config, func(o *chimesdkidentity.Options) { o.HTTPSignerV4 = flSigner{e.signAt} })
	e.msg = e.client(e.srv.Config)
	out, err := e.id.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("flows")})
	mustOK(t, err, "CreateAppInstance")
	e.app = aws.ToString(out.AppInstanceArn)
	e.alice, e.bob = e.user(t, "alice"), e.user(t, "bob")
	return e
}

// flSigner signs with the server's clock, which tests move.
type flSigner struct{ now func() time.Time }

func (s flSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, c, r, payloadHash, service, region, s.now(), optFns...)
}

// client returns a messaging client for cfg that signs with the server's
// clock.
func (e *flEnv) client(cfg aws.Config) *chimesdkmessaging.Client {
	return chimesdkmessaging.NewFromConfig(cfg, func(o *chimesdkmessaging.Options) { o.HTTPSignerV4 = flSigner{e.signAt} })
}

// as returns a messaging client whose key acts only as bearer.
func (e *flEnv) as(t *testing.T, bearer string) *chimesdkmessaging.Client {
	t.Helper()
	return e.client(e.srv.UserConfig(t, bearer))
}

func (e *flEnv) user(t *testing.T, id string) string {
	t.Helper()
	out, err := e.id.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn: aws.String(e.app), AppInstanceUserId: aws.String(id), Name: aws.String("User " + id),
	})
	mustOK(t, err, "CreateAppInstanceUser %s", id)
	return aws.ToString(out.AppInstanceUserArn)
}

// flProc is one processor of a flow to create.
type flProc struct {
	name     string
	fallback mtypes.FallbackAction
	order    int32 // 0: its place in the list
}

func lambdaARN(name string) string { return flLambdaPrefix + name }

func processorsOf(procs ...flProc) []mtypes.Processor {
	out := make([]mtypes.Processor, len(procs))
	for i, p := range procs {
		order := p.order
		if order == 0 {
			order = int32(i + 1)
		}
		fb := p.fallback
		if fb == "" {
			fb = mtypes.FallbackActionAbort
		}
		out[i] = mtypes.Processor{
			Name: aws.String(p.name), ExecutionOrder: aws.Int32(order), FallbackAction: fb,
			Configuration: &mtypes.ProcessorConfiguration{Lambda: &mtypes.LambdaConfiguration{
				ResourceArn: aws.String(lambdaARN(p.name)), InvocationType: mtypes.InvocationTypeAsync,
			}},
		}
	}
	return out
}

// flow creates a flow of the processors.
func (e *flEnv) flow(t *testing.T, procs ...flProc) string {
	t.Helper()
	out, err := e.msg.CreateChannelFlow(t.Context(), &chimesdkmessaging.CreateChannelFlowInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("flow " + procs[0].name),
		Processors: processorsOf(procs...), ClientRequestToken: aws.String(uuid.NewString()),
	})
	mustOK(t, err, "CreateChannelFlow")
	return aws.ToString(out.ChannelFlowArn)
}

// channel creates a channel of alice and bob; with a flow, associates it
// as alice (the channel's moderator).
func (e *flEnv) channel(t *testing.T, flow string) string {
	t.Helper()
	out, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("flowing"), ChimeBearer: aws.String(e.alice), MemberArns: []string{e.bob},
	})
	mustOK(t, err, "CreateChannel")
	ch := aws.ToString(out.ChannelArn)
	if flow != "" {
		_, err := e.msg.AssociateChannelFlow(t.Context(), &chimesdkmessaging.AssociateChannelFlowInput{
			ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(e.alice),
		})
		mustOK(t, err, "AssociateChannelFlow")
	}
	return ch
}

// send sends a persistent STANDARD message as bearer and returns its id
// and the status SendChannelMessage answered.
func (e *flEnv) send(t *testing.T, bearer, ch, content string, opts ...func(*chimesdkmessaging.SendChannelMessageInput)) (string, mtypes.ChannelMessageStatus) {
	t.Helper()
	in := &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), Content: aws.String(content),
		Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
	}
	for _, o := range opts {
		o(in)
	}
	out, err := e.msg.SendChannelMessage(t.Context(), in)
	mustOK(t, err, "SendChannelMessage %q", content)
	if out.Status == nil {
		t.Fatalf("SendChannelMessage %q: no Status", content)
	}
	return aws.ToString(out.MessageId), out.Status.Value
}

// status returns GetChannelMessageStatus as bearer.
func (e *flEnv) status(t *testing.T, bearer, ch, id string) (*mtypes.ChannelMessageStatusStructure, error) {
	t.Helper()
	out, err := e.msg.GetChannelMessageStatus(t.Context(), &chimesdkmessaging.GetChannelMessageStatusInput{
		ChannelArn: aws.String(ch), MessageId: aws.String(id), ChimeBearer: aws.String(bearer),
	})
	if err != nil {
		return nil, err
	}
	return out.Status, nil
}

// wantStatus checks the status the sender reads.
func (e *flEnv) wantStatus(t *testing.T, bearer, ch, id string, want mtypes.ChannelMessageStatus) *mtypes.ChannelMessageStatusStructure {
	t.Helper()
	st, err := e.status(t, bearer, ch, id)
	mustOK(t, err, "GetChannelMessageStatus %s", id)
	if st == nil || st.Value != want {
		t.Fatalf("GetChannelMessageStatus %s = %+v, want %s", id, st, want)
	}
	return st
}

// get returns GetChannelMessage as bearer.
func (e *flEnv) get(t *testing.T, bearer, ch, id string) (*mtypes.ChannelMessage, error) {
	t.Helper()
	out, err := e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
		ChannelArn: aws.String(ch), MessageId: aws.String(id), ChimeBearer: aws.String(bearer),
	})
	if err != nil {
		return nil, err
	}
	return out.ChannelMessage, nil
}

// listIDs lists the message ids bearer sees in ch.
func (e *flEnv) listIDs(t *testing.T, bearer, ch string) []string {
	t.Helper()
	out, err := e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer),
	})
	mustOK(t, err, "ListChannelMessages")
	ids := make([]string, len(out.ChannelMessages))
	for i, m := range out.ChannelMessages {
		ids[i] = aws.ToString(m.MessageId)
	}
	return ids
}

// callback calls ChannelFlowCallback with the root key through the SDK.
func (e *flEnv) callback(t *testing.T, ch string, ev *flEvent, content string, deny bool) (*chimesdkmessaging.ChannelFlowCallbackOutput, error) {
	t.Helper()
	in := &chimesdkmessaging.ChannelFlowCallbackInput{
		CallbackId: aws.String(ev.CallbackID), ChannelArn: aws.String(ch), DeleteResource: deny,
		ChannelMessage: &mtypes.ChannelMessageCallback{MessageId: aws.String(ev.ChannelMessage.MessageID)},
	}
	if content != "" {
		in.ChannelMessage.Content = aws.String(content)
	}
	return e.msg.ChannelFlowCallback(t.Context(), in)
}

// connect opens a messaging session of user, signed at the server's time,
// and reads SESSION_ESTABLISHED.
func (e *flEnv) connect(t *testing.T, user string) *wsConn {
	t.Helper()
	name := user[strings.LastIndex(user, "/")+1:]
	u := e.srv.ConnectURLAt(t, e.srv.Config, user, name+"-"+uuid.NewString()[:8], nil, e.signAt())
	c, resp, err := e.srv.Dialer().Dial(u, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%s: status %d", name, resp.StatusCode)
	}
	t.Cleanup(func() { c.Close() })
	ws := &wsConn{Conn: c, name: name}
	ws.expect(t, "SESSION_ESTABLISHED")
	return ws
}

// expectEvent reads the next frame, which must be event about message id
// with the given content and status ("" for any).
func expectEvent(t *testing.T, c *wsConn, event, id, content, status string) wsFrame {
	t.Helper()
	f := c.expect(t, event)
	if got := f.str("MessageId"); got != id {
		t.Fatalf("%s: %s of message %s, want %s", c.name, event, got, id)
	}
	if content != "" && f.str("Content") != content {
		t.Fatalf("%s: %s content %q, want %q", c.name, event, f.str("Content"), content)
	}
	st, _ := f.Payload["Status"].(map[string]any)
	if status != "" && (st == nil || st["Value"] != status) {
		t.Fatalf("%s: %s status %v, want %s", c.name, event, f.Payload["Status"], status)
	}
	if f.Headers["x-amz-chime-message-type"] != "STANDARD" {
		t.Fatalf("%s: %s message type %q", c.name, event, f.Headers["x-amz-chime-message-type"])
	}
	return f
}

// control sends a CONTROL message as alice, which bypasses flows: the
// next frame every member reads is its CREATE_CHANNEL_MESSAGE, which
// shows that nothing came before it.
func (e *flEnv) control(t *testing.T, ch, content string) string {
	t.Helper()
	id, status := e.send(t, e.alice, ch, content, func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Type = mtypes.ChannelMessageTypeControl
	})
	if status != mtypes.ChannelMessageStatusSent {
		t.Fatalf("CONTROL message status %s, want SENT", status)
	}
	return id
}

func expectControl(t *testing.T, c *wsConn, id string) {
	t.Helper()
	f := c.expect(t, "CREATE_CHANNEL_MESSAGE")
	if f.str("MessageId") != id || f.Headers["x-amz-chime-message-type"] != "CONTROL" {
		t.Fatalf("%s: got %s, want the CONTROL message %s", c.name, f.raw, id)
	}
}

// outboxCount counts the outbox events of type typ about message id.
func (e *flEnv) outboxCount(t *testing.T, typ, id string) int {
	t.Helper()
	var events []carillon.Event
	err := e.srv.Server.Store().View(t.Context(), func(tx carillon.Tx) error {
		var err error
		events, err = tx.Events(0, 0)
		return err
	})
	mustOK(t, err, "reading the outbox")
	n := 0
	for _, ev := range events {
		var p struct{ MessageId string }
		if ev.Type == typ && json.Unmarshal(ev.Payload, &p) == nil && p.MessageId == id {
			n++
		}
	}
	return n
}
