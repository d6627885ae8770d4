package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// TestTLSTrustHint: a client that refuses the generated certificate
// leaves, besides net/http's handshake error, a hint in the log naming
// the certificate file and how to trust it; repeated failures do not
// repeat it.
func TestTLSTrustHint(t *testing.T) {
	var logBuf syncBuffer
	dir := t.TempDir()
	srv, err := New(context.Background(), Config{
		DataDir: dir, Listen: "", TLSListen: "127.0.0.1:0",
		Root:   RootCredentials{AccessKeyID: NewAccessKeyID(), SecretAccessKey: NewSecret()},
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		srv.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		<-done
		srv.Close()
	}()
	cert := filepath.Join(dir, "tls-cert.pem")
	if got := srv.CertificateFile(); got != cert {
		t.Fatalf("CertificateFile %q, want %q", got, cert)
	}

	// A Go client with the system's roots refuses the self-signed
	// certificate and sends the bad_certificate alert.
	for range 3 {
		conn, err := tls.Dial("tcp", srv.TLSAddr(), &tls.Config{ServerName: "127.0.0.1"})
		if err == nil {
			conn.Close()
			t.Fatal("the handshake succeeded without trusting the certificate")
		}
	}
	// net/http's own lines; the hint quotes one of them as error=.
	const handshakeError = `msg="http: TLS handshake error`
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logBuf.String(), handshakeError) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	out := logBuf.String()
	if n := strings.Count(out, handshakeError); n != 3 {
		t.Fatalf("%d handshake errors logged, want 3:\n%s", n, out)
	}
	if n := strings.Count(out, "the client may not trust the server's certificate"); n != 1 {
		t.Fatalf("%d trust hints logged, want 1:\n%s", n, out)
	}
	for _, want := range []string{"cert=" + cert, "NODE_EXTRA_CA_CERTS=" + cert, "AWS_CA_BUNDLE=" + cert, "--tls-cert", "remote error: tls: bad certificate"} {
		if !strings.Contains(out, want) {
			t.Errorf("the hint does not say %q:\n%s", want, out)
		}
	}

	// A client that trusts the certificate leaves no hint.
	logBuf.mu.Lock()
	logBuf.b.Reset()
	logBuf.mu.Unlock()
	conn, err := tls.Dial("tcp", srv.TLSAddr(), &tls.Config{RootCAs: poolOf(t, srv.CertificatePEM())})
	if err != nil {
		t.Fatalf("a client trusting the certificate: %v", err)
	}
	conn.Close()
}

// TestTLSHintWriter: which lines earn a hint, and the rate limit.
func TestTLSHintWriter(t *testing.T) {
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	now := time.Unix(1_700_000_000, 0)
	w := &tlsHintWriter{base: slog.NewLogLogger(log.Handler(), slog.LevelWarn).Writer(), log: log,
		cert: "/data/tls-cert.pem", every: time.Minute, now: func() time.Time { return now }}
	hints := func() int { return strings.Count(logBuf.String(), "may not trust") }
	write := func(s string) {
		t.Helper()
		if _, err := w.Write([]byte(s + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	write("http: TLS handshake error from 127.0.0.1:5000: remote error: tls: unknown certificate authority")
	if hints() != 1 {
		t.Fatalf("no hint for unknown certificate authority:\n%s", logBuf.String())
	}
	write("http: TLS handshake error from 127.0.0.1:5001: EOF")
	now = now.Add(59 * time.Second)
	write("http: TLS handshake error from 127.0.0.1:5002: remote error: tls: bad certificate")
	if hints() != 1 {
		t.Fatalf("hints within a minute: %d, want 1", hints())
	}
	now = now.Add(time.Second)
	write("http: TLS handshake error from 127.0.0.1:5003: local error: tls: bad record MAC")
	if hints() != 2 {
		t.Fatalf("no hint a minute later:\n%s", logBuf.String())
	}
	now = now.Add(time.Hour)
	write("http: TLS handshake error from 127.0.0.1:5004: tls: client offered only unsupported versions: [301]")
	write("http: superfluous response.WriteHeader call")
	if hints() != 2 {
		t.Fatalf("a hint for a failure that is not about trust:\n%s", logBuf.String())
	}
	if n := strings.Count(logBuf.String(), "level=WARN msg=\"http: "); n != 6 {
		t.Errorf("%d of net/http's 6 lines passed on:\n%s", n, logBuf.String())
	}
}

func poolOf(t *testing.T, pem []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the PEM")
	}
	return p
}
