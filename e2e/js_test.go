package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/internal/testenv"
	"github.com/carillonhq/carillon/server"
)

// The JavaScript tests run scripts of e2e/js with Node and the npm
// packages of e2e/js/package.json: the AWS SDK for JavaScript v3 and
// amazon-chime-sdk-js. CI installs them with `npm ci` before go test.

// jsRuntime returns the node binary and the e2e/js directory, failing the
// test when either is missing.
func jsRuntime(t *testing.T) (node, dir string) {
	t.Helper()
	dir = testenv.RepoPath(t, "e2e", "js")
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"amazon-chime-sdk-js", "@aws-sdk/client-chime-sdk-messaging", "@aws-sdk/client-chime-sdk-identity", "ws"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("the npm packages of e2e/js are not installed (%s is missing); run: (cd e2e/js && npm ci)", pkg)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("Node.js (node, version 20 or later) is required for this test: %v", err)
	}
	return node, dir
}

// jsEnv is the environment of a script: no AWS_ variable or profile of
// the machine's (testenv.AWSToolEnv), the settings common.mjs reads, and extra.
func jsEnv(t *testing.T, endpoint, region string, root server.RootCredentials, extra ...string) []string {
	t.Helper()
	return testenv.AWSToolEnv(t, append([]string{
		"CARILLON_ENDPOINT=" + endpoint,
		"AWS_REGION=" + region,
		"AWS_ACCESS_KEY_ID=" + root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + root.SecretAccessKey,
	}, extra...)...)
}

// jsBuffer is a bytes.Buffer safe for concurrent writers (a process's
// output and the server's log).
type jsBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *jsBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *jsBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestJSMessagingSmoke drives the REST API with the AWS SDK for
// JavaScript v3 (e2e/js/messaging_smoke.mjs): AppInstance, users,
// channel, membership, send, list, edit, redact, and a typed
// ForbiddenException.
func TestJSMessagingSmoke(t *testing.T) {
	t.Parallel()
	node, dir := jsRuntime(t)
	srv := carillontest.New(t)

	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, "messaging_smoke.mjs")
	cmd.Dir = dir
	cmd.Env = jsEnv(t, srv.Endpoint, srv.Region, srv.Root)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node messaging_smoke.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "PASS") {
		t.Fatalf("messaging_smoke.mjs exited 0 without PASS; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

// jsServer is a server the test can stop and start again with the same
// configuration: data directory, ports, root key and certificate.
type jsServer struct {
	cfg    server.Config
	srv    *server.Server
	cancel context.CancelFunc
	done   chan error
}

// startJSServer starts a server on two loopback ports of its own (so that
// it can come back on them), logging into the buffer it returns, and
// stops it when the test ends.
func startJSServer(t *testing.T) (*jsServer, *jsBuffer) {
	t.Helper()
	serverLog := &jsBuffer{}
	addrs := testenv.FreeAddrs(t, 2)
	dataDir := t.TempDir()
	s := &jsServer{cfg: server.Config{
		Listen:    addrs[0],
		TLSListen: addrs[1],
		DataDir:   dataDir,
		Database:  carillontest.Database(t, dataDir),
		Root:      server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()},
		Logger:    slog.New(slog.NewTextHandler(serverLog, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stopping the server: %v", err)
		}
	})
	return s, serverLog
}

func (s *jsServer) start() error {
	srv, err := server.New(context.Background(), s.cfg)
	if err != nil {
		return err
	}
	// The ports were free before the first start, and are ours again once
	// the previous server has closed them; allow for a slow release.
	for attempt := 0; ; attempt++ {
		if err = srv.Listen(); err == nil || attempt == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		srv.Close()
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	s.srv, s.cancel, s.done = srv, cancel, done
	return nil
}

// stop shuts the server down as a signal would: sessions are closed with
// 1012, requests drained, the store closed.
func (s *jsServer) stop() error {
	if s.srv == nil {
		return nil
	}
	s.cancel()
	err := <-s.done
	if cerr := s.srv.Close(); err == nil {
		err = cerr
	}
	s.srv = nil
	return err
}

// TestJSMessagingSession drives amazon-chime-sdk-js's
// DefaultMessagingSession (e2e/js/session.mjs) against a server it
// restarts halfway: the script checks the events and the prefetch the
// SDK delivers, then prints WAITING_RESTART; the test stops the server,
// starts it again on the same ports and data directory and answers
// RESTARTED; the script checks that the SDK reconnected by itself and
// receives what is sent afterwards.
func TestJSMessagingSession(t *testing.T) {
	t.Parallel()
	node, dir := jsRuntime(t)

	s, serverLog := startJSServer(t)
	tlsAddr := s.srv.TLSAddr()
	if tlsAddr != s.cfg.TLSListen {
		t.Fatalf("the server listens on %s, not %s", tlsAddr, s.cfg.TLSListen)
	}
	caFile := filepath.Join(t.TempDir(), "carillon-ca.pem")
	pem := s.srv.CertificatePEM()
	if len(pem) == 0 {
		t.Fatal("the server has no certificate PEM")
	}
	if err := os.WriteFile(caFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 55*time.Second)
	defer cancel()
	var stderr, transcript jsBuffer
	cmd := exec.CommandContext(ctx, node, "session.mjs")
	cmd.Dir = dir
	cmd.Env = jsEnv(t, "https://"+tlsAddr, s.srv.Region(), s.cfg.Root, "NODE_EXTRA_CA_CERTS="+caFile)
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	fail := func(format string, args ...any) {
		t.Helper()
		cancel()
		go func() {
			for range lines { // unblock the reader
			}
		}()
		_ = cmd.Wait()
		t.Fatalf("%s\nscript stdout:\n%s\nscript stderr:\n%s\nserver log:\n%s",
			fmt.Sprintf(format, args...), transcript.String(), stderr.String(), serverLog.String())
	}

	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(&transcript, sc.Text())
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	restarted, passed := false, false
	for line := range lines {
		switch strings.TrimSpace(line) {
		case "WAITING_RESTART":
			if restarted {
				fail("the script asked for a second restart")
			}
			began := time.Now()
			if err := s.stop(); err != nil {
				fail("stopping the server: %v", err)
			}
			if err := s.start(); err != nil {
				fail("restarting the server on the same ports: %v", err)
			}
			t.Logf("server restarted in %v", time.Since(began).Round(time.Millisecond))
			restarted = true
			if _, err := io.WriteString(stdin, "RESTARTED\n"); err != nil {
				fail("answering the script: %v", err)
			}
		case "PASS":
			passed = true
		}
	}
	err = cmd.Wait()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		fail("node session.mjs did not finish in time")
	case err != nil:
		fail("node session.mjs: %v", err)
	case !restarted:
		fail("session.mjs never asked for the server restart")
	case !passed:
		fail("session.mjs exited 0 without PASS")
	}
}
