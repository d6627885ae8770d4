package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/carillonhq/carillon/server"
)

// TestMain lets the test binary stand in for the processes the tool
// starts: the bare handler (as the tool itself does), and `carillon
// serve`, so that the end-to-end test needs no build of cmd/carillon.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case bareCommand:
			os.Exit(serveBare(os.Args[2:]))
		case "serve":
			os.Exit(serveCarillon(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// serveCarillon is what `carillon serve` does with the flags the tool
// passes: the server package on the given listeners and data directory,
// and the JSON "carillon started" line.
func serveCarillon(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "")
	listen := fs.String("listen", "", "")
	tlsListen := fs.String("tls-listen", "", "")
	region := fs.String("region", "us-east-1", "")
	fs.String("log-format", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, server.Config{Listen: *listen, TLSListen: *tlsListen, DataDir: *dataDir, Region: *region})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Close()
	if err := srv.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, `{"level":"INFO","msg":"carillon started","http":%q,"https":%q}`+"\n", srv.Addr(), srv.TLSAddr())
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestMarks(t *testing.T) {
	at := time.Unix(1700000000, 123456789)
	m := appendMark(nil, at, 7, 12345)
	if string(m) != "cmp-sent=1700000000123456789.7.12345" {
		t.Fatalf("appendMark = %s", m)
	}
	frame := []byte(`{"push":{"pub":{"data":{"Metadata":"` + string(m) + `"}}}}` + "\n" +
		`{"push":{"pub":{"data":{"Metadata":"` + string(appendMark(nil, at, 0, 1)) + `"}}}}`)
	var got []mark
	eachMark(frame, func(k mark) { got = append(got, k) })
	if len(got) != 2 || !got[0].sent.Equal(at) || got[0].pub != 7 || got[0].seq != 12345 || got[1].pub != 0 || got[1].seq != 1 {
		t.Fatalf("eachMark found %+v", got)
	}
	for _, bad := range []string{"", "1.2", "1.2.", "1..3", "x.1.2", "1.2.3", "12345678901234567890.1.2", "1.99999999.2"} {
		eachMark([]byte(markPrefix+bad), func(k mark) {
			if bad != "1.2.3" {
				t.Errorf("parsed %q as %+v", bad, k)
			}
		})
	}
}

func TestBitset(t *testing.T) {
	var s, u bitset
	for _, i := range []int64{0, 1, 63, 64, 1000, 5} {
		if !s.add(i) {
			t.Errorf("add(%d) = false on first add", i)
		}
	}
	if s.add(63) {
		t.Error("add(63) = true on second add")
	}
	u.add(1)
	u.add(1000)
	u.add(2000)
	if s.count() != 6 || u.count() != 3 || s.countAnd(u) != 2 || u.countAnd(s) != 2 {
		t.Errorf("count %d, %d; countAnd %d, %d", s.count(), u.count(), s.countAnd(u), u.countAnd(s))
	}
}

func TestMedianAndFormats(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	for _, c := range []struct{ got, want string }{
		{formatCount(0), "0"}, {formatCount(999.6), "1,000"}, {formatCount(1234567), "1,234,567"}, {formatCount(-1234), "-1,234"},
		{formatMillis(0.00095), "0.950 ms"}, {formatMillis(0.0028), "2.80 ms"}, {formatMillis(0.0123), "12.3 ms"},
		{formatMillis(0.098), "98.0 ms"}, {formatMillis(0.2), "200 ms"}, {formatMillis(1.5), "1,500 ms"}, {formatMillis(64.347), "64.3 s"}, {formatMillis(140.2), "140 s"},
		{formatRatio(0.1346), "0.135×"}, {formatRatio(1.25), "1.25×"}, {formatRatio(24.4), "24×"},
		{formatKiB(61133), "59.7 KiB"}, {formatPercent(0.88), "88%"},
		{formatMicros(0.000891), "891 µs"}, {formatMicros(0.0000475), "47.5 µs"}, {formatMicros(0.0000012), "1.20 µs"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestParseProc(t *testing.T) {
	cpu, err := parseStatCPU("1234 (carillon (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0")
	if err != nil || cpu != 3 {
		t.Errorf("parseStatCPU = %v, %v; want 3 s", cpu, err)
	}
	rss, err := parseStatusRSS("Name:\tcarillon\nVmPeak:\t 1 kB\nVmRSS:\t   61133 kB\nThreads: 9\n")
	if err != nil || rss != 61133*1024 {
		t.Errorf("parseStatusRSS = %v, %v", rss, err)
	}
	if _, err := parseStatusRSS("Name:\tx\n"); err == nil {
		t.Error("parseStatusRSS without VmRSS: no error")
	}
	// This process's own figures parse.
	if _, err := cpuSecondsOf(os.Getpid()); err != nil {
		t.Errorf("cpuSecondsOf(self): %v", err)
	}
}

// TestSigV4MatchesSDK signs a publish by hand and checks that the SDK's
// signer, given the same request, computes the same Authorization.
func TestSigV4MatchesSDK(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "CKIAEXAMPLEEXAMPLE12", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	channel := "arn:aws:chime:us-east-1:123456789012:app-instance/5d1f1b8a-2c2e-4c1d-9a5e-000000000001/channel/0c2f7d1e-0000-4000-8000-000000000002"
	bearer := "arn:aws:chime:us-east-1:123456789012:app-instance/5d1f1b8a-2c2e-4c1d-9a5e-000000000001/user/pub-00003"
	p := newChimePublisher("127.0.0.1:8080", creds, "us-east-1", channel, []string{bearer}, nil)
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	body := appendMessageBody(nil, appendMark(nil, now, 0, 42))
	raw := p.request(nil, body, bearer, now)

	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("the request does not parse: %v\n%s", err, raw)
	}
	if req.ContentLength != int64(len(body)) || req.Host != "127.0.0.1:8080" || req.URL.Path != "/channels/"+channel+"/messages" {
		t.Fatalf("parsed request: length %d, host %q, path %q", req.ContentLength, req.Host, req.URL.Path)
	}
	mine := req.Header.Get("Authorization")
	req.Header.Del("Authorization")
	req.URL.Scheme, req.URL.Host = "http", req.Host
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "chime", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	if sdk := req.Header.Get("Authorization"); sdk != mine {
		t.Errorf("Authorization differs:\nmine %s\nSDK  %s", mine, sdk)
	}
}

func TestReadResponse(t *testing.T) {
	for _, c := range []struct {
		raw    string
		status int
		body   string
		keep   bool
	}{
		{"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello", 201, "hello", true},
		{"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: close\r\n\r\n{}", 200, "{}", false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", 200, "abcde", true},
		{"HTTP/1.0 500 Oops\r\n\r\nall of it", 500, "all of it", false},
	} {
		status, body, keep, err := readResponse(bufio.NewReader(strings.NewReader(c.raw)), nil)
		if err != nil || status != c.status || string(body) != c.body || keep != c.keep {
			t.Errorf("readResponse(%q) = %d, %q, %v, %v", c.raw, status, body, keep, err)
		}
	}
	for _, bad := range []string{"HTTP/1.1 2x1 X\r\n\r\n", "garbage\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"} {
		if _, _, _, err := readResponse(bufio.NewReader(strings.NewReader(bad)), nil); err == nil {
			t.Errorf("readResponse(%q): no error", bad)
		}
	}
}

func TestCentrifugoFrame(t *testing.T) {
	c := &centrifugoSystem{}
	at := time.Unix(1, 0)
	frame := []byte(`{"push":{"channel":"bench:compare-0","pub":{"data":{"Metadata":"` + string(appendMark(nil, at, 1, 2)) + `"},"offset":3}}}` + "\n{}\n" +
		`{"push":{"channel":"bench:compare-0","pub":{"data":{"Metadata":"` + string(appendMark(nil, at, 1, 3)) + `"},"offset":4}}}`)
	n := 0
	reply := c.frame(frame, func(mark) { n++ })
	if n != 2 || string(reply) != "{}" {
		t.Errorf("frame: %d marks, reply %q; want 2 and a pong", n, reply)
	}
	if reply := c.frame([]byte(`{"id":2,"subscribe":{}}`), func(mark) { n++ }); reply != nil || n != 2 {
		t.Errorf("a reply without marks gave %d marks and reply %q", n-2, reply)
	}
	car := &carillonSystem{}
	event := `{"Headers":{"x-amz-chime-event-type":"CREATE_CHANNEL_MESSAGE"},"Payload":"{\"Metadata\":\"` + string(appendMark(nil, at, 0, 9)) + `\"}"}`
	n = 0
	car.frame([]byte(event), func(mark) { n++ })
	car.frame([]byte(strings.Replace(event, "CREATE_CHANNEL_MESSAGE", "UPDATE_CHANNEL_MESSAGE", 1)), func(mark) { n++ })
	if n != 1 {
		t.Errorf("Carillon frames gave %d marks, want 1", n)
	}
}

func TestHS256JWT(t *testing.T) {
	// Header and claims as Centrifugo decodes them, the signature checked
	// against an independent HMAC computation.
	tok := hs256JWT("secret", map[string]any{"sub": "u1"})
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" || parts[1] != "eyJzdWIiOiJ1MSJ9" {
		t.Fatalf("token %s", tok)
	}
	// HMAC-SHA256("secret", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSJ9"), computed with
	// printf %s … | openssl dgst -sha256 -hmac secret -binary | basenc --base64url, without the padding.
	if parts[2] != "e1nQDHRa3tJWY02MUXI8-wDl0Q6cpqw0JpzJLvJOUZk" {
		t.Errorf("signature %s", parts[2])
	}
}

func TestReport(t *testing.T) {
	ms := func(rates ...float64) []measurement {
		var out []measurement
		for _, r := range rates {
			out = append(out, measurement{Sessions: 100, Acked: int64(r * 10), PublishWindow: 10 * time.Second,
				Expected: int64(r * 1000), Delivered: int64(r*1000) - 1, P50: time.Millisecond, DeliveryWindow: 10 * time.Second})
		}
		return out
	}
	spec := &caseSpec{title: "send: test", columns: []column{colCarillon, colCentrifugo, colBare},
		figures: []figure{figPublishes, figP50, figMissing}}
	r := &report{title: "T", command: "go run ./bench/compare -x", machine: machine{Cores: 2, CPU: "C", OS: "linux/amd64", GoVersion: "go1"},
		header: []string{"pinned"}, absent: map[column]string{colBare: "not asked for"},
		cases: []*caseResult{{spec: spec, ms: map[column][]measurement{colCarillon: ms(700, 728, 800), colCentrifugo: ms(5410)}, errs: map[column][]string{}}}}
	var b strings.Builder
	r.write(&b)
	out := b.String()
	for _, want := range []string{
		"- Command: `go run ./bench/compare -x`\n",
		"- Machine: 2 cores (C), linux/amd64, go1\n",
		"- **bare net/http absent**: not asked for\n",
		"| send: test | publishes/s (acknowledged) | 728 (700–800) | 5,410 | absent | 0.135× | — |\n",
		"|  | publish→deliver p50 | 1.00 ms | 1.00 ms | absent | 1.00× | — |\n",
		"|  | deliveries missing, all runs | 3 of 2,228,000 | 1 of 5,410,000 | absent | — | — |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestCommandLine(t *testing.T) {
	if got := commandLine([]string{"-scenarios", "send,idle", "-out", "a b.md"}); got != "go run ./bench/compare -scenarios send,idle -out 'a b.md'" {
		t.Errorf("commandLine = %s", got)
	}
}

// TestTinyRun runs the tool end to end against Carillon (this test
// binary standing in for carillon serve, see TestMain) and the bare
// handler, with a short duration, and checks that it produced numbers,
// not what they are.
func TestTinyRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The fan-out's waits are checked against a fake server in
	// TestAccounting; here the scenarios that need each a server of its own.
	o, err := parseFlags([]string{"-size", "tiny", "-scenarios", "send,latency,idle", "-duration", "300ms", "-publishers", "4", "-send-members", "1",
		"-latency-members", "3", "-latency-rate", "50", "-idle-sessions", "3", "-idle-hold", "100ms",
		"-centrifugo", "none", "-pin=false", "-carillon-bin", self}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	o.self = self
	o.sz.drainQuiet, o.sz.idleSettle = time.Second, 100*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := compare(ctx, o, &out, t.Logf); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	t.Log(report)
	for _, want := range []string{
		"**Centrifugo absent**: not asked for (-centrifugo none)",
		"| send: closed loop, 4 publishers, 1 member connected | publishes/s (acknowledged) |",
		"| latency: open loop, 50 msg/s into 3 members | publish→deliver p50 |",
		"| idle: 3 sessions over ws | resident memory per session |",
		"| idle: 3 sessions over wss",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(report, "no result") || strings.Contains(report, "a run failed") {
		t.Error("a load failed")
	}
	// Every row of Carillon's has a number; the bare handler's send row too.
	for line := range strings.Lines(report) {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| scenario") {
			continue
		}
		cells := strings.Split(line, "|")
		if c := strings.TrimSpace(cells[3]); c == "—" || c == "" {
			t.Errorf("Carillon has no figure in %s", line)
		}
		if strings.Contains(line, "publishes/s") && strings.Contains(line, "1 member connected") && strings.TrimSpace(cells[5]) == "—" {
			t.Errorf("the bare handler has no figure in %s", line)
		}
	}
}

// BenchmarkRequest is the generator's cost of formatting and signing one
// publish.
func BenchmarkRequest(b *testing.B) {
	creds := aws.Credentials{AccessKeyID: "CKIAEXAMPLEEXAMPLE12", SecretAccessKey: "secret"}
	app := "arn:aws:chime:us-east-1:000000000000:app-instance/00000000-0000-0000-0000-000000000000"
	p := newChimePublisher("127.0.0.1:8080", creds, "us-east-1", app+"/channel/0", []string{app + "/user/pub-00000"}, nil)
	var body, req []byte
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		body = appendMessageBody(body[:0], appendMark(nil, now, 0, 1))
		req = p.request(req[:0], body, p.bearers[0], now)
	}
}
