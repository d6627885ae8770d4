package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/e2e/browser/browsertest"
	"github.com/carillonhq/carillon/server"
)

// TestConsole uses the console served by the server, as its docs tell an
// operator to: sign in with the root key, create an AppInstance, two
// users and a channel through the views, write in the channel, then open
// the live pane as bob in one tab and as alice in another; alice's
// message reaches bob's pane over his websocket, and bob's reply reaches
// alice's. An edit works; a delete the bearer may not make shows AWS's
// error; the status view counts the two sessions. The screenshots are
// those of docs/console.md (CARILLON_SCREENSHOTS=docs/images keeps them).
//
// The console is opened on the plain listener, so its sessions go to the
// TLS listener, another origin, as they do for a developer.
func TestConsole(t *testing.T) {
	t.Parallel()
	srv := carillontest.New(t)
	b := browsertest.Launch(t, browsertest.Options{IgnoreCertificateErrors: true})
	console := srv.Endpoint + "/console/"

	alice := b.NewPage(t)
	defer alice.Check(t)
	// The delete below is refused on purpose; the browser logs it.
	alice.Ignore(func(pr browsertest.Problem) bool {
		return pr.Kind == "log" && strings.Contains(pr.Text, "status of 403") && strings.Contains(pr.URL, "/messages/")
	})
	alice.Do(t,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(console),
		chromedp.WaitVisible("#signin"),
	)
	alice.Screenshot(t, "signin")
	signIn(t, alice, srv)

	// An AppInstance, from the empty list.
	alice.Do(t,
		chromedp.WaitVisible(".empty"),
		chromedp.Click(`button[aria-keyshortcuts="n"]`),
	)
	fillDialog(t, alice, map[string]string{"Name": "demo", "Metadata": "created by the console test"})
	alice.Do(t, waitText("h1", "demo"))

	// Two users.
	alice.Do(t, chromedp.Click(`.tabs a[href$="/users"]`), chromedp.WaitVisible(".empty"))
	for _, u := range [][2]string{{"alice", "Alice"}, {"bob", "Bob"}} {
		alice.Do(t, chromedp.Click(`.toolbar button[aria-keyshortcuts="n"]`))
		fillDialog(t, alice, map[string]string{"AppInstanceUserId": u[0], "Name": u[1]})
		alice.Do(t, waitText("table", u[1]))
	}

	// A channel created by alice, with bob.
	alice.Do(t,
		chromedp.Click(`.tabs a[href$="/channels"]`),
		chromedp.WaitVisible("#acting-as"),
		pick("#acting-as", "Alice", true),
		chromedp.WaitVisible(".empty"),
		waitValueText("#acting-as", "Alice"),
		chromedp.Click(`.toolbar button[aria-keyshortcuts="n"]`),
		chromedp.WaitVisible(`dialog[open] select[name="MemberArns"]`),
		pick(`dialog[open] select[name="MemberArns"]`, "Bob", false),
	)
	fillDialog(t, alice, map[string]string{"Name": "lobby"})
	alice.Do(t,
		waitText("h1", "lobby"),
		chromedp.WaitVisible(".composer textarea"),
		chromedp.SendKeys(".composer textarea", "Welcome to the lobby"+kb.Enter),
		waitText(".messages", "Welcome to the lobby"),
	)

	// Alice edits her message; deleting it is for AppInstanceAdmins, and
	// the dialog shows the API's refusal as AWS words it.
	alice.Do(t,
		chromedp.Click(`.message .message-actions button:nth-child(1)`),
		chromedp.WaitVisible(`dialog[open] [name="Content"]`),
	)
	fillDialog(t, alice, map[string]string{"Content": "Welcome to the lobby, everyone"})
	alice.Do(t,
		waitText(".messages", "Welcome to the lobby, everyone"),
		chromedp.Click(`.message .message-actions button.danger-text`),
		chromedp.WaitVisible(`dialog[open] button[type="submit"]`),
		chromedp.Click(`dialog[open] button[type="submit"]`),
		waitText("dialog[open] .error", "ForbiddenException"),
	)
	refusal, err := chromedp.Run(alice.Ctx, chromedp.Text("dialog[open] .error"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refusal, "HTTP 403") || !strings.Contains(refusal, "request ") {
		t.Errorf("the refusal shows %q, want the status and the request id", refusal)
	}
	alice.Do(t,
		chromedp.Click(`dialog[open] button[value="cancel"]`),
		chromedp.WaitNotPresent("dialog[open]"),
	)
	alice.Do(t, chromedp.WaitNotPresent(".toast"))
	alice.Screenshot(t, "channel")

	// Bob's tab: signed in on its own, live as bob.
	bob := b.NewPage(t)
	defer bob.Check(t)
	bob.Do(t, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(console), chromedp.WaitVisible("#signin"))
	signIn(t, bob, srv)
	goLive(t, bob, "Bob")

	// Alice's tab, live as alice, writes to the lobby.
	goLive(t, alice, "Alice")
	alice.Do(t,
		chromedp.WaitVisible("#live-message"),
		waitText(".conversation", "Welcome to the lobby, everyone"),
		chromedp.SendKeys("#live-message", "hello bob, this is alice"+kb.Enter),
	)
	bob.Do(t,
		waitText("#live-events", "hello bob, this is alice"),
		waitText(".conversation", "hello bob, this is alice"),
		chromedp.SendKeys("#live-message", "hi alice!"+kb.Enter),
		waitText(".conversation", "hi alice!"),
	)
	alice.Do(t,
		waitText("#live-events", "hi alice!"),
		waitText(".conversation", "hi alice!"),
	)
	events, err := chromedp.Run(bob.Ctx, chromedp.Text("#live-events"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(events, "CREATE_CHANNEL_MESSAGE") {
		t.Errorf("bob's events pane shows %q, want the event types", events)
	}
	bob.Screenshot(t, "live")
	alice.Screenshot(t, "live-alice")

	// The status view counts the two open sessions.
	alice.Do(t,
		setHash("#/status"),
		chromedp.WaitVisible(".cards"),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('.card')].some(c =>
			c.querySelector('.card-label').textContent === 'Open sessions' && c.querySelector('.card-value').textContent === '2')`,
			chromedp.WithPollingTimeout(20*time.Second)),
		waitText(".cards", "sqlite"),
		waitText("table", "SendChannelMessage"),
	)
	alice.Screenshot(t, "status")

	// The AppInstance's page, with what the test made.
	alice.Do(t,
		chromedp.Click(`.main-nav a[href="#/apps"]`),
		waitText("table", "demo"),
	)
	alice.Screenshot(t, "apps")
}

// signIn signs in with the root key and waits for the start page.
func signIn(t *testing.T, p *browsertest.Page, srv *carillontest.Server) {
	t.Helper()
	p.Do(t,
		chromedp.SetValue("#accessKeyId", srv.Root.AccessKeyID),
		chromedp.SetValue("#secretAccessKey", srv.Root.SecretAccessKey),
		chromedp.SetValue("#region", srv.Region),
		chromedp.Click("#signin"),
		chromedp.WaitVisible(".main-nav"),
		waitText("h1", "AppInstances"),
	)
}

// goLive opens the live view and connects as the user named.
func goLive(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	p.Do(t,
		setHash("#/live"),
		chromedp.WaitVisible("#live-user"),
		pick("#live-user", name, true),
		chromedp.Click("#live-connect"),
	)
	connected := chromedp.Poll[chromedp.Void](`document.querySelector('#live-state')?.dataset.state === 'connected'`,
		chromedp.WithPollingTimeout(30*time.Second))
	if err := chromedp.Do(p.Ctx, connected); err != nil {
		state, _ := chromedp.Run(p.Ctx, chromedp.Text(".view"))
		p.Screenshot(t, "live-"+name)
		t.Fatalf("the live pane did not connect as %s (%v); the page says: %s", name, err, state)
	}
}

// fillDialog sets the open dialog's fields by name and submits it, and
// waits for it to close.
func fillDialog(t *testing.T, p *browsertest.Page, values map[string]string) {
	t.Helper()
	for name, v := range values {
		p.Do(t, chromedp.SetValue(`dialog[open] [name="`+name+`"]`, v))
	}
	p.Do(t, chromedp.Click(`dialog[open] button[type="submit"]`))
	if err := chromedp.Do(p.Ctx, chromedp.WaitNotPresent("dialog[open]")); err != nil {
		text, _ := chromedp.Run(p.Ctx, chromedp.Text("dialog[open]"))
		t.Fatalf("the dialog stayed open (%v): %s", err, text)
	}
}

// pick selects the option of a select whose text starts with text; when
// change is set, it tells the page, as a user's pick does.
func pick(sel, text string, change bool) chromedp.Action[chromedp.Void] {
	s, _ := json.Marshal(sel)
	x, _ := json.Marshal(text)
	js := `(() => { const s = document.querySelector(` + string(s) + `);
		const o = [...s.options].find(o => o.text.startsWith(` + string(x) + `));
		if (!o) { throw new Error('no option ' + ` + string(x) + `); }
		o.selected = true;` +
		map[bool]string{true: `s.dispatchEvent(new Event('change', { bubbles: true }));`}[change] + ` return true; })()`
	return evalVoid(js)
}

func setHash(hash string) chromedp.Action[chromedp.Void] {
	h, _ := json.Marshal(hash)
	return evalVoid(`(location.hash = ` + string(h) + `, true)`)
}

// evalVoid runs a script that answers true.
func evalVoid(js string) chromedp.Action[chromedp.Void] {
	ev := chromedp.Evaluate[bool](js)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := ev(ctx, t)
		return chromedp.Void{}, err
	}
}

// waitText waits until an element matching sel contains text.
func waitText(sel, text string) chromedp.Action[chromedp.Void] {
	s, _ := json.Marshal(sel)
	x, _ := json.Marshal(text)
	return chromedp.Poll[chromedp.Void](`[...document.querySelectorAll(`+string(s)+`)].some(e => e.textContent.includes(`+string(x)+`))`,
		chromedp.WithPollingTimeout(20*time.Second))
}

// waitValueText waits until a select's chosen option's text starts with
// text.
func waitValueText(sel, text string) chromedp.Action[chromedp.Void] {
	s, _ := json.Marshal(sel)
	x, _ := json.Marshal(text)
	return chromedp.Poll[chromedp.Void](`document.querySelector(`+string(s)+`)?.selectedOptions[0]?.text.startsWith(`+string(x)+`)`,
		chromedp.WithPollingTimeout(20*time.Second))
}

// consoleFixture makes an AppInstance "shop" with users ann and ben and a
// channel "general" of both, with a message, through the Go SDK.
func consoleFixture(t *testing.T, srv *carillontest.Server) (app, ann, ben, channel string) {
	t.Helper()
	ctx := context.Background()
	id := chimesdkidentity.NewFromConfig(srv.Config)
	msg := chimesdkmessaging.NewFromConfig(srv.Config)
	a, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("shop"), ClientRequestToken: aws.String("app-token")})
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, n := range []string{"ann", "ben"} {
		u, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: a.AppInstanceArn,
			AppInstanceUserId: aws.String(n), Name: aws.String(n), ClientRequestToken: aws.String(n + "-token")})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, *u.AppInstanceUserArn)
	}
	c, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{AppInstanceArn: a.AppInstanceArn, Name: aws.String("general"),
		ChimeBearer: aws.String(users[1]), MemberArns: users[:1], ClientRequestToken: aws.String("channel-token")})
	if err != nil {
		t.Fatal(err)
	}
	sendAs(t, srv, *c.ChannelArn, users[1], "the first message")
	// More than a page of messages: the console lists 50 at a time.
	for i := range 54 {
		sendAs(t, srv, *c.ChannelArn, users[i%2], fmt.Sprintf("message %d", i+2))
	}
	return *a.AppInstanceArn, users[0], users[1], *c.ChannelArn
}

func sendAs(t *testing.T, srv *carillontest.Server, channel, bearer, content string) {
	t.Helper()
	_, err := chimesdkmessaging.NewFromConfig(srv.Config).SendChannelMessage(context.Background(), &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: aws.String(channel), ChimeBearer: aws.String(bearer), Content: aws.String(content),
		Type: "STANDARD", Persistence: "PERSISTENT", ClientRequestToken: aws.String(fmt.Sprintf("token-%d", time.Now().UnixNano())),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConsolePerUserKey: root issues a key for ann on her page; signed in
// with it (pasted as the JSON the dialog shows), the console shows what
// ann may see: her channels and their messages, not the AppInstances nor
// the server's status, which the API refuses; her live session, opened
// with the expiring key, receives ben's message.
func TestConsolePerUserKey(t *testing.T) {
	t.Parallel()
	srv := carillontest.New(t)
	app, ann, ben, channel := consoleFixture(t, srv)
	b := browsertest.Launch(t, browsertest.Options{IgnoreCertificateErrors: true})
	console := srv.Endpoint + "/console/"

	root := b.NewPage(t)
	defer root.Check(t)
	root.Do(t, chromedp.Navigate(console), chromedp.WaitVisible("#signin"))
	signIn(t, root, srv)
	root.Do(t,
		setHash("#/apps/"+url.PathEscape(app)+"/users/"+url.PathEscape(ann)),
		waitText("table", "general"),
		chromedp.Click(`.actions button:nth-child(2)`),
		chromedp.WaitVisible(`dialog[open] [name="ExpiresInSeconds"]`),
		chromedp.Click(`dialog[open] button[type="submit"]`),
		waitText("dialog[open] h2", "The new key"),
	)
	issued, err := chromedp.Run(root.Ctx, chromedp.TextContent("dialog[open] pre"))
	if err != nil {
		t.Fatal(err)
	}
	var key struct{ AccessKeyId, SessionToken, Bearer string }
	if err := json.Unmarshal([]byte(issued), &key); err != nil || key.SessionToken == "" || key.Bearer != ann {
		t.Fatalf("the dialog shows %q (%v)", issued, err)
	}

	p := b.NewPage(t)
	defer p.Check(t)
	p.Ignore(func(pr browsertest.Problem) bool {
		return pr.Kind == "log" && strings.Contains(pr.Text, "status of 403") && strings.Contains(pr.URL, "/carillon/status")
	})
	p.Do(t,
		chromedp.Navigate(console),
		chromedp.WaitVisible("#signin"),
		paste("#accessKeyId", issued),
		chromedp.Click("#signin"),
		chromedp.WaitVisible(".main-nav"),
		waitText("h1", "ann"),
		waitText("table", "general"),
	)
	nav, err := chromedp.Run(p.Ctx, chromedp.Text(".main-nav"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(nav, "AppInstances") || strings.Contains(nav, "Server status") {
		t.Errorf("a per-user key's menu offers %q", nav)
	}
	p.Do(t,
		chromedp.Click(`table a.row-link`),
		waitText(".messages", "message 55"),
		chromedp.WaitVisible(".older button"),
	)
	if n, err := chromedp.Run(p.Ctx, chromedp.Evaluate[int](`document.querySelectorAll('.messages .message').length`)); err != nil || n != 50 {
		t.Errorf("the first page shows %d messages (%v), want 50", n, err)
	}
	p.Do(t,
		chromedp.Click(".older button"),
		waitText(".messages", "the first message"),
		chromedp.WaitNotPresent(".older button"),
	)
	if n, err := chromedp.Run(p.Ctx, chromedp.Evaluate[int](`document.querySelectorAll('.messages .message').length`)); err != nil || n != 55 {
		t.Errorf("after Load older the page shows %d messages (%v), want 55", n, err)
	}
	p.Do(t,
		setHash("#/status"),
		waitText(".error", "ForbiddenException"),
	)
	goLive(t, p, "ann")
	sendAs(t, srv, channel, ben, "hello ann, from ben")
	p.Do(t,
		waitText("#live-events", "hello ann, from ben"),
		waitText(".conversation", "hello ann, from ben"),
	)
}

// TestConsoleOnTheTLSListener: the console is served on the TLS listener
// too, and opened there its session is a connection of the page's own
// origin, which a --cors-origins list that does not name the listener
// does not refuse: ann's pane receives ben's message.
func TestConsoleOnTheTLSListener(t *testing.T) {
	t.Parallel()
	srv := carillontest.New(t, func(c *server.Config) { c.CORSOrigins = []string{"https://chat.example.com"} })
	_, _, ben, channel := consoleFixture(t, srv)
	b := browsertest.Launch(t, browsertest.Options{IgnoreCertificateErrors: true})
	p := b.NewPage(t)
	defer p.Check(t)
	p.Do(t, chromedp.Navigate(srv.TLSEndpoint+"/console/"), chromedp.WaitVisible("#signin"))
	signIn(t, p, srv)
	goLive(t, p, "ann")
	sendAs(t, srv, channel, ben, "hello ann, over https")
	p.Do(t, waitText("#live-events", "hello ann, over https"))
}

// TestConsoleCertificateNotTrusted: a browser that has not accepted the
// TLS listener's certificate cannot open the session, and the live view
// says so, with the link to accept it.
func TestConsoleCertificateNotTrusted(t *testing.T) {
	t.Parallel()
	srv := carillontest.New(t)
	consoleFixture(t, srv)
	b := browsertest.Launch(t, browsertest.Options{})
	p := b.NewPage(t)
	defer p.Check(t)
	// The page's probe of the endpoint fails on the certificate, as it
	// must.
	p.Ignore(func(pr browsertest.Problem) bool {
		return (pr.Kind == "network" || pr.Kind == "log") && strings.Contains(pr.Text, "ERR_CERT")
	})
	p.Do(t, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(srv.Endpoint+"/console/"), chromedp.WaitVisible("#signin"))
	signIn(t, p, srv)
	healthz := srv.TLSEndpoint + "/healthz"
	p.Do(t,
		setHash("#/live"),
		chromedp.WaitVisible("#live-user"),
		pick("#live-user", "ben", true),
		chromedp.Click("#live-connect"),
		waitText(".error", "does not trust the certificate"),
		chromedp.WaitVisible(`.error a[href="`+healthz+`"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('#live-state').dataset.state === 'failed'`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	p.Screenshot(t, "certificate")
}

// paste types text into an input at once, as a paste does.
func paste(sel, text string) chromedp.Action[chromedp.Void] {
	s, _ := json.Marshal(sel)
	x, _ := json.Marshal(text)
	return evalVoid(`(() => { const e = document.querySelector(` + string(s) + `); e.value = ` + string(x) + `;
		e.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
}
