package e2e

// AppInstanceBots answering through Lex V2, against a test server that
// speaks RecognizeText.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

	"github.com/carillonhq/carillon/bots"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/server"
)

// lexCall is one RecognizeText the fake Lex received.
type lexCall struct {
	Path, Authorization string
	Text                string
	RequestAttributes   map[string]string
	// Intent and DialogAction are a PutSession's session state.
	Intent, DialogAction string
}

// newFakeLex answers "Hi <text>" with the intent Greet, Fulfilled, and
// 500 to the text "fail".
func newFakeLex(t *testing.T) (chan lexCall, *atomic.Int32, string) {
	calls, n := make(chan lexCall, 16), &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		var body struct {
			Text              string            `json:"text"`
			RequestAttributes map[string]string `json:"requestAttributes"`
			SessionState      struct {
				DialogAction struct{ Type string } `json:"dialogAction"`
				Intent       struct{ Name string } `json:"intent"`
			} `json:"sessionState"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("Lex body: %v", err)
		}
		calls <- lexCall{Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Text: body.Text, RequestAttributes: body.RequestAttributes,
			Intent: body.SessionState.Intent.Name, DialogAction: body.SessionState.DialogAction.Type}
		if !strings.HasSuffix(r.URL.Path, "/text") {
			// PutSession: the messages and state in headers, the messages
			// gzipped, both base64.
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			_, _ = zw.Write([]byte(`[{"content":"Hello! I am ` + body.SessionState.Intent.Name + `","contentType":"PlainText"}]`))
			_ = zw.Close()
			w.Header().Set("X-Amz-Lex-Messages", base64.StdEncoding.EncodeToString(z.Bytes()))
			w.Header().Set("X-Amz-Lex-Session-State", base64.StdEncoding.EncodeToString(
				[]byte(`{"intent":{"name":"`+body.SessionState.Intent.Name+`","state":"Fulfilled"}}`)))
			return
		}
		if body.Text == "fail" {
			http.Error(w, `{"message":"boom"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"messages": []map[string]any{
				{"content": "Hi " + body.Text, "contentType": "PlainText"},
				{"contentType": "ImageResponseCard", "imageResponseCard": map[string]any{
					"title": "Menu", "buttons": []map[string]any{{"text": "Balance", "value": "balance"}}}},
			},
			"sessionState": map[string]any{"intent": map[string]any{"name": "Greet", "state": "Fulfilled"}},
			"sessionId":    strings.TrimSuffix(r.URL.Path[strings.LastIndex(strings.TrimSuffix(r.URL.Path, "/text"), "/")+1:], "/text"),
		})
	}))
	t.Cleanup(srv.Close)
	return calls, n, srv.URL
}

// newBotEnv starts a server calling a fake Lex and creates a bot of the
// given InvokedBy and WelcomeIntent ("": none), whose alias names the Lex
// bot id; it returns the bot's ARN and the fake Lex's calls and call
// count.
func newBotEnv(t *testing.T, id string, std itypes.StandardMessages, targeted itypes.TargetedMessages, welcome string) (*wsEnv, string, chan lexCall, *atomic.Int32) {
	t.Helper()
	calls, n, url := newFakeLex(t)
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDLEX", "secret", "")}
	e := wsNew(t, func(c *server.Config) { c.Bots = bots.Options{LexEndpoint: url, AWSConfig: &awsCfg} })
	in := &chimesdkidentity.CreateAppInstanceBotInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("Bot " + id),
		Configuration: &itypes.Configuration{Lex: &itypes.LexConfiguration{
			LexBotAliasArn: aws.String("arn:aws:lex:eu-west-1:000000000000:bot-alias/" + id + "/ALIAS00001"), LocaleId: aws.String("en_US"),
			InvokedBy: &itypes.InvokedBy{StandardMessages: std, TargetedMessages: targeted},
		}},
	}
	if welcome != "" {
		in.Configuration.Lex.WelcomeIntent = aws.String(welcome)
	}
	out, err := e.id.CreateAppInstanceBot(t.Context(), in)
	mustOK(t, err, "CreateAppInstanceBot")
	return e, aws.ToString(out.AppInstanceBotArn), calls, n
}

// TestBotsAnswer: a bot invoked by MENTIONS answers a message that
// mentions it, not one that does not; a message targeted to it gets an
// answer targeted to the sender; a Lex failure becomes an error CONTROL
// message; the bot's own answers invoke nothing.
func TestBotsAnswer(t *testing.T) {
	t.Parallel()
	e, bot, calls, n := newBotEnv(t, "BANKBOT001", itypes.StandardMessagesMentions, itypes.TargetedMessagesAll, "")
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, alice, "with a bot", bob, bot)

	// The bot's next message in the channel, as alice lists them.
	botMessage := func() mtypes.ChannelMessageSummary {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			out, err := e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
				ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MaxResults: aws.Int32(1),
			})
			mustOK(t, err, "ListChannelMessages")
			if len(out.ChannelMessages) == 1 && aws.ToString(out.ChannelMessages[0].Sender.Arn) == bot {
				return out.ChannelMessages[0]
			}
		}
		t.Fatal("the bot did not answer")
		return mtypes.ChannelMessageSummary{}
	}
	nextCall := func() lexCall {
		t.Helper()
		select {
		case c := <-calls:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("Lex was not called")
			return lexCall{}
		}
	}
	mention := func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.MessageAttributes = map[string]mtypes.MessageAttributeValue{messaging.AttributeMentions: {StringValues: []string{bot}}}
	}

	e.send(t, alice, ch, "nobody mentions the bot")
	id := e.send(t, alice, ch, "hello bot", mention)
	c := nextCall()
	if !strings.HasPrefix(c.Path, "/bots/BANKBOT001/botAliases/ALIAS00001/botLocales/en_US/sessions/") || !strings.HasSuffix(c.Path, "/text") ||
		c.Text != "hello bot" || c.RequestAttributes["CHIME.channel.arn"] != ch || c.RequestAttributes["CHIME.sender.arn"] != alice {
		t.Errorf("RecognizeText %+v", c)
	}
	if !strings.Contains(c.Authorization, "AKIDLEX/") || !strings.Contains(c.Authorization, "/eu-west-1/lex/aws4_request") {
		t.Errorf("signed as %q, want the configured key, the alias's region, lex", c.Authorization)
	}
	m := botMessage()
	if aws.ToString(m.ContentType) != messaging.ContentTypeLexMessages || m.Type != mtypes.ChannelMessageTypeStandard ||
		aws.ToString(m.Content) != `{"Messages":[{"Content":"Hi hello bot","ContentType":"PlainText"},{"ContentType":"ImageResponseCard","ImageResponseCard":{"Title":"Menu","Buttons":[{"Text":"Balance","Value":"balance"}]}}]}` {
		t.Errorf("the answer: %s %s %q", m.Type, aws.ToString(m.ContentType), aws.ToString(m.Content))
	}
	attr := func(m mtypes.ChannelMessageSummary, k string) string {
		if v := m.MessageAttributes[k].StringValues; len(v) == 1 {
			return v[0]
		}
		return ""
	}
	session := attr(m, messaging.AttributeSessionID)
	if attr(m, messaging.AttributeIntentName) != "Greet" || attr(m, messaging.AttributeIntentState) != "Fulfilled" ||
		attr(m, messaging.AttributeOriginating) != id || session == "" || !strings.Contains(c.Path, "/sessions/"+session+"/") {
		t.Errorf("the answer's attributes: %+v (session in the path %s)", m.MessageAttributes, c.Path)
	}

	// Targeted to the bot: the answer is targeted to alice; for bob it
	// does not exist.
	e.send(t, alice, ch, "just for me", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Target = []mtypes.Target{{MemberArn: aws.String(bot)}}
	})
	if c := nextCall(); c.Text != "just for me" {
		t.Errorf("targeted RecognizeText %+v", c)
	}
	m = botMessage()
	if len(m.Target) != 1 || aws.ToString(m.Target[0].MemberArn) != alice {
		t.Errorf("the answer to a targeted message targets %+v, want alice", m.Target)
	}
	_, err := e.msg.GetChannelMessage(t.Context(), &chimesdkmessaging.GetChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob), MessageId: m.MessageId,
	})
	wantError(t, err, "NotFoundException")

	// Lex fails: the bot sends the error as a CONTROL message.
	e.send(t, alice, ch, "fail", mention)
	nextCall()
	m = botMessage()
	if m.Type != mtypes.ChannelMessageTypeControl || aws.ToString(m.ContentType) != messaging.ContentTypeLexError || aws.ToString(m.Content) != `{"Code":500}` {
		t.Errorf("the error answer: %s %s %q", m.Type, aws.ToString(m.ContentType), aws.ToString(m.Content))
	}
	time.Sleep(100 * time.Millisecond)
	if got := n.Load(); got != 3 {
		t.Errorf("Lex was called %d times, want 3: the bot's answers invoke nothing", got)
	}
}

// TestBotsAuto: StandardMessages AUTO answers every message while the bot
// has one member to talk to, and only mentions once there are more;
// TargetedMessages NONE ignores messages targeted to it.
func TestBotsAuto(t *testing.T) {
	t.Parallel()
	e, bot, calls, _ := newBotEnv(t, "AUTOBOT001", itypes.StandardMessagesAuto, itypes.TargetedMessagesNone, "")
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, alice, "one to one", bot)
	texts := func() []string {
		t.Helper()
		var got []string
		for {
			select {
			case c := <-calls:
				got = append(got, c.Text)
			case <-time.After(300 * time.Millisecond):
				return got
			}
		}
	}
	e.send(t, alice, ch, "alone with the bot")
	if got := texts(); len(got) != 1 || got[0] != "alone with the bot" {
		t.Errorf("AUTO with one member: Lex got %q", got)
	}
	_, err := e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(bob), Type: mtypes.ChannelMembershipTypeDefault,
	})
	mustOK(t, err, "CreateChannelMembership bob")
	e.send(t, alice, ch, "bob is here")
	e.send(t, bob, ch, "hey bot", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.MessageAttributes = map[string]mtypes.MessageAttributeValue{messaging.AttributeMentions: {StringValues: []string{bot}}}
	})
	e.send(t, alice, ch, "psst", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Target = []mtypes.Target{{MemberArn: aws.String(bot)}}
	})
	if got := texts(); len(got) != 1 || got[0] != "hey bot" {
		t.Errorf("AUTO with two members, TargetedMessages NONE: Lex got %q, want only the mention", got)
	}
}

// TestBotsWelcome: a bot with a WelcomeIntent announces itself when it
// joins a channel: PutSession delegates to the intent, and its messages
// are the bot's first message in the channel.
func TestBotsWelcome(t *testing.T) {
	t.Parallel()
	e, bot, calls, _ := newBotEnv(t, "GREETER001", itypes.StandardMessagesMentions, itypes.TargetedMessagesNone, "Welcome")
	alice := e.user(t, "alice")
	ch := e.channel(t, alice, "welcome")
	_, err := e.msg.CreateChannelMembership(t.Context(), &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(bot), Type: mtypes.ChannelMembershipTypeDefault,
	})
	mustOK(t, err, "CreateChannelMembership of the bot")
	select {
	case c := <-calls:
		if !strings.HasSuffix(c.Path, "/botLocales/en_US/sessions/"+c.Path[strings.LastIndex(c.Path, "/")+1:]) || strings.HasSuffix(c.Path, "/text") ||
			c.Intent != "Welcome" || c.DialogAction != "Delegate" || c.RequestAttributes["CHIME.channel.arn"] != ch {
			t.Errorf("PutSession %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lex was not called")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := e.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice),
		})
		mustOK(t, err, "ListChannelMessages")
		if len(out.ChannelMessages) == 1 {
			m := out.ChannelMessages[0]
			if aws.ToString(m.Sender.Arn) != bot || aws.ToString(m.ContentType) != messaging.ContentTypeLexMessages ||
				aws.ToString(m.Content) != `{"Messages":[{"Content":"Hello! I am Welcome","ContentType":"PlainText"}]}` ||
				m.MessageAttributes[messaging.AttributeIntentName].StringValues[0] != "Welcome" {
				t.Errorf("the welcome: %s %q %+v", aws.ToString(m.ContentType), aws.ToString(m.Content), m.MessageAttributes)
			}
			if _, ok := m.MessageAttributes[messaging.AttributeOriginating]; ok {
				t.Errorf("the welcome names an originating message: %+v", m.MessageAttributes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bot did not welcome")
		}
	}
	// A channel created with the bot among its members is welcomed too.
	other := e.channel(t, alice, "created with the bot", bot)
	select {
	case c := <-calls:
		if c.Intent != "Welcome" || c.RequestAttributes["CHIME.channel.arn"] != other {
			t.Errorf("PutSession for the new channel %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lex was not called for a channel created with the bot")
	}
}
