package e2e

// Push notifications through the Go SDK: endpoints registered with the
// Identity API, preferences put with the Messaging API, messages sent with
// a PushNotification, and the notifications the push webhook receives.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	itypes "github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/flows"
	"github.com/carillonhq/carillon/push"
	"github.com/carillonhq/carillon/server"
)

// pushWebhook is a push webhook that checks each request's signature and
// hands its body on; it answers 503 to the first fail requests.
type pushWebhook struct {
	requests chan push.Request
	fail     atomic.Int32
}

const pushSecret = "push-secret"

func newPushWebhook(t *testing.T) (*pushWebhook, string) {
	w := &pushWebhook{requests: make(chan push.Request, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := flows.VerifySignature(pushSecret, r.Header.Get(flows.SignatureHeader), body, time.Now(), 0); err != nil {
			t.Errorf("push webhook: %v", err)
		}
		if w.fail.Add(-1) >= 0 {
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var req push.Request
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("push webhook body %s: %v", body, err)
		}
		w.requests <- req
	}))
	t.Cleanup(srv.Close)
	return w, srv.URL
}

// next returns the notifications of the next request, sorted by device
// token.
func (w *pushWebhook) next(t *testing.T) []push.Notification {
	t.Helper()
	select {
	case r := <-w.requests:
		sort.Slice(r.Notifications, func(i, j int) bool { return r.Notifications[i].DeviceToken < r.Notifications[j].DeviceToken })
		return r.Notifications
	case <-time.After(5 * time.Second):
		t.Fatal("the push webhook got no request")
		return nil
	}
}

func tokensOf(ns []push.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.DeviceToken)
	}
	return out
}

// TestPushNotifications sends messages with and without a
// PushNotification to a channel whose members have endpoints and
// preferences of every kind, and checks who the webhook is asked to
// notify.
func TestPushNotifications(t *testing.T) {
	t.Parallel()
	hook, url := newPushWebhook(t)
	e := wsNew(t, func(c *server.Config) {
		c.Push = push.Options{Webhook: url, Secret: pushSecret, Backoff: 10 * time.Millisecond}
	})
	const pinpointApp = "arn:aws:mobiletargeting:us-east-1:000000000000:apps/carillon"
	endpoint := func(user, token string, typ itypes.AppInstanceUserEndpointType, allow itypes.AllowMessages) {
		t.Helper()
		_, err := e.id.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
			AppInstanceUserArn: aws.String(user), Type: typ, ResourceArn: aws.String(pinpointApp),
			EndpointAttributes: &itypes.EndpointAttributes{DeviceToken: aws.String(token)}, AllowMessages: allow,
		})
		mustOK(t, err, "RegisterAppInstanceUserEndpoint %s", token)
	}
	alice, bob, carol, dave, erin, hidden := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "dave"), e.user(t, "erin"), e.user(t, "hidden")
	endpoint(alice, "alice-phone", itypes.AppInstanceUserEndpointTypeApns, itypes.AllowMessagesAll) // the sender's own: never
	endpoint(bob, "bob-phone", itypes.AppInstanceUserEndpointTypeApns, itypes.AllowMessagesAll)
	endpoint(bob, "bob-tablet", itypes.AppInstanceUserEndpointTypeGcm, itypes.AllowMessagesAll)
	endpoint(bob, "bob-muted", itypes.AppInstanceUserEndpointTypeGcm, itypes.AllowMessagesNone)
	endpoint(carol, "carol-phone", itypes.AppInstanceUserEndpointTypeGcm, itypes.AllowMessagesAll)
	endpoint(dave, "dave-phone", itypes.AppInstanceUserEndpointTypeApnsSandbox, itypes.AllowMessagesAll)
	endpoint(erin, "erin-phone", itypes.AppInstanceUserEndpointTypeGcm, itypes.AllowMessagesAll)
	endpoint(hidden, "hidden-phone", itypes.AppInstanceUserEndpointTypeGcm, itypes.AllowMessagesAll)
	ch := e.channel(t, alice, "push", bob, carol, dave, erin)
	_, err := e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(hidden), Type: mtypes.ChannelMembershipTypeHidden,
	})
	mustOK(t, err, "CreateChannelMembership HIDDEN")
	prefs := func(member string, allow mtypes.AllowNotifications, rule string) {
		t.Helper()
		p := &mtypes.PushNotificationPreferences{AllowNotifications: allow}
		if rule != "" {
			p.FilterRule = aws.String(rule)
		}
		_, err := e.msg.PutChannelMembershipPreferences(t.Context(), &chimesdkmessaging.PutChannelMembershipPreferencesInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(member), MemberArn: aws.String(member),
			Preferences: &mtypes.ChannelMembershipPreferences{PushNotifications: p},
		})
		mustOK(t, err, "PutChannelMembershipPreferences %s", member)
	}
	prefs(carol, mtypes.AllowNotificationsNone, "")
	prefs(dave, mtypes.AllowNotificationsFiltered, `{"mention":["dave"]}`)
	prefs(erin, mtypes.AllowNotificationsFiltered, `{"mention":[{"anything-but":"dave"}]}`)

	withPush := func(title string, mentions ...string) func(*chimesdkmessaging.SendChannelMessageInput) {
		return func(in *chimesdkmessaging.SendChannelMessageInput) {
			in.PushNotification = &mtypes.PushNotificationConfiguration{Title: aws.String(title), Body: aws.String("You have a message"), Type: mtypes.PushNotificationTypeDefault}
			if len(mentions) > 0 {
				in.MessageAttributes = map[string]mtypes.MessageAttributeValue{"mention": {StringValues: mentions}}
			}
		}
	}

	// Mentioning dave: bob's two active endpoints (the default
	// preferences are ALL), dave's (his filter matches), the hidden
	// member's; not carol (NONE), erin (her filter excludes dave), bob's
	// muted endpoint, nor alice, who sent it.
	id := e.send(t, alice, ch, "hello", withPush("Hello", "dave"))
	got := hook.next(t)
	if want := []string{"bob-phone", "bob-tablet", "dave-phone", "hidden-phone"}; !slices.Equal(tokensOf(got), want) {
		t.Errorf("notified %v, want %v", tokensOf(got), want)
	}
	for _, n := range got {
		if n.MessageId != id || n.ChannelArn != ch || n.Title != "Hello" || n.Body != "You have a message" || n.Type != "DEFAULT" ||
			n.ResourceArn != pinpointApp || n.Data["chime.message_id"] != id || n.Data["chime.channel_arn"] != ch || n.EndpointId == "" {
			t.Errorf("notification %+v", n)
		}
	}
	if got[0].AppInstanceUserArn != bob || got[0].EndpointType != "APNS" || got[2].EndpointType != "APNS_SANDBOX" {
		t.Errorf("notifications %+v", got)
	}

	// A message without a PushNotification notifies nobody: the next
	// request is the next message's, mentioning erin, who is notified
	// this time, and dave is not. The webhook fails twice first: the
	// request is tried again.
	e.send(t, alice, ch, "no push")
	hook.fail.Store(2)
	e.send(t, alice, ch, "for erin", withPush("Erin", "erin"))
	if want := []string{"bob-phone", "bob-tablet", "erin-phone", "hidden-phone"}; !slices.Equal(tokensOf(hook.next(t)), want) {
		t.Errorf("second push: want %v", want)
	}

	// A targeted message notifies its target only, and a non-persistent
	// one is pushed as well.
	e.send(t, alice, ch, "for bob", withPush("Bob"), func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Target = []mtypes.Target{{MemberArn: aws.String(bob)}}
		in.Persistence = mtypes.ChannelMessagePersistenceTypeNonPersistent
	})
	if want := []string{"bob-phone", "bob-tablet"}; !slices.Equal(tokensOf(hook.next(t)), want) {
		t.Errorf("targeted push: want %v", want)
	}
	// Sent by bob, it goes to alice and not to bob's own devices.
	e.send(t, bob, ch, "from bob", withPush("From Bob", "dave"))
	if want := []string{"alice-phone", "dave-phone", "hidden-phone"}; !slices.Equal(tokensOf(hook.next(t)), want) {
		t.Errorf("push from bob: want %v", want)
	}
	select {
	case r := <-hook.requests:
		t.Errorf("an unexpected request: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestPushThroughFlow: a message held by a channel flow is pushed once the
// processor lets it through, with the PushNotification of its callback;
// one the processor denies is never pushed.
func TestPushThroughFlow(t *testing.T) {
	t.Parallel()
	hook, url := newPushWebhook(t)
	procs := newFlProcessors(t)
	procs.handle("sync", func(w http.ResponseWriter, r *http.Request, ev *flEvent) {
		if ev.ChannelMessage.Content == "deny me" {
			answer(w, map[string]any{"CallbackId": ev.CallbackID, "DeleteResource": true,
				"ChannelMessage": map[string]any{"MessageId": ev.ChannelMessage.MessageID}})
			return
		}
		answer(w, map[string]any{"CallbackId": ev.CallbackID, "ChannelMessage": map[string]any{
			"MessageId": ev.ChannelMessage.MessageID, "Content": "processed",
			"PushNotification": map[string]any{"Title": "Processed", "Body": "by the flow", "Type": "DEFAULT"},
		}})
	})
	e := newFlEnv(t, flSetup{procs: procs, more: []carillontest.Option{func(c *server.Config) {
		c.Push = push.Options{Webhook: url, Secret: pushSecret}
	}}})
	_, err := e.id.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(e.bob), Type: itypes.AppInstanceUserEndpointTypeGcm,
		ResourceArn:        aws.String("arn:aws:mobiletargeting:us-east-1:000000000000:apps/carillon"),
		EndpointAttributes: &itypes.EndpointAttributes{DeviceToken: aws.String("bob-phone")},
	})
	mustOK(t, err, "RegisterAppInstanceUserEndpoint")
	ch := e.channel(t, e.flow(t, flProc{name: "sync"}))
	withPush := func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.PushNotification = &mtypes.PushNotificationConfiguration{Title: aws.String("Sent"), Body: aws.String("by alice"), Type: mtypes.PushNotificationTypeDefault}
	}
	e.send(t, e.alice, ch, "deny me", withPush)
	id, _ := e.send(t, e.alice, ch, "let me through", withPush)
	got := hook.next(t)
	if len(got) != 1 || got[0].DeviceToken != "bob-phone" || got[0].MessageId != id || got[0].Title != "Processed" || got[0].Body != "by the flow" {
		t.Errorf("notifications %+v, want bob's of message %s, as the processor made it", got, id)
	}
	select {
	case r := <-hook.requests:
		t.Errorf("an unexpected request: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
}
