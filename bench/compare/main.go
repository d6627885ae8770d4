// Command compare runs the same loads against Carillon, Centrifugo
// v6.9.1 and a bare net/http handler, in one run, and writes a Markdown
// table of the figures with Carillon's ratios to the others:
//
//	go run ./bench/compare                          # every scenario, medians of 3 runs
//	go run ./bench/compare -scenarios send,fanout -runs 5 -out compare.md
//	go run ./bench/compare -size tiny               # a few seconds per scenario, for CI
//
// Each server runs in a process of its own, started afresh for every
// load with a fresh data directory, pinned to one core (taskset -c 0)
// while this program, the load generator, runs on another (core 1).
// Carillon is built from this tree; Centrifugo is built once with go
// install into a cache directory (-cache-dir); the bare handler is this
// program started again with the bare-serve argument.
//
// The scenarios:
//
//   - send: closed loop, 16 publishers each sending, waiting for the
//     acknowledgement and sending again, into a channel with 1 and with
//     100 connected members. Publishes/s, delivered events/s, and the
//     time from publish to delivery.
//   - fanout: 16 publishers each waiting, after the acknowledgement, for
//     its message to reach all 1,000 connected members before the next.
//     Delivered events/s.
//   - latency: open loop, 1,000 messages/s on a fixed schedule into 100
//     members, whatever the answers. p50, p99 and p99.9 from publish to
//     delivery.
//   - idle: about 10,000 idle sessions, spread over channels of 5,000;
//     the server's resident memory per session (Carillon over ws and over
//     wss, Centrifugo over ws).
//
// Every figure counts what was acknowledged and what arrived: the
// deliveries of acknowledged messages that never reached a session are
// printed as missing. A session the server closes reconnects with the
// same sessionId, as amazon-chime-sdk-js does, and its deliveries count
// across its connections; -stall-sessions makes some of them slow
// consumers. docs/performance.md explains the figures and keeps
// the tables measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/carillonhq/carillon/bench/internal/loadkit"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == bareCommand {
		os.Exit(serveBare(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// sizes are a comparison's loads.
type sizes struct {
	runs           int
	publishers     int
	sendMembers    []int
	fanoutMembers  int
	latencyRate    float64
	latencyMembers int
	duration       time.Duration // each load's publishing time
	idleSessions   int
	idleHold       time.Duration
	idleSettle     time.Duration // after the setup, before the first reading
	drainQuiet     time.Duration
	drainMax       time.Duration
	fanoutWait     time.Duration
}

var sizePresets = map[string]sizes{
	"full": {runs: 3, publishers: 16, sendMembers: []int{1, 100}, fanoutMembers: 1000, latencyRate: 1000, latencyMembers: 100,
		duration: 10 * time.Second, idleSessions: 10000, idleHold: 10 * time.Second, idleSettle: 2 * time.Second,
		drainQuiet: 5 * time.Second, drainMax: time.Minute, fanoutWait: 10 * time.Second},
	"tiny": {runs: 1, publishers: 16, sendMembers: []int{1, 10}, fanoutMembers: 20, latencyRate: 100, latencyMembers: 10,
		duration: 2 * time.Second, idleSessions: 100, idleHold: time.Second, idleSettle: 500 * time.Millisecond,
		drainQuiet: 2 * time.Second, drainMax: 10 * time.Second, fanoutWait: 5 * time.Second},
}

// options are the flags.
type options struct {
	scenarios, servers   []string
	size                 string
	sz                   sizes
	carillonBin          string
	carillonAPI          string
	carillonSessions     string
	region               string
	accessKey, secretKey string
	centrifugo           string
	cacheDir             string
	installTimeout       time.Duration
	pin                  bool
	serverCPU, loadCPU   int
	out                  string
	command              string
	// reconnect and stall apply to the sessions of every load (loadSpec).
	reconnect bool
	stall     stallSpec
	// self is the program started with bareCommand.
	self string
}

var (
	allScenarios = []string{"send", "fanout", "latency", "idle"}
	allServers   = []string{"carillon", "centrifugo", "bare"}
)

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var (
		o                               options
		scenarios, servers, sendMembers string
		runs, publishers, fanoutMembers int
		latencyMembers, idleSessions    int
		latencyRate                     float64
		duration, idleHold              time.Duration
	)
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&scenarios, "scenarios", strings.Join(allScenarios, ","), "the scenarios to run, comma-separated: send, fanout, latency, idle")
	fs.StringVar(&servers, "servers", strings.Join(allServers, ","), "the servers to run, comma-separated: carillon, centrifugo, bare")
	fs.StringVar(&o.size, "size", "full", "the loads: full (as in docs/performance.md) or tiny (a few seconds per scenario, for CI: numbers, not measurements)")
	fs.IntVar(&runs, "runs", 0, "runs of every load; the table gives medians (default: 3, tiny: 1)")
	fs.DurationVar(&duration, "duration", 0, "how long each load publishes (default: 10s, tiny: 2s)")
	fs.IntVar(&publishers, "publishers", 0, "publishers of the send and fanout loads (default 16)")
	fs.StringVar(&sendMembers, "send-members", "", "connected members of the send loads, comma-separated (default: 1,100; tiny: 1,10)")
	fs.IntVar(&fanoutMembers, "fanout-members", 0, "connected members of the fanout load (default: 1000; tiny: 20)")
	fs.Float64Var(&latencyRate, "latency-rate", 0, "messages per second of the latency load (default: 1000; tiny: 100)")
	fs.IntVar(&latencyMembers, "latency-members", 0, "connected members of the latency load (default: 100; tiny: 10)")
	fs.IntVar(&idleSessions, "idle-sessions", 0, "sessions of the idle load (default: 10000; tiny: 100)")
	fs.DurationVar(&idleHold, "idle-hold", 0, "how long the idle sessions are held open before the memory is read (default: 10s; tiny: 1s)")
	fs.StringVar(&o.carillonBin, "carillon-bin", "", "a carillon binary to run (default: built from this module's ./cmd/carillon)")
	fs.StringVar(&o.carillonAPI, "carillon-api", "http", "Carillon's listener the publishes go to: http or https (the bare handler gets the same)")
	fs.StringVar(&o.carillonSessions, "carillon-sessions", "ws", "Carillon's listener the send, fanout and latency sessions connect to: ws or wss (idle measures both)")
	fs.StringVar(&o.region, "region", "us-east-1", "the region Carillon signs for")
	fs.StringVar(&o.accessKey, "access-key", "", "Carillon's root access key id (default: generated by each server)")
	fs.StringVar(&o.secretKey, "secret-key", "", "Carillon's root secret access key, with -access-key")
	fs.StringVar(&o.centrifugo, "centrifugo", "auto", "auto (built with go install into -cache-dir when missing), none, or the path of a Centrifugo "+centrifugoVersion+" binary")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "where the Centrifugo binary is kept (default: carillon-bench in the user's cache directory)")
	fs.DurationVar(&o.installTimeout, "install-timeout", 20*time.Minute, "how long building Centrifugo may take; past it, the comparison runs without Centrifugo and says so")
	fs.BoolVar(&o.pin, "pin", true, "pin the servers and the load generator to different cores with taskset")
	fs.IntVar(&o.serverCPU, "server-cpu", 0, "the core the servers run on")
	fs.IntVar(&o.loadCPU, "load-cpu", 1, "the core the load generator runs on")
	fs.StringVar(&o.out, "out", "", "also write the Markdown report to this file")
	fs.BoolVar(&o.reconnect, "reconnect", true, "sessions the server closes (4429, or any cut) reconnect with the same sessionId, as amazon-chime-sdk-js does, and their deliveries count across connections")
	fs.IntVar(&o.stall.sessions, "stall-sessions", 0, "how many sessions of each load stop reading for -stall-for, -stall-after the publishing started: slow consumers")
	fs.DurationVar(&o.stall.after, "stall-after", 2*time.Second, "when the -stall-sessions stop reading, after the publishing started")
	fs.DurationVar(&o.stall.for_, "stall-for", 8*time.Second, "how long the -stall-sessions read nothing")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	sz, ok := sizePresets[o.size]
	if !ok {
		return o, fmt.Errorf("-size %q: want full or tiny", o.size)
	}
	var err error
	if o.scenarios, err = parseList(scenarios, allScenarios, "-scenarios"); err != nil {
		return o, err
	}
	if o.servers, err = parseList(servers, allServers, "-servers"); err != nil {
		return o, err
	}
	if !slices.Contains(o.servers, "carillon") {
		return o, errors.New("-servers: carillon is the server under comparison")
	}
	if o.carillonAPI != "http" && o.carillonAPI != "https" {
		return o, fmt.Errorf("-carillon-api %q: want http or https", o.carillonAPI)
	}
	if o.carillonSessions != "ws" && o.carillonSessions != "wss" {
		return o, fmt.Errorf("-carillon-sessions %q: want ws or wss", o.carillonSessions)
	}
	if (o.accessKey == "") != (o.secretKey == "") {
		return o, errors.New("-access-key and -secret-key go together")
	}
	if sendMembers != "" {
		sz.sendMembers = nil
		for f := range strings.SplitSeq(sendMembers, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return o, fmt.Errorf("-send-members: %q is not a positive number", f)
			}
			sz.sendMembers = append(sz.sendMembers, n)
		}
	}
	for _, p := range []struct {
		flag  int
		field *int
	}{{runs, &sz.runs}, {publishers, &sz.publishers}, {fanoutMembers, &sz.fanoutMembers}, {latencyMembers, &sz.latencyMembers}, {idleSessions, &sz.idleSessions}} {
		if p.flag < 0 {
			return o, errors.New("counts must be positive")
		}
		if p.flag > 0 {
			*p.field = p.flag
		}
	}
	if latencyRate > 0 {
		sz.latencyRate = latencyRate
	}
	if duration > 0 {
		sz.duration = duration
	}
	if idleHold > 0 {
		sz.idleHold = idleHold
	}
	o.sz = sz
	if o.cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir() // no home: a CI runner's cache may be the only one
		}
		o.cacheDir = filepath.Join(dir, "carillon-bench")
	}
	o.command = commandLine(args)
	return o, nil
}

func parseList(s string, allowed []string, name string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(allowed, f) {
			return nil, fmt.Errorf("%s: unknown %q (want %s)", name, f, strings.Join(allowed, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: none given", name)
	}
	return out, nil
}

// commandLine is the command that runs the comparison again.
func commandLine(args []string) string {
	parts := []string{"go", "run", "./bench/compare"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// caseSpec is one load of the table: its rows and how each server runs it.
type caseSpec struct {
	title            string
	columns          []column
	carillonSessions string // the transport of Carillon's sessions in this case
	figures          []figure
	run              func(ctx context.Context, sys system, col column, logf func(string, ...any)) (measurement, error)
	// ratioTo, when set, is the case whose Centrifugo figures Carillon's
	// are compared with (the wss idle sessions, with Centrifugo's ws).
	ratioTo *caseSpec
}

// cases are the loads of the chosen scenarios, in the table's order.
func cases(o options) []*caseSpec {
	sz := o.sz
	var out []*caseSpec
	load := func(spec loadSpec) func(context.Context, system, column, func(string, ...any)) (measurement, error) {
		spec.duration, spec.drainQuiet, spec.drainMax, spec.fanoutWait = sz.duration, sz.drainQuiet, sz.drainMax, sz.fanoutWait
		spec.reconnect, spec.stall = o.reconnect, o.stall
		return func(ctx context.Context, sys system, col column, logf func(string, ...any)) (measurement, error) {
			s := spec
			if col == colBare {
				s.subscribers = 0 // the same publishes, and nobody to deliver to
			}
			return runLoad(ctx, sys, s, logf)
		}
	}
	both := []column{colCarillon, colCentrifugo}
	for _, s := range o.scenarios {
		switch s {
		case "send":
			for i, n := range sz.sendMembers {
				cols := both
				if i == 0 {
					// The ceiling: the same publishes to a handler that
					// does nothing. With members there is nothing of the
					// load it could take.
					cols = []column{colCarillon, colCentrifugo, colBare}
				}
				out = append(out, &caseSpec{
					title:            fmt.Sprintf("send: closed loop, %d publishers, %s connected", sz.publishers, plural(n, "member")),
					columns:          cols,
					carillonSessions: o.carillonSessions,
					figures:          []figure{figPublishes, figDelivered, figP50, figP99, figCPU, figCPUPerPublish, figGenCPU, figMissing},
					run:              load(loadSpec{subscribers: n, publishers: sz.publishers, mode: closedLoop}),
				})
			}
		case "fanout":
			out = append(out, &caseSpec{
				title:            fmt.Sprintf("fanout: %d publishers each waiting for delivery to %s", sz.publishers, plural(sz.fanoutMembers, "member")),
				columns:          both,
				carillonSessions: o.carillonSessions,
				figures:          []figure{figDelivered, figPublishes, figP50, figP99, figCPU, figCPUPerEvent, figGenCPU, figMissing},
				run:              load(loadSpec{subscribers: sz.fanoutMembers, publishers: sz.publishers, mode: fanoutLoop}),
			})
		case "latency":
			out = append(out, &caseSpec{
				title:            fmt.Sprintf("latency: open loop, %s msg/s into %s", formatCount(sz.latencyRate), plural(sz.latencyMembers, "member")),
				columns:          both,
				carillonSessions: o.carillonSessions,
				figures:          []figure{figP50, figP99, figP999, figPublishes, figCPU, figCPUPerPublish, figGenCPU, figMissing},
				run:              load(loadSpec{subscribers: sz.latencyMembers, publishers: sz.publishers, mode: openLoop, rate: sz.latencyRate}),
			})
		case "idle":
			idle := func(ctx context.Context, sys system, _ column, logf func(string, ...any)) (measurement, error) {
				return runIdle(ctx, sys, sz.idleSessions, sz.idleSettle, sz.idleHold, logf)
			}
			ws := &caseSpec{
				title:            fmt.Sprintf("idle: %s sessions over ws", formatCount(float64(sz.idleSessions))),
				columns:          both,
				carillonSessions: "ws",
				figures:          []figure{figIdle, figOpen},
				run:              idle,
			}
			out = append(out, ws, &caseSpec{
				title:            fmt.Sprintf("idle: %s sessions over wss (Carillon only; the ratio is to Centrifugo over ws)", formatCount(float64(sz.idleSessions))),
				columns:          []column{colCarillon},
				carillonSessions: "wss",
				figures:          []figure{figIdle, figOpen},
				run:              idle,
				ratioTo:          ws,
			})
		}
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return formatCount(float64(n)) + " " + word + "s"
}

// run runs the comparison and writes the report to stdout; progress
// goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.self == "" {
		if o.self, err = os.Executable(); err != nil {
			return err
		}
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	return compare(ctx, o, stdout, logf)
}

// compare prepares the binaries, pins, runs every case and writes the
// report.
func compare(ctx context.Context, o options, stdout io.Writer, logf func(string, ...any)) error {
	r := &report{
		title:   "Carillon, Centrifugo " + centrifugoVersion + " and a bare net/http handler",
		command: o.command,
		machine: describeMachine(),
		absent:  map[column]string{},
	}
	limit, limitDesc := loadkit.RaiseFileLimit()
	if need := uint64(o.sz.idleSessions + 200); slices.Contains(o.scenarios, "idle") && limit > 0 && need > limit {
		logf("warning: %s; %d idle sessions need about %d descriptors in this process and as many in the server", limitDesc, o.sz.idleSessions, need)
	}

	// The binaries, built with every core before the pinning.
	carillonBin := o.carillonBin
	if carillonBin == "" {
		dir, err := os.MkdirTemp("", "carillon-compare-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if carillonBin, err = buildCarillon(ctx, dir, logf); err != nil {
			return err
		}
	}
	centrifugoBin := ""
	if slices.Contains(o.servers, "centrifugo") {
		switch o.centrifugo {
		case "none":
			r.absent[colCentrifugo] = "not asked for (-centrifugo none)"
		case "auto":
			bin, err := installCentrifugo(ctx, o.cacheDir, o.installTimeout, logf)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				logf("Centrifugo absent: %v", err)
				r.absent[colCentrifugo] = "it could not be built: " + oneLine(err.Error())
			}
			centrifugoBin = bin
		default:
			centrifugoBin = o.centrifugo
		}
		if centrifugoBin != "" {
			v := centrifugoVersionOf(ctx, centrifugoBin)
			if !strings.Contains(v, strings.TrimPrefix(centrifugoVersion, "v")) {
				logf("warning: %s says %q, not %s", centrifugoBin, v, centrifugoVersion)
			}
			r.header = append(r.header, fmt.Sprintf("Centrifugo: %s; memory engine, history on for the namespace (%v messages, %v), publishes through its HTTP API, subscribers on its websocket with the JSON protocol and HS256 connection tokens",
				v, centrifugoNamespace["history_size"], centrifugoNamespace["history_ttl"]))
		}
	} else {
		r.absent[colCentrifugo] = "not asked for (-servers)"
	}
	if !slices.Contains(o.servers, "bare") {
		r.absent[colBare] = "not asked for (-servers)"
	}

	p := pin(o.pin, o.serverCPU, o.loadCPU)
	logf("%s", p.note)
	r.header = append(r.header,
		p.note,
		fmt.Sprintf("Carillon: `carillon serve` built from this tree, fresh data directory per load; publishes are SigV4-signed SendChannelMessage requests to its %s listener; sessions connect to /connect with presigned URLs over %s (idle: ws and wss)", strings.ToUpper(o.carillonAPI), o.carillonSessions),
		"Bare net/http: a handler that reads each request and answers 201 with a small JSON body, nothing else; it receives the same signed SendChannelMessage requests",
		fmt.Sprintf("Figures: medians of %s, the runs' range in parentheses; each load starts its server afresh; ratios are Carillon's figure over the other's (above 1 is more throughput, or more latency, CPU or memory)", plural(o.sz.runs, "run")),
		"Nothing lost: \"deliveries missing\" sums, over the runs, the deliveries of acknowledged messages that never reached a connected member",
		limitDesc,
	)

	specs := cases(o)
	for _, spec := range specs {
		r.cases = append(r.cases, &caseResult{spec: spec, ms: map[column][]measurement{}, errs: map[column][]string{}})
	}
	for run := 1; run <= o.sz.runs; run++ {
		for _, cr := range r.cases {
			for _, col := range cr.spec.columns {
				if _, absent := r.absent[col]; absent {
					continue
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var sys system
				switch col {
				case colCarillon:
					sys = &carillonSystem{bin: carillonBin, pin: p.server, api: o.carillonAPI, sessions: cr.spec.carillonSessions,
						region: o.region, accessKey: o.accessKey, secretKey: o.secretKey}
				case colCentrifugo:
					sys = &centrifugoSystem{bin: centrifugoBin, pin: p.server}
				case colBare:
					sys = &bareSystem{self: o.self, pin: p.server, api: o.carillonAPI}
				}
				logf("run %d/%d · %s · %s", run, o.sz.runs, cr.spec.title, col)
				began := time.Now()
				m, err := cr.spec.run(ctx, sys, col, logf)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					logf("  failed: %v", err)
					cr.errs[col] = append(cr.errs[col], err.Error())
					continue
				}
				cr.ms[col] = append(cr.ms[col], m)
				logf("  %s (%v)", summaryLine(cr.spec, m), time.Since(began).Round(100*time.Millisecond))
			}
		}
	}

	r.write(stdout)
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		r.write(f)
		if err := f.Close(); err != nil {
			return err
		}
	}
	failed := 0
	for _, cr := range r.cases {
		for _, e := range cr.errs {
			failed += len(e)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%s failed (the report's notes say why)", plural(failed, "load"))
	}
	return nil
}

// summaryLine is a run's figures, for the progress log.
func summaryLine(spec *caseSpec, m measurement) string {
	var parts []string
	for _, f := range spec.figures {
		if f.value == nil {
			continue
		}
		if v, ok := f.value(m); ok {
			parts = append(parts, f.name+" "+f.format(v))
		}
	}
	if m.Sessions > 0 && m.Expected > 0 {
		parts = append(parts, fmt.Sprintf("missing %d of %d", m.Missing(), m.Expected))
	}
	if m.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d publish errors", m.Errors))
	}
	return strings.Join(parts, ", ")
}

// buildCarillon builds ./cmd/carillon of the module the tool runs in.
func buildCarillon(ctx context.Context, dir string, logf func(string, ...any)) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	b, err := os.ReadFile(gomod)
	if err != nil || !strings.Contains(string(b), "module github.com/carillonhq/carillon\n") {
		return "", errors.New("run the tool inside the Carillon module, or give -carillon-bin")
	}
	bin := filepath.Join(dir, "carillon")
	logf("building carillon")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/carillon")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/carillon: %w\n%s", err, out)
	}
	return bin, nil
}
