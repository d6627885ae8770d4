// Package server wires Carillon together: the store, the services, the
// wire layer and the listeners. It holds no rules of its own beyond which
// key may act as which bearer; cmd/carillon and carillontest both start
// servers through it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/bots"
	"github.com/carillonhq/carillon/bus"
	"github.com/carillonhq/carillon/bus/natsbus"
	"github.com/carillonhq/carillon/flows"
	"github.com/carillonhq/carillon/hub"
	"github.com/carillonhq/carillon/identity"
	"github.com/carillonhq/carillon/internal/logcap"
	"github.com/carillonhq/carillon/jobs"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/postgres"
	"github.com/carillonhq/carillon/push"
	"github.com/carillonhq/carillon/restjson"
	"github.com/carillonhq/carillon/sigv4"
	"github.com/carillonhq/carillon/sqlite"
	"github.com/carillonhq/carillon/storecache"
	"github.com/carillonhq/carillon/stream"
	"github.com/carillonhq/carillon/tagging"
)

// Config configures a server. The zero value of a field means its default.
type Config struct {
	// Listen is the plain-HTTP address; "" disables it.
	Listen string
	// TLSListen is the HTTPS address; "" disables it.
	TLSListen string
	// DebugListen is the address of a plain-HTTP listener serving
	// net/http/pprof under /debug/pprof/, for operators; "" (the
	// default) disables it. Profiles show requests' contents: bind it
	// to a loopback or private address.
	DebugListen string
	// TLSCert and TLSKey are PEM files; empty: a self-signed certificate
	// generated once into DataDir.
	TLSCert, TLSKey string
	// DataDir holds the generated certificate, and unless Database names
	// another database, the SQLite database and the generated root
	// credentials.
	DataDir string
	// Database is the PostgreSQL database to use, a postgres:// URL;
	// empty: SQLite, in DataDir. Every server of a deployment that shares
	// a PostgreSQL database shares its data and its generated root
	// credentials.
	Database string
	// NATS is the NATS server (a nats:// URL, or several separated by
	// commas) through which the servers sharing Database pass each
	// other the outbox's events; empty: the in-process bus of a single
	// server. It needs a PostgreSQL Database.
	NATS string
	// LockRetry is how often a server tries to take over the work done
	// once per deployment from another server (DefaultLockRetry).
	LockRetry time.Duration
	// Region is the only region clients may sign for; it appears in ARNs.
	Region string
	// AccountID appears in every ARN.
	AccountID string
	// Root is the root key pair; empty: generated once, into the
	// PostgreSQL database or DataDir.
	Root RootCredentials
	// Clock is the time source; nil: the wall clock.
	Clock carillon.Clock
	// Logger receives one line per request and the server's events.
	Logger *slog.Logger
	// ShutdownTimeout bounds how long Shutdown waits for requests.
	ShutdownTimeout time.Duration
	// PublicEndpoint is the host:port clients reach the TLS listener at,
	// when it differs from the listener's address (behind a proxy or a
	// load balancer); GetMessagingSessionEndpoint answers it.
	PublicEndpoint string
	// Hub tunes the messaging sessions; MaxSessions defaults to three
	// quarters of MaxConnections. Its Store, Now and ResumeWindow are the
	// server's: see SessionResumeWindow.
	Hub hub.Config
	// SessionResumeWindow is how long after a messaging session ends a
	// new connection with the same user and sessionId resumes it, with
	// every event it missed (docs/sessions.md); default
	// hub.DefaultResumeWindow, negative: sessions do not resume.
	SessionResumeWindow time.Duration
	// ReadTimeout, WriteTimeout and IdleTimeout are the listeners'
	// http.Server timeouts (DefaultReadTimeout, DefaultWriteTimeout,
	// DefaultIdleTimeout); messaging sessions, hijacked, outlive them.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConnections bounds the connections open at once on Listen and
	// TLSListen together, messaging sessions included; 0: the descriptor
	// limit less a reserve (connectionBudget).
	MaxConnections int
	// MetricsListen, when set, serves /metrics and /healthz on an address
	// of their own, and /metrics leaves the API listeners.
	MetricsListen string
	// Messaging configures the messaging service: the deadline of the
	// processors of channel flows.
	Messaging messaging.Options
	// Flows configures channel flows: the processors' HTTP endpoints,
	// the Lambda endpoint, timeouts and retries.
	Flows flows.Options
	// Jobs tunes the background jobs: expiration and retention.
	Jobs jobs.Options
	// Stream configures the streaming export: the sinks mapped to ARNs,
	// the Kinesis endpoint and credentials, polling and backoff.
	Stream stream.Options
	// Push configures push notifications: the webhook they are sent to.
	Push push.Options
	// Bots configures AppInstanceBots: the Lex endpoint they invoke.
	Bots bots.Options
	// Sync is how the embedded SQLite store's commits wait for the disk:
	// sqlite.SyncNormal (the default) or sqlite.SyncFull. It does nothing
	// with Database: PostgreSQL's synchronous_commit decides.
	Sync sqlite.Sync
	// StoreCacheSize bounds the rows the store cache keeps in memory for
	// authorization (package storecache): 0 means storecache.DefaultSize,
	// a negative size turns the cache off. The cache is exact only while
	// this server is the database's one writer, as it is with SQLite; the
	// PostgreSQL store runs without it.
	StoreCacheSize int
	// CORSOrigins are the origins whose web pages may read the API's
	// responses and open messaging sessions: "*" for any (the default,
	// DefaultCORSOrigins), or serialized origins such as
	// "https://chat.example.com" and "http://localhost:3000". A request
	// from another origin is served without CORS headers, so the browser
	// keeps the answer from the page; its websocket is closed with 4003.
	CORSOrigins []string
	// DisableConsole turns the web console at /console/ off.
	DisableConsole bool
	// Version is the server's version, as GET /carillon/status shows it.
	Version string
}

// Defaults of Config.
const (
	DefaultListen    = "127.0.0.1:8080"
	DefaultTLSListen = "127.0.0.1:8443"
	DefaultDataDir   = "./carillon-data"
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// Server is a running Carillon.
type Server struct {
	cfg         Config
	log         *slog.Logger
	store       carillon.Store
	root        RootCredentials
	rootCreated bool
	api         *restjson.Handler
	auth        *authenticator
	handler     http.Handler
	cors        *corsPolicy
	tlsConfig   *tls.Config
	started     time.Time

	cache       *storecache.Cache // nil when StoreCacheSize < 0
	bus         bus.Bus
	nats        *natsbus.Bus // the bus, when it is NATS's
	relay       *bus.Relay
	flows       *flows.Runner
	jobs        *jobs.Scheduler
	stream      *stream.Exporter
	push        *push.Dispatcher
	bots        *bots.Dispatcher
	hub         *hub.Hub
	workers     []func(context.Context) // run by Serve
	unsubscribe []func()
	metrics     *prometheus.Registry
	// pushHeld and botsHeld are true while this server holds the lock
	// of push and bot dispatch (cluster.go).
	pushHeld, botsHeld atomic.Bool
	// built is set once New has built what kickLocal wakes: kicks from
	// the other servers of a cluster may arrive before.
	built atomic.Bool

	mu                              sync.Mutex
	plain, secure, debug, metricsLn net.Listener // for their addresses
	listeners                       []net.Listener
	servers                         []*http.Server
}

// New opens the store and builds the server; it does not listen yet.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if cfg.Clock == nil {
		cfg.Clock = carillon.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// Requests put what clients chose in the log: every line is bounded.
	cfg.Logger = slog.New(logcap.New(cfg.Logger.Handler()))
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = connectionBudget(fileLimit())
	}
	if cfg.Hub.MaxSessions <= 0 {
		cfg.Hub.MaxSessions = defaultMaxSessions(cfg.MaxConnections)
	}
	cfg.Hub.Now = cfg.Clock.Now
	if err := restrictDataDir(cfg.DataDir, cfg.Logger); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, started: time.Now()}
	s.root = cfg.Root
	if (s.root.AccessKeyID == "") != (s.root.SecretAccessKey == "") {
		return nil, errors.New("set both the root access key id and the secret access key, or neither")
	}
	if cfg.NATS != "" && cfg.Database == "" {
		return nil, errors.New("NATS connects the servers of one PostgreSQL database: give the database too")
	}
	store, err := openStore(ctx, cfg.Database, cfg.DataDir, cfg.Clock, sqlite.Options{Sync: cfg.Sync})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if s.root.AccessKeyID == "" {
		if pg, ok := store.(*postgres.DB); ok {
			s.root.AccessKeyID, s.root.SecretAccessKey, s.rootCreated, err = pg.RootCredentials(ctx, func() (string, string) {
				return NewAccessKeyID(), NewSecret()
			})
		} else {
			s.root, s.rootCreated, err = loadOrCreateRootCredentials(cfg.DataDir)
		}
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("root credentials: %w", err)
		}
	}
	s.metrics = prometheus.NewRegistry()
	if cfg.NATS != "" {
		s.nats, err = natsbus.Connect(ctx, cfg.NATS, store, natsbus.Options{
			OnKick: s.kickRemote, Logger: s.log, Metrics: s.metrics, Name: "carillon " + cfg.Listen + " " + cfg.TLSListen,
		})
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("event bus: %w", err)
		}
		s.bus = s.nats
	} else {
		s.bus = bus.NewLocal()
	}
	fail := func(err error) (*Server, error) {
		if s.nats != nil {
			s.nats.Close()
		}
		store.Close()
		return nil, err
	}
	s.relay = bus.NewRelay(store, s.bus, s.log)
	s.relay.Now = cfg.Clock.Now
	if err := s.relay.Start(ctx); err != nil {
		return fail(fmt.Errorf("outbox: %w", err))
	}
	if c, ok := store.(prometheus.Collector); ok {
		s.metrics.MustRegister(c) // the SQLite store's group commit
	}
	s.store = kickingStore{Store: s.cached(store), kick: s.kick}
	if err := s.build(); err != nil {
		return fail(err)
	}
	s.built.Store(true)
	if err := s.hub.Start(ctx, s.relay.Seq()); err != nil {
		return fail(fmt.Errorf("messaging sessions: %w", err))
	}
	return s, nil
}

// OpenStore opens the store a server, or a command acting on its data,
// uses: the PostgreSQL database named by database (a postgres:// or
// postgresql:// URL), or with database empty the SQLite database in
// dataDir.
func OpenStore(ctx context.Context, database, dataDir string, clock carillon.Clock) (carillon.Store, error) {
	return openStore(ctx, database, dataDir, clock, sqlite.Options{})
}

// openStore is OpenStore with the options of the SQLite store, which the
// PostgreSQL one has no use for: how its commits wait for the disk is the
// database's own setting (synchronous_commit).
func openStore(ctx context.Context, database, dataDir string, clock carillon.Clock, o sqlite.Options) (carillon.Store, error) {
	if clock == nil {
		clock = carillon.SystemClock{}
	}
	if database == "" {
		return sqlite.Open(ctx, filepath.Join(dataDir, databaseFile), clock, o)
	}
	if !strings.HasPrefix(database, "postgres://") && !strings.HasPrefix(database, "postgresql://") {
		return nil, fmt.Errorf("database %q: want a postgres:// URL (or none, for SQLite in the data directory)", redact(database))
	}
	return postgres.Open(ctx, database, clock)
}

// redact hides the password of a database URL, for messages.
func redact(database string) string {
	u, err := url.Parse(database)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// build assembles the services and the HTTP handler.
func (s *Server) build() error {
	arns := carillon.ARNs{Partition: "aws", Region: s.cfg.Region, Account: s.cfg.AccountID}
	creds := &credentialSource{root: s.root, store: s.store}
	s.auth = &authenticator{
		verifier: &sigv4.Verifier{Service: "chime", Region: s.cfg.Region, Credentials: creds, Now: s.cfg.Clock.Now,
			RequireSigned: boundHeaders},
		creds: creds,
	}

	id := identity.New(s.store, arns, identity.DefaultLimits)
	id.OnDeleteMember(messaging.ForgetMember)
	idHandlers := id.Handlers()
	tags := tagging.New(s.store)
	tags.Register(carillon.TypeChannel, func(tx carillon.Tx, r carillon.Resource) (bool, error) {
		_, err := tx.GetChannel(r.String())
		if errors.Is(err, carillon.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	tags.Register(carillon.TypeChannelFlow, func(tx carillon.Tx, r carillon.Resource) (bool, error) {
		_, err := tx.GetChannelFlow(r.String())
		if errors.Is(err, carillon.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	tags.Bind(&idHandlers)

	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.cache != nil {
		s.metrics.MustRegister(s.cache)
	}

	// Messaging holds the messages of channels with a flow and completes
	// them; the flows service, built after it, runs their processors and
	// authorizes AssociateChannelFlow through messaging's rules.
	msg := messaging.New(messaging.Config{
		Store:           s.store,
		ARNs:            arns,
		Limits:          messaging.DefaultLimits,
		SessionEndpoint: s.sessionEndpoint,
		Options:         s.cfg.Messaging,
	})
	fl, err := flows.New(flows.Config{
		Store:     s.store,
		ARNs:      arns,
		Clock:     s.cfg.Clock,
		Messaging: msg,
		Limits:    flows.DefaultLimits,
		Options:   s.cfg.Flows,
		Logger:    s.log,
		Metrics:   s.metrics,
	})
	if err != nil {
		return fmt.Errorf("channel flows: %w", err)
	}
	msgHandlers := msg.Handlers()
	fl.Bind(&msgHandlers)
	// The export reads and writes the store without kicking: its cursor
	// and configuration writes announce nothing. Its configuration
	// operations check ResourceArns against its sinks, and the relay's
	// trim keeps what it has not exported.
	raw := s.store
	if k, ok := raw.(kickingStore); ok {
		raw = k.Store
	}
	s.stream = stream.New(raw, s.cfg.Stream, s.log, s.metrics)
	s.stream.Bind(&msgHandlers)
	s.flows = fl.Runner()
	s.jobs = jobs.New(jobs.Config{Store: s.store, Clock: s.cfg.Clock, Logger: s.log, Metrics: s.metrics, Identity: id, Options: s.cfg.Jobs})
	s.push = push.New(s.store, s.cfg.Push, s.log, s.metrics)
	s.bots = bots.New(s.store, msg, s.cfg.Bots, s.log, s.metrics)
	// The hub keeps session positions in the store (without kicking the
	// relay: they announce nothing) and reads the outbox to replay what
	// a resumed session missed.
	hubCfg := s.cfg.Hub
	hubCfg.Store, hubCfg.Now, hubCfg.ResumeWindow = raw, s.cfg.Clock.Now, s.cfg.SessionResumeWindow
	switch {
	case hubCfg.ResumeWindow == 0:
		hubCfg.ResumeWindow = hub.DefaultResumeWindow
	case hubCfg.ResumeWindow < 0:
		hubCfg.ResumeWindow = 0
	}
	if s.nats != nil {
		// A session that connects here may be open, or just ended, on
		// another server: the hubs hand sessions over through NATS.
		hubCfg.Handover = s.nats
	}
	s.hub = hub.New(hubCfg, s.log, s.metrics)
	if s.nats != nil {
		s.nats.HandleHandovers(s.hub.GiveUp)
	}
	// The relay's trim keeps what the export has not exported, and what
	// sessions that may resume have not received.
	s.relay.Hold = func() int64 { return min(s.stream.Hold(), s.hub.Hold()) }
	pushDeliver, botsDeliver := s.push.Deliver, s.bots.Deliver
	if s.nats != nil {
		// Every server receives every event; the one holding the lock
		// of the work sends (cluster.go).
		pushDeliver, botsDeliver = whileHeld(&s.pushHeld, pushDeliver), whileHeld(&s.botsHeld, botsDeliver)
	}
	s.unsubscribe = append(s.unsubscribe, s.bus.Subscribe(s.hub.Deliver), s.bus.Subscribe(pushDeliver), s.bus.Subscribe(botsDeliver))
	s.workers = []func(context.Context){
		s.leased(lockRelay, nil, s.runRelay),
		s.leased(lockFlows, nil, s.flows.Run),
		s.leased(lockJobs, nil, s.jobs.Run),
		s.leased(lockStream, nil, s.stream.Run),
		s.leased(lockPush, &s.pushHeld, s.push.Run),
		s.leased(lockBots, &s.botsHeld, s.bots.Run),
		// Every server writes the positions of its own sessions.
		s.hub.Run,
	}

	var ops []api.Operation
	ops = append(ops, idHandlers.Operations()...)
	ops = append(ops, msgHandlers.Operations()...)
	// The methods of the operations, and of the routes below.
	methods := []string{http.MethodGet, http.MethodPost, http.MethodDelete}
	for _, op := range ops {
		methods = append(methods, op.Method)
	}
	s.cors, err = newCORSPolicy(s.cfg.CORSOrigins, methods, s.log)
	if err != nil {
		return err
	}
	connect := &hub.Endpoint{Hub: s.hub, Auth: s.auth, Source: sessionSource{msg}, Host: s.sessionEndpoint,
		CheckOrigin: s.cors.checkWebsocketOrigin}
	h, err := restjson.New(restjson.Config{
		Operations: ops,
		Auth:       s.auth,
		Authorize:  callerMayAct,
		Logger:     s.log,
		Observe:    newAPIMetrics(s.metrics).observe,
	})
	if err != nil {
		return err
	}
	s.api = h

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /connect", connect)
	if s.cfg.MetricsListen == "" {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	}
	mux.Handle("/carillon/", s.adminHandler())
	s.mountConsole(mux)
	mux.Handle("/", h)
	// CORS comes first: a preflight carries no signature, and a refusal
	// of the connection budget (guard) must reach a web page too.
	s.handler = s.cors.wrap(guard(mux))
	return nil
}

// sessionEndpoint is the host:port GetMessagingSessionEndpoint gives
// clients for their wss:// connection: the configured public endpoint, or
// the TLS listener.
func (s *Server) sessionEndpoint() string {
	if s.cfg.PublicEndpoint != "" {
		return s.cfg.PublicEndpoint
	}
	return s.TLSAddr()
}

// Handler is the server's HTTP handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes is the operation route table.
func (s *Server) Routes() []restjson.Route { return s.api.Routes() }

// Store is the server's store.
func (s *Server) Store() carillon.Store { return s.store }

// RootCredentials returns the root key pair, and whether it was generated
// by this start (so that it is printed once).
func (s *Server) RootCredentials() (RootCredentials, bool) { return s.root, s.rootCreated }

// Region is the region the server signs and names ARNs in.
func (s *Server) Region() string { return s.cfg.Region }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// Listen opens the configured listeners. It is separate from Serve so that
// callers learn the bound addresses (port 0) before serving.
func (s *Server) Listen() error {
	pool := s.mainPool()
	if s.cfg.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
		}
		s.listenGuarded(pool, ln, "http", nil, &s.plain)
	}
	if s.cfg.TLSListen != "" {
		cert, err := s.certificate()
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("TLS certificate: %w", err)
		}
		s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln, err := net.Listen("tcp", s.cfg.TLSListen)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s: %w", s.cfg.TLSListen, err)
		}
		s.listenGuarded(pool, ln, "https", s.tlsConfig, &s.secure)
	}
	if len(s.listeners) == 0 {
		return errors.New("no listener configured")
	}
	if s.cfg.MetricsListen != "" {
		if err := s.listenMetrics(); err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s: %w", s.cfg.MetricsListen, err)
		}
	}
	if s.cfg.DebugListen != "" {
		if err := s.listenDebug(); err != nil {
			s.closeListeners()
			return err
		}
	}
	return nil
}

func (s *Server) certificate() (tls.Certificate, error) {
	if s.cfg.TLSCert != "" || s.cfg.TLSKey != "" {
		return tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	}
	host, _, _ := net.SplitHostPort(s.cfg.TLSListen)
	return loadOrCreateCertificate(s.cfg.DataDir, []string{host})
}

// CertificatePEM returns the PEM of the generated certificate, for clients
// that must trust it; nil when a certificate was configured.
func (s *Server) CertificatePEM() []byte {
	if s.cfg.TLSCert != "" {
		b, _ := os.ReadFile(s.cfg.TLSCert)
		return b
	}
	b, _ := os.ReadFile(filepath.Join(s.cfg.DataDir, tlsCertFile))
	return b
}

// addListener records a listener and its server; raw is set to ln for
// Addr and TLSAddr.
func (s *Server) addListener(ln net.Listener, raw *net.Listener, srv *http.Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*raw = ln
	s.listeners = append(s.listeners, ln)
	s.servers = append(s.servers, srv)
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.listeners, s.servers = nil, nil
	s.plain, s.secure, s.debug, s.metricsLn = nil, nil, nil, nil
}

// Addr returns the address of the plain-HTTP listener, "" if none.
func (s *Server) Addr() string { return s.addr(s.plain) }

// TLSAddr returns the address of the HTTPS listener, "" if none.
func (s *Server) TLSAddr() string { return s.addr(s.secure) }

// MetricsAddr returns the address of the metrics listener, "" if none.
func (s *Server) MetricsAddr() string { return s.addr(s.metricsLn) }

func (s *Server) addr(ln net.Listener) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// Serve serves on the listeners opened by Listen until ctx is done, then
// drains in-flight requests (up to ShutdownTimeout) and returns.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	listeners, servers := s.listeners, s.servers
	s.mu.Unlock()
	errc := make(chan error, len(servers))
	errorLog := s.errorLog()
	for i := range servers {
		srv, ln := servers[i], listeners[i]
		srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
		srv.ErrorLog = errorLog
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	// The background workers run until Serve returns, stopped in the
	// reverse order of their start: the relay last.
	//   - The outbox relay publishes committed events to the bus.
	//   - The channel flow runner: invocations it interrupts run again
	//     after a restart.
	//   - The background jobs: a run stops after its current transaction,
	//     and the next start goes on.
	//   - The streaming export: what it had not exported is exported
	//     after a restart, from its cursors.
	//   - The push and bot dispatchers: what they had not sent is
	//     dropped.
	//   - The hub's writer of session positions: its last flush comes
	//     after the sessions' (Shutdown writes them too).
	// Each but the last runs while this server holds its lock
	// (cluster.go).
	for _, run := range s.workers {
		stop := background(ctx, run)
		defer stop()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// Websockets are hijacked connections that http.Server.Shutdown does
	// not see: close them first, with 1012 so that clients reconnect, and
	// wait for their handlers.
	s.hub.Shutdown(shutdownCtx)
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(shutdownCtx); err != nil {
				s.log.Warn("shutdown", "cause", err)
				srv.Close()
			}
		}()
	}
	wg.Wait()
	return serveErr
}

// background runs run in a goroutine of its own, with a context that
// outlives ctx; stop cancels it and waits for run to return.
func background(ctx context.Context, run func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Close closes the store. Call it after Serve returns.
func (s *Server) Close() error {
	s.closeListeners()
	for _, unsubscribe := range s.unsubscribe {
		unsubscribe()
	}
	if s.nats != nil {
		s.nats.Close()
	}
	return s.store.Close()
}

// Hub is the messaging-session hub.
func (s *Server) Hub() *hub.Hub { return s.hub }

// kick wakes, after a commit, the outbox relay and the streaming export,
// and the channel flow runner after one that wrote an invocation: only a
// new or updated invocation can be due at once (retries and callback
// deadlines wake the runner by its timers and its poll), and a pass of the
// runner is a read of the store, which a send need not pay. In a cluster
// it wakes the other servers too, where they may run.
func (s *Server) kick(invocations bool) {
	s.kickLocal(invocations)
	if s.nats != nil {
		s.nats.Kick()
	}
}

// kickRemote is a kick from another server of the cluster, which may
// have written an invocation.
func (s *Server) kickRemote() { s.kickLocal(true) }

// kickLocal wakes this server's outbox relay, export and, after an
// invocation's write, channel flow runner.
func (s *Server) kickLocal(invocations bool) {
	if !s.built.Load() {
		return
	}
	s.relay.Kick()
	if s.flows != nil && invocations {
		s.flows.Kick()
	}
	if s.stream != nil {
		s.stream.Kick()
	}
}

// cached puts the store cache in front of the SQLite store, unless the
// configuration turns it off. SQLite is a single-node store: every write
// of its rows passes through this server, which the cache's exactness
// needs (package storecache).
//
// The PostgreSQL store runs without it, even alone: its Updates run at
// once, not one after the other, and PostgreSQL keeps them serializable by
// seeing what each reads. A read served from memory is one it does not
// see, and one taken before the transaction's snapshot: an Update that
// reads a channel from memory and writes it back (SendChannelMessage does)
// overwrites a change committed in between (TestPostgresCacheless).
func (s *Server) cached(store carillon.Store) carillon.Store {
	db, ok := store.(*sqlite.DB)
	if !ok || s.cfg.StoreCacheSize < 0 {
		return store
	}
	s.cache = storecache.New(db, storecache.Options{Size: s.cfg.StoreCacheSize})
	return s.cache
}

// kickingStore wakes the outbox relay and the channel flow runner after
// every committed Update, so events reach sessions, and held messages
// their processors, without waiting for a poll.
type kickingStore struct {
	carillon.Store
	kick func(invocations bool)
}

func (k kickingStore) Update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	w := &invocationWatch{}
	err := k.Store.Update(ctx, func(tx carillon.Tx) error {
		w.Tx = tx
		return fn(w)
	})
	if err == nil {
		k.kick(w.wrote)
	}
	return err
}

// invocationWatch notes whether a transaction wrote an invocation.
type invocationWatch struct {
	carillon.Tx
	wrote bool
}

func (w *invocationWatch) CreateInvocation(inv *carillon.Invocation) error {
	w.wrote = true
	return w.Tx.CreateInvocation(inv)
}

func (w *invocationWatch) UpdateInvocation(inv *carillon.Invocation) error {
	w.wrote = true
	return w.Tx.UpdateInvocation(inv)
}

// sessionSource adapts the messaging service to what the hub asks.
type sessionSource struct{ msg *messaging.Service }

func (s sessionSource) Snapshot(ctx context.Context, user string) ([]string, int64, error) {
	channels, seq, err := s.msg.SessionSnapshot(ctx, user)
	if errors.Is(err, messaging.ErrUnknownBearer) {
		return nil, 0, hub.ErrUnknownUser
	}
	return channels, seq, err
}

func (s sessionSource) Prefetch(ctx context.Context, user, sortBy string) ([][]byte, error) {
	return s.msg.ChannelDetails(ctx, user, sortBy)
}
