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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	itypes "github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/push"
	"github.com/carillonhq/carillon/server"
	"github.com/carillonhq/carillon/webhook"
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
		if err := webhook.Verify(pushSecret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
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

// fakePinpoint serves Pinpoint's SendMessages: it records each call's
// application and addresses, reports "bad-token" as a permanent failure
// and the application "gone" as missing.
type fakePinpoint struct {
	calls chan pinpointCall
}

type pinpointCall struct {
	App           string
	Authorization string
	Addresses     map[string]struct{ ChannelType string }
	APNS, GCM     struct {
		Title, Body string
		Data        map[string]string
	}
}

func newFakePinpoint(t *testing.T) (*fakePinpoint, string) {
	p := &fakePinpoint{calls: make(chan pinpointCall, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, ok := strings.CutPrefix(r.URL.Path, "/v1/apps/")
		app, ok2 := strings.CutSuffix(app, "/messages")
		if r.Method != http.MethodPost || !ok || !ok2 {
			t.Errorf("Pinpoint: %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		var body struct {
			Addresses            map[string]struct{ ChannelType string }
			MessageConfiguration struct {
				APNSMessage, GCMMessage struct {
					Title, Body string
					Data        map[string]string
				}
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("Pinpoint body: %v", err)
		}
		p.calls <- pinpointCall{App: app, Authorization: r.Header.Get("Authorization"), Addresses: body.Addresses,
			APNS: body.MessageConfiguration.APNSMessage, GCM: body.MessageConfiguration.GCMMessage}
		w.Header().Set("Content-Type", "application/json")
		if app == "gone" {
			w.Header().Set("X-Amzn-ErrorType", "NotFoundException")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"Message":"Resource not found","RequestID":"r"}`))
			return
		}
		result := map[string]any{}
		for token := range body.Addresses {
			status, code := "SUCCESSFUL", 200
			if token == "bad-token" {
				status, code = "PERMANENT_FAILURE", 410
			}
			result[token] = map[string]any{"DeliveryStatus": status, "StatusCode": code}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ApplicationId": app, "Result": result})
	}))
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// TestPushPinpoint sends notifications through Pinpoint, as AWS does: one
// SendMessages call per application of the endpoints, in the region of
// its ARN, and an endpoint whose token Pinpoint rejects, or whose
// application it does not know, is made INACTIVE with AWS's reason.
func TestPushPinpoint(t *testing.T) {
	t.Parallel()
	pp, url := newFakePinpoint(t)
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDPUSH", "secret", "")}
	e := wsNew(t, func(c *server.Config) {
		c.Push = push.Options{PinpointEndpoint: url, AWSConfig: &awsCfg, Backoff: 10 * time.Millisecond}
	})
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	register := func(user, app, token string, typ itypes.AppInstanceUserEndpointType) string {
		t.Helper()
		out, err := e.id.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
			AppInstanceUserArn: aws.String(user), Type: typ,
			ResourceArn:        aws.String("arn:aws:mobiletargeting:eu-west-1:000000000000:apps/" + app),
			EndpointAttributes: &itypes.EndpointAttributes{DeviceToken: aws.String(token)},
		})
		mustOK(t, err, "RegisterAppInstanceUserEndpoint %s", token)
		return aws.ToString(out.EndpointId)
	}
	register(bob, "chat", "bob-phone", itypes.AppInstanceUserEndpointTypeApns)
	bad := register(bob, "chat", "bad-token", itypes.AppInstanceUserEndpointTypeGcm)
	register(carol, "chat", "carol-phone", itypes.AppInstanceUserEndpointTypeGcm)
	gone := register(carol, "gone", "carol-old", itypes.AppInstanceUserEndpointTypeGcm)
	ch := e.channel(t, alice, "pinpoint", bob, carol)

	id := e.send(t, alice, ch, "hello", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.PushNotification = &mtypes.PushNotificationConfiguration{Title: aws.String("Hi"), Body: aws.String("from alice"), Type: mtypes.PushNotificationTypeDefault}
	})
	calls := map[string]pinpointCall{}
	for range 2 {
		select {
		case c := <-pp.calls:
			calls[c.App] = c
		case <-time.After(5 * time.Second):
			t.Fatalf("Pinpoint got %d calls, want 2", len(calls))
		}
	}
	chat := calls["chat"]
	if len(chat.Addresses) != 3 || chat.Addresses["bob-phone"].ChannelType != "APNS" || chat.Addresses["bad-token"].ChannelType != "GCM" ||
		chat.Addresses["carol-phone"].ChannelType != "GCM" {
		t.Errorf("addresses of the chat application: %+v", chat.Addresses)
	}
	if chat.APNS.Title != "Hi" || chat.GCM.Body != "from alice" || chat.GCM.Data["chime.message_id"] != id || chat.APNS.Data["chime.channel_arn"] != ch {
		t.Errorf("message configuration: %+v %+v", chat.APNS, chat.GCM)
	}
	if !strings.Contains(chat.Authorization, "AKIDPUSH/") || !strings.Contains(chat.Authorization, "/eu-west-1/mobiletargeting/") {
		t.Errorf("signed as %q, want the configured key, the ARN's region, mobiletargeting", chat.Authorization)
	}
	if len(calls["gone"].Addresses) != 1 {
		t.Errorf("addresses of the missing application: %+v", calls["gone"].Addresses)
	}

	state := func(user, id string) (string, string) {
		out, err := e.id.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{
			AppInstanceUserArn: aws.String(user), EndpointId: aws.String(id),
		})
		mustOK(t, err, "DescribeAppInstanceUserEndpoint")
		s := out.AppInstanceUserEndpoint.EndpointState
		return string(s.Status), string(s.StatusReason)
	}
	// The endpoints are updated after the call: poll for a while.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st1, r1 := state(bob, bad)
		st2, r2 := state(carol, gone)
		if st1 == "INACTIVE" && r1 == "INVALID_DEVICE_TOKEN" && st2 == "INACTIVE" && r2 == "INVALID_PINPOINT_ARN" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint states %s %s and %s %s, want INACTIVE INVALID_DEVICE_TOKEN and INACTIVE INVALID_PINPOINT_ARN", st1, r1, st2, r2)
		}
	}
	// The next message skips them.
	e.send(t, alice, ch, "again", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.PushNotification = &mtypes.PushNotificationConfiguration{Title: aws.String("Again"), Body: aws.String("from alice"), Type: mtypes.PushNotificationTypeDefault}
	})
	select {
	case c := <-pp.calls:
		if c.App != "chat" || len(c.Addresses) != 2 {
			t.Errorf("second push: %s %+v, want the chat application's two valid addresses", c.App, c.Addresses)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no second SendMessages")
	}
	// Registering the token again, as an app does on every start (here
	// with the application that exists), makes the endpoint ACTIVE
	// again, under the same id.
	if again := register(carol, "chat", "carol-old", itypes.AppInstanceUserEndpointTypeGcm); again != gone {
		t.Errorf("registering the token again made endpoint %s, want %s", again, gone)
	}
	if st, reason := state(carol, gone); st != "ACTIVE" || reason != "" {
		t.Errorf("the endpoint registered again is %s %s, want ACTIVE", st, reason)
	}
}
