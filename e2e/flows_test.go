package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/flows"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/storetest"
)

// newFakeClock is a clock that stands still at the wall time, to the
// millisecond, until a test moves it.
func newFakeClock() *storetest.FakeClock {
	return storetest.NewFakeClock(time.Now().UTC().Truncate(time.Millisecond))
}

var callbackIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestFlowCallbackLater: a processor takes the event (202) and the
// callback comes later, through the SDK with the root key, with the
// message rewritten. While the flow holds it the message is PENDING and
// seen by its sender only.
func TestFlowCallbackLater(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	ch := e.channel(t, e.flow(t, flProc{name: "rewrite"}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	id, status := e.send(t, e.alice, ch, "oh darn it", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Metadata = aws.String("meta")
		in.ContentType = aws.String("text/plain")
		in.MessageAttributes = map[string]mtypes.MessageAttributeValue{"topic": {StringValues: []string{"weather"}}}
	})
	if status != mtypes.ChannelMessageStatusPending {
		t.Fatalf("SendChannelMessage status %s, want PENDING", status)
	}
	f := expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "oh darn it", "PENDING")
	if arn, _ := mxIdentity(f.Payload, "Sender"); arn != e.alice {
		t.Errorf("PENDING event sender %q", arn)
	}

	// The processor's event: the documented Lambda payload and more.
	ev := e.procs.event(t, "rewrite")
	m := ev.ChannelMessage
	if ev.EventType != "CHANNEL_MESSAGE_EVENT" || !callbackIDPattern.MatchString(ev.CallbackID) {
		t.Errorf("event type %q, callback id %q", ev.EventType, ev.CallbackID)
	}
	if m.MessageID != id || m.ChannelArn != ch || m.Content != "oh darn it" || m.Metadata != "meta" || m.ContentType != "text/plain" ||
		m.Sender.Arn != e.alice || m.Sender.Name != "User alice" || m.Persistence != "PERSISTENT" || m.Type != "STANDARD" ||
		len(m.MessageAttributes["topic"].StringValues) != 1 || m.LastEditedTimestamp != "" {
		t.Errorf("event message %+v", ev.raw["ChannelMessage"])
	}
	if !isoTimestamp.MatchString(m.CreatedTimestamp) {
		t.Errorf("CreatedTimestamp %q is not ISO-8601 with milliseconds", m.CreatedTimestamp)
	}

	// Held: PENDING to the sender, invisible to the others.
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusPending)
	if got, err := e.get(t, e.alice, ch, id); err != nil || got.Status.Value != mtypes.ChannelMessageStatusPending {
		t.Fatalf("GetChannelMessage as the sender: %+v %v", got, err)
	}
	_, err := e.get(t, e.bob, ch, id)
	wantError(t, err, "NotFoundException")
	if ids := e.listIDs(t, e.bob, ch); len(ids) != 0 {
		t.Errorf("bob lists %v while the message is held", ids)
	}
	if ids := e.listIDs(t, e.alice, ch); len(ids) != 1 || ids[0] != id {
		t.Errorf("alice lists %v, want her pending message", ids)
	}
	_, err = e.status(t, e.bob, ch, id)
	mxForbidden(t, err)
	if c := e.describeChannel(t, ch); c.LastMessageTimestamp != nil {
		t.Errorf("LastMessageTimestamp %v while the only message is held", c.LastMessageTimestamp)
	}

	out, err := e.callback(t, ch, ev, "oh d*rn it", false)
	mustOK(t, err, "ChannelFlowCallback")
	if aws.ToString(out.CallbackId) != ev.CallbackID || aws.ToString(out.ChannelArn) != ch {
		t.Errorf("ChannelFlowCallback answered %q %q", aws.ToString(out.CallbackId), aws.ToString(out.ChannelArn))
	}
	expectEvent(t, alice, "CREATE_CHANNEL_MESSAGE", id, "oh d*rn it", "SENT")
	f = expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id, "oh d*rn it", "SENT")
	if f.str("Metadata") != "meta" || f.str("ContentType") != "text/plain" {
		t.Errorf("CREATE payload lost the metadata or content type: %s", f.raw)
	}
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusSent)
	got, err := e.get(t, e.bob, ch, id)
	mustOK(t, err, "GetChannelMessage as bob")
	if aws.ToString(got.Content) != "oh d*rn it" || got.Status.Value != mtypes.ChannelMessageStatusSent {
		t.Errorf("bob reads %q %v", aws.ToString(got.Content), got.Status)
	}
	if c := e.describeChannel(t, ch); c.LastMessageTimestamp == nil {
		t.Error("LastMessageTimestamp not set once the message is SENT")
	}

	// The same callback again: the same answer, no effect.
	out, err = e.callback(t, ch, ev, "oh d*rn it", false)
	mustOK(t, err, "ChannelFlowCallback again")
	if aws.ToString(out.CallbackId) != ev.CallbackID {
		t.Errorf("repeated callback answered %q", aws.ToString(out.CallbackId))
	}
	// Another callback with the same CallbackId is refused.
	_, err = e.callback(t, ch, ev, "something else", false)
	wantError(t, err, "ConflictException")
	ctl := e.control(t, ch, "after")
	expectControl(t, alice, ctl)
	expectControl(t, bob, ctl)
	if n := e.outboxCount(t, "CREATE_CHANNEL_MESSAGE", id); n != 1 {
		t.Errorf("%d CREATE_CHANNEL_MESSAGE events, want 1", n)
	}
	if got, _ := e.get(t, e.bob, ch, id); aws.ToString(got.Content) != "oh d*rn it" {
		t.Errorf("the repeated callbacks changed the message: %q", aws.ToString(got.Content))
	}
	if n := e.procs.calls["rewrite"].Load(); n != 1 {
		t.Errorf("the processor was invoked %d times, want 1", n)
	}
}

func (e *flEnv) describeChannel(t *testing.T, ch string) *mtypes.Channel {
	t.Helper()
	out, err := e.msg.DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.alice)})
	mustOK(t, err, "DescribeChannel")
	return out.Channel
}

// TestFlowSynchronousAnswer: an HTTP processor answers with the callback
// itself (a Carillon extension).
func TestFlowSynchronousAnswer(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	e.procs.handle("sync", func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
		answer(w, map[string]any{
			"CallbackId": ev.CallbackID,
			"ChannelMessage": map[string]any{
				"MessageId": ev.ChannelMessage.MessageID, "Content": strings.ToUpper(ev.ChannelMessage.Content),
				"Metadata": "checked", "MessageAttributes": map[string]any{"checked": map[string]any{"StringValues": []string{"yes"}}},
			},
		})
	})
	ch := e.channel(t, e.flow(t, flProc{name: "sync", fallback: mtypes.FallbackActionContinue}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	token := func(in *chimesdkmessaging.SendChannelMessageInput) { in.ClientRequestToken = aws.String("token-1") }
	id, status := e.send(t, e.alice, ch, "quiet please", token)
	if status != mtypes.ChannelMessageStatusPending {
		t.Fatalf("status %s, want PENDING", status)
	}
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "quiet please", "PENDING")
	expectEvent(t, alice, "CREATE_CHANNEL_MESSAGE", id, "QUIET PLEASE", "SENT")
	f := expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id, "QUIET PLEASE", "SENT")
	// A retry with the same token returns the first answer and sends
	// nothing again.
	if again, status := e.send(t, e.alice, ch, "quiet please", token); again != id || status != mtypes.ChannelMessageStatusPending {
		t.Errorf("the retry answered %s %s, want %s PENDING", again, status, id)
	}
	if n := e.procs.calls["sync"].Load(); n != 1 {
		t.Errorf("the processor was invoked %d times", n)
	}
	if f.str("Metadata") != "checked" || f.Payload["MessageAttributes"] == nil {
		t.Errorf("the answer's metadata and attributes were not applied: %s", f.raw)
	}
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusSent)
	got, err := e.get(t, e.bob, ch, id)
	mustOK(t, err, "GetChannelMessage")
	if aws.ToString(got.Content) != "QUIET PLEASE" || aws.ToString(got.Metadata) != "checked" || got.MessageAttributes["checked"].StringValues[0] != "yes" {
		t.Errorf("stored message %+v", got)
	}
}

// TestFlowDeny: DeleteResource=true denies a message: the sender hears
// DENIED_CREATE_CHANNEL_MESSAGE, the members nothing, and the message is
// not stored, so its status cannot be read.
func TestFlowDeny(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	e.procs.handle("deny", func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
		w.WriteHeader(http.StatusAccepted)
		go func() {
			_, err := e.callback(t, ev.ChannelMessage.ChannelArn, ev, "", true)
			if err != nil {
				t.Errorf("denying callback: %v", err)
			}
		}()
	})
	ch := e.channel(t, e.flow(t, flProc{name: "deny"}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	id, _ := e.send(t, e.alice, ch, "spam spam spam")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "spam spam spam", "PENDING")
	expectEvent(t, alice, "DENIED_CREATE_CHANNEL_MESSAGE", id, "spam spam spam", "DENIED")
	ctl := e.control(t, ch, "next")
	expectControl(t, alice, ctl)
	expectControl(t, bob, ctl)

	_, err := e.status(t, e.alice, ch, id)
	mxForbidden(t, err)
	_, err = e.get(t, e.alice, ch, id)
	wantError(t, err, "NotFoundException")
	if ids := e.listIDs(t, e.alice, ch); len(ids) != 1 || ids[0] != ctl {
		t.Errorf("alice lists %v, want only the CONTROL message", ids)
	}
}

// TestFlowInvocationTimeout: a processor that never answers times out on
// every attempt; then its FallbackAction applies: ABORT fails the message
// (FAILED, to the sender only), CONTINUE delivers it unchanged.
func TestFlowInvocationTimeout(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{opts: func(o *flows.Options) { o.Timeout = 300 * time.Millisecond }})
	e.procs.handle("hang", func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
		<-r.Context().Done()
	})
	abort := e.channel(t, e.flow(t, flProc{name: "hang", fallback: mtypes.FallbackActionAbort}))
	cont := e.channel(t, e.flow(t, flProc{name: "hang", fallback: mtypes.FallbackActionContinue}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	id, _ := e.send(t, e.alice, abort, "anyone there?")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "anyone there?", "PENDING")
	f := expectEvent(t, alice, "FAILED_CREATE_CHANNEL_MESSAGE", id, "anyone there?", "FAILED")
	if st, _ := f.Payload["Status"].(map[string]any); !strings.Contains(st["Detail"].(string), "hang") {
		t.Errorf("FAILED event Status %v", f.Payload["Status"])
	}
	if n := e.procs.calls["hang"].Load(); n != 3 {
		t.Errorf("the processor was tried %d times, want 3", n)
	}
	st := e.wantStatus(t, e.alice, abort, id, mtypes.ChannelMessageStatusFailed)
	if !strings.Contains(aws.ToString(st.Detail), "could not be invoked") {
		t.Errorf("status detail %q", aws.ToString(st.Detail))
	}
	_, err := e.get(t, e.bob, abort, id)
	wantError(t, err, "NotFoundException")
	if got, err := e.get(t, e.alice, abort, id); err != nil || got.Status.Value != mtypes.ChannelMessageStatusFailed {
		t.Errorf("the sender reads %+v %v", got, err)
	}

	id2, _ := e.send(t, e.alice, cont, "still there?")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id2, "still there?", "PENDING")
	expectEvent(t, alice, "CREATE_CHANNEL_MESSAGE", id2, "still there?", "SENT")
	// bob saw nothing of the failed message: the delivered one is his
	// next frame.
	expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id2, "still there?", "SENT")
	e.wantStatus(t, e.alice, cont, id2, mtypes.ChannelMessageStatusSent)
}

// TestFlowProcessorErrors: a processor answering 500 is retried, then its
// fallback applies; a message for a processor with neither an HTTP
// mapping nor a Lambda endpoint waits, PENDING, for an invoker
// (TestFlowWaitsForInvoker).
func TestFlowProcessorErrors(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	e.procs.handle("fail", func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	failing := e.channel(t, e.flow(t, flProc{name: "fail"}))
	unmapped := e.channel(t, e.flow(t, flProc{name: "unmapped", fallback: mtypes.FallbackActionAbort}))
	alice := e.connect(t, e.alice)

	id, _ := e.send(t, e.alice, failing, "one")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "one", "PENDING")
	expectEvent(t, alice, "FAILED_CREATE_CHANNEL_MESSAGE", id, "one", "FAILED")
	if n := e.procs.calls["fail"].Load(); n != 3 {
		t.Errorf("the processor was tried %d times, want 3", n)
	}
	id2, _ := e.send(t, e.alice, unmapped, "two")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id2, "two", "PENDING")
	// Put off to the next check, 30 s away (a lease would be 10 s).
	e.waitInvocation(t, unmapped, id2, func(inv *carillon.Invocation) bool { return inv.NextAttempt.After(time.Now().Add(20 * time.Second)) })
	e.wantStatus(t, e.alice, unmapped, id2, mtypes.ChannelMessageStatusPending)

	// The metrics count the attempts per processor.
	metrics := e.metrics(t)
	if v := metrics[`carillon_flow_invocations_total{processor="`+lambdaARN("fail")+`",result="failed"}`]; v != 3 {
		t.Errorf("failed invocations of fail: %v, want 3", v)
	}
	if v := metrics[`carillon_flow_invocations_total{processor="`+lambdaARN("unmapped")+`",result="unconfigured"}`]; v != 1 {
		t.Errorf("unconfigured invocations of unmapped: %v, want 1", v)
	}
	if v := metrics[`carillon_flow_invocation_duration_seconds_count{processor="`+lambdaARN("fail")+`"}`]; v != 3 {
		t.Errorf("latency observations of fail: %v, want 3", v)
	}
}

func (e *flEnv) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	return (&wsEnv{srv: e.srv}).wsMetrics(t)
}

// TestFlowEdit: an edit of a persistent message goes through the flow;
// the stored message stays as it was until the edit is SENT.
func TestFlowEdit(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	flow := e.flow(t, flProc{name: "rewrite"})
	ch := e.channel(t, "")
	id, status := e.send(t, e.alice, ch, "first draft")
	if status != mtypes.ChannelMessageStatusSent {
		t.Fatalf("status %s without a flow", status)
	}
	_, err := e.msg.AssociateChannelFlow(t.Context(), &chimesdkmessaging.AssociateChannelFlowInput{
		ChannelArn: aws.String(ch), ChannelFlowArn: aws.String(flow), ChimeBearer: aws.String(e.alice),
	})
	mustOK(t, err, "AssociateChannelFlow")
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	edit := func(content string) *chimesdkmessaging.UpdateChannelMessageOutput {
		t.Helper()
		out, err := e.msg.UpdateChannelMessage(t.Context(), &chimesdkmessaging.UpdateChannelMessageInput{
			ChannelArn: aws.String(ch), MessageId: aws.String(id), ChimeBearer: aws.String(e.alice), Content: aws.String(content),
		})
		mustOK(t, err, "UpdateChannelMessage %q", content)
		return out
	}
	if out := edit("second darn draft"); out.Status == nil || out.Status.Value != mtypes.ChannelMessageStatusPending {
		t.Fatalf("UpdateChannelMessage status %+v, want PENDING", out.Status)
	}
	expectEvent(t, alice, "PENDING_UPDATE_CHANNEL_MESSAGE", id, "second darn draft", "PENDING")
	ev := e.procs.event(t, "rewrite")
	if ev.ChannelMessage.Content != "second darn draft" || !isoTimestamp.MatchString(ev.ChannelMessage.LastEditedTimestamp) {
		t.Errorf("edit event %+v", ev.raw["ChannelMessage"])
	}
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusPending)
	if got, _ := e.get(t, e.bob, ch, id); aws.ToString(got.Content) != "first draft" || got.LastEditedTimestamp != nil {
		t.Errorf("bob reads %q (edited %v) while the edit is held", aws.ToString(got.Content), got.LastEditedTimestamp)
	}
	// One edit at a time.
	_, err = e.msg.UpdateChannelMessage(t.Context(), &chimesdkmessaging.UpdateChannelMessageInput{
		ChannelArn: aws.String(ch), MessageId: aws.String(id), ChimeBearer: aws.String(e.alice), Content: aws.String("third"),
	})
	wantError(t, err, "ConflictException")

	_, err = e.callback(t, ch, ev, "second d*rn draft", false)
	mustOK(t, err, "ChannelFlowCallback")
	expectEvent(t, alice, "UPDATE_CHANNEL_MESSAGE", id, "second d*rn draft", "SENT")
	f := expectEvent(t, bob, "UPDATE_CHANNEL_MESSAGE", id, "second d*rn draft", "SENT")
	if !isoTimestamp.MatchString(f.str("LastEditedTimestamp")) {
		t.Errorf("UPDATE event without LastEditedTimestamp: %s", f.raw)
	}
	got, err := e.get(t, e.bob, ch, id)
	mustOK(t, err, "GetChannelMessage")
	if aws.ToString(got.Content) != "second d*rn draft" || got.LastEditedTimestamp == nil {
		t.Errorf("bob reads %q (edited %v)", aws.ToString(got.Content), got.LastEditedTimestamp)
	}
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusSent)

	// A denied edit is dropped: the message stays as it was.
	edit("rude words")
	expectEvent(t, alice, "PENDING_UPDATE_CHANNEL_MESSAGE", id, "rude words", "PENDING")
	ev = e.procs.event(t, "rewrite")
	_, err = e.callback(t, ch, ev, "", true)
	mustOK(t, err, "denying ChannelFlowCallback")
	expectEvent(t, alice, "DENIED_UPDATE_CHANNEL_MESSAGE", id, "rude words", "DENIED")
	ctl := e.control(t, ch, "ctl")
	expectControl(t, alice, ctl)
	expectControl(t, bob, ctl)
	if got, _ := e.get(t, e.bob, ch, id); aws.ToString(got.Content) != "second d*rn draft" {
		t.Errorf("the denied edit changed the message to %q", aws.ToString(got.Content))
	}
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusSent)
}

// TestFlowChain: processors run in ExecutionOrder, whatever their order
// in the request, each on the previous one's output, each step with a
// CallbackId of its own.
func TestFlowChain(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	appender := func(suffix string) func(http.ResponseWriter, *http.Request, *flEvent) {
		return func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
			answer(w, map[string]any{"CallbackId": ev.CallbackID, "ChannelMessage": map[string]any{
				"MessageId": ev.ChannelMessage.MessageID, "Content": ev.ChannelMessage.Content + suffix,
			}})
		}
	}
	e.procs.handle("first", appender(" [first]"))
	e.procs.handle("second", appender(" [second]"))
	ch := e.channel(t, e.flow(t, flProc{name: "second", order: 2}, flProc{name: "first", order: 1}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	id, _ := e.send(t, e.alice, ch, "hello")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "hello", "PENDING")
	expectEvent(t, alice, "CREATE_CHANNEL_MESSAGE", id, "hello [first] [second]", "SENT")
	expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id, "hello [first] [second]", "SENT")
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusSent)
	first, second := e.procs.event(t, "first"), e.procs.event(t, "second")
	if first.ChannelMessage.Content != "hello" || second.ChannelMessage.Content != "hello [first]" {
		t.Errorf("first saw %q, second saw %q", first.ChannelMessage.Content, second.ChannelMessage.Content)
	}
	if first.CallbackID == second.CallbackID {
		t.Error("both steps had the same CallbackId")
	}
	// The first step is over. The processor's synchronous answer made
	// through the API is a repeat: the same answer, and no effect; any
	// other callback with its CallbackId is a conflict.
	_, err := e.callback(t, ch, first, "hello [first]", false)
	mustOK(t, err, "repeating the first processor's answer")
	_, err = e.callback(t, ch, first, "hello [other]", false)
	wantError(t, err, "ConflictException")
	ctl := e.control(t, ch, "ctl")
	expectControl(t, alice, ctl)
	expectControl(t, bob, ctl)
	if n := e.outboxCount(t, "CREATE_CHANNEL_MESSAGE", id); n != 1 {
		t.Errorf("%d CREATE_CHANNEL_MESSAGE events, want 1", n)
	}
}

// TestFlowControlBypass: CONTROL messages do not go through flows.
func TestFlowControlBypass(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	ch := e.channel(t, e.flow(t, flProc{name: "rewrite"}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)
	id := e.control(t, ch, "typing")
	expectControl(t, alice, id)
	expectControl(t, bob, id)
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusSent)
	if n := e.procs.calls["rewrite"].Load(); n != 0 {
		t.Errorf("the processor was invoked %d times for a CONTROL message", n)
	}
}

// TestFlowNonPersistent: a NON_PERSISTENT STANDARD message is held too;
// once processed it is announced, never stored.
func TestFlowNonPersistent(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	ch := e.channel(t, e.flow(t, flProc{name: "rewrite"}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	id, status := e.send(t, e.alice, ch, "darn ephemeral", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Persistence = mtypes.ChannelMessagePersistenceTypeNonPersistent
	})
	if status != mtypes.ChannelMessageStatusPending {
		t.Fatalf("status %s, want PENDING", status)
	}
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "darn ephemeral", "PENDING")
	ev := e.procs.event(t, "rewrite")
	if ev.ChannelMessage.Persistence != "NON_PERSISTENT" {
		t.Errorf("event persistence %q", ev.ChannelMessage.Persistence)
	}
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusPending)
	_, err := e.callback(t, ch, ev, "d*rn ephemeral", false)
	mustOK(t, err, "ChannelFlowCallback")
	expectEvent(t, alice, "CREATE_CHANNEL_MESSAGE", id, "d*rn ephemeral", "SENT")
	f := expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id, "d*rn ephemeral", "SENT")
	if f.str("Persistence") != "NON_PERSISTENT" {
		t.Errorf("persistence %q", f.str("Persistence"))
	}
	if ids := e.listIDs(t, e.alice, ch); len(ids) != 0 {
		t.Errorf("a NON_PERSISTENT message was stored: %v", ids)
	}
	_, err = e.status(t, e.alice, ch, id)
	mxForbidden(t, err)
}

// TestFlowTargeted: a targeted message, once processed, goes to its
// sender and target only.
func TestFlowTargeted(t *testing.T) {
	t.Parallel()
	e := newFlEnv(t, flSetup{})
	e.procs.handle("sync", func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
		if len(ev.ChannelMessage.Target) != 1 || ev.ChannelMessage.Target[0].MemberArn != e.bob {
			t.Errorf("event target %+v", ev.ChannelMessage.Target)
		}
		w.WriteHeader(http.StatusNoContent)
		go func() {
			if _, err := e.callback(t, ev.ChannelMessage.ChannelArn, ev, "", false); err != nil {
				t.Errorf("callback: %v", err)
			}
		}()
	})
	carol := e.user(t, "carol")
	ch := e.channel(t, e.flow(t, flProc{name: "sync"}))
	_, err := e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), MemberArn: aws.String(carol), ChimeBearer: aws.String(e.alice), Type: mtypes.ChannelMembershipTypeDefault,
	})
	mustOK(t, err, "CreateChannelMembership")
	alice, bob, carolWS := e.connect(t, e.alice), e.connect(t, e.bob), e.connect(t, carol)

	id, _ := e.send(t, e.alice, ch, "psst", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Target = []mtypes.Target{{MemberArn: aws.String(e.bob)}}
	})
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id, "psst", "PENDING")
	expectEvent(t, alice, "CREATE_CHANNEL_MESSAGE", id, "psst", "SENT")
	expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id, "psst", "SENT")
	e.wantStatus(t, e.alice, ch, id, mtypes.ChannelMessageStatusSent)
	ctl := e.control(t, ch, "ctl")
	expectControl(t, carolWS, ctl)
}

// TestFlowCallbackDeadline drives the clock past the 48-hour deadline: a
// callback after it answers ForbiddenException, and the processor's
// FallbackAction applies: ABORT fails the message, CONTINUE delivers it.
func TestFlowCallbackDeadline(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newFlEnv(t, flSetup{clock: clock})
	abort := e.channel(t, e.flow(t, flProc{name: "silent", fallback: mtypes.FallbackActionAbort}))
	cont := e.channel(t, e.flow(t, flProc{name: "silent", fallback: mtypes.FallbackActionContinue}))
	alice, bob := e.connect(t, e.alice), e.connect(t, e.bob)

	id1, _ := e.send(t, e.alice, abort, "slow one")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id1, "slow one", "PENDING")
	ev1 := e.procs.event(t, "silent")
	id2, _ := e.send(t, e.alice, cont, "slow two")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id2, "slow two", "PENDING")
	ev2 := e.procs.event(t, "silent")

	// Just before the deadline both are still held.
	clock.Advance(messaging.DefaultCallbackDeadline - time.Second)
	e.wantStatus(t, e.alice, abort, id1, mtypes.ChannelMessageStatusPending)
	e.wantStatus(t, e.alice, cont, id2, mtypes.ChannelMessageStatusPending)

	clock.Advance(2 * time.Second)
	_, err := e.callback(t, abort, ev1, "too late", false)
	mxForbidden(t, err)
	// The runner polls every second with the server's clock.
	// Both deadlines passed at once: their events come in either order.
	got := map[string]string{}
	for range 2 {
		f, _ := alice.next(t)
		got[f.str("MessageId")] = f.event() + " " + f.str("Content")
	}
	if got[id1] != "FAILED_CREATE_CHANNEL_MESSAGE slow one" || got[id2] != "CREATE_CHANNEL_MESSAGE slow two" {
		t.Fatalf("alice got %v", got)
	}
	expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id2, "slow two", "SENT")
	st := e.wantStatus(t, e.alice, abort, id1, mtypes.ChannelMessageStatusFailed)
	if !strings.Contains(aws.ToString(st.Detail), "deadline") {
		t.Errorf("status detail %q", aws.ToString(st.Detail))
	}
	e.wantStatus(t, e.alice, cont, id2, mtypes.ChannelMessageStatusSent)
	// Callbacks of the finished steps are refused too.
	_, err = e.callback(t, abort, ev1, "too late", false)
	mxForbidden(t, err)
	_, err = e.callback(t, cont, ev2, "too late", false)
	mxForbidden(t, err)
}
