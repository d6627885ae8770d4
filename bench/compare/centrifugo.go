package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The Centrifugo the comparison runs: the release the module proxy
// serves, built from source with go install.
const (
	centrifugoModule  = "github.com/centrifugal/centrifugo/v6"
	centrifugoVersion = "v6.9.1"
)

// centrifugoNamespace is the channel namespace the comparison uses:
// history on, as a chat's channels keep their recent messages.
var centrifugoNamespace = map[string]any{
	"name":                       "bench",
	"history_size":               1000,
	"history_ttl":                "300s",
	"allow_subscribe_for_client": true,
}

// installCentrifugo returns the path of Centrifugo's binary in cacheDir,
// building it with go install when it is not there yet. The build goes
// to a temporary directory and is renamed into place, so that an
// interrupted build leaves nothing half-written; the compiled packages
// stay in Go's build cache, so a later attempt resumes the work.
func installCentrifugo(ctx context.Context, cacheDir string, timeout time.Duration, logf func(string, ...any)) (string, error) {
	dir := filepath.Join(cacheDir, "centrifugo-"+centrifugoVersion)
	bin := filepath.Join(dir, "centrifugo")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	logf("building Centrifugo %s into %s (go install; once per cache directory)", centrifugoVersion, dir)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "install", "-trimpath",
		"-ldflags", "-s -w -X "+centrifugoModule+"/internal/build.Version="+strings.TrimPrefix(centrifugoVersion, "v"),
		centrifugoModule+"@"+centrifugoVersion)
	// Outside any module, so that nothing of this repository's go.mod or
	// workspace applies; without cgo, which Centrifugo does not need.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("not built within %v", timeout)
		}
		return "", fmt.Errorf("go install %s@%s: %w\n%s", centrifugoModule, centrifugoVersion, err, lastLines(string(out), 10))
	}
	if err := os.Rename(filepath.Join(tmp, "centrifugo"), bin); err != nil {
		return "", err
	}
	logf("built Centrifugo in %v", time.Since(start).Round(time.Second))
	return bin, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// centrifugoVersionOf asks a Centrifugo binary for its version.
func centrifugoVersionOf(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "unknown version"
	}
	return strings.TrimSpace(string(out))
}

// centrifugoSystem is Centrifugo in a process of its own: memory engine,
// history on for the namespace, publishes through its HTTP API,
// subscribers on its bidirectional websocket with the JSON protocol,
// authenticated by HS256 JWT connection tokens.
type centrifugoSystem struct {
	bin string
	pin []string

	dir          string
	proc         *process
	addr         string
	apiKey, hmac string
	client       *http.Client // the health check's
	publisher    *rawClient
	bufs         sync.Pool // *publishBuffers
	channels     []string
	dialer       *websocket.Dialer
}

func (c *centrifugoSystem) process() *process { return c.proc }

func (c *centrifugoSystem) start(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "carillon-compare-centrifugo-")
	if err != nil {
		return err
	}
	c.dir = dir
	port, err := freePort()
	if err != nil {
		return err
	}
	c.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c.apiKey, c.hmac = randomHex(16), randomHex(32)
	conf := map[string]any{
		"http_server": map[string]any{"address": "127.0.0.1", "port": port},
		"engine":      map[string]any{"type": "memory"},
		"client": map[string]any{
			"token":           map[string]any{"hmac_secret_key": c.hmac},
			"allowed_origins": []string{"*"},
		},
		"http_api":    map[string]any{"key": c.apiKey},
		"channel":     map[string]any{"namespaces": []any{centrifugoNamespace}},
		"health":      map[string]any{"enabled": true},
		"usage_stats": map[string]any{"disabled": true},
	}
	b, _ := json.MarshalIndent(conf, "", "  ")
	confPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(confPath, b, 0o600); err != nil {
		return err
	}
	argv := append(append([]string{}, c.pin...), c.bin, "--config", confPath)
	if c.proc, err = startProcess("Centrifugo", argv, nil, dir, nil); err != nil {
		return err
	}
	c.client = newHTTPClient(nil)
	c.publisher = newRawClient(c.addr, nil)
	c.dialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: sessionReadBuffer, WriteBufferSize: 1024}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := c.client.Get("http://" + c.addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := c.proc.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("centrifugo: not ready after a minute: %v\n%s", err, c.proc.output())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort asks the kernel for a free loopback port. Centrifugo takes
// its port from the configuration and does not report one it chose, so
// the tool picks it; another process could take it in between, which
// the start then reports.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *centrifugoSystem) stop() {
	if c.publisher != nil {
		c.publisher.close()
	}
	if c.proc != nil {
		c.proc.stop()
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// prepare names the channels; Centrifugo needs nothing created.
func (c *centrifugoSystem) prepare(ctx context.Context, subscribers, publishers int) error {
	c.channels = nil
	for k := 0; k == 0 || k*channelSessions < subscribers; k++ {
		c.channels = append(c.channels, fmt.Sprintf("bench:compare-%d", k))
	}
	return nil
}

// centrifugoReply is a reply of Centrifugo's JSON protocol.
type centrifugoReply struct {
	ID    uint32 `json:"id"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// dial connects with a token for user u<i>, subscribes to its channel and
// waits for the subscription's reply.
func (c *centrifugoSystem) dial(ctx context.Context, i int) (*websocket.Conn, error) {
	conn, _, err := c.dialer.DialContext(ctx, "ws://"+c.addr+"/connection/websocket", nil)
	if err != nil {
		return nil, err
	}
	token := hs256JWT(c.hmac, map[string]any{"sub": fmt.Sprintf("u%d", i), "exp": time.Now().Add(24 * time.Hour).Unix()})
	commands := []string{
		fmt.Sprintf(`{"id":1,"connect":{"token":%q,"name":"compare"}}`, token),
		fmt.Sprintf(`{"id":2,"subscribe":{"channel":%q}}`, c.channels[i/channelSessions]),
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for k, cmd := range commands {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
			conn.Close()
			return nil, err
		}
		if err := awaitReply(conn, uint32(k+1)); err != nil {
			conn.Close()
			return nil, err
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

// awaitReply reads until the reply to command id, answering pings.
func awaitReply(conn *websocket.Conn, id uint32) error {
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		var found error
		done := false
		lines(b, func(l []byte) {
			if string(l) == "{}" {
				_ = conn.WriteMessage(websocket.TextMessage, []byte("{}"))
				return
			}
			var r centrifugoReply
			if json.Unmarshal(l, &r) != nil || r.ID != id {
				return
			}
			done = true
			if r.Error != nil {
				found = fmt.Errorf("centrifugo: command %d: %d %s", id, r.Error.Code, r.Error.Message)
			}
		})
		if done {
			return found
		}
	}
}

// hs256JWT signs claims with HMAC-SHA256: the connection token's whole
// format, a few lines by hand rather than a JWT library for one use.
func hs256JWT(key string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	signing := head + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

func (c *centrifugoSystem) publish(ctx context.Context, pub int, mark []byte) error {
	b, _ := c.bufs.Get().(*publishBuffers)
	if b == nil {
		b = &publishBuffers{}
	}
	defer c.bufs.Put(b)
	body := append(b.body[:0], `{"channel":"`...)
	body = append(body, c.channels[0]...)
	body = append(body, `","data":{"Content":"compare message","Metadata":"`...)
	body = append(body, mark...)
	body = append(body, `"}}`...)
	b.body = body
	req := append(b.req[:0], "POST /api/publish HTTP/1.1\r\nHost: "...)
	req = append(req, c.addr...)
	req = append(req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	req = strconv.AppendInt(req, int64(len(body)), 10)
	req = append(req, "\r\nX-API-Key: "...)
	req = append(req, c.apiKey...)
	req = append(req, "\r\n\r\n"...)
	req = append(req, body...)
	b.req = req
	status, resp, err := c.publisher.do(ctx, req, b.resp)
	b.resp = resp
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("publish: %d: %.300s", status, resp)
	}
	// {"result":{…}} or {"error":{…}}: decoded only when it may be the
	// second.
	if bytes.Contains(resp, []byte(`"error"`)) {
		var r centrifugoReply
		if err := json.Unmarshal(resp, &r); err != nil {
			return fmt.Errorf("publish: %w: %.300s", err, resp)
		}
		if r.Error != nil {
			return fmt.Errorf("publish: %d %s", r.Error.Code, r.Error.Message)
		}
	}
	return nil
}

var pingFrame = []byte("{}")

// frame: a frame holds one or more newline-separated messages; "{}" is
// the server's ping, answered with "{}".
func (c *centrifugoSystem) frame(b []byte, f func(mark)) []byte {
	var reply []byte
	lines(b, func(l []byte) {
		if bytes.Equal(l, pingFrame) {
			reply = pingFrame
			return
		}
		eachMark(l, f)
	})
	return reply
}
