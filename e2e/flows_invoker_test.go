package e2e

import (
	"net/http"
	"testing"

	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/flows"
	"github.com/carillonhq/carillon/messaging"
)

// TestFlowWaitsForInvoker: restarted without its --processor flags, a
// server holds the messages of channels with a flow PENDING instead of
// failing them; restarted with them, it delivers what waited. A message
// still without an invoker at its callback deadline gets its processor's
// FallbackAction.
func TestFlowWaitsForInvoker(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	procs := newFlProcessors(t)
	procs.handle("sync", func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
		answer(w, map[string]any{"CallbackId": ev.CallbackID, "ChannelMessage": map[string]any{
			"MessageId": ev.ChannelMessage.MessageID, "Content": ev.ChannelMessage.Content + " (processed)"}})
	})
	setup := flSetup{dir: t.TempDir(), procs: procs, clock: clock}
	e := newFlEnv(t, setup)
	ch := e.channel(t, e.flow(t, flProc{name: "sync", fallback: mtypes.FallbackActionAbort}))
	e.srv.Stop()

	bare := setup
	bare.opts = func(o *flows.Options) { o.Processors = nil }
	e = e.restart(t, bare)
	alice := e.connect(t, e.alice)
	id1, _ := e.send(t, e.alice, ch, "first")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id1, "first", "PENDING")
	e.waitInvocation(t, ch, id1, func(inv *carillon.Invocation) bool {
		return inv.State == carillon.InvocationDue && inv.NextAttempt.Equal(clock.Now().Add(flows.DefaultInvokerRecheck))
	})
	e.wantStatus(t, e.alice, ch, id1, mtypes.ChannelMessageStatusPending)
	if n := procs.calls["sync"].Load(); n != 0 {
		t.Fatalf("the processor was called %d times", n)
	}
	e.srv.Stop()

	// With the processor mapped again, the waiting message goes through
	// at its next check.
	e = e.restart(t, setup)
	bob := e.connect(t, e.bob)
	clock.Advance(flows.DefaultInvokerRecheck)
	expectEvent(t, bob, "CREATE_CHANNEL_MESSAGE", id1, "first (processed)", "SENT")
	e.wantStatus(t, e.alice, ch, id1, mtypes.ChannelMessageStatusSent)
	e.srv.Stop()

	// Without it until the deadline, ABORT fails the message.
	e = e.restart(t, bare)
	alice = e.connect(t, e.alice)
	id2, _ := e.send(t, e.alice, ch, "second")
	expectEvent(t, alice, "PENDING_CREATE_CHANNEL_MESSAGE", id2, "second", "PENDING")
	e.waitInvocation(t, ch, id2, func(inv *carillon.Invocation) bool { return inv.NextAttempt.After(clock.Now()) })
	clock.Advance(messaging.DefaultCallbackDeadline)
	expectEvent(t, alice, "FAILED_CREATE_CHANNEL_MESSAGE", id2, "second", "FAILED")
	e.wantStatus(t, e.alice, ch, id2, mtypes.ChannelMessageStatusFailed)
}
