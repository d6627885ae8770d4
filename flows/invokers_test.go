package flows

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/messaging"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// restarted is a service on the store of e configured with opts, as a
// server restarted with other flags would be, and its log.
func (e *runnerEnv) restarted(t *testing.T, opts Options) (*Service, *lockedBuffer) {
	t.Helper()
	return e.restartedWith(t, e.msg, opts)
}

func (e *runnerEnv) restartedWith(t *testing.T, msg *messaging.Service, opts Options) (*Service, *lockedBuffer) {
	t.Helper()
	var logBuf lockedBuffer
	s, err := New(Config{Store: e.store, ARNs: e.s.arns, Clock: e.clock, Messaging: msg, Limits: DefaultLimits, Options: opts,
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, &logBuf
}

func passOf(t *testing.T, s *Service) {
	t.Helper()
	var wg sync.WaitGroup
	s.runner.pass(t.Context(), &wg, make(chan struct{}, 4))
	wg.Wait()
}

// TestStartupReportsInvokers: a service logs its HTTP processors and its
// Lambda endpoint, and warns about each stored flow with a processor
// nothing can invoke, with the number of channels it serves and the flag
// that would mend it.
func TestStartupReportsInvokers(t *testing.T) {
	e := newRunnerEnv(t)
	_, logBuf := e.restarted(t, Options{})
	out := logBuf.String()
	for _, want := range []string{
		"level=WARN", "channel flow has processors nothing can invoke", "stay PENDING", "flow=" + e.flow,
		"arn:aws:lambda:us-east-1:123456789012:function:p", "channels=1", "--processor p=URL", "--lambda-endpoint",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the startup log of a server without processors does not say %q:\n%s", want, out)
		}
	}

	_, logBuf = e.restarted(t, Options{Processors: map[string]string{"p": "http://127.0.0.1:9/p", "other": "https://hooks.example/o"}, Secret: "s"})
	out = logBuf.String()
	if strings.Contains(out, "nothing can invoke") {
		t.Errorf("a warning although p has an HTTP processor:\n%s", out)
	}
	for _, want := range []string{"processor=other url=https://hooks.example/o", "processor=p url=http://127.0.0.1:9/p"} {
		if !strings.Contains(out, want) {
			t.Errorf("the startup log does not list %q:\n%s", want, out)
		}
	}
}

// TestAssociateWarnsWithoutInvoker: associating a flow whose processors
// have no invoker succeeds, with a warning in the log.
func TestAssociateWarnsWithoutInvoker(t *testing.T) {
	e := newRunnerEnv(t)
	s, logBuf := e.restarted(t, Options{})
	app := e.s.arns.AppInstance("app")
	ch2 := app + "/channel/c2"
	e.update(t, func(tx carillon.Tx) error {
		now := tx.Now()
		return tx.CreateChannel(&carillon.Channel{ARN: ch2, AppInstanceARN: app, Name: "c2", Mode: "UNRESTRICTED", Privacy: "PUBLIC",
			CreatedBy: e.user, Created: now, Updated: now})
	})
	e.update(t, func(tx carillon.Tx) error {
		return tx.CreateModerator(&carillon.Moderator{ChannelARN: ch2, ModeratorARN: e.user})
	})
	h := messagingapi.Handlers{}
	s.Bind(&h)
	bearer := e.user
	if err := h.AssociateChannelFlow(t.Context(), &messagingapi.AssociateChannelFlowRequest{
		ChannelArn: &ch2, ChannelFlowArn: &e.flow, ChimeBearer: &bearer}); err != nil {
		t.Fatalf("AssociateChannelFlow: %v", err)
	}
	out := logBuf.String()
	if !strings.Contains(out, "channel flow associated with a channel, but nothing can invoke") || !strings.Contains(out, "channel="+ch2) {
		t.Fatalf("no warning at association:\n%s", out)
	}

	// With an invoker, no warning.
	s, logBuf = e.restarted(t, Options{LambdaEndpoint: "http://127.0.0.1:9"})
	s.Bind(&h)
	e.update(t, func(tx carillon.Tx) error {
		ch, err := tx.GetChannel(ch2)
		if err != nil {
			return err
		}
		ch.FlowARN = ""
		return tx.UpdateChannel(ch)
	})
	if err := h.AssociateChannelFlow(t.Context(), &messagingapi.AssociateChannelFlowRequest{
		ChannelArn: &ch2, ChannelFlowArn: &e.flow, ChimeBearer: &bearer}); err != nil {
		t.Fatalf("AssociateChannelFlow: %v", err)
	}
	if out := logBuf.String(); strings.Contains(out, "nothing can invoke") || !strings.Contains(out, "invoked with Lambda") {
		t.Errorf("with a Lambda endpoint:\n%s", out)
	}
}

// TestMessageWaitsForInvoker: a message whose processor has no invoker
// stays PENDING, its attempts untouched, and is invoked once a server
// with an invoker looks at it again.
func TestMessageWaitsForInvoker(t *testing.T) {
	e := newRunnerEnv(t)
	bare, logBuf := e.restarted(t, Options{})
	e.hold(t, "m1")
	passOf(t, bare)
	inv := e.invocation(t, "m1")
	if inv == nil || inv.State != carillon.InvocationDue || inv.Attempts != 0 || !inv.NextAttempt.Equal(e.clock.Now().Add(DefaultInvokerRecheck)) {
		t.Fatalf("after a pass without an invoker: %+v", inv)
	}
	if m := e.message(t, "m1"); m == nil || m.Status != "PENDING" {
		t.Fatalf("message %+v, want PENDING", m)
	}
	if out := logBuf.String(); !strings.Contains(out, "has no invoker: the message waits for one") || !strings.Contains(out, "message_id="+e.ids["m1"]) {
		t.Errorf("no warning about the waiting message:\n%s", out)
	}
	// A second message for the same processor does not repeat it.
	e.hold(t, "m2")
	passOf(t, bare)
	if n := strings.Count(logBuf.String(), "waits for one"); n != 1 {
		t.Errorf("%d warnings for two waiting messages, want 1", n)
	}

	// A server with the processor mapped (after a restart with
	// --processor) invokes it at the next check.
	passOf(t, e.s)
	if n := e.calls.Load(); n != 0 {
		t.Fatalf("invoked %d times before the recheck", n)
	}
	e.clock.Advance(DefaultInvokerRecheck)
	passOf(t, e.s)
	if n := e.calls.Load(); n != 2 {
		t.Fatalf("invoked %d times at the recheck, want 2", n)
	}
	if inv := e.invocation(t, "m1"); inv == nil || inv.State != carillon.InvocationAwaiting {
		t.Fatalf("after the invocation: %+v", inv)
	}
}

// TestWaitingMessageFallsBackAtDeadline: without an invoker until the
// callback deadline, the processor's FallbackAction applies.
func TestWaitingMessageFallsBackAtDeadline(t *testing.T) {
	e := newRunnerEnv(t)
	// Messaging holds each step of the message for 45 seconds.
	e.msg = messaging.New(messaging.Config{Store: e.store, ARNs: e.s.arns, Options: messaging.Options{CallbackDeadline: 45 * time.Second}})
	bare, _ := e.restartedWith(t, e.msg, Options{})
	inv := e.hold(t, "m1")
	passOf(t, bare)
	if got := e.invocation(t, "m1"); got == nil || !got.NextAttempt.Equal(e.clock.Now().Add(DefaultInvokerRecheck)) {
		t.Fatalf("first check: %+v", got)
	}
	e.clock.Advance(DefaultInvokerRecheck)
	passOf(t, bare)
	if got := e.invocation(t, "m1"); got == nil || !got.NextAttempt.Equal(inv.Deadline) {
		t.Fatalf("the recheck past the deadline is not put at the deadline %v: %+v", inv.Deadline, got)
	}
	if m := e.message(t, "m1"); m == nil || m.Status != "PENDING" {
		t.Fatalf("message before the deadline %+v", m)
	}
	e.clock.Set(inv.Deadline)
	passOf(t, bare)
	if got := e.invocation(t, "m1"); got != nil {
		t.Fatalf("still held after the deadline: %+v", got)
	}
	if m := e.message(t, "m1"); m == nil || m.Status != "FAILED" {
		t.Fatalf("message after the deadline %+v, want FAILED (ABORT)", m)
	}
	if types := e.eventTypes(t); len(types) != 2 || types[1] != "FAILED_CREATE_CHANNEL_MESSAGE" {
		t.Errorf("events %v", types)
	}
}
