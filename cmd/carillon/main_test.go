package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/pgtest"
	"github.com/carillonhq/carillon/server"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestServeLifecycle runs `carillon serve` in-process: it generates and
// prints root credentials on the first start only, answers /healthz, and
// stops cleanly when its context ends (as on SIGTERM). On PostgreSQL the
// second start is another server, with a data directory of its own: the
// credentials are in the database they share.
func TestServeLifecycle(t *testing.T) {
	t.Setenv("CARILLON_ACCESS_KEY_ID", "")
	t.Setenv("CARILLON_SECRET_ACCESS_KEY", "")
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		serveLifecycle(t, func() string { return dir }, nil, filepath.Join(dir, "root-credentials.json"))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Database(t)
		serveLifecycle(t, func() string { return t.TempDir() }, []string{"--database", dsn}, "the database")
	})
}

// serveLifecycle starts the server twice, each time with the data
// directory dataDir returns and the flags args.
func serveLifecycle(t *testing.T, dataDir func() string, args []string, where string) {
	var startedLine map[string]any
	var dir string
	start := func() (stdout string, addr string, stop func() error) {
		dir = dataDir()
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--log-format", "json"}, args...), &out, pw)
			pw.Close()
		}()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "carillon started" {
				addr, _ = line["http"].(string)
				startedLine = line
				break
			}
		}
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		if addr == "" {
			cancel()
			t.Fatalf("the server did not start: %v", <-done)
		}
		return out.String(), addr, func() error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(20 * time.Second):
				t.Fatal("the server did not stop")
				return nil
			}
		}
	}

	out, addr, stop := start()
	if !strings.Contains(out, "aws configure set aws_access_key_id CKIA") || !strings.Contains(out, "aws configure set endpoint_url http://"+addr+" --profile carillon") ||
		!strings.Contains(out, "stored them in "+where+".") {
		t.Fatalf("first start did not print the credentials hint:\n%s", out)
	}
	if cert := filepath.Join(dir, "tls-cert.pem"); !strings.Contains(out, "export NODE_EXTRA_CA_CERTS="+cert+"\n") {
		t.Fatalf("first start did not name the certificate to trust, %s:\n%s", cert, out)
	}
	if where == "the database" {
		if startedLine["store"] != "postgres" || startedLine["sync"] != nil {
			t.Errorf("started with store %v, sync %v; want postgres, and no sync (SQLite's)", startedLine["store"], startedLine["sync"])
		}
	} else if startedLine["store"] != "sqlite" || startedLine["sync"] != "normal" {
		t.Errorf("started with store %v, sync %v; want sqlite and the default, normal", startedLine["store"], startedLine["sync"])
	}
	if startedLine["tls_cert"] != filepath.Join(dir, "tls-cert.pem") {
		t.Fatalf("the startup log line does not name the certificate: %v", startedLine)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if !strings.Contains(out, "open the console at http://"+addr+"/console/") {
		t.Errorf("first start did not point at the console:\n%s", out)
	}
	resp, err = http.Get("http://" + addr + "/console/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("console: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}

	out, _, stop = start()
	if strings.Contains(out, "aws_secret_access_key") {
		t.Fatalf("the second start printed the credentials again:\n%s", out)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestCredentialsCommand issues and deletes a per-user key in the data
// directory's database, or in the PostgreSQL database of --database.
func TestCredentialsCommand(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		credentialsCommand(t, "", []string{"--data-dir", dir})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Database(t)
		credentialsCommand(t, dsn, []string{"--database", dsn, "--data-dir", t.TempDir()})
	})
}

func credentialsCommand(t *testing.T, database string, flags []string) {
	dir := t.TempDir()
	if database == "" {
		dir = flags[1]
	}
	ctx := context.Background()
	store, err := server.OpenStore(ctx, database, dir, carillon.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	const app = "arn:aws:chime:us-east-1:000000000000:app-instance/a"
	err = store.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "a"}); err != nil {
			return err
		}
		return tx.CreateUser(&carillon.AppInstanceUser{ARN: app + "/user/u", AppInstanceARN: app, Name: "u"})
	})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if err := run(ctx, append([]string{"credentials", "create", "--user", app + "/user/u", "--expires", "1h"}, flags...), &out, &errOut); err != nil {
		t.Fatalf("create: %v %s", err, errOut.String())
	}
	var issued server.IssuedCredentials
	if err := json.Unmarshal(out.Bytes(), &issued); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if issued.Bearer != app+"/user/u" || issued.SessionToken == "" || issued.Expiration == nil || issued.Version != 1 {
		t.Fatalf("issued %+v", issued)
	}
	if err := run(ctx, append([]string{"credentials", "create", "--user", app + "/user/nobody"}, flags...), &out, &errOut); err == nil {
		t.Fatal("a key for a missing user was issued")
	}
	if err := run(ctx, append([]string{"credentials", "delete", "--id", issued.AccessKeyID}, flags...), &out, &errOut); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := run(ctx, append([]string{"credentials", "delete", "--id", issued.AccessKeyID}, flags...), &out, &errOut); err == nil {
		t.Fatal("deleting a deleted key succeeded")
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "carillon ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"bogus"}, &out, &errOut); err == nil {
		t.Fatal("an unknown command was accepted")
	}
}

// TestProcessorFlags: --processor is repeatable and CARILLON_PROCESSORS
// is its comma-separated twin; malformed values stop the server before it
// starts.
func TestProcessorFlags(t *testing.T) {
	p := processorsFlag{}
	for _, v := range []string{"a=http://127.0.0.1:9000/a", "arn:aws:lambda:us-east-1:123456789012:function:b=https://hooks.example/b"} {
		if err := p.Set(v); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
	}
	if p["a"] != "http://127.0.0.1:9000/a" || p["arn:aws:lambda:us-east-1:123456789012:function:b"] != "https://hooks.example/b" {
		t.Errorf("processors %v", p)
	}
	if err := p.Set("no-url"); err == nil {
		t.Error("a processor without a URL was accepted")
	}

	dir := t.TempDir()
	t.Setenv("CARILLON_PROCESSORS", "a=http://127.0.0.1:9000/a,broken")
	err := run(context.Background(), []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-listen", ""}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CARILLON_PROCESSORS") {
		t.Errorf("a malformed CARILLON_PROCESSORS: %v", err)
	}
	t.Setenv("CARILLON_PROCESSORS", "")
	err = run(context.Background(), []string{"serve", "--data-dir", dir, "--processor", "a=ftp://x"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not an http or https URL") {
		t.Errorf("a malformed --processor: %v", err)
	}
}

// TestPushFlags: a push webhook must be an http(s) URL, and it and a
// Pinpoint endpoint exclude each other.
func TestPushFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--push-webhook", "ftp://push"}, "want an http:// or https:// URL"},
		{[]string{"--push-webhook", "https://"}, "want an http:// or https:// URL"},
		{[]string{"--push-webhook", "https://push.example", "--push-pinpoint-endpoint", "aws"}, "exclude each other"},
	} {
		args := append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-listen", ""}, c.args...)
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
}

// TestServeDebugListen: --debug-listen (or CARILLON_DEBUG_LISTEN) serves
// net/http/pprof on its own address; the API's listener does not.
func TestServeDebugListen(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CARILLON_DEBUG_LISTEN", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-listen", "", "--log-format", "json"}, io.Discard, pw)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}()
	var api, debug string
	sc := bufio.NewScanner(pr)
	for (api == "" || debug == "") && sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line["msg"] {
		case "carillon started":
			api, _ = line["http"].(string)
		case "profiling":
			debug, _ = line["debug"].(string)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if api == "" || debug == "" {
		t.Fatalf("no API address (%q) or profiling address (%q) logged", api, debug)
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(debug + "goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("goroutine profile: %d %.100s", code, body)
	}
	if code, _ := get(debug + "heap"); code != http.StatusOK {
		t.Errorf("heap profile: %d", code)
	}
	if code, _ := get("http://" + api + "/debug/pprof/"); code == http.StatusOK {
		t.Error("the API's listener serves the profiler")
	}
}

// TestCORSOriginsFlag: --cors-origins and its twin take "*" or origins as
// browsers send them, and refuse anything else before the server starts.
func TestCORSOriginsFlag(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--cors-origins", ""}, "", "--cors-origins is empty"},
		{[]string{"--cors-origins", "http://localhost:3000/app"}, "", "want * or scheme://host[:port]"},
		{[]string{"--cors-origins", "*,http://localhost:3000"}, "", "list no other"},
		{nil, "localhost:3000", "want * or scheme://host[:port]"},
	} {
		t.Setenv("CARILLON_CORS_ORIGINS", c.env)
		args := append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-listen", ""}, c.args...)
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, CARILLON_CORS_ORIGINS=%q: %v, want an error saying %q", c.args, c.env, err, c.want)
		}
	}
}

// TestConsoleFlag: --console=false, or CARILLON_CONSOLE=false, serves no
// console and does not point at one; a CARILLON_CONSOLE that is not a
// boolean stops the server before it starts.
func TestConsoleFlag(t *testing.T) {
	t.Setenv("CARILLON_ACCESS_KEY_ID", "")
	t.Setenv("CARILLON_SECRET_ACCESS_KEY", "")
	for _, c := range []struct {
		args []string
		env  string
	}{
		{[]string{"--console=false"}, ""},
		{nil, "false"},
		{[]string{"--console=false"}, "true"},
	} {
		t.Setenv("CARILLON_CONSOLE", c.env)
		if c.env == "" {
			os.Unsetenv("CARILLON_CONSOLE")
		}
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		var out bytes.Buffer
		done := make(chan error, 1)
		args := append([]string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--tls-listen", "", "--log-format", "json"}, c.args...)
		go func() {
			done <- run(ctx, args, &out, pw)
			pw.Close()
		}()
		var addr string
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "carillon started" {
				addr, _ = line["http"].(string)
				if line["console"] != "" {
					t.Errorf("%v CARILLON_CONSOLE=%q: the log names a console: %v", c.args, c.env, line["console"])
				}
				break
			}
		}
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		if addr == "" {
			cancel()
			t.Fatalf("the server did not start: %v", <-done)
		}
		resp, err := http.Get("http://" + addr + "/console/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("%v CARILLON_CONSOLE=%q: /console/ answered 200", c.args, c.env)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "console") {
			t.Errorf("%v CARILLON_CONSOLE=%q: the hint mentions the console:\n%s", c.args, c.env, out.String())
		}
	}

	t.Setenv("CARILLON_CONSOLE", "maybe")
	err := run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--tls-listen", ""}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CARILLON_CONSOLE") {
		t.Errorf("CARILLON_CONSOLE=maybe: %v", err)
	}
}

// TestSyncFlag: --sync and its twin take normal or full, and refuse
// anything else before the server starts.
func TestSyncFlag(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		env  string
	}{
		{[]string{"--sync", "off"}, ""},
		{nil, "always"},
	} {
		t.Setenv("CARILLON_SYNC", c.env)
		args := append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-listen", ""}, c.args...)
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "want normal or full") {
			t.Errorf("%v, CARILLON_SYNC=%q: %v, want an error saying normal or full", c.args, c.env, err)
		}
	}
}
