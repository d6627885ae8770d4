package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon/bench/internal/loadkit"
)

// carillonSystem is `carillon serve` in a process of its own, with a
// fresh data directory.
type carillonSystem struct {
	bin      string
	pin      []string // the command prefix that pins it, or nothing
	api      string   // "http" or "https": the listener publishes go to
	sessions string   // "ws" or "wss": the listener sessions connect to
	region   string
	// given root credentials, written into the data directory before the
	// start; empty: the server generates them.
	accessKey, secretKey string

	dir                 string
	proc                *process
	httpAddr, httpsAddr string
	creds               aws.Credentials
	cfg                 aws.Config
	tls                 *tls.Config
	publisher           *chimePublisher
	subs                []string // subscriber ARNs
	subChannel          []int    // the channel index of each subscriber
	dialer              *websocket.Dialer
}

// startedLine is the JSON log line `carillon serve` writes once it
// listens (--log-format json).
type startedLine struct {
	Msg   string `json:"msg"`
	HTTP  string `json:"http"`
	HTTPS string `json:"https"`
}

func (c *carillonSystem) process() *process { return c.proc }

func (c *carillonSystem) start(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "carillon-compare-")
	if err != nil {
		return err
	}
	c.dir = dir
	dataDir := filepath.Join(dir, "data")
	if c.accessKey != "" {
		// carillon serve uses the credentials it finds in its data directory.
		if err := os.Mkdir(dataDir, 0o700); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]string{"AccessKeyId": c.accessKey, "SecretAccessKey": c.secretKey})
		if err := os.WriteFile(filepath.Join(dataDir, "root-credentials.json"), b, 0o600); err != nil {
			return err
		}
	}
	argv := append(append([]string{}, c.pin...), c.bin, "serve",
		"--data-dir", dataDir,
		"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
		"--region", c.region, "--log-format", "json")
	var started startedLine
	c.proc, err = startProcess("Carillon", argv, nil, dir, func(line string) bool {
		var l startedLine
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "carillon started" {
			started = l
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	if err := c.proc.waitReady(ctx, time.Minute); err != nil {
		return err
	}
	c.httpAddr, c.httpsAddr = started.HTTP, started.HTTPS

	b, err := os.ReadFile(filepath.Join(dataDir, "root-credentials.json"))
	if err != nil {
		return err
	}
	var rc struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal(b, &rc); err != nil {
		return err
	}
	c.creds = aws.Credentials{AccessKeyID: rc.AccessKeyId, SecretAccessKey: rc.SecretAccessKey}
	pem, err := os.ReadFile(filepath.Join(dataDir, "tls-cert.pem"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("tls-cert.pem holds no certificate")
	}
	c.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c.dialer = &websocket.Dialer{TLSClientConfig: c.tls, HandshakeTimeout: 30 * time.Second, ReadBufferSize: sessionReadBuffer, WriteBufferSize: 1024}
	endpoint := "http://" + c.httpAddr
	if c.api == "https" {
		endpoint = "https://" + c.httpsAddr
	}
	c.cfg = aws.Config{
		Region:           c.region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(c.creds.AccessKeyID, c.creds.SecretAccessKey, ""),
		HTTPClient:       newHTTPClient(c.tls),
		RetryMaxAttempts: 1,
	}
	return nil
}

func (c *carillonSystem) stop() {
	if c.publisher != nil {
		c.publisher.client.close()
	}
	if c.proc != nil {
		c.proc.stop()
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// prepare creates an AppInstance, an owner who creates the channels,
// the publishers (members of the first channel, not connected) and the
// subscribers, channelSessions to a channel.
func (c *carillonSystem) prepare(ctx context.Context, subscribers, publishers int) error {
	id := chimesdkidentity.NewFromConfig(c.cfg)
	msg := chimesdkmessaging.NewFromConfig(c.cfg)
	app, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("compare")})
	if err != nil {
		return fmt.Errorf("CreateAppInstance: %w", err)
	}
	appArn := aws.ToString(app.AppInstanceArn)
	owner, err := loadkit.CreateUsers(ctx, id, appArn, "owner", 1, nil)
	if err != nil {
		return err
	}
	pubs, err := loadkit.CreateUsers(ctx, id, appArn, "pub", publishers, nil)
	if err != nil {
		return err
	}
	c.subs, err = loadkit.CreateUsers(ctx, id, appArn, "sub", subscribers, nil)
	if err != nil {
		return err
	}
	var channels []string
	for k := 0; k == 0 || k*channelSessions < subscribers; k++ {
		ch, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
			AppInstanceArn: app.AppInstanceArn,
			Name:           aws.String(fmt.Sprintf("compare %d", k)),
			ChimeBearer:    aws.String(owner[0]),
		})
		if err != nil {
			return fmt.Errorf("CreateChannel: %w", err)
		}
		arn := aws.ToString(ch.ChannelArn)
		channels = append(channels, arn)
		members := c.subs[k*channelSessions : min((k+1)*channelSessions, subscribers)]
		if k == 0 {
			members = append(append([]string{}, pubs...), members...)
		}
		if err := loadkit.AddMembers(ctx, msg, arn, owner[0], members); err != nil {
			return err
		}
	}
	c.subChannel = make([]int, subscribers)
	for i := range c.subChannel {
		c.subChannel[i] = i / channelSessions
	}
	var tlsConfig *tls.Config
	if c.api == "https" {
		tlsConfig = c.tls
	}
	c.publisher = newChimePublisher(c.apiAddr(), c.creds, c.region, channels[0], pubs, tlsConfig)
	return nil
}

func (c *carillonSystem) apiAddr() string {
	if c.api == "https" {
		return c.httpsAddr
	}
	return c.httpAddr
}

func (c *carillonSystem) dial(ctx context.Context, i int) (*websocket.Conn, error) {
	host := c.httpAddr
	if c.sessions == "wss" {
		host = c.httpsAddr
	}
	u, err := loadkit.ConnectURL(ctx, c.creds, c.region, c.sessions, host, c.subs[i], fmt.Sprintf("compare-%d", i))
	if err != nil {
		return nil, err
	}
	return loadkit.Dial(ctx, c.dialer, u)
}

func (c *carillonSystem) publish(ctx context.Context, pub int, mark []byte) error {
	return c.publisher.publish(ctx, pub, mark)
}

var createEvent = []byte(`"x-amz-chime-event-type":"CREATE_CHANNEL_MESSAGE"`)

// frame: one event per frame; the tool's messages arrive as
// CREATE_CHANNEL_MESSAGE events with the mark in the payload's Metadata.
// gorilla/websocket answers the server's pings itself.
func (c *carillonSystem) frame(b []byte, f func(mark)) []byte {
	if bytes.Contains(b, createEvent) {
		eachMark(b, f)
	}
	return nil
}

// newHTTPClient is the setup's HTTP client (the SDK's calls that create
// users and channels, Centrifugo's health check).
func newHTTPClient(tlsConfig *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// chimePublisher sends SendChannelMessage requests as the Go SDK sends
// them: its JSON body with an idempotency token, its path encoding, its
// SigV4 signature. client.go says why not through the SDK. The bare
// handler receives the very same requests.
type chimePublisher struct {
	host, path string // path as sent, escaped
	bearers    []string
	signer     *sigv4
	client     *rawClient
	bufs       sync.Pool // *publishBuffers
}

type publishBuffers struct{ body, req, resp []byte }

func newChimePublisher(addr string, creds aws.Credentials, region, channel string, bearers []string, tlsConfig *tls.Config) *chimePublisher {
	return &chimePublisher{
		host:    addr,
		path:    "/channels/" + escapeLabel(channel) + "/messages",
		bearers: bearers,
		signer:  &sigv4{accessKey: creds.AccessKeyID, secret: creds.SecretAccessKey, region: region, service: "chime"},
		client:  newRawClient(addr, tlsConfig),
	}
}

// escapeLabel escapes a URI path label as the SDK does: every byte but
// the unreserved ones, '/' and ':' included.
func escapeLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// appendMessageBody appends SendChannelMessage's body as the SDK writes
// it.
func appendMessageBody(b, mark []byte) []byte {
	b = append(b, `{"ClientRequestToken":"`...)
	u := uuid.New()
	b = append(b, u.String()...)
	b = append(b, `","Content":"compare message","Metadata":"`...)
	b = append(b, mark...)
	return append(b, `","Persistence":"PERSISTENT","Type":"STANDARD"}`...)
}

// request formats the complete signed request.
func (c *chimePublisher) request(dst, body []byte, bearer string, now time.Time) []byte {
	date, auth := c.signer.authorization(now, c.host, c.path, bearer, body)
	dst = append(dst, "POST "...)
	dst = append(dst, c.path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, c.host...)
	dst = append(dst, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\nX-Amz-Chime-Bearer: "...)
	dst = append(dst, bearer...)
	dst = append(dst, "\r\nX-Amz-Date: "...)
	dst = append(dst, date...)
	dst = append(dst, "\r\nAuthorization: "...)
	dst = append(dst, auth...)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

func (c *chimePublisher) publish(ctx context.Context, pub int, mark []byte) error {
	b, _ := c.bufs.Get().(*publishBuffers)
	if b == nil {
		b = &publishBuffers{}
	}
	defer c.bufs.Put(b)
	b.body = appendMessageBody(b.body[:0], mark)
	b.req = c.request(b.req[:0], b.body, c.bearers[pub], time.Now())
	status, resp, err := c.client.do(ctx, b.req, b.resp)
	b.resp = resp
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("SendChannelMessage: %d: %.300s", status, resp)
	}
	return nil
}
