package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon/bench/internal/loadkit"
	"github.com/carillonhq/carillon/server"
)

// options are the tool's flags.
type options struct {
	Endpoint, DataDir            string
	AccessKey, SecretKey, Region string
	TLSCA                        string
	Sessions                     int
	Rate                         float64
	// Publishers, when positive, replaces the fixed rate by a closed
	// loop: that many members each send a message and wait for it to
	// reach every session before sending the next.
	Publishers int
	// WS dials ws:// on the plain-HTTP endpoint instead of wss:// on the
	// messaging session endpoint.
	WS              bool
	Duration        time.Duration
	Idle            int
	OpenConcurrency int
	Drain           time.Duration
	// MemProfile, with Idle, is where to write this process's heap
	// profile once the sessions are open.
	MemProfile string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// sentMarker starts the Metadata of every message the tool sends; the
// send time, in Unix nanoseconds, follows it.
const sentMarker = "carillon-load-sent="

// Run sets up the users and the channel, opens the sessions and runs the
// load (or, with Idle, holds the sessions and measures memory). The
// Result is returned, possibly partial, even with an error.
func Run(ctx context.Context, o options) (*Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	if o.OpenConcurrency < 1 {
		o.OpenConcurrency = 50
	}
	n := o.Sessions
	res := &Result{Mode: "rate", InProcess: o.Endpoint == ""}
	switch {
	case o.Idle > 0:
		n, res.Mode = o.Idle, "idle"
	case o.Publishers > 0:
		res.Mode, res.Publishers = "fanout", o.Publishers
		if o.Publishers > n {
			return nil, errors.New("-publishers must not exceed -sessions: every publisher is a member")
		}
	case o.Rate <= 0:
		return nil, errors.New("-rate must be positive")
	}
	res.Scheme = "wss"
	if o.WS {
		res.Scheme = "ws"
	}
	if n < 1 {
		return nil, errors.New("at least one session is needed")
	}
	res.Sessions = n

	limit, desc := loadkit.RaiseFileLimit()
	res.FileLimit = desc
	logf("%s", desc)
	perSession := 1
	if res.InProcess {
		perSession = 2 // the client's socket and the server's
	}
	if need := uint64(n*perSession + 100); limit > 0 && need > limit {
		logf("warning: %d sessions need about %d file descriptors in this process (%d per session); about %d fit under the limit",
			n, need, perSession, (limit-100)/uint64(perSession))
	}

	t, err := connect(ctx, o, logf)
	if err != nil {
		return res, err
	}
	defer t.close()

	start := time.Now()
	users, channel, err := setup(ctx, t.cfg, n, logf)
	if err != nil {
		return res, fmt.Errorf("setup: %w", err)
	}
	res.SetupTime = time.Since(start)
	logf("created %d users, all members of one channel, in %v", n, res.SetupTime.Round(time.Millisecond))

	if res.Mode == "idle" {
		t.settle()
		if res.Before, err = t.scrape(ctx); err != nil {
			logf("metrics before: %v", err)
		}
	}

	var (
		closing   atomic.Bool
		delivered atomic.Int64
		lastAt    atomic.Int64 // UnixNano of the last delivery
		// waiting holds, in fanout mode, the messages on their way: their
		// send time in Unix nanoseconds → *pending.
		waiting sync.Map
	)
	onDeliver := func(sent time.Time) {
		if p, ok := waiting.Load(sent.UnixNano()); ok {
			p.(*pending).arrived()
		}
	}
	start = time.Now()
	sessions := openSessions(ctx, t, users, o.OpenConcurrency, res, logf, func(s *session) {
		s.read(&closing, &delivered, &lastAt, onDeliver)
	})
	res.OpenTime = time.Since(start)
	res.Opened = len(sessions)
	logf("opened %d sessions (%d failed) in %v", res.Opened, res.OpenFailed, res.OpenTime.Round(time.Millisecond))
	defer closeSessions(sessions, &closing)

	if res.Mode == "idle" {
		logf("holding the sessions for %v", o.Duration)
		select {
		case <-ctx.Done():
		case <-time.After(o.Duration):
		}
		t.settle()
		if res.After, err = t.scrape(ctx); err != nil {
			logf("metrics after: %v", err)
		}
		if o.MemProfile != "" {
			if err := writeHeapProfile(o.MemProfile); err != nil {
				logf("-memprofile: %v", err)
			} else {
				logf("wrote the heap profile of this process to %s", o.MemProfile)
			}
		}
	} else if len(sessions) > 0 {
		msg := chimesdkmessaging.NewFromConfig(t.cfg)
		if res.Before, err = t.scrape(ctx); err != nil {
			logf("metrics before: %v", err)
		}
		sendStart := time.Now()
		if res.Mode == "fanout" {
			logf("%d publishers, each waiting for delivery to %d sessions, for %v", o.Publishers, len(sessions), o.Duration)
			fanout(ctx, msg, channel, users[:o.Publishers], len(sessions), o.Duration, o.Drain, &waiting, res)
		} else {
			logf("sending %.0f messages/s for %v", o.Rate, o.Duration)
			send(ctx, msg, channel, users[0], o.Rate, o.Duration, res)
		}
		// The schedule's length, or longer if the sends fell behind it.
		res.SendWindow = max(time.Since(sendStart), o.Duration)
		res.Expected = int64(res.Sent) * int64(len(sessions))
		// Wait for the events still on their way.
		deadline := time.Now().Add(o.Drain)
		for delivered.Load() < res.Expected && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		if last := lastAt.Load(); last > 0 {
			res.DeliveryWindow = time.Unix(0, last).Sub(sendStart)
		}
		if res.After, err = t.scrape(ctx); err != nil {
			logf("metrics after: %v", err)
		}
	}

	closeSessions(sessions, &closing)
	res.Closes = map[string]int{}
	for _, s := range sessions {
		res.Delivered += int64(len(s.latencies))
		res.Latencies = append(res.Latencies, s.latencies...)
		if s.closeReason != "" {
			res.Closes[s.closeReason]++
		}
	}
	slices.Sort(res.Latencies)
	slices.Sort(res.SendLatencies)
	return res, ctx.Err()
}

// writeHeapProfile writes this process's heap profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// target is the server under load.
type target struct {
	cfg         aws.Config
	creds       aws.Credentials
	http        *http.Client
	metricsURL  string
	sessionHost string // host:port of wss:// connections
	plainHost   string // host:port of ws:// connections
	ws          bool
	tls         *tls.Config
	inProcess   bool
	close       func()
}

// connect starts the in-process server, or finds the running one, and
// asks it for its messaging session endpoint.
func connect(ctx context.Context, o options, logf func(string, ...any)) (*target, error) {
	t := &target{inProcess: o.Endpoint == ""}
	var cleanups []func() // run last first by close
	t.close = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	endpoint, dataDir := o.Endpoint, o.DataDir
	if t.inProcess {
		if dataDir == "" {
			dir, err := os.MkdirTemp("", "carillon-load-")
			if err != nil {
				return nil, err
			}
			dataDir = dir
			cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		}
		addr, root, stop, err := startServer(ctx, dataDir, o.Region)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("start the server: %w", err)
		}
		cleanups = append(cleanups, stop)
		endpoint = "http://" + addr
		if o.AccessKey == "" {
			o.AccessKey, o.SecretKey = root.AccessKeyID, root.SecretAccessKey
		}
		logf("started a server in this process at %s, data in %s", endpoint, dataDir)
	} else if dataDir == "" {
		dataDir = server.DefaultDataDir
	}
	if o.AccessKey == "" || o.SecretKey == "" {
		path := filepath.Join(dataDir, "root-credentials.json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("no -access-key and -secret-key, and %w", err)
		}
		var rc server.RootCredentials
		if err := json.Unmarshal(b, &rc); err != nil {
			t.close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		o.AccessKey, o.SecretKey = rc.AccessKeyID, rc.SecretAccessKey
	}
	caPath := o.TLSCA
	if caPath == "" {
		caPath = filepath.Join(dataDir, "tls-cert.pem")
	}
	pem, err := os.ReadFile(caPath)
	if err != nil {
		t.close()
		return nil, fmt.Errorf("the server's certificate (-tls-ca): %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.close()
		return nil, fmt.Errorf("%s holds no PEM certificate", caPath)
	}
	t.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.TLSClientConfig = t.tls
	t.http = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	t.creds = aws.Credentials{AccessKeyID: o.AccessKey, SecretAccessKey: o.SecretKey}
	t.cfg = aws.Config{
		Region:       o.Region,
		BaseEndpoint: aws.String(strings.TrimRight(endpoint, "/")),
		Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, ""),
		HTTPClient:   t.http,
		// Errors are counted, not hidden behind retries.
		RetryMaxAttempts: 1,
	}
	t.metricsURL = strings.TrimRight(endpoint, "/") + "/metrics"
	if u, err := url.Parse(endpoint); err == nil {
		t.plainHost = u.Host
	}
	t.ws = o.WS

	ep, err := chimesdkmessaging.NewFromConfig(t.cfg).GetMessagingSessionEndpoint(ctx, &chimesdkmessaging.GetMessagingSessionEndpointInput{})
	if err != nil {
		t.close()
		return nil, fmt.Errorf("GetMessagingSessionEndpoint: %w", err)
	}
	host := aws.ToString(ep.Endpoint.Url)
	if u, err := url.Parse(host); err == nil && u.Host != "" {
		host = u.Host
	}
	t.sessionHost = host
	return t, nil
}

// startServer runs a server in this process on loopback ports.
func startServer(ctx context.Context, dataDir, region string) (addr string, root server.RootCredentials, stop func(), err error) {
	srv, err := server.New(ctx, server.Config{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", DataDir: dataDir, Region: region})
	if err != nil {
		return "", root, nil, err
	}
	if err := srv.Listen(); err != nil {
		srv.Close()
		return "", root, nil, err
	}
	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveCtx) }()
	root, _ = srv.RootCredentials()
	return srv.Addr(), root, func() {
		cancel()
		<-done
		srv.Close()
	}, nil
}

// settle returns freed memory to the OS when the server is this process,
// so that its resident size is its live memory; a server in another
// process is measured as it is.
func (t *target) settle() {
	if t.inProcess {
		debug.FreeOSMemory()
	}
	time.Sleep(time.Second)
}

// setup creates n users, each a member of one channel created by the
// first, and returns their ARNs and the channel's.
func setup(ctx context.Context, cfg aws.Config, n int, logf func(string, ...any)) (users []string, channel string, err error) {
	id := chimesdkidentity.NewFromConfig(cfg)
	msg := chimesdkmessaging.NewFromConfig(cfg)
	app, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{
		Name: aws.String("load " + time.Now().UTC().Format(time.RFC3339)),
	})
	if err != nil {
		return nil, "", fmt.Errorf("CreateAppInstance: %w", err)
	}
	users, err = loadkit.CreateUsers(ctx, id, aws.ToString(app.AppInstanceArn), "load", n, func(done int) { logf("  %d users", done) })
	if err != nil {
		return nil, "", err
	}
	ch, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: app.AppInstanceArn,
		Name:           aws.String("load"),
		ChimeBearer:    aws.String(users[0]),
	})
	if err != nil {
		return nil, "", fmt.Errorf("CreateChannel: %w", err)
	}
	if err := loadkit.AddMembers(ctx, msg, aws.ToString(ch.ChannelArn), users[0], users[1:]); err != nil {
		return nil, "", err
	}
	return users, aws.ToString(ch.ChannelArn), nil
}

// session is one websocket session of a user.
type session struct {
	conn *websocket.Conn
	// Written by the reader goroutine; read once done is closed.
	latencies   []time.Duration
	closeReason string // set when the session closed before the tool closed it
	done        chan struct{}
}

// openSessions opens one session per user, concurrency at a time, each
// established (its SESSION_ESTABLISHED frame read) before it counts, and
// starts read on each. Failures are counted in res by error.
func openSessions(ctx context.Context, t *target, users []string, concurrency int, res *Result, logf func(string, ...any), read func(*session)) []*session {
	dialer := &websocket.Dialer{
		TLSClientConfig:  t.tls,
		HandshakeTimeout: 30 * time.Second,
		// Small buffers keep the client's side of an idle session small,
		// which matters when it shares the process with the server.
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
	}
	var (
		mu       sync.Mutex
		sessions = make([]*session, 0, len(users))
		next     atomic.Int64
		opened   atomic.Int64
		wg       sync.WaitGroup
	)
	res.OpenErrors = map[string]int{}
	for range min(concurrency, len(users)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(users) || ctx.Err() != nil {
					return
				}
				s, err := openSession(ctx, t, dialer, users[i], fmt.Sprintf("load-%d", i))
				mu.Lock()
				if err != nil {
					res.OpenFailed++
					res.OpenErrors[loadkit.ErrorClass(err)]++
				} else {
					sessions = append(sessions, s)
				}
				mu.Unlock()
				if err != nil {
					continue
				}
				go read(s)
				if k := opened.Add(1); k%1000 == 0 {
					logf("  %d sessions open", k)
				}
			}
		})
	}
	wg.Wait()
	return sessions
}

// openSession presigns a connect URL as amazon-chime-sdk-js does (for
// wss://<session endpoint>/connect, or ws://<plain endpoint>/connect),
// dials it and waits for SESSION_ESTABLISHED.
func openSession(ctx context.Context, t *target, dialer *websocket.Dialer, user, sessionID string) (*session, error) {
	scheme, host := "wss", t.sessionHost
	if t.ws {
		scheme, host = "ws", t.plainHost
	}
	u, err := loadkit.ConnectURL(ctx, t.creds, t.cfg.Region, scheme, host, user, sessionID)
	if err != nil {
		return nil, err
	}
	conn, err := loadkit.Dial(ctx, dialer, u)
	if err != nil {
		return nil, err
	}
	return &session{conn: conn, done: make(chan struct{})}, nil
}

// read reads frames until the connection ends, recording the latency of
// every message the tool sent and passing its send time to onDeliver.
// closing tells an expected end from an unexpected one.
func (s *session) read(closing *atomic.Bool, delivered, lastAt *atomic.Int64, onDeliver func(sent time.Time)) {
	defer close(s.done)
	for {
		_, frame, err := s.conn.ReadMessage()
		now := time.Now()
		if err != nil {
			if !closing.Load() {
				s.closeReason = loadkit.CloseClass(err)
			}
			return
		}
		if sent, ok := sentAt(frame); ok {
			s.latencies = append(s.latencies, now.Sub(sent))
			delivered.Add(1)
			lastAt.Store(now.UnixNano())
			onDeliver(sent)
		}
	}
}

// sentAt finds the send time in a CREATE_CHANNEL_MESSAGE frame of the
// tool's. It scans the frame rather than decoding the JSON twice (the
// payload is a JSON string inside the frame), to keep the receiving side
// cheap: it competes with the server for the same CPUs. The marker and
// the digits after it need no escaping, so they appear in the frame as
// sent.
func sentAt(frame []byte) (time.Time, bool) {
	s := string(frame)
	if !strings.Contains(s, `"x-amz-chime-event-type":"CREATE_CHANNEL_MESSAGE"`) {
		return time.Time{}, false
	}
	i := strings.Index(s, sentMarker)
	if i < 0 {
		return time.Time{}, false
	}
	var ns int64
	digits := 0
	for _, c := range s[i+len(sentMarker):] {
		if c < '0' || c > '9' {
			break
		}
		ns = ns*10 + int64(c-'0')
		digits++
	}
	if digits == 0 || digits > 19 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// send sends messages as bearer at rate per second for d, one at a time
// on a fixed schedule: a send that falls behind goes at once, and the
// achieved rate is reported.
func send(ctx context.Context, msg *chimesdkmessaging.Client, channel, bearer string, rate float64, d time.Duration, res *Result) {
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= d {
			return
		}
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		t0 := time.Now()
		_, err := msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
			ChannelArn:  aws.String(channel),
			ChimeBearer: aws.String(bearer),
			Content:     aws.String(fmt.Sprintf("load message %d", i)),
			Metadata:    aws.String(fmt.Sprintf("%s%d", sentMarker, t0.UnixNano())),
			Type:        types.ChannelMessageTypeStandard,
			Persistence: types.ChannelMessagePersistenceTypePersistent,
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			res.SendErrors++
			if res.FirstSendError == "" {
				res.FirstSendError = err.Error()
			}
			continue
		}
		res.Sent++
		res.SendLatencies = append(res.SendLatencies, time.Since(t0))
	}
}

// pending is a message of the fanout mode on its way to every session.
type pending struct {
	left atomic.Int64
	done chan struct{}
}

func (p *pending) arrived() {
	if p.left.Add(-1) == 0 {
		close(p.done)
	}
}

// lastSent makes the send times of the fanout mode unique: they are the
// messages' keys.
var lastSent atomic.Int64

func uniqueNow() int64 {
	for {
		now, last := time.Now().UnixNano(), lastSent.Load()
		if now <= last {
			now = last + 1
		}
		if lastSent.CompareAndSwap(last, now) {
			return now
		}
	}
}

// fanout runs the closed loop: each publisher sends a message to channel
// and waits until all n sessions received it (or drain passed: the
// message counts as sent, and its missing deliveries show in the
// report), then sends the next, for d.
func fanout(ctx context.Context, msg *chimesdkmessaging.Client, channel string, publishers []string, n int, d, drain time.Duration, waiting *sync.Map, res *Result) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	start := time.Now()
	for _, bearer := range publishers {
		wg.Go(func() {
			timer := time.NewTimer(drain)
			defer timer.Stop()
			for i := 0; time.Since(start) < d && ctx.Err() == nil; i++ {
				ns := uniqueNow()
				p := &pending{done: make(chan struct{})}
				p.left.Store(int64(n))
				waiting.Store(ns, p)
				_, err := msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
					ChannelArn:  aws.String(channel),
					ChimeBearer: aws.String(bearer),
					Content:     aws.String(fmt.Sprintf("load message %d", i)),
					Metadata:    aws.String(fmt.Sprintf("%s%d", sentMarker, ns)),
					Type:        types.ChannelMessageTypeStandard,
					Persistence: types.ChannelMessagePersistenceTypePersistent,
				})
				rtt := time.Since(time.Unix(0, ns))
				if err != nil {
					waiting.Delete(ns)
					if ctx.Err() != nil {
						return
					}
					mu.Lock()
					res.SendErrors++
					if res.FirstSendError == "" {
						res.FirstSendError = err.Error()
					}
					mu.Unlock()
					continue
				}
				mu.Lock()
				res.Sent++
				res.SendLatencies = append(res.SendLatencies, rtt)
				mu.Unlock()
				timer.Reset(drain)
				select {
				case <-p.done:
				case <-timer.C:
				case <-ctx.Done():
				}
				waiting.Delete(ns)
			}
		})
	}
	wg.Wait()
}

// closeSessions closes every session with 1000 and waits for its reader.
func closeSessions(sessions []*session, closing *atomic.Bool) {
	if closing.Swap(true) {
		return
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	for _, s := range sessions {
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		s.conn.Close()
	}
	for _, s := range sessions {
		<-s.done
	}
}
