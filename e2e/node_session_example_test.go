package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/internal/testenv"
	"github.com/carillonhq/carillon/server"
)

// nodeSessionExample returns node and the directory of
// examples/node-session, whose npm packages must be installed (make
// js-deps).
func nodeSessionExample(t *testing.T) (node, dir string) {
	t.Helper()
	dir = exampleDir(t, "node-session")
	for _, pkg := range []string{"amazon-chime-sdk-js", "@aws-sdk/client-chime-sdk-messaging", "ws"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("the npm packages of examples/node-session are not installed (%s is missing); run: make js-deps", pkg)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("Node.js (node, version 20 or later) is required for this test: %v", err)
	}
	return node, dir
}

// lineWaiter collects a process's output lines and waits for one.
type lineWaiter struct {
	all   jsBuffer
	lines chan string
}

func newLineWaiter(r io.Reader) *lineWaiter {
	w := &lineWaiter{lines: make(chan string, 256)}
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			fmt.Fprintln(&w.all, sc.Text())
			select {
			case w.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	return w
}

// waitFor returns once a line contains s, or fails.
func (w *lineWaiter) waitFor(t *testing.T, s string, timeout time.Duration, context func() string) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				t.Fatalf("the script ended before printing %q\noutput:\n%s\n%s", s, w.all.String(), context())
			}
			if strings.Contains(line, s) {
				return
			}
		case <-deadline:
			t.Fatalf("the script did not print %q within %v\noutput:\n%s\n%s", s, timeout, w.all.String(), context())
		}
	}
}

// TestNodeSessionExample runs examples/node-session/session.mjs as its
// comment says to, as bob with a key that may act only as bob: it
// connects and prints the messages alice sends, live. The server restarts
// meanwhile: the SDK, which builds a CloseEvent when it cannot reach the
// endpoint, reconnects by itself (without the script's CloseEvent class
// Node 20 crashes there). Without NODE_EXTRA_CA_CERTS the script explains
// that Node does not trust the certificate, and the server's log names
// the file to trust.
func TestNodeSessionExample(t *testing.T) {
	t.Parallel()
	node, dir := nodeSessionExample(t)
	s, serverLog := startJSServer(t)
	ctx := t.Context()
	endpoint := "http://" + s.srv.Addr()
	cfg := aws.Config{Region: s.srv.Region(), BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.cfg.Root.AccessKeyID, s.cfg.Root.SecretAccessKey, "")}
	id := chimesdkidentity.NewFromConfig(cfg)
	msg := chimesdkmessaging.NewFromConfig(cfg)
	app, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("demo")})
	mustOK(t, err, "CreateAppInstance")
	user := func(name string) string {
		out, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
			AppInstanceArn: app.AppInstanceArn, AppInstanceUserId: aws.String(strings.ToLower(name)), Name: aws.String(name)})
		mustOK(t, err, "CreateAppInstanceUser")
		return aws.ToString(out.AppInstanceUserArn)
	}
	alice, bob := user("Alice"), user("Bob")
	ch, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{AppInstanceArn: app.AppInstanceArn,
		Name: aws.String("general"), ChimeBearer: &alice})
	mustOK(t, err, "CreateChannel")
	_, err = msg.CreateChannelMembership(ctx, &chimesdkmessaging.CreateChannelMembershipInput{ChannelArn: ch.ChannelArn,
		MemberArn: &bob, Type: mtypes.ChannelMembershipTypeDefault, ChimeBearer: &alice})
	mustOK(t, err, "CreateChannelMembership")
	bobKey, err := server.CreateUserCredentials(ctx, s.srv.Store(), bob, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	send := func(text string) {
		t.Helper()
		_, err := msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{ChannelArn: ch.ChannelArn,
			Content: aws.String(text), Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
			ChimeBearer: &alice})
		mustOK(t, err, "SendChannelMessage")
	}
	cert := s.srv.CertificateFile()

	start := func(extra ...string) *lineWaiter {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
		cmd := exec.CommandContext(ctx, node, "session.mjs", bob)
		cmd.Dir = dir
		cmd.Env = testenv.AWSToolEnv(t, append([]string{
			"AWS_REGION=" + s.srv.Region(),
			"AWS_ACCESS_KEY_ID=" + bobKey.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY=" + bobKey.SecretAccessKey,
			"AWS_SESSION_TOKEN=" + bobKey.SessionToken,
			"AWS_ENDPOINT_URL=" + endpoint,
		}, extra...)...)
		pr, pw := io.Pipe()
		cmd.Stdout, cmd.Stderr = pw, pw
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		go func() {
			_ = cmd.Wait()
			pw.Close()
		}()
		t.Cleanup(cancel)
		return newLineWaiter(pr)
	}
	logs := func() string { return "server log:\n" + serverLog.String() }

	out := start("NODE_EXTRA_CA_CERTS=" + cert)
	out.waitFor(t, "Connected as "+bob, 30*time.Second, logs)
	send("Are you there, Bob?")
	out.waitFor(t, "Alice: Are you there, Bob?", 15*time.Second, logs)

	// The server restarts; the SDK keeps trying while it is down.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, "failed to resolve endpoint", 15*time.Second, logs)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, "Connected as "+bob, 30*time.Second, logs)
	send("Back again")
	out.waitFor(t, "Alice: Back again", 15*time.Second, logs)

	// Without the certificate: the script's explanation, and the server's
	// hint naming the file.
	out = start()
	out.waitFor(t, "Node does not trust Carillon's certificate", 30*time.Second, logs)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(serverLog.String(), "NODE_EXTRA_CA_CERTS="+cert) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(serverLog.String(), "NODE_EXTRA_CA_CERTS="+cert) {
		t.Fatalf("the server's log has no hint naming %s:\n%s", cert, serverLog.String())
	}
}

// exampleDir is examples/<name> of the repository.
func exampleDir(t *testing.T, name string) string {
	t.Helper()
	dir := testenv.RepoPath(t, "examples", name)
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		t.Fatal(err)
	}
	return dir
}
