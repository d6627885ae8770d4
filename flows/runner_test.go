package flows

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/sqlite"
	"github.com/carillonhq/carillon/storetest"
)

// runnerEnv is a service on a SQLite store with a fake clock, a channel
// with a flow of one HTTP processor, and a runner driven pass by pass.
type runnerEnv struct {
	s        *Service
	msg      *messaging.Service
	user     string
	ids      map[string]string // message names to ids
	store    carillon.Store
	clock    *storetest.FakeClock
	channel  string
	flow     string
	calls    atomic.Int32
	answer   func(w http.ResponseWriter, r *http.Request)
	answerMu sync.Mutex
}

func newRunnerEnv(t *testing.T) *runnerEnv {
	t.Helper()
	e := &runnerEnv{clock: storetest.NewFakeClock(storetest.Start), ids: map[string]string{}}
	proc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		e.answerMu.Lock()
		a := e.answer
		e.answerMu.Unlock()
		if a == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		a(w, r)
	}))
	t.Cleanup(proc.Close)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), e.clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.store = db
	arns := carillon.ARNs{Partition: "aws", Region: "us-east-1", Account: "000000000000"}
	e.msg = messaging.New(messaging.Config{Store: db, ARNs: arns})
	e.s, err = New(Config{Store: db, ARNs: arns, Clock: e.clock, Messaging: e.msg, Limits: DefaultLimits, Options: Options{
		Processors: map[string]string{"p": proc.URL}, Timeout: time.Second, Attempts: 2, RetryDelay: time.Minute,
	}})
	if err != nil {
		t.Fatal(err)
	}
	app := arns.AppInstance("app")
	e.flow = app + "/channel-flow/f"
	e.channel = app + "/channel/c"
	e.user = app + "/user/u"
	e.update(t, func(tx carillon.Tx) error {
		now := tx.Now()
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "a", Created: now, Updated: now}); err != nil {
			return err
		}
		if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: e.user, AppInstanceARN: app, Name: "U", Created: now, Updated: now}); err != nil {
			return err
		}
		if err := tx.CreateChannelFlow(&carillon.ChannelFlow{ARN: e.flow, AppInstanceARN: app, Name: "f", Created: now, Updated: now,
			Processors: []carillon.Processor{{Name: "p", LambdaARN: "arn:aws:lambda:us-east-1:123456789012:function:p", InvocationType: "ASYNC", ExecutionOrder: 1, FallbackAction: "ABORT"}},
		}); err != nil {
			return err
		}
		if err := tx.CreateChannel(&carillon.Channel{ARN: e.channel, AppInstanceARN: app, Name: "c", Mode: "UNRESTRICTED", Privacy: "PUBLIC",
			CreatedBy: e.user, FlowARN: e.flow, Created: now, Updated: now}); err != nil {
			return err
		}
		return tx.CreateMembership(&carillon.Membership{ChannelARN: e.channel, MemberARN: e.user, Type: "DEFAULT", Created: now, Updated: now})
	})
	return e
}

func (e *runnerEnv) update(t *testing.T, fn func(tx carillon.Tx) error) {
	t.Helper()
	if err := e.store.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// hold sends a persistent message through the flow as the channel's
// member, names it name, and returns the invocation that holds it.
func (e *runnerEnv) hold(t *testing.T, name string) *carillon.Invocation {
	t.Helper()
	content, typ, persistence := "hi", messagingapi.ChannelMessageTypeStandard, messagingapi.ChannelMessagePersistenceTypePersistent
	out, err := e.msg.SendChannelMessage(t.Context(), &messagingapi.SendChannelMessageRequest{
		ChannelArn: &e.channel, ChimeBearer: &e.user, Content: &content, Type: &typ, Persistence: &persistence,
	})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Status.Value != messagingapi.ChannelMessageStatusPending {
		t.Fatalf("sent %s, not held", *out.Status.Value)
	}
	e.ids[name] = *out.MessageId
	return e.invocation(t, name)
}

// pass runs one pass of the runner and waits for its invocations.
func (e *runnerEnv) pass(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	e.s.runner.pass(t.Context(), &wg, make(chan struct{}, 4))
	wg.Wait()
}

func (e *runnerEnv) message(t *testing.T, name string) *carillon.Message {
	t.Helper()
	var m *carillon.Message
	_ = e.store.View(context.Background(), func(tx carillon.Tx) error {
		var err error
		m, err = tx.GetMessage(e.channel, e.ids[name])
		if err != nil {
			m = nil
		}
		return nil
	})
	return m
}

func (e *runnerEnv) invocation(t *testing.T, name string) *carillon.Invocation {
	t.Helper()
	var inv *carillon.Invocation
	_ = e.store.View(context.Background(), func(tx carillon.Tx) error {
		inv, _ = tx.GetMessageInvocation(e.channel, e.ids[name])
		return nil
	})
	return inv
}

func (e *runnerEnv) eventTypes(t *testing.T) []string {
	t.Helper()
	var out []string
	_ = e.store.View(context.Background(), func(tx carillon.Tx) error {
		events, err := tx.Events(0, 0)
		for _, ev := range events {
			out = append(out, ev.Type)
		}
		return err
	})
	return out
}

func TestRunnerLeaseIsExclusive(t *testing.T) {
	e := newRunnerEnv(t)
	inv := e.hold(t, "m1")
	r := e.s.runner
	leased, ok := r.lease(t.Context(), inv)
	if !ok || !leased.NextAttempt.Equal(e.clock.Now().Add(time.Second+leaseSlack)) {
		t.Fatalf("first lease: %v %v", ok, leased.NextAttempt)
	}
	if _, ok := r.lease(t.Context(), inv); ok {
		t.Error("a leased invocation was leased again")
	}
	// Not due during the lease, due again after it.
	e.pass(t)
	if n := e.calls.Load(); n != 0 {
		t.Errorf("invoked %d times during the lease", n)
	}
	e.clock.Advance(time.Second + leaseSlack)
	e.pass(t)
	if n := e.calls.Load(); n != 1 {
		t.Errorf("invoked %d times after the lease", n)
	}
	if got := e.invocation(t, "m1"); got == nil || got.State != carillon.InvocationAwaiting {
		t.Errorf("invocation after a 202: %+v", got)
	}
}

func TestRunnerRetriesThenFallsBack(t *testing.T) {
	e := newRunnerEnv(t)
	e.answer = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }
	e.hold(t, "m1")
	e.pass(t)
	inv := e.invocation(t, "m1")
	if inv == nil || inv.Attempts != 1 || inv.State != carillon.InvocationDue || !inv.NextAttempt.Equal(e.clock.Now().Add(time.Minute)) {
		t.Fatalf("after a failed attempt: %+v", inv)
	}
	e.pass(t) // not due yet
	if n := e.calls.Load(); n != 1 {
		t.Fatalf("%d calls before the retry is due", n)
	}
	e.clock.Advance(time.Minute)
	e.pass(t)
	if n := e.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
	if inv := e.invocation(t, "m1"); inv != nil {
		t.Fatalf("still held after the last attempt: %+v", inv)
	}
	m := e.message(t, "m1")
	if m == nil || m.Status != messaging.StatusFailed || m.StatusDetail != "The channel flow processor p could not be invoked" {
		t.Fatalf("message %+v", m)
	}
	types := e.eventTypes(t)
	if len(types) != 2 || types[0] != "PENDING_CREATE_CHANNEL_MESSAGE" || types[1] != "FAILED_CREATE_CHANNEL_MESSAGE" {
		t.Errorf("events %v", types)
	}
}

// A message held by a flow deleted before its processor ran is
// delivered as it stands.
func TestRunnerFlowDeleted(t *testing.T) {
	e := newRunnerEnv(t)
	e.hold(t, "m1")
	e.update(t, func(tx carillon.Tx) error {
		ch, err := tx.GetChannel(e.channel)
		if err != nil {
			return err
		}
		ch.FlowARN = ""
		if err := tx.UpdateChannel(ch); err != nil {
			return err
		}
		return tx.DeleteChannelFlow(e.flow)
	})
	e.pass(t)
	if n := e.calls.Load(); n != 0 {
		t.Errorf("%d calls to the processor of a deleted flow", n)
	}
	if m := e.message(t, "m1"); m == nil || m.Status != messaging.StatusSent || m.Content != "hi" {
		t.Fatalf("message %+v", m)
	}
	if types := e.eventTypes(t); len(types) != 2 || types[1] != "CREATE_CHANNEL_MESSAGE" {
		t.Errorf("events %v", types)
	}
}

// A callback may come before the runner has recorded the invocation
// (the processor called back while Carillon still waited for its 202).
func TestRunnerCallbackDuringInvocation(t *testing.T) {
	e := newRunnerEnv(t)
	e.answer = func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			CallbackID string `json:"CallbackId"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		content, id, ch := "processed", e.ids["m1"], e.channel
		err := e.s.callback(r.Context(), callbackRequest(ev.CallbackID, ch, id, &content))
		if err != nil {
			t.Errorf("callback: %v", err)
		}
		w.WriteHeader(http.StatusAccepted)
	}
	e.hold(t, "m1")
	e.pass(t)
	if m := e.message(t, "m1"); m == nil || m.Status != messaging.StatusSent || m.Content != "processed" {
		t.Fatalf("message %+v", m)
	}
	if inv := e.invocation(t, "m1"); inv != nil {
		t.Errorf("the 202 recreated the finished invocation: %+v", inv)
	}
}

// An invocation whose deadline passed while it was DUE (the server was
// down for longer) is not invoked: its fallback applies.
func TestRunnerDeadlinePassedWhileDue(t *testing.T) {
	e := newRunnerEnv(t)
	e.hold(t, "m1")
	e.clock.Advance(messaging.DefaultCallbackDeadline)
	e.pass(t)
	if n := e.calls.Load(); n != 0 {
		t.Errorf("%d calls after the deadline", n)
	}
	m := e.message(t, "m1")
	if m == nil || m.Status != messaging.StatusFailed || m.StatusDetail != "The channel flow processor p did not call back before the deadline" {
		t.Fatalf("message %+v", m)
	}
}

func callbackRequest(callbackID, channel, messageID string, content *string) *messagingapi.ChannelFlowCallbackRequest {
	return &messagingapi.ChannelFlowCallbackRequest{
		CallbackId: &callbackID, ChannelArn: &channel,
		ChannelMessage: &messagingapi.ChannelMessageCallback{MessageId: &messageID, Content: content},
	}
}

// TestRunnerRunsAgain: a runner stopped and run again (its server lost the
// runner's lock in a cluster, then took it again) still schedules its
// retries.
func TestRunnerRunsAgain(t *testing.T) {
	e := newRunnerEnv(t)
	r := e.s.runner
	run := func() (stop func()) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Run(ctx)
		}()
		return func() {
			cancel()
			<-done
		}
	}
	run()()
	defer run()()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.wakeAt(e.clock.Now().Add(time.Hour))
		r.mu.Lock()
		n := len(r.timers)
		r.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a runner run again schedules no retry")
		}
		time.Sleep(time.Millisecond)
	}
}
