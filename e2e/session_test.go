package e2e

// Messaging session (websocket) tests: the connect handshake, what each
// user receives, slow consumers, keepalives, shutdown, prefetch and
// metrics, against a real server with real websocket clients.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/hub"
)

// wsEnv is a server with one AppInstance, and root clients.
type wsEnv struct {
	srv *carillontest.Server
	id  *chimesdkidentity.Client
	msg *chimesdkmessaging.Client
	app string
}

func wsNew(t *testing.T, opts ...carillontest.Option) *wsEnv {
	t.Helper()
	srv := carillontest.New(t, opts...)
	e := &wsEnv{srv: srv, id: chimesdkidentity.NewFromConfig(srv.Config), msg: chimesdkmessaging.NewFromConfig(srv.Config)}
	out, err := e.id.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("sessions")})
	if err != nil {
		t.Fatalf("CreateAppInstance: %v", err)
	}
	e.app = aws.ToString(out.AppInstanceArn)
	return e
}

func (e *wsEnv) user(t *testing.T, id string) string {
	t.Helper()
	out, err := e.id.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn: aws.String(e.app), AppInstanceUserId: aws.String(id), Name: aws.String("User " + id),
	})
	if err != nil {
		t.Fatalf("CreateAppInstanceUser %s: %v", id, err)
	}
	return aws.ToString(out.AppInstanceUserArn)
}

func (e *wsEnv) admin(t *testing.T, id string) string {
	t.Helper()
	arn := e.user(t, id)
	if _, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
		AppInstanceArn: aws.String(e.app), AppInstanceAdminArn: aws.String(arn),
	}); err != nil {
		t.Fatalf("CreateAppInstanceAdmin: %v", err)
	}
	return arn
}

// channel creates a channel whose creator (a member and moderator) is
// creator, with members.
func (e *wsEnv) channel(t *testing.T, creator, name string, members ...string) string {
	t.Helper()
	in := &chimesdkmessaging.CreateChannelInput{AppInstanceArn: aws.String(e.app), Name: aws.String(name), ChimeBearer: aws.String(creator)}
	if len(members) > 0 {
		in.MemberArns = members
	}
	out, err := e.msg.CreateChannel(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateChannel %s: %v", name, err)
	}
	return aws.ToString(out.ChannelArn)
}

func (e *wsEnv) send(t *testing.T, bearer, channel, content string, opts ...func(*chimesdkmessaging.SendChannelMessageInput)) string {
	t.Helper()
	in := &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: aws.String(channel), ChimeBearer: aws.String(bearer), Content: aws.String(content),
		Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
	}
	for _, o := range opts {
		o(in)
	}
	out, err := e.msg.SendChannelMessage(t.Context(), in)
	if err != nil {
		t.Fatalf("SendChannelMessage %q: %v", content, err)
	}
	return aws.ToString(out.MessageId)
}

func wsTarget(arn string) func(*chimesdkmessaging.SendChannelMessageInput) {
	return func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Target = []mtypes.Target{{MemberArn: aws.String(arn)}}
	}
}

func (e *wsEnv) addMember(t *testing.T, bearer, channel, member string, typ mtypes.ChannelMembershipType) {
	t.Helper()
	if _, err := e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(channel), ChimeBearer: aws.String(bearer), MemberArn: aws.String(member), Type: typ,
	}); err != nil {
		t.Fatalf("CreateChannelMembership %s: %v", member, err)
	}
}

// wsFrame is a frame as a client sees it.
type wsFrame struct {
	Headers map[string]string
	// Payload is the payload string, decoded as JSON; nil when absent.
	Payload map[string]any
	raw     []byte
}

func (f wsFrame) event() string { return f.Headers["x-amz-chime-event-type"] }

func (f wsFrame) str(key string) string {
	s, _ := f.Payload[key].(string)
	return s
}

// wsConn is a websocket client of a test.
type wsConn struct {
	*websocket.Conn
	name string
}

// wsDial connects with url and returns the client, without reading.
func (e *wsEnv) wsDial(t *testing.T, name, u string) *wsConn {
	t.Helper()
	c, resp, err := e.srv.Dialer().Dial(u, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%s: status %d", name, resp.StatusCode)
	}
	t.Cleanup(func() { c.Close() })
	return &wsConn{Conn: c, name: name}
}

// connect connects user with the root key and reads SESSION_ESTABLISHED.
func (e *wsEnv) connect(t *testing.T, user, sessionID string) *wsConn {
	t.Helper()
	c := e.wsDial(t, sessionID, e.srv.ConnectURL(t, e.srv.Config, user, sessionID, nil))
	c.expect(t, "SESSION_ESTABLISHED")
	return c
}

// next reads the next frame, or returns the close code.
func (c *wsConn) next(t *testing.T) (wsFrame, int) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	typ, b, err := c.ReadMessage()
	if err != nil {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return wsFrame{}, ce.Code
		}
		t.Fatalf("%s: read: %v", c.name, err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("%s: frame of type %d, want a text frame", c.name, typ)
	}
	var raw struct {
		Headers map[string]string
		Payload json.RawMessage
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: frame %s: %v", c.name, b, err)
	}
	f := wsFrame{Headers: raw.Headers, raw: b}
	if raw.Payload != nil {
		// The payload is a JSON document in a JSON string.
		var s string
		if err := json.Unmarshal(raw.Payload, &s); err != nil {
			t.Fatalf("%s: Payload is not a string: %s", c.name, raw.Payload)
		}
		if err := json.Unmarshal([]byte(s), &f.Payload); err != nil {
			t.Fatalf("%s: Payload string is not a JSON object: %s", c.name, s)
		}
	}
	return f, 0
}

func (c *wsConn) expect(t *testing.T, event string) wsFrame {
	t.Helper()
	f, code := c.next(t)
	if code != 0 {
		t.Fatalf("%s: closed with %d, want %s", c.name, code, event)
	}
	if f.event() != event {
		t.Fatalf("%s: got %s %s, want %s", c.name, f.event(), f.raw, event)
	}
	return f
}

// expectMessage reads a CREATE_CHANNEL_MESSAGE and checks its content:
// frames are in commit order, so what was sent before content and did
// not arrive will not arrive.
func (c *wsConn) expectMessage(t *testing.T, content string) wsFrame {
	t.Helper()
	f := c.expect(t, "CREATE_CHANNEL_MESSAGE")
	if got := f.str("Content"); got != content {
		t.Fatalf("%s: got message %q, want %q", c.name, got, content)
	}
	return f
}

func (c *wsConn) expectClose(t *testing.T, code int) {
	t.Helper()
	f, got := c.next(t)
	if got != code {
		t.Fatalf("%s: got %s (close %d), want close %d", c.name, f.raw, got, code)
	}
}

// wsMetrics reads /metrics: "name{labels}" (or "name") to value.
func (e *wsEnv) wsMetrics(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get(e.srv.Endpoint + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// wsWaitMetric waits until the metric has the value.
func (e *wsEnv) wsWaitMetric(t *testing.T, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, ok := e.wsMetrics(t)[name]
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metric %s = %v (present %v), want %v", name, got, ok, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// 1. Signatures: the upgrade succeeds, then 4401.
func TestSessionConnectSignature(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	u := e.user(t, "alice")
	cfg := e.srv.UserConfig(t, u)
	expectRefused := func(name, url string, code int) {
		t.Helper()
		e.wsDial(t, name, url).expectClose(t, code)
	}

	good := e.srv.ConnectURL(t, cfg, u, "s", nil)
	sig := regexp.MustCompile(`X-Amz-Signature=([0-9a-f]+)`)
	m := sig.FindStringSubmatch(good)
	if m == nil {
		t.Fatalf("no signature in %s", good)
	}
	flipped := []byte(m[1])
	if flipped[0] == '0' {
		flipped[0] = '1'
	} else {
		flipped[0] = '0'
	}
	expectRefused("tampered signature", strings.Replace(good, m[1], string(flipped), 1), hub.CloseUnauthorized)
	// A signed parameter changed after signing.
	expectRefused("tampered query", strings.Replace(good, "sessionId=s", "sessionId=t", 1), hub.CloseUnauthorized)
	unsigned, _, _ := strings.Cut(good, "X-Amz-Algorithm")
	expectRefused("unsigned", unsigned+"userArn="+url.QueryEscape(u), hub.CloseUnauthorized)
	wrongSecret := e.srv.ConfigFor(e.srv.Root.AccessKeyID, "not-the-secret", "")
	expectRefused("wrong secret", e.srv.ConnectURL(t, wrongSecret, u, "s", nil), hub.CloseUnauthorized)
	unknownKey := e.srv.ConfigFor("AKIAUNKNOWNKEY000000", "secret", "")
	expectRefused("unknown key", e.srv.ConnectURL(t, unknownKey, u, "s", nil), hub.CloseUnauthorized)
	// X-Amz-Expires is 10 s; 5 minutes of skew are tolerated beyond it,
	// on both sides (a date in the future also gets SigV4's usual 15).
	expectRefused("expired", e.srv.ConnectURLAt(t, cfg, u, "s", nil, time.Now().Add(-20*time.Minute)), hub.CloseUnauthorized)
	expectRefused("far future", e.srv.ConnectURLAt(t, cfg, u, "s", nil, time.Now().Add(30*time.Minute)), hub.CloseUnauthorized)
	for _, d := range []time.Duration{-3 * time.Minute, 3 * time.Minute} {
		c := e.wsDial(t, "skewed", e.srv.ConnectURLAt(t, cfg, u, "skew"+d.String(), nil, time.Now().Add(d)))
		c.expect(t, "SESSION_ESTABLISHED")
	}
	e.wsDial(t, "good", good).expect(t, "SESSION_ESTABLISHED")
}

// 2. Who may connect as whom: 4003.
func TestSessionConnectForbidden(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	aliceKey := e.srv.UserConfig(t, alice)
	e.wsDial(t, "alice as bob", e.srv.ConnectURL(t, aliceKey, bob, "s", nil)).expectClose(t, hub.CloseForbidden)
	e.wsDial(t, "root as nobody", e.srv.ConnectURL(t, e.srv.Config, e.app+"/user/nobody", "s", nil)).expectClose(t, hub.CloseForbidden)
	e.wsDial(t, "root as no user", e.srv.ConnectURL(t, e.srv.Config, "", "s", nil)).expectClose(t, hub.CloseForbidden)
	e.wsDial(t, "alice as no user", e.srv.ConnectURL(t, aliceKey, "", "s", nil)).expectClose(t, hub.CloseForbidden)
	e.wsDial(t, "root as a channel", e.srv.ConnectURL(t, e.srv.Config, e.app+"/channel/x", "s", nil)).expectClose(t, hub.CloseForbidden)
	e.wsDial(t, "alice as alice", e.srv.ConnectURL(t, aliceKey, alice, "s", nil)).expect(t, "SESSION_ESTABLISHED")
	e.wsDial(t, "root as bob", e.srv.ConnectURL(t, e.srv.Config, bob, "s", nil)).expect(t, "SESSION_ESTABLISHED")
}

// 3. The frames themselves.
func TestSessionFrameFormat(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, alice, "c", bob)
	c := e.wsDial(t, "bob", e.srv.ConnectURL(t, e.srv.UserConfig(t, bob), bob, "s", nil))
	est := c.expect(t, "SESSION_ESTABLISHED")
	if est.Headers["x-amz-chime-message-type"] != "SYSTEM" || est.Payload != nil {
		t.Errorf("SESSION_ESTABLISHED frame %s", est.raw)
	}
	content := `quotes " and \ backslash, <tags> & ünïcödé ✓` + "\n newline"
	id := e.send(t, alice, ch, content, func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Metadata = aws.String(`{"k":"v"}`)
	})
	f := c.expectMessage(t, content)
	if f.Headers["x-amz-chime-message-type"] != "STANDARD" {
		t.Errorf("message type header: %v", f.Headers)
	}
	if f.str("MessageId") != id || f.str("ChannelArn") != ch || f.str("Metadata") != `{"k":"v"}` || f.str("Persistence") != "PERSISTENT" {
		t.Errorf("payload %v", f.Payload)
	}
	if sender, _ := f.Payload["Sender"].(map[string]any); sender["Arn"] != alice || sender["Name"] != "User alice" {
		t.Errorf("Sender %v", f.Payload["Sender"])
	}
	if ts := f.str("CreatedTimestamp"); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
		t.Errorf("CreatedTimestamp %q is not ISO-8601 with milliseconds", ts)
	}
	e.send(t, alice, ch, "ctl", func(in *chimesdkmessaging.SendChannelMessageInput) { in.Type = mtypes.ChannelMessageTypeControl })
	if f := c.expectMessage(t, "ctl"); f.Headers["x-amz-chime-message-type"] != "CONTROL" {
		t.Errorf("CONTROL message headers %v", f.Headers)
	}
	if _, err := e.msg.UpdateChannel(t.Context(), &chimesdkmessaging.UpdateChannelInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), Name: aws.String("renamed"), Mode: mtypes.ChannelModeRestricted,
	}); err != nil {
		t.Fatal(err)
	}
	if f := c.expect(t, "UPDATE_CHANNEL"); f.Headers["x-amz-chime-message-type"] != "SYSTEM" || f.str("Name") != "renamed" {
		t.Errorf("UPDATE_CHANNEL %s", f.raw)
	}
}

// 4. Who receives what.
func TestSessionTargetedMessage(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	ch := e.channel(t, alice, "c", bob, carol)
	ca, cb, cc := e.connect(t, alice, "a"), e.connect(t, bob, "b"), e.connect(t, carol, "c")
	e.send(t, alice, ch, "for bob", wsTarget(bob))
	e.send(t, alice, ch, "for all")
	for _, c := range []*wsConn{ca, cb} {
		f := c.expectMessage(t, "for bob")
		if tg, _ := f.Payload["Target"].([]any); len(tg) != 1 || tg[0].(map[string]any)["MemberArn"] != bob {
			t.Errorf("%s: Target %v", c.name, f.Payload["Target"])
		}
		c.expectMessage(t, "for all")
	}
	cc.expectMessage(t, "for all")
}

func TestSessionHiddenMemberAndNonPersistent(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob, hidden := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "hidden")
	ch := e.channel(t, alice, "c", bob)
	ca, cb, ch2 := e.connect(t, alice, "a"), e.connect(t, bob, "b"), e.connect(t, hidden, "h")
	e.addMember(t, alice, ch, hidden, mtypes.ChannelMembershipTypeHidden)
	// Only the hidden member hears of its membership.
	if f := ch2.expect(t, "CREATE_CHANNEL_MEMBERSHIP"); f.str("Type") != "HIDDEN" {
		t.Errorf("hidden membership %s", f.raw)
	}
	np := e.send(t, alice, ch, "ephemeral", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Persistence = mtypes.ChannelMessagePersistenceTypeNonPersistent
	})
	e.send(t, bob, ch, "kept")
	for _, c := range []*wsConn{ca, cb, ch2} {
		if f := c.expectMessage(t, "ephemeral"); f.str("Persistence") != "NON_PERSISTENT" || f.str("MessageId") != np {
			t.Errorf("%s: %s", c.name, f.raw)
		}
		c.expectMessage(t, "kept")
	}
	// A NON_PERSISTENT message is not stored.
	list, err := e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.ChannelMessages) != 1 || aws.ToString(list.ChannelMessages[0].Content) != "kept" {
		t.Errorf("listed %d messages", len(list.ChannelMessages))
	}
	if _, err := e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MessageId: aws.String(np),
	}); err == nil {
		t.Error("GetChannelMessage found the NON_PERSISTENT message")
	}
}

func TestSessionMembershipChangesTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob, carol, dave, erin := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "dave"), e.user(t, "erin")
	ch := e.channel(t, alice, "c")
	// A second channel of everyone, whose messages prove absences.
	other := e.channel(t, alice, "other", bob, carol, dave, erin)
	cb, cb2, cc, cd, ce := e.connect(t, bob, "b"), e.connect(t, bob, "b2"), e.connect(t, carol, "c"), e.connect(t, dave, "d"), e.connect(t, erin, "e")

	// Added while connected: the membership event, then the next message,
	// on every session of the user.
	e.addMember(t, alice, ch, bob, mtypes.ChannelMembershipTypeDefault)
	e.send(t, alice, ch, "welcome")
	for _, c := range []*wsConn{cb, cb2} {
		if f := c.expect(t, "CREATE_CHANNEL_MEMBERSHIP"); wsMapStr(f.Payload["Member"], "Arn") != bob {
			t.Errorf("%s: %s", c.name, f.raw)
		}
		c.expectMessage(t, "welcome")
	}

	// Batch-added: one BATCH_CREATE_CHANNEL_MEMBERSHIP, then messages.
	out, err := e.msg.BatchCreateChannelMembership(t.Context(), &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArns: []string{carol, dave, erin},
	})
	if err != nil || len(out.Errors) != 0 {
		t.Fatalf("BatchCreateChannelMembership: %v %v", err, out)
	}
	e.send(t, alice, ch, "hello batch")
	for _, c := range []*wsConn{cb, cc, cd, ce} {
		f := c.expect(t, "BATCH_CREATE_CHANNEL_MEMBERSHIP")
		if ms, _ := f.Payload["Members"].([]any); len(ms) != 3 {
			t.Errorf("%s: %s", c.name, f.raw)
		}
		c.expectMessage(t, "hello batch")
	}
	cb2.expect(t, "BATCH_CREATE_CHANNEL_MEMBERSHIP")
	cb2.expectMessage(t, "hello batch")

	// Removed: its DELETE_CHANNEL_MEMBERSHIP, then nothing more.
	if _, err := e.msg.DeleteChannelMembership(t.Context(), &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(carol),
	}); err != nil {
		t.Fatal(err)
	}
	// Banned: the same (decisions #7), and the session stays open.
	if _, err := e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(dave),
	}); err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, ch, "after removals")
	e.send(t, alice, other, "marker")
	for _, c := range []*wsConn{cc, cd} {
		who := carol
		if c == cd {
			c.expect(t, "DELETE_CHANNEL_MEMBERSHIP") // carol's
			who = dave
		}
		if f := c.expect(t, "DELETE_CHANNEL_MEMBERSHIP"); wsMapStr(f.Payload["Member"], "Arn") != who {
			t.Errorf("%s: %s", c.name, f.raw)
		}
		c.expectMessage(t, "marker")
	}
	for _, c := range []*wsConn{cb, ce} {
		c.expect(t, "DELETE_CHANNEL_MEMBERSHIP")
		c.expect(t, "DELETE_CHANNEL_MEMBERSHIP")
		c.expectMessage(t, "after removals")
		c.expectMessage(t, "marker")
	}

	// Deleted channel: DELETE_CHANNEL, then nothing from it.
	if _, err := e.msg.DeleteChannel(t.Context(), &chimesdkmessaging.DeleteChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice)}); err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, other, "marker 2")
	for _, c := range []*wsConn{cb, ce} {
		if f := c.expect(t, "DELETE_CHANNEL"); f.str("ChannelArn") != ch {
			t.Errorf("%s: %s", c.name, f.raw)
		}
		c.expectMessage(t, "marker 2")
	}
	cc.expectMessage(t, "marker 2")
	cd.expectMessage(t, "marker 2")
}

func wsMapStr(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	return s
}

func TestSessionAdminsAndModeratorsOutsideTheChannel(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice := e.user(t, "alice")
	admin := e.admin(t, "admin")
	mod := e.user(t, "mod")
	ch := e.channel(t, alice, "c")
	if _, err := e.msg.CreateChannelModerator(t.Context(), &chimesdkmessaging.CreateChannelModeratorInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), ChannelModeratorArn: aws.String(mod),
	}); err != nil {
		t.Fatal(err)
	}
	other := e.channel(t, alice, "other", admin, mod)
	ca, cm := e.connect(t, admin, "a"), e.connect(t, mod, "m")
	e.send(t, alice, ch, "members only")
	// An admin acting in the channel is still no member of it.
	if _, err := e.msg.UpdateChannel(t.Context(), &chimesdkmessaging.UpdateChannelInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(admin), Name: aws.String("renamed"), Mode: mtypes.ChannelModeRestricted,
	}); err != nil {
		t.Fatal(err)
	}
	e.send(t, alice, other, "marker")
	ca.expectMessage(t, "marker")
	cm.expectMessage(t, "marker")
}

func TestSessionCommitOrder(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	const senders, each = 4, 50
	var users []string
	for i := range senders {
		users = append(users, e.user(t, fmt.Sprint("s", i)))
	}
	r1, r2 := e.user(t, "r1"), e.user(t, "r2")
	ch := e.channel(t, users[0], "c", append(users[1:], r1, r2)...)
	c1, c2 := e.connect(t, r1, "1"), e.connect(t, r2, "2")
	// Four senders at once; each sends its messages in order.
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				if _, err := e.msg.SendChannelMessage(context.Background(), &chimesdkmessaging.SendChannelMessageInput{
					ChannelArn: aws.String(ch), ChimeBearer: aws.String(u), Content: aws.String(fmt.Sprintf("%d/%d", i, j)),
					Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
				}); err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		}()
	}
	read := func(c *wsConn) []string {
		var got []string
		for range senders * each {
			got = append(got, c.expect(t, "CREATE_CHANNEL_MESSAGE").str("Content"))
		}
		return got
	}
	got1, got2 := read(c1), read(c2)
	wg.Wait()
	if !slices.Equal(got1, got2) {
		t.Fatal("two members received the channel's messages in different orders")
	}
	next := make([]int, senders)
	for _, s := range got1 {
		var i, j int
		fmt.Sscanf(s, "%d/%d", &i, &j)
		if j != next[i] {
			t.Fatalf("sender %d's message %d arrived when %d was expected: %v", i, j, next[i], got1)
		}
		next[i]++
	}
	// Commit order is the order the store lists them in.
	var listed []string
	var token *string
	for {
		out, err := e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(r1), SortOrder: mtypes.SortOrderAscending, MaxResults: aws.Int32(50), NextToken: token,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.ChannelMessages {
			listed = append(listed, aws.ToString(m.Content))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(listed) != len(got1) {
		t.Fatalf("listed %d messages, received %d", len(listed), len(got1))
	}
	// Messages in the same millisecond may list in another order; those
	// of one sender may not.
	for i := range senders {
		if !slices.Equal(wsFilterSender(listed, i), wsFilterSender(got1, i)) {
			t.Errorf("sender %d: listed %v, received %v", i, wsFilterSender(listed, i), wsFilterSender(got1, i))
		}
	}
}

func wsFilterSender(contents []string, i int) []string {
	var out []string
	for _, c := range contents {
		if strings.HasPrefix(c, fmt.Sprint(i, "/")) {
			out = append(out, c)
		}
	}
	return out
}

// 5. Duplicate (userArn, sessionId): the newer wins.
func TestSessionDuplicateSessionID(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, bob, "c", alice)
	key := e.srv.UserConfig(t, alice)
	older := e.wsDial(t, "older", e.srv.ConnectURL(t, key, alice, "same", nil))
	older.expect(t, "SESSION_ESTABLISHED")
	otherID := e.connect(t, alice, "other")
	bobSame := e.connect(t, bob, "same") // same id, another user: unaffected
	newer := e.wsDial(t, "newer", e.srv.ConnectURL(t, key, alice, "same", nil))
	newer.expect(t, "SESSION_ESTABLISHED")
	older.expectClose(t, hub.CloseForbidden)
	e.send(t, bob, ch, "m")
	for _, c := range []*wsConn{newer, otherID, bobSame} {
		c.expectMessage(t, "m")
	}
	e.wsWaitMetric(t, "carillon_session_open", 3)
}

// 6. A stalled reader is closed with 4429; nobody else waits for it.
func TestSessionSlowConsumer(t *testing.T) {
	t.Parallel()
	const queueBytes = 256 << 10
	// A long write timeout: the stalled writer must still be waiting when
	// the client reads again, however slow the machine. Flooding takes
	// over a minute on a loaded machine under the race detector; a write
	// that times out closes the connection at once, and the client's
	// pongs to the pings still in its buffer are then answered with a
	// reset that discards the rest.
	e := wsNew(t, carillontest.WithHubConfig(hub.Config{QueueBytes: queueBytes, WriteTimeout: 10 * time.Minute}))
	sender, slow := e.user(t, "sender"), e.user(t, "slow")
	var users []string
	for i := range 25 {
		users = append(users, e.user(t, fmt.Sprint("r", i)))
	}
	flood := e.channel(t, sender, "flood", slow)
	shared := e.channel(t, sender, "shared", slow)
	if _, err := e.msg.BatchCreateChannelMembership(t.Context(), &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(shared), ChimeBearer: aws.String(sender), MemberArns: users,
	}); err != nil {
		t.Fatal(err)
	}

	// The stalled client stops reading after SESSION_ESTABLISHED; the
	// server's writes block once the socket buffers are full (a few MB:
	// a receive buffer grows only as its reader reads).
	sc, _, err := e.srv.Dialer().Dial(e.srv.ConnectURL(t, e.srv.Config, slow, "stalled", nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	stalled := &wsConn{Conn: sc, name: "stalled"}
	stalled.expect(t, "SESSION_ESTABLISHED")

	// 100 other sessions, reading everything sent to the shared channel.
	const sharedMessages = 30
	var readers sync.WaitGroup
	var received atomic.Int64
	for i := range 100 {
		c := e.connect(t, users[i%len(users)], fmt.Sprint("r", i))
		readers.Add(1)
		go func() {
			defer readers.Done()
			_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
			for j := range sharedMessages {
				_, b, err := c.ReadMessage()
				if err != nil {
					t.Errorf("%s: message %d: %v", c.name, j, err)
					return
				}
				if want := fmt.Sprintf(`\"Content\":\"shared %d\"`, j); !strings.Contains(string(b), want) {
					t.Errorf("%s: message %d: %s", c.name, j, b)
					return
				}
				received.Add(1)
			}
		}()
	}

	// Flood the stalled session with frames of ~20 KB (quotes are escaped
	// twice: once in the payload, once in the frame).
	content, metadata := strings.Repeat(`"`, 4096), strings.Repeat(`"`, 1024)
	var maxLatency time.Duration
	timed := func(channel, text, meta string) {
		start := time.Now()
		e.send(t, sender, channel, text, func(in *chimesdkmessaging.SendChannelMessageInput) {
			if meta != "" {
				in.Metadata = aws.String(meta)
			}
		})
		maxLatency = max(maxLatency, time.Since(start))
	}
	shares := 0
	closed := false
	for i := 0; i < 2000 && !closed; i++ {
		timed(flood, content, metadata)
		if i%10 == 9 {
			if shares < sharedMessages-10 {
				timed(shared, fmt.Sprint("shared ", shares), "")
				shares++
			}
			closed = e.wsMetrics(t)["carillon_session_slow_consumer_closes_total"] == 1
		}
	}
	if !closed {
		t.Fatal("the stalled session was never closed for falling behind")
	}
	// The rest of the shared messages go while the stalled session's
	// writer is still blocked.
	for ; shares < sharedMessages; shares++ {
		timed(shared, fmt.Sprint("shared ", shares), "")
	}
	readers.Wait()
	if n := received.Load(); n != 100*sharedMessages {
		t.Fatalf("other sessions received %d messages, want %d", n, 100*sharedMessages)
	}
	// A publisher waiting on the stalled socket would wait for the
	// client to read again, or for the write timeout.
	if maxLatency > 10*time.Second {
		t.Errorf("SendChannelMessage took up to %v while a session was stalled", maxLatency)
	}
	if m := e.wsMetrics(t); m["carillon_session_queue_drops_total"] < 1 {
		t.Errorf("queue drops %v", m["carillon_session_queue_drops_total"])
	}

	// The stalled client reads again: what the sockets held, then 4429.
	frames := 0
	for {
		_, code := stalled.next(t)
		if code != 0 {
			if code != hub.CloseSlowConsumer {
				t.Fatalf("stalled session closed with %d after %d frames, want %d", code, frames, hub.CloseSlowConsumer)
			}
			break
		}
		frames++
	}
	e.wsWaitMetric(t, "carillon_session_open", 100)
}

// 7. Connecting and disconnecting leaks nothing.
func TestSessionNoGoroutineLeak(t *testing.T) {
	// Not parallel: goleak sees every goroutine of the process.
	ignore := goleak.IgnoreCurrent()
	t.Run("cycles", func(t *testing.T) {
		// The watcher reads only once the cycles are done, so it answers
		// no ping until then: a pong timeout longer than the cycles take
		// on a loaded machine under the race detector (over a minute).
		e := wsNew(t, carillontest.WithHubConfig(hub.Config{PongTimeout: 10 * time.Minute}))
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		ch := e.channel(t, alice, "c", bob)
		key := e.srv.UserConfig(t, bob)
		watcher := e.connect(t, bob, "watcher")
		// The watcher reads the messages as they come, as a client does,
		// and so answers the server's pings: one that read nothing until
		// the end would be closed for missing pongs once the cycles took
		// longer than the pong timeout, as they do on a loaded machine.
		// It reports how many came in order before "end".
		type watched struct {
			n   int
			err error
		}
		watchedCh := make(chan watched, 1)
		go func() {
			got := 0
			for {
				_ = watcher.SetReadDeadline(time.Now().Add(5 * time.Minute))
				_, b, err := watcher.ReadMessage()
				switch {
				case err != nil:
					watchedCh <- watched{got, err}
					return
				case strings.Contains(string(b), `\"Content\":\"end\"`):
					watchedCh <- watched{got, nil}
					return
				case !strings.Contains(string(b), fmt.Sprintf(`\"Content\":\"m%d\"`, got)):
					watchedCh <- watched{got, fmt.Errorf("got %s, want message m%d", b, got)}
					return
				}
				got++
			}
		}()
		baseline := runtime.NumGoroutine()

		// Messages flow while sessions come and go, so some close with
		// frames queued.
		stop := make(chan struct{})
		sent := make(chan int)
		go func() {
			n := 0
			defer func() { sent <- n }()
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if _, err := e.msg.SendChannelMessage(context.Background(), &chimesdkmessaging.SendChannelMessageInput{
					ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), Content: aws.String(fmt.Sprint("m", n)),
					Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
				}); err != nil {
					t.Errorf("send: %v", err)
					return
				}
				n++
			}
		}()
		const cycles, workers = 1000, 4
		var wg sync.WaitGroup
		var next atomic.Int64
		d := e.srv.Dialer()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > cycles || t.Failed() {
						return
					}
					c, _, err := d.Dial(e.srv.ConnectURL(t, key, bob, fmt.Sprint("s", i), nil), nil)
					if err != nil {
						t.Errorf("cycle %d: %v", i, err)
						return
					}
					_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
					if _, b, err := c.ReadMessage(); err != nil || !strings.Contains(string(b), "SESSION_ESTABLISHED") {
						t.Errorf("cycle %d: %s %v", i, b, err)
					}
					switch i % 3 {
					case 0: // a clean close: close frame, then wait for the server's
						_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
						for {
							if _, _, err := c.ReadMessage(); err != nil {
								break
							}
						}
					case 1: // the connection just drops
					case 2: // after reading a little
						_, _, _ = c.ReadMessage()
					}
					c.Close()
				}
			}()
		}
		wg.Wait()
		close(stop)
		n := <-sent
		// The watcher saw every message: the cycles disturbed nobody.
		e.send(t, alice, ch, "end")
		select {
		case w := <-watchedCh:
			if w.err != nil || w.n != n {
				t.Fatalf("watcher: %d messages of %d in order, then %v", w.n, n, w.err)
			}
		case <-time.After(5 * time.Minute):
			t.Fatal("watcher: no end")
		}
		e.wsWaitMetric(t, "carillon_session_open", 1)
		e.wsWaitMetric(t, `carillon_session_connects_total{result="established"}`, cycles+1)
		// Per session, two goroutines (the handler and the reader);
		// allow a few for the HTTP clients.
		deadline := time.Now().Add(15 * time.Second)
		for runtime.NumGoroutine() > baseline+10 {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines after %d sessions came and went, %d before", runtime.NumGoroutine(), cycles, baseline)
			}
			time.Sleep(20 * time.Millisecond)
		}
		watcher.Close()
		e.wsWaitMetric(t, "carillon_session_open", 0)
	})
	// With the server stopped, nothing of it is left.
	goleak.VerifyNone(t, ignore)
}

// 8. Shutdown closes sessions with 1012, promptly.
func TestSessionGracefulShutdown(t *testing.T) {
	t.Parallel()
	var conns []*wsConn
	var stopped time.Time
	t.Run("server", func(t *testing.T) {
		e := wsNew(t)
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		ch := e.channel(t, alice, "c", bob)
		for i := range 3 {
			c, _, err := e.srv.Dialer().Dial(e.srv.ConnectURL(t, e.srv.Config, bob, fmt.Sprint(i), nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, &wsConn{Conn: c, name: fmt.Sprint("session ", i)})
			conns[i].expect(t, "SESSION_ESTABLISHED")
		}
		e.send(t, alice, ch, "before shutdown")
		conns[0].expectMessage(t, "before shutdown")
		t.Cleanup(func() { stopped = time.Now() }) // runs first: cleanups are LIFO
	})
	// The server has stopped: http.Server.Shutdown did not wait for the
	// hijacked connections (that would take the 15 s shutdown timeout).
	if d := time.Since(stopped); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	for i, c := range conns {
		if i > 0 {
			c.expectMessage(t, "before shutdown")
		}
		c.expectClose(t, websocket.CloseServiceRestart)
		c.Close()
	}
}

// 9. Keepalive.
func TestSessionPingPong(t *testing.T) {
	t.Parallel()
	const interval, timeout = 50 * time.Millisecond, 2 * time.Second // generous: the machine may be loaded
	e := wsNew(t, carillontest.WithHubConfig(hub.Config{PingInterval: interval, PongTimeout: timeout}))
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, alice, "c", bob)
	// The pong timeout runs from a ping sent after the handshake: start
	// before it, so that a slow connection of the other session below
	// does not shorten the time measured.
	start := time.Now()
	mute := e.connect(t, bob, "mute")
	mute.SetPingHandler(func(string) error { return nil }) // never answers
	good := e.connect(t, bob, "good")
	var pings atomic.Int32
	good.SetPingHandler(func(data string) error {
		pings.Add(1)
		return good.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	goodDone := make(chan error, 1)
	go func() {
		_ = good.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, b, err := good.ReadMessage()
		if err == nil && !strings.Contains(string(b), "still here") {
			err = fmt.Errorf("unexpected frame %s", b)
		}
		goodDone <- err
	}()
	mute.expectClose(t, websocket.CloseGoingAway)
	if d := time.Since(start); d < timeout-100*time.Millisecond {
		t.Errorf("silent client closed after %v, before the pong timeout %v", d, timeout)
	}
	// The answering client stays through many more intervals.
	time.Sleep(2 * timeout)
	select {
	case err := <-goodDone:
		t.Fatalf("answering client: %v", err)
	default:
	}
	if n := pings.Load(); n < 5 {
		t.Errorf("%d pings in %v", n, time.Since(start))
	}
	e.send(t, alice, ch, "still here")
	if err := <-goodDone; err != nil {
		t.Fatal(err)
	}
}

// 10. Prefetch.
func TestSessionPrefetch(t *testing.T) {
	t.Parallel()
	// Every read of the clock moves it, so each message and read marker
	// has its own millisecond.
	e := wsNew(t, carillontest.WithClock(&wsTickingClock{}))
	owner, reader, target := e.user(t, "owner"), e.user(t, "reader"), e.user(t, "target")
	const n = 55
	channels := make([]string, n)
	for i := range n {
		channels[i] = e.channel(t, owner, fmt.Sprintf("ch%02d", i), reader)
	}
	// Channel 0 has 35 DEFAULT members and a HIDDEN one.
	var extra []string
	for i := range 33 {
		extra = append(extra, e.user(t, fmt.Sprint("m", i)))
	}
	if _, err := e.msg.BatchCreateChannelMembership(t.Context(), &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(channels[0]), ChimeBearer: aws.String(owner), MemberArns: extra,
	}); err != nil {
		t.Fatal(err)
	}
	hidden := e.user(t, "hidden")
	e.addMember(t, owner, channels[0], hidden, mtypes.ChannelMembershipTypeHidden)
	e.addMember(t, owner, channels[29], target, mtypes.ChannelMembershipTypeDefault)
	// Channels 0..52 get messages in that order; 53 and 54 none. Channel
	// 29 gets 25 messages and then 2 targeted at someone else.
	for i := range 53 {
		if i == 29 {
			for j := range 25 {
				e.send(t, owner, channels[i], fmt.Sprint("msg ", j))
			}
			e.send(t, owner, channels[i], "secret 1", wsTarget(target))
			e.send(t, owner, channels[i], "secret 2", wsTarget(target))
			continue
		}
		e.send(t, owner, channels[i], fmt.Sprint("only ", i))
	}
	// The reader has read channels 30..52.
	readerMsg := chimesdkmessaging.NewFromConfig(e.srv.UserConfig(t, reader))
	for i := 30; i < 53; i++ {
		if _, err := readerMsg.UpdateChannelReadMarker(t.Context(), &chimesdkmessaging.UpdateChannelReadMarkerInput{
			ChannelArn: aws.String(channels[i]), ChimeBearer: aws.String(reader),
		}); err != nil {
			t.Fatal(err)
		}
	}
	prefetch := func(sortBy string) []wsFrame {
		t.Helper()
		q := url.Values{"prefetch-on": {"connect"}}
		if sortBy != "" {
			q.Set("prefetch-sort-by", sortBy)
		}
		c := e.wsDial(t, "prefetch "+sortBy, e.srv.ConnectURL(t, e.srv.Config, reader, "p-"+sortBy, q))
		c.expect(t, "SESSION_ESTABLISHED")
		var out []wsFrame
		for range 50 {
			f := c.expect(t, "CHANNEL_DETAILS")
			if f.Headers["x-amz-chime-message-type"] != "SYSTEM" {
				t.Errorf("CHANNEL_DETAILS headers %v", f.Headers)
			}
			out = append(out, f)
		}
		// Nothing more: the next frame is a later event (an update, that
		// changes no channel's order).
		if _, err := e.msg.UpdateChannel(t.Context(), &chimesdkmessaging.UpdateChannelInput{
			ChannelArn: aws.String(channels[54]), ChimeBearer: aws.String(owner), Name: aws.String("ch54"),
			Mode: mtypes.ChannelModeRestricted, Metadata: aws.String("after prefetch " + sortBy),
		}); err != nil {
			t.Fatal(err)
		}
		if f := c.expect(t, "UPDATE_CHANNEL"); f.str("Metadata") != "after prefetch "+sortBy {
			t.Errorf("after the prefetch: %s", f.raw)
		}
		c.Close()
		return out
	}
	index := map[string]int{}
	for i, arn := range channels {
		index[arn] = i
	}
	order := func(frames []wsFrame) []int {
		var out []int
		for _, f := range frames {
			out = append(out, index[wsMapStr(f.Payload["Channel"], "ChannelArn")])
		}
		return out
	}
	seq := func(from, to int) []int { // from down to to
		var out []int
		for i := from; i >= to; i-- {
			out = append(out, i)
		}
		return out
	}
	// Unread first (29..0, latest message first), then the rest by latest
	// message (52..33); 32..30 and the channels without messages miss out.
	unread := prefetch("")
	if got, want := order(unread), append(seq(29, 0), seq(52, 33)...); !slices.Equal(got, want) {
		t.Errorf("unread order\n got %v\nwant %v", got, want)
	}
	if got := order(prefetch("unread")); !slices.Equal(got, order(unread)) {
		t.Errorf("prefetch-sort-by=unread order %v", got)
	}
	if got, want := order(prefetch("last-message-timestamp")), seq(52, 3); !slices.Equal(got, want) {
		t.Errorf("last-message-timestamp order\n got %v\nwant %v", got, want)
	}

	details := map[int]wsFrame{}
	for _, f := range unread {
		details[index[wsMapStr(f.Payload["Channel"], "ChannelArn")]] = f
	}
	// Channel 29: the 20 latest messages the reader may see, newest
	// first, and more exist.
	d29 := details[29].Payload
	msgs, _ := d29["ChannelMessages"].([]any)
	if len(msgs) != 20 || d29["ChannelMessagesHasMore"] != true {
		t.Fatalf("channel 29: %d messages, has more %v", len(msgs), d29["ChannelMessagesHasMore"])
	}
	for k, m := range msgs {
		if got, want := wsMapStr(m, "Content"), fmt.Sprint("msg ", 24-k); got != want {
			t.Errorf("channel 29 message %d: %q, want %q", k, got, want)
		}
	}
	if c := d29["Channel"].(map[string]any); c["Name"] != "ch29" || c["LastMessageTimestamp"] == nil {
		t.Errorf("channel 29 summary %v", c)
	}
	if _, ok := d29["ReadMarkerTimestamp"]; ok {
		t.Errorf("unread channel 29 has a read marker: %v", d29["ReadMarkerTimestamp"])
	}
	// Channel 1: one message, no more.
	if msgs, _ := details[1].Payload["ChannelMessages"].([]any); len(msgs) != 1 || details[1].Payload["ChannelMessagesHasMore"] != false {
		t.Errorf("channel 1: %v", details[1].Payload)
	}
	// Channel 0: 30 of its 35 DEFAULT memberships, never the HIDDEN one.
	ms, _ := details[0].Payload["ChannelMemberships"].([]any)
	if len(ms) != 30 {
		t.Errorf("channel 0 memberships: %d", len(ms))
	}
	for _, m := range ms {
		if arn := wsMapStr(m.(map[string]any)["Member"], "Arn"); arn == "" || arn == hidden {
			t.Errorf("channel 0 membership %v", m)
		}
	}
	// A read channel carries its read marker, at or after its last message.
	d40 := details[40].Payload
	marker, _ := time.Parse(time.RFC3339, fmt.Sprint(d40["ReadMarkerTimestamp"]))
	last, _ := time.Parse(time.RFC3339, wsMapStr(d40["Channel"], "LastMessageTimestamp"))
	if marker.IsZero() || last.IsZero() || marker.Before(last) {
		t.Errorf("channel 40: read marker %v, last message %v", d40["ReadMarkerTimestamp"], wsMapStr(d40["Channel"], "LastMessageTimestamp"))
	}
}

// wsTickingClock is the wall clock, but never tells the same millisecond
// twice.
type wsTickingClock struct {
	mu   sync.Mutex
	last time.Time
}

func (c *wsTickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(c.last) {
		now = c.last.Add(time.Millisecond)
	}
	c.last = now
	return now
}

// 11. Metrics.
func TestSessionMetrics(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, alice, "c", bob)
	before := e.wsMetrics(t)
	for _, name := range []string{
		"carillon_session_open", "carillon_session_frames_sent_total", "carillon_session_bytes_sent_total",
		"carillon_session_writes_total", "carillon_session_queue_drops_total", "carillon_session_slow_consumer_closes_total",
		"carillon_session_delivery_latency_seconds_count", `carillon_session_delivery_latency_seconds_bucket{le="+Inf"}`,
	} {
		if v, ok := before[name]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0", name, v, ok)
		}
	}
	e.wsDial(t, "bad", e.srv.ConnectURL(t, e.srv.ConfigFor(e.srv.Root.AccessKeyID, "wrong", ""), bob, "x", nil)).expectClose(t, hub.CloseUnauthorized)
	c1, c2 := e.connect(t, bob, "1"), e.connect(t, alice, "2")
	e.wsWaitMetric(t, "carillon_session_open", 2)
	e.send(t, alice, ch, "counted")
	c1.expectMessage(t, "counted")
	f := c2.expectMessage(t, "counted")
	// The writer counts a frame after writing it: the client may read it
	// first.
	e.wsWaitMetric(t, "carillon_session_delivery_latency_seconds_count", 2)
	m := e.wsMetrics(t)
	// Two SESSION_ESTABLISHED and two messages.
	if got := m["carillon_session_frames_sent_total"]; got != 4 {
		t.Errorf("frames sent = %v, want 4", got)
	}
	// At least one write per session; frames written together share one.
	if got := m["carillon_session_writes_total"]; got < 2 {
		t.Errorf("writes = %v, want at least 2", got)
	}
	if got := m["carillon_session_bytes_sent_total"]; got < float64(2*len(f.raw)) {
		t.Errorf("bytes sent = %v, want at least %d", got, 2*len(f.raw))
	}
	if got := m[`carillon_session_delivery_latency_seconds_bucket{le="+Inf"}`]; got != 2 {
		t.Errorf("latency +Inf bucket = %v", got)
	}
	if got := m[`carillon_session_connects_total{result="established"}`]; got != 2 {
		t.Errorf("established = %v", got)
	}
	if got := m[`carillon_session_connects_total{result="unauthorized"}`]; got != 1 {
		t.Errorf("unauthorized = %v", got)
	}
	if got := m["carillon_hub_events_total"]; got < 1 {
		t.Errorf("hub events = %v", got)
	}
	c1.Close()
	e.wsWaitMetric(t, "carillon_session_open", 1)
}
