package netguard

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// guarded serves handler behind a Pool and answers overflow requests
// with 503, as the server does.
func guarded(t *testing.T, cfg Config, handler http.HandlerFunc, useTLS bool) (*Pool, string, *tls.Config) {
	t.Helper()
	return guardedLog(t, cfg, handler, useTLS, nil)
}

// guardedLog is guarded with the server's ErrorLog.
func guardedLog(t *testing.T, cfg Config, handler http.HandlerFunc, useTLS bool, errorLog *log.Logger) (*Pool, string, *tls.Config) {
	t.Helper()
	p := NewPool(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var serverTLS, clientTLS *tls.Config
	if useTLS {
		ts := httptest.NewUnstartedServer(nil)
		ts.StartTLS()
		serverTLS = ts.TLS
		clientTLS = &tls.Config{InsecureSkipVerify: true}
		ts.Close()
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if Overflow(r.Context()) {
				w.Header().Set("Connection", "close")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			handler(w, r)
		}),
		ConnState:         p.ConnState,
		ConnContext:       p.ConnContext,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          errorLog,
	}
	go srv.Serve(p.Listen(ln, "test", serverTLS))
	t.Cleanup(func() { srv.Close() })
	return p, ln.Addr().String(), clientTLS
}

// client is one raw connection speaking HTTP/1.1.
type client struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string, tlsConfig *tls.Config) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if tlsConfig != nil {
		c = tls.Client(c, tlsConfig)
	}
	t.Cleanup(func() { c.Close() })
	return &client{Conn: c, r: bufio.NewReader(c)}
}

// get sends a request and reads the response; status 0 when the
// connection was closed instead.
func (c *client) get(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return 0, nil, ""
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, nil, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Close {
		resp.Header.Set("Connection", "close") // ReadResponse takes it out
	}
	return resp.StatusCode, resp.Header, string(b)
}

func waitStats(t *testing.T, p *Pool, want func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := p.Stats()
		if want(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

// Idle keep-alive connections give their slots to new clients, the one
// idle the longest first.
func TestIdleConnectionsMakeRoom(t *testing.T) {
	p, addr, _ := guarded(t, Config{MaxConns: 3, Overflow: 1}, ok, false)
	var idle []*client
	for range 3 {
		c := dial(t, addr, nil)
		if st, _, _ := c.get(t, "/"); st != 200 {
			t.Fatalf("status %d", st)
		}
		idle = append(idle, c)
	}
	waitStats(t, p, func(s Stats) bool { return s.Idle == 3 })
	for i := range 5 {
		c := dial(t, addr, nil)
		if st, _, body := c.get(t, "/healthz"); st != 200 || body != "ok" {
			t.Fatalf("new client %d: %d %q", i, st, body)
		}
		c.Close()
	}
	// Idle connections gave their slots: at least one, more when a new
	// client came before the server saw the previous one close.
	evicted := 0
	for _, c := range idle {
		if st, _, _ := c.get(t, "/"); st == 0 {
			evicted++
		}
	}
	if evicted < 1 {
		t.Errorf("no idle connection was closed")
	}
	if s := p.Stats(); s.Open > 3 {
		t.Errorf("stats %+v over the budget", s)
	}
}

// Connections that send nothing keep their slot for the grace period,
// then give it up; meanwhile new clients are refused with an answer.
func TestSilentConnections(t *testing.T) {
	p, addr, _ := guarded(t, Config{MaxConns: 2, Overflow: 1, Grace: 300 * time.Millisecond}, ok, false)
	dial(t, addr, nil)
	dial(t, addr, nil)
	waitStats(t, p, func(s Stats) bool { return s.New == 2 })
	c := dial(t, addr, nil)
	if st, h, _ := c.get(t, "/"); st != http.StatusServiceUnavailable || h.Get("Connection") != "close" {
		t.Fatalf("within the grace period: %d %v, want 503 and close", st, h)
	}
	time.Sleep(350 * time.Millisecond)
	c = dial(t, addr, nil)
	if st, _, _ := c.get(t, "/"); st != 200 {
		t.Fatalf("after the grace period: %d", st)
	}
}

// When every slot is in use (requests in flight, hijacked connections),
// the overflow band is answered, and what is beyond it closed; slots come
// back when the connections end.
func TestBusySlots(t *testing.T) {
	release := make(chan struct{})
	var inFlight sync.WaitGroup
	p, addr, _ := guarded(t, Config{MaxConns: 2, Overflow: 1}, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hold":
			inFlight.Done()
			<-release
		case "/hijack":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			inFlight.Done()
			<-release
			conn.Close()
			return
		}
		ok(w, r)
	}, false)
	inFlight.Add(2)
	for _, path := range []string{"/hold", "/hijack"} {
		c := dial(t, addr, nil)
		go c.get(t, path)
	}
	inFlight.Wait()

	over := dial(t, addr, nil) // on the overflow band, not answered yet
	waitStats(t, p, func(s Stats) bool { return s.Overflow == 1 })
	beyond := dial(t, addr, nil)
	if st, _, _ := beyond.get(t, "/"); st != 0 {
		t.Errorf("beyond the overflow band: %d, want the connection closed", st)
	}
	if st, _, _ := over.get(t, "/"); st != http.StatusServiceUnavailable {
		t.Errorf("overflow: %d, want 503", st)
	}
	close(release)
	// The hijacked connection is closed; the other is idle.
	waitStats(t, p, func(s Stats) bool { return s.Open == 1 && s.Idle == 1 && s.Overflow == 0 })
	if st, _, _ := dial(t, addr, nil).get(t, "/"); st != 200 {
		t.Errorf("after the slots came back: %d", st)
	}
}

// A request net/http cannot parse gets Answer's response instead of
// net/http's plain text, over TLS too; handler responses are untouched.
func TestCannedAnswers(t *testing.T) {
	answer := func(w http.ResponseWriter, status int, message string) {
		w.Header().Set("X-Amzn-ErrorType", "BadRequestException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"Code":"BadRequest","Message":%q}`, message)
	}
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			_, addr, tc := guarded(t, Config{MaxConns: 10, Answer: answer}, ok, useTLS)
			st, h, body := dial(t, addr, tc).get(t, "/app-instances/%ZZ")
			if st != 400 || h.Get("X-Amzn-ErrorType") != "BadRequestException" || !strings.HasPrefix(body, `{"Code":"BadRequest"`) {
				t.Errorf("invalid escape: %d %v %s", st, h, body)
			}
			c := dial(t, addr, tc)
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.1\r\n\r\n") // no Host
			resp, err := http.ReadResponse(c.r, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "BadRequestException" || !strings.Contains(string(b), "missing required Host header") {
				t.Errorf("no Host: %d %v %s", resp.StatusCode, resp.Header, b)
			}
			if st, h, body := dial(t, addr, tc).get(t, "/fine"); st != 200 || body != "ok" || h.Get("X-Amzn-ErrorType") != "" {
				t.Errorf("handler response: %d %v %q", st, h, body)
			}
		})
	}
}

func FuzzParseCanned(f *testing.F) {
	f.Add([]byte("HTTP/1.1 400 Bad Request" + cannedHeaders + "400 Bad Request"))
	f.Add([]byte("HTTP/1.1 400 Bad Request: missing required Host header" + cannedHeaders + "400 Bad Request: missing required Host header"))
	f.Add([]byte("HTTP/1.1 431 Request Header Fields Too Large" + cannedHeaders + "431 Request Header Fields Too Large"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: x\r\n\r\nok"))
	f.Add([]byte("\x81\x05hello"))
	f.Fuzz(func(t *testing.T, p []byte) {
		status, message, ok := parseCanned(p)
		if !ok {
			return
		}
		if status < 400 || status > 599 || len(message) > len(p) {
			t.Fatalf("parseCanned(%q) = %d %q", p, status, message)
		}
		if !strings.HasPrefix(string(p), "HTTP/1.1 ") || !strings.Contains(string(p), cannedHeaders) {
			t.Fatalf("parseCanned(%q) recognized a response that is not net/http's", p)
		}
		out := renderAnswer(func(w http.ResponseWriter, status int, message string) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, message)
		}, status, message)
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), nil)
		if err != nil || resp.StatusCode != status {
			t.Fatalf("renderAnswer(%d, %q) = %q: %v", status, message, out, err)
		}
	})
}

// A connection on the overflow band that sends nothing is closed after
// the grace period, not the server's header timeout.
func TestOverflowHeldToGrace(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	held := make(chan struct{})
	p, addr, _ := guarded(t, Config{MaxConns: 1, Overflow: 1, Grace: 300 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
		close(held)
		<-release
	}, false)
	go dial(t, addr, nil).get(t, "/hold")
	<-held
	silent := dial(t, addr, nil)
	waitStats(t, p, func(s Stats) bool { return s.Overflow == 1 })
	start := time.Now()
	_ = silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.r.ReadByte(); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("silent overflow connection: %v after %v", err, time.Since(start))
	}
	waitStats(t, p, func(s Stats) bool { return s.Overflow == 0 })
}

// BenchmarkServe sends GETs to a server on a plain listener and on one
// behind a Pool, over one keep-alive connection and over a new connection
// each: what the budget's bookkeeping costs a request.
func BenchmarkServe(b *testing.B) {
	for _, guardedListener := range []bool{false, true} {
		for _, keepAlive := range []bool{true, false} {
			name := map[bool]string{false: "plain", true: "pool"}[guardedListener] + "/" + map[bool]string{true: "keepalive", false: "newconn"}[keepAlive]
			b.Run(name, func(b *testing.B) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				srv := &http.Server{Handler: http.HandlerFunc(ok)}
				served := ln
				if guardedListener {
					p := NewPool(Config{MaxConns: 1000, Overflow: 10})
					srv.ConnState, srv.ConnContext = p.ConnState, p.ConnContext
					served = p.Listen(ln, "bench", nil)
				}
				go srv.Serve(served)
				defer srv.Close()
				client := &http.Client{Transport: &http.Transport{DisableKeepAlives: !keepAlive}}
				url := "http://" + ln.Addr().String() + "/"
				for b.Loop() {
					resp, err := client.Get(url)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
	}
}

// A hijacked connection, plain or under TLS, gives the socket under it,
// so that a messaging session can wait for it to be readable without
// holding a read buffer (package hub).
func TestHijackedConnectionGivesItsSocket(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) {
			got := make(chan string, 1)
			_, addr, clientTLS := guarded(t, Config{MaxConns: 4}, func(w http.ResponseWriter, r *http.Request) {
				c, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					got <- "hijack: " + err.Error()
					return
				}
				defer c.Close()
				sc, ok := c.(syscall.Conn)
				if !ok {
					got <- fmt.Sprintf("%T is not a syscall.Conn", c)
					return
				}
				raw, err := sc.SyscallConn()
				if err != nil {
					got <- "SyscallConn: " + err.Error()
					return
				}
				var fd uintptr
				if err := raw.Control(func(f uintptr) { fd = f }); err != nil {
					got <- "Control: " + err.Error()
					return
				}
				got <- fmt.Sprint("fd ", fd > 0)
				_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			}, useTLS)
			c := dial(t, addr, clientTLS)
			c.get(t, "/")
			if s := <-got; s != "fd true" {
				t.Fatal(s)
			}
		})
	}
}

// A TLS handshake that fails is logged to the server's ErrorLog in
// net/http's words, as when net/http terminates TLS itself; a client
// that speaks plain HTTP to the TLS listener is answered 400 in the
// Answer's form.
func TestTLSHandshakeErrors(t *testing.T) {
	var logs syncBuffer
	answer := func(w http.ResponseWriter, status int, message string) {
		w.Header().Set("X-Amzn-ErrorType", "BadRequestException")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"Code":"BadRequest","Message":%q}`, message)
	}
	_, addr, _ := guardedLog(t, Config{MaxConns: 10, Answer: answer}, ok, true, log.New(&logs, "", 0))

	// A client that does not trust the certificate.
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "example.com"})
	if err == nil {
		c.Close()
		t.Fatal("the handshake succeeded with an untrusted certificate")
	}
	// Plain HTTP on the TLS listener.
	plain := dial(t, addr, nil)
	_ = plain.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(plain, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(plain.r, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "BadRequestException" || !strings.Contains(string(b), "HTTP request to an HTTPS server") {
		t.Errorf("plain HTTP: %d %v %s", resp.StatusCode, resp.Header, b)
	}

	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), "http: TLS handshake error from 127.0.0.1:") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("log:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "bad certificate") || !strings.Contains(logs.String(), "client sent an HTTP request to an HTTPS server") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// syncBuffer collects log lines written from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
