// Command carillon is the Carillon server: the Amazon Chime SDK Messaging
// and Identity APIs, self-hosted.
//
//	carillon serve [--database postgres://…] [--nats nats://…]  run the server
//	carillon credentials create --user ARN [--expires 12h]
//	carillon credentials process --user ARN [--expires 1h]
//	carillon credentials list [--user ARN]
//	carillon credentials delete --id ACCESS_KEY_ID
//	carillon version
//
// Every flag has an environment twin: --data-dir is CARILLON_DATA_DIR.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/carillonhq/carillon/bots"
	"github.com/carillonhq/carillon/flows"
	"github.com/carillonhq/carillon/hub"
	"github.com/carillonhq/carillon/internal/logbuf"
	"github.com/carillonhq/carillon/jobs"
	"github.com/carillonhq/carillon/messaging"
	"github.com/carillonhq/carillon/push"
	"github.com/carillonhq/carillon/server"
	"github.com/carillonhq/carillon/sqlite"
	"github.com/carillonhq/carillon/storecache"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "carillon:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "credentials":
		return credentials(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "carillon", buildVersion())
		return nil
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Carillon serves the Amazon Chime SDK Messaging and Identity APIs.

Usage:
  carillon serve [flags]                              run the server
  carillon credentials create --user ARN [--expires 12h]
                                                      issue a key that acts only as ARN
  carillon credentials process --user ARN [--expires 1h]
                                                      the same for credential_process: reuses a valid key
  carillon credentials list [--user ARN]              list the keys (never their secrets)
  carillon credentials delete --id ACCESS_KEY_ID      revoke a key
  carillon version

Run "carillon serve -h" for the server's flags, "carillon credentials
COMMAND -h" for a command's; each flag has a CARILLON_* twin.
`)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
	}
	return "devel"
}

// flagSet is a flag.FlagSet whose flags default to CARILLON_* variables.
type flagSet struct {
	*flag.FlagSet
}

func newFlagSet(name string, stderr io.Writer) flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return flagSet{fs}
}

// envName is the environment twin of a flag: --tls-listen is
// CARILLON_TLS_LISTEN.
func envName(flagName string) string {
	return "CARILLON_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f flagSet) string(name, def, usage string) *string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	return f.String(name, def, usage+" ($"+envName(name)+")")
}

func (f flagSet) bool(name string, def bool, usage string) (*bool, error) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", envName(name), err)
		}
		def = b
	}
	return f.Bool(name, def, usage+" ($"+envName(name)+")"), nil
}

func (f flagSet) duration(name string, def time.Duration, usage string) (*time.Duration, error) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", envName(name), err)
		}
		def = d
	}
	return f.Duration(name, def, usage+" ($"+envName(name)+")"), nil
}

func (f flagSet) int(name string, def int, usage string) (*int, error) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", envName(name), err)
		}
		def = n
	}
	return f.Int(name, def, usage+" ($"+envName(name)+")"), nil
}

// processorsFlag collects --processor NAME=URL values; its environment
// twin, CARILLON_PROCESSORS, is a comma-separated list of them.
type processorsFlag map[string]string

func (p processorsFlag) String() string {
	out := make([]string, 0, len(p))
	for k, v := range p {
		out = append(out, k+"="+v)
	}
	return strings.Join(out, ",")
}

func (p processorsFlag) Set(v string) error {
	name, target, err := flows.ParseProcessor(v)
	if err != nil {
		return err
	}
	p[name] = target
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	listen := fs.string("listen", server.DefaultListen, "plain HTTP address; empty disables it")
	tlsListen := fs.string("tls-listen", server.DefaultTLSListen, "HTTPS address; empty disables it")
	tlsCert := fs.string("tls-cert", "", "PEM certificate for HTTPS (default: self-signed, generated into the data directory)")
	tlsKey := fs.string("tls-key", "", "PEM private key for --tls-cert")
	dataDir := fs.string("data-dir", server.DefaultDataDir, "directory of the generated certificate and, without --database, of the SQLite database and generated credentials")
	database := fs.string("database", "", "PostgreSQL database URL (postgres://user:password@host:5432/carillon): every server given the same one serves the same data (default: SQLite in --data-dir)")
	natsURL := fs.string("nats", "", "NATS server URL (nats://host:4222, or several, comma-separated) through which the servers of one --database pass each other their events; needs --database (default: none, a single server)")
	region := fs.string("region", server.DefaultRegion, "the region clients sign for and ARNs name")
	account := fs.string("account-id", server.DefaultAccountID, "the account id in every ARN")
	publicEndpoint := fs.string("public-endpoint", "", "host:port clients reach the HTTPS listener at, answered by GetMessagingSessionEndpoint (default: the --tls-listen address)")
	debugListen := fs.string("debug-listen", "", "plain HTTP address serving the Go profiler (net/http/pprof) under /debug/pprof/, e.g. 127.0.0.1:6060; empty (the default) disables it")
	processors := processorsFlag{}
	if v := os.Getenv("CARILLON_PROCESSORS"); v != "" {
		for item := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(item) == "" {
				continue
			}
			if err := processors.Set(item); err != nil {
				return fmt.Errorf("$CARILLON_PROCESSORS: %w", err)
			}
		}
	}
	fs.Var(processors, "processor", "NAME=URL: send the events of the channel flow processor whose Lambda ARN or function name is NAME to the HTTP endpoint URL; repeatable ($CARILLON_PROCESSORS, comma-separated)")
	processorSecret := fs.string("processor-secret", "", "secret that signs the requests to HTTP processors (X-Carillon-Signature); empty: unsigned")
	lambdaEndpoint := fs.string("lambda-endpoint", "", `Lambda API endpoint URL for processors without --processor, or "aws" for AWS's endpoints; credentials come from the standard AWS chain (default: Lambda is not invoked)`)
	callbackDeadline, err := fs.duration("flow-callback-deadline", messaging.DefaultCallbackDeadline, "how long a channel flow processor has to call back")
	if err != nil {
		return err
	}
	flowTimeout, err := fs.duration("flow-timeout", flows.DefaultTimeout, "timeout of one invocation of a channel flow processor")
	if err != nil {
		return err
	}
	streamOptions, err := streamFlags(fs)
	if err != nil {
		return err
	}
	jobsInterval, err := fs.duration("jobs-interval", jobs.DefaultInterval, "time between two runs of the background jobs: channel and user expiration, message retention")
	if err != nil {
		return err
	}
	pushWebhook := fs.string("push-webhook", "", "http[s] URL the push notifications of messages are POSTed to, one request per message (default: none are sent)")
	pushSecret := fs.string("push-webhook-secret", "", "secret that signs the push webhook's requests (X-Carillon-Signature); empty: unsigned")
	pushPinpoint := fs.string("push-pinpoint-endpoint", "", `send push notifications with Amazon Pinpoint's SendMessages at this endpoint URL, or "aws" for AWS's endpoints, to the applications the endpoints' ResourceArns name; credentials come from the standard AWS chain (default: none are sent)`)
	lexEndpoint := fs.string("lex-endpoint", "", `Lex V2 runtime endpoint URL the AppInstanceBots' Lex bots are called at, or "aws" for AWS's endpoints; credentials come from the standard AWS chain (default: bots do not answer)`)
	idempotencyWindow, err := fs.duration("idempotency-window", jobs.DefaultIdempotencyWindow, "how long the result of a request with a ClientRequestToken is kept: the same token within it gets the same result")
	if err != nil {
		return err
	}
	resumeWindow, err := fs.duration("session-resume-window", hub.DefaultResumeWindow, "how long after a messaging session ends a new connection with the same user and sessionId resumes it, receiving every event it missed; 0 turns it off (see docs/sessions.md)")
	if err != nil {
		return err
	}
	storeCacheSize, err := fs.int("store-cache-size", storecache.DefaultSize, "rows (users, bots, admin roles, channels, memberships, moderator roles, bans) kept in memory for authorization, on SQLite only; 0: the default, negative: no cache")
	if err != nil {
		return err
	}
	syncMode := fs.string("sync", "normal", `how a commit of the SQLite store waits for the disk: "normal" (an acknowledged write survives a crash of the process; a power loss may undo the last commits) or "full" (fsync at every commit: it survives a power loss too, at the cost of write throughput); with --database, PostgreSQL's synchronous_commit decides`)
	corsOrigins := fs.string("cors-origins", "*", `origins whose web pages may call the API and open messaging sessions, comma-separated (e.g. "http://localhost:3000,https://chat.example.com"), or "*" for any`)
	consoleOn, err := fs.bool("console", true, "serve the web console at /console/ on both listeners")
	if err != nil {
		return err
	}
	applyLimits, err := limitFlags(fs)
	if err != nil {
		return err
	}
	logFormat := fs.string("log-format", "text", "log format: text or json")
	logLevel := fs.string("log-level", "info", "log level: debug, info, warn or error")
	logFlush, err := fs.duration("log-flush-interval", logbuf.DefaultFlushInterval, "log lines below warn are written in bulk at most this long after they are logged (warnings and errors at once); 0 writes every line at once")
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	streamOpts, err := streamOptions()
	if err != nil {
		return err
	}
	if *jobsInterval <= 0 {
		return errors.New("--jobs-interval must be positive")
	}
	if *idempotencyWindow <= 0 {
		return errors.New("--idempotency-window must be positive")
	}
	if *resumeWindow < 0 {
		return errors.New("--session-resume-window must not be negative")
	}
	sessionResumeWindow := *resumeWindow
	if sessionResumeWindow == 0 {
		sessionResumeWindow = -1 // off; server.Config's zero is the default
	}
	if u, err := url.Parse(*pushWebhook); *pushWebhook != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return fmt.Errorf("--push-webhook %q: want an http:// or https:// URL", *pushWebhook)
	}
	if *pushWebhook != "" && *pushPinpoint != "" {
		return errors.New("--push-webhook and --push-pinpoint-endpoint exclude each other: push notifications go to one")
	}
	var sync sqlite.Sync
	if err := sync.Set(*syncMode); err != nil {
		return fmt.Errorf("--sync: %w", err)
	}
	origins := splitList(*corsOrigins)
	if len(origins) == 0 {
		return errors.New(`--cors-origins is empty: give "*" or a list of origins`)
	}
	logw := logbuf.New(stderr, *logFlush)
	defer logw.Flush()
	log, err := newLogger(logw, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	log = slog.New(logbuf.NewHandler(log.Handler(), logw))
	cfg := server.Config{
		Listen: *listen, TLSListen: *tlsListen, TLSCert: *tlsCert, TLSKey: *tlsKey,
		DataDir: *dataDir, Database: *database, NATS: *natsURL, Region: *region, AccountID: *account, Logger: log, PublicEndpoint: *publicEndpoint,
		DebugListen: *debugListen, Sync: sync,
		Root: server.RootCredentials{
			AccessKeyID:     os.Getenv("CARILLON_ACCESS_KEY_ID"),
			SecretAccessKey: os.Getenv("CARILLON_SECRET_ACCESS_KEY"),
		},
		Messaging: messaging.Options{CallbackDeadline: *callbackDeadline},
		Flows: flows.Options{
			Processors:     processors,
			Secret:         *processorSecret,
			LambdaEndpoint: *lambdaEndpoint,
			Timeout:        *flowTimeout,
		},
		Stream: streamOpts,
		Jobs:   jobs.Options{Interval: *jobsInterval, IdempotencyWindow: *idempotencyWindow},
		Push:   push.Options{Webhook: *pushWebhook, Secret: *pushSecret, PinpointEndpoint: *pushPinpoint},
		Bots:   bots.Options{LexEndpoint: *lexEndpoint},

		StoreCacheSize:      *storeCacheSize,
		SessionResumeWindow: sessionResumeWindow,
	}
	cfg.CORSOrigins = origins
	cfg.DisableConsole = !*consoleOn
	cfg.Version = buildVersion()
	if err := applyLimits(&cfg); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.Listen(); err != nil {
		return err
	}
	if root, created := srv.RootCredentials(); created {
		where := filepath.Join(*dataDir, "root-credentials.json")
		if *database != "" {
			where = "the database"
		}
		printRootHint(stdout, root, srv, where)
	}
	attrs := []any{"version", buildVersion(), "http", srv.Addr(), "https", srv.TLSAddr(), "metrics", srv.MetricsAddr(), "data_dir", *dataDir}
	if *database == "" {
		attrs = append(attrs, "store", "sqlite", "sync", sync.String())
	} else {
		attrs = append(attrs, "store", "postgres")
	}
	attrs = append(attrs, "region", *region, "account_id", *account, "tls_cert", srv.CertificateFile(), "console", srv.ConsoleURL())
	log.Info("carillon started", attrs...)
	if a := srv.DebugAddr(); a != "" {
		log.Info("profiling", "debug", "http://"+a+"/debug/pprof/")
	}
	logw.Flush() // programs wait for these lines
	err = srv.Serve(ctx)
	log.Info("carillon stopped")
	return err
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}
