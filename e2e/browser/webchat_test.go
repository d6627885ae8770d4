package browser

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/e2e/browser/browsertest"
)

const webChat = "../../examples/web-chat"

// TestWebChatExample uses examples/web-chat as its README tells a
// newcomer to: paste the key, Connect, and chat between the two panes;
// then reload, and the conversation is still there.
func TestWebChatExample(t *testing.T) {
	t.Parallel()
	modules := nodeModules(t)
	srv := carillontest.New(t)
	// The example's own node_modules when it was installed, e2e/js's
	// otherwise: TestWebChatPackages keeps their versions equal.
	page := browsertest.Serve(t, map[string][]byte{
		"/":          readFile(t, filepath.Join(webChat, "index.html")),
		"/bundle.js": browsertest.Bundle(t, filepath.Join(webChat, "chat.js"), modules),
	})
	b := browsertest.Launch(t, browsertest.Options{IgnoreCertificateErrors: true})
	p := b.NewPage(t)
	defer p.Check(t)

	bothConnected := chromedp.Poll[chromedp.Void](
		`[...document.querySelectorAll('.pane .state')].filter(e => e.textContent === 'connected').length === 2`,
		chromedp.WithPollingTimeout(30*time.Second))
	shows := func(pane, text string) chromedp.Action[chromedp.Void] {
		js, _ := json.Marshal(text)
		return chromedp.Poll[chromedp.Void](`document.querySelector('#pane-`+pane+` ul')?.textContent.includes(`+string(js)+`)`,
			chromedp.WithPollingTimeout(20*time.Second))
	}
	p.Do(t,
		chromedp.Navigate(page+"/"),
		chromedp.WaitVisible("#connect"),
		chromedp.SetValue("#endpoint", srv.TLSEndpoint),
		chromedp.SetValue("#region", srv.Region),
		chromedp.SetValue("#accessKeyId", srv.Root.AccessKeyID),
		chromedp.SetValue("#secretAccessKey", srv.Root.SecretAccessKey),
		chromedp.Click("#connect"),
	)
	if err := chromedp.Do(p.Ctx, bothConnected); err != nil {
		status, _ := chromedp.Run(p.Ctx, chromedp.Text("#status"))
		p.Screenshot(t, "connect")
		t.Fatalf("the panes did not connect (%v); the page says: %s", err, status)
	}
	p.Do(t,
		chromedp.SendKeys("#pane-alice input", "hello bob"),
		chromedp.Click("#pane-alice button"),
		shows("bob", "hello bob"),
		shows("alice", "hello bob"),
		chromedp.SendKeys("#pane-bob input", "hi alice"),
		chromedp.Click("#pane-bob button"),
		shows("alice", "hi alice"),
	)
	p.Screenshot(t, "chat")

	// A reload finds the AppInstance, the users and the channel, and
	// lists the conversation.
	p.Do(t,
		chromedp.Reload(),
		chromedp.WaitVisible("#connect"),
		chromedp.Click("#connect"),
		bothConnected,
		shows("bob", "hello bob"),
		shows("bob", "hi alice"),
	)
	text, err := chromedp.Run(p.Ctx, chromedp.Text("#pane-alice ul"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(text, "hello bob") != 1 || strings.Count(text, "hi alice") != 1 {
		t.Errorf("after a reload alice's pane shows %q, want each message once", text)
	}
}

// TestWebChatPackages: the example's npm packages are the versions the
// browser tests bundle it with, and its scripts bundle it as they do.
func TestWebChatPackages(t *testing.T) {
	var example, tests struct {
		Scripts      map[string]string
		Dependencies map[string]string
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(webChat, "package.json")), &example); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readFile(t, "../js/package.json"), &tests); err != nil {
		t.Fatal(err)
	}
	if len(example.Dependencies) == 0 {
		t.Fatal("examples/web-chat/package.json has no dependencies")
	}
	for pkg, v := range example.Dependencies {
		if tests.Dependencies[pkg] != v {
			t.Errorf("examples/web-chat uses %s %s, e2e/js %q", pkg, v, tests.Dependencies[pkg])
		}
	}
	for _, script := range []string{"build", "start"} {
		for _, flag := range []string{"--bundle", "--format=esm", "--main-fields=browser,module,main", "--define:global=globalThis"} {
			if !strings.Contains(example.Scripts[script], flag) {
				t.Errorf("examples/web-chat's %s script %q lacks %s", script, example.Scripts[script], flag)
			}
		}
	}
}
