// Package carillontest starts a real Carillon server inside a Go test, on
// loopback, with a temporary data directory, and gives the aws.Config that
// points an AWS SDK client at it:
//
//	func TestChat(t *testing.T) {
//		srv := carillontest.New(t)
//		identity := chimesdkidentity.NewFromConfig(srv.Config)
//		messaging := chimesdkmessaging.NewFromConfig(srv.Config)
//		…
//	}
//
// The server stops, and its data directory is removed, when the test ends.
// Every server is independent, so tests may run in parallel.
//
// With CARILLON_TEST_STORE=postgres in the environment, servers store
// their data in PostgreSQL instead of SQLite: a database of their own on a
// throwaway PostgreSQL server started once per test binary (package
// internal/pgtest; such a binary's TestMain calls Main), so that every
// test using this package runs on either engine.
package carillontest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/flows"
	"github.com/carillonhq/carillon/internal/pgtest"
	"github.com/carillonhq/carillon/postgres"
	"github.com/carillonhq/carillon/server"
)

// Server is a running test server.
type Server struct {
	// Endpoint is the plain-HTTP base URL, e.g. http://127.0.0.1:41234.
	Endpoint string
	// TLSEndpoint is the HTTPS base URL, served with a self-signed
	// certificate that TLSClient and the Config's HTTP client trust.
	TLSEndpoint string
	// Region is the region the server accepts signatures for.
	Region string
	// Root is the root key pair: it may act as any bearer.
	Root server.RootCredentials
	// Config is an aws.Config for the root credentials and Endpoint.
	Config aws.Config
	// Server is the underlying server, for tests that need its store.
	Server *server.Server
	// CertPool trusts the server's TLS certificate.
	CertPool *x509.CertPool

	stop func()
}

// Option changes the server configuration.
type Option func(*server.Config)

// WithClock makes the server tell time with clock.
func WithClock(clock carillon.Clock) Option {
	return func(c *server.Config) { c.Clock = clock }
}

// WithLogger sends the server's log to l (by default it is discarded
// unless the test runs with -v, when it goes to t.Log).
func WithLogger(l *slog.Logger) Option {
	return func(c *server.Config) { c.Logger = l }
}

// WithFlows configures channel flows: HTTP processors, the Lambda
// endpoint, the callback deadline, timeouts and retries.
func WithFlows(o flows.Options) Option {
	return func(c *server.Config) { c.Flows = o }
}

// WithDataDir keeps the server's data in dir instead of a directory of
// its own, so that a test can start a second server on the data of one
// it stopped (Stop).
func WithDataDir(dir string) Option {
	return func(c *server.Config) { c.DataDir = dir }
}

// WithRootCredentials gives the server this root key pair instead of a
// new one, so that a second server on the data of one a test stopped
// takes the same credentials.
func WithRootCredentials(root server.RootCredentials) Option {
	return func(c *server.Config) { c.Root = root }
}

// WithDatabase stores the server's data in the PostgreSQL database dsn,
// whatever CARILLON_TEST_STORE says: servers given the same one share
// their data, as the servers of a cluster do.
func WithDatabase(dsn string) Option {
	return func(c *server.Config) { c.Database = dsn }
}

// WithNATS connects the server to the NATS server at url, through which
// servers given the same database (WithDatabase) pass each other their
// events, as the servers of a cluster do.
func WithNATS(url string) Option {
	return func(c *server.Config) { c.NATS = url }
}

// WithLockRetry sets how often the server tries to take over the work of
// another server of its cluster.
func WithLockRetry(d time.Duration) Option {
	return func(c *server.Config) { c.LockRetry = d }
}

// WithRoot gives the server the root key pair r instead of one of its
// own: the servers of a cluster share theirs.
func WithRoot(r server.RootCredentials) Option {
	return func(c *server.Config) { c.Root = r }
}

// StoreEnv is the environment variable that picks the engine of the
// servers tests start: "postgres", or "" (or "sqlite") for SQLite.
const StoreEnv = "CARILLON_TEST_STORE"

// Postgres reports whether CARILLON_TEST_STORE asks for PostgreSQL.
func Postgres() bool { return os.Getenv(StoreEnv) == "postgres" }

// Main runs the tests of m, and stops the PostgreSQL server they started,
// if any. Call it from the TestMain of a package whose tests start servers.
func Main(m *testing.M) int { return pgtest.Main(m) }

var (
	databasesMu sync.Mutex
	databases   = map[string]string{} // data directory → its database
)

// Database returns the database a server with data directory dataDir
// uses: "" (SQLite, in dataDir) unless CARILLON_TEST_STORE is postgres,
// when it is a new PostgreSQL database, the same for every server started
// on that data directory (a restart finds its data), dropped when t ends.
func Database(t testing.TB, dataDir string) string {
	t.Helper()
	if !Postgres() {
		return ""
	}
	databasesMu.Lock()
	defer databasesMu.Unlock()
	if dsn, ok := databases[dataDir]; ok {
		return dsn
	}
	dsn := PostgresDatabase(t)
	databases[dataDir] = dsn
	t.Cleanup(func() {
		databasesMu.Lock()
		delete(databases, dataDir)
		databasesMu.Unlock()
	})
	return dsn
}

// PostgresDatabase returns a new PostgreSQL database with Carillon's
// schema, on the throwaway server of the test binary, dropped when t
// ends, whatever CARILLON_TEST_STORE says: for tests of clusters, whose
// servers share one.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	return pgtest.DatabaseFrom(t, "carillon", func(dsn string) error {
		db, err := postgres.Open(context.Background(), dsn, carillon.SystemClock{})
		if err != nil {
			return err
		}
		return db.Close()
	})
}

// New starts a server for the test t.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	dir := t.TempDir()
	// 0700, as the server makes a data directory, so that it does not
	// warn about tightening a directory nobody else has seen.
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatalf("carillontest: %v", err)
	}
	cfg := server.Config{
		Listen:    "127.0.0.1:0",
		TLSListen: "127.0.0.1:0",
		DataDir:   dir,
		Root:      server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()},
		Logger:    slog.New(&testLogHandler{t: t}),
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Database == "" {
		cfg.Database = Database(t, cfg.DataDir)
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatalf("carillontest: %v", err)
	}
	if err := srv.Listen(); err != nil {
		srv.Close()
		t.Fatalf("carillontest: %v", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx); err != nil {
			t.Errorf("carillontest: serve: %v", err)
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			srv.Close()
		})
	}
	t.Cleanup(stop)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CertificatePEM())
	s := &Server{
		Endpoint:    "http://" + srv.Addr(),
		TLSEndpoint: "https://" + srv.TLSAddr(),
		Region:      srv.Region(),
		Root:        cfg.Root,
		Server:      srv,
		CertPool:    pool,
		stop:        stop,
	}
	s.Config = s.ConfigFor(cfg.Root.AccessKeyID, cfg.Root.SecretAccessKey, "")
	return s
}

// Remote is a Server for a server running outside the test process (a
// `carillon serve` the test started), at the plain-HTTP address addr and
// the HTTPS address tlsAddr, whose certificate is certPEM; stop stops
// it. Its Server field is nil.
func Remote(addr, tlsAddr, region string, root server.RootCredentials, certPEM []byte, stop func()) *Server {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	s := &Server{Endpoint: "http://" + addr, TLSEndpoint: "https://" + tlsAddr, Region: region, Root: root, CertPool: pool, stop: stop}
	s.Config = s.ConfigFor(root.AccessKeyID, root.SecretAccessKey, "")
	return s
}

// Stop shuts the server down, as at the end of the test, and closes its
// store. Calling it again does nothing.
func (s *Server) Stop() { s.stop() }

// ConfigFor returns an aws.Config for the given key pair and Endpoint.
func (s *Server) ConfigFor(accessKeyID, secret, sessionToken string) aws.Config {
	return aws.Config{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secret, sessionToken),
		HTTPClient:   s.HTTPClient(),
		// Tests want the server's answer, not the SDK's retries of it.
		RetryMaxAttempts: 1,
	}
}

// UserConfig issues a per-user key for bearer (an AppInstanceUser or
// AppInstanceBot ARN that must exist) and returns an aws.Config for it.
func (s *Server) UserConfig(t testing.TB, bearer string) aws.Config {
	t.Helper()
	c, err := server.CreateUserCredentials(context.Background(), s.Server.Store(), bearer, 0)
	if err != nil {
		t.Fatalf("carillontest: credentials for %s: %v", bearer, err)
	}
	return s.ConfigFor(c.AccessKeyID, c.SecretAccessKey, "")
}

// HTTPClient returns a client that trusts the server's certificate.
func (s *Server) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: s.CertPool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// testLogHandler writes the server's log through t.Log, so it shows with
// -v or when the test fails, and stops once the test is over.
type testLogHandler struct {
	t     testing.TB
	attrs []slog.Attr
}

func (h *testLogHandler) Enabled(context.Context, slog.Level) bool { return testing.Verbose() }

func (h *testLogHandler) Handle(_ context.Context, r slog.Record) error {
	var b []byte
	b = append(b, r.Level.String()...)
	b = append(b, ' ')
	b = append(b, r.Message...)
	add := func(a slog.Attr) bool {
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		b = append(b, a.Value.String()...)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	defer func() { _ = recover() }() // t.Log after the test ended panics
	h.t.Log(string(b))
	return nil
}

func (h *testLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &c
}

func (h *testLogHandler) WithGroup(string) slog.Handler { return h }
