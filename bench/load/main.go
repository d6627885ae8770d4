// Command load puts a Carillon server under messaging-session load: N
// websocket sessions, each a distinct user, all members of one channel,
// and one sender posting SendChannelMessage at a fixed rate (or, with
// -publishers P, P members each sending and waiting for delivery to every
// session before sending again). Every message carries its send time;
// every session records how long each event took from the send to its
// arrival. With -idle N it instead opens
// N idle sessions and reports the server's resident memory per session.
//
//	go run ./bench/load -sessions 100 -rate 50 -duration 20s
//	go run ./bench/load -sessions 1000 -publishers 16 -duration 20s
//	go run ./bench/load -idle 1000 [-ws]
//
// Without -endpoint the server runs inside this process, with a temporary
// data directory. To measure the server's memory on its own, run it as a
// separate process and point -endpoint at it:
//
//	go run ./cmd/carillon serve --data-dir ./carillon-load &
//	go run ./bench/load -endpoint http://127.0.0.1:8080 -data-dir ./carillon-load -idle 10000
//
// -data-dir is where the tool finds the server's generated root
// credentials and certificate when -access-key, -secret-key and -tls-ca
// are not given. docs/benchmarks.md has the figures and how they were
// measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// run parses the flags, runs the load and prints the report to out.
func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.Endpoint, "endpoint", "", "plain-HTTP URL of a running server, e.g. http://127.0.0.1:8080; empty: start one in this process")
	fs.StringVar(&o.DataDir, "data-dir", "", "the server's data directory, read for root-credentials.json and tls-cert.pem when -access-key, -secret-key or -tls-ca are empty (default with -endpoint: ./carillon-data, as carillon serve; in-process: a temporary directory)")
	fs.StringVar(&o.AccessKey, "access-key", "", "root access key id (in-process: generated)")
	fs.StringVar(&o.SecretKey, "secret-key", "", "root secret access key (in-process: generated)")
	fs.StringVar(&o.Region, "region", "us-east-1", "the region the server accepts signatures for")
	fs.StringVar(&o.TLSCA, "tls-ca", "", "PEM of the server's certificate, for wss:// (default: <data-dir>/tls-cert.pem)")
	fs.IntVar(&o.Sessions, "sessions", 100, "websocket sessions, each a distinct user, all members of the channel (the first one also sends)")
	fs.Float64Var(&o.Rate, "rate", 50, "messages per second sent by the one sender")
	fs.IntVar(&o.Publishers, "publishers", 0, "instead of -rate: this many members each send a message and wait for it to reach every session before the next (closed loop), for -duration")
	fs.BoolVar(&o.WS, "ws", false, "connect over plain ws:// to the -endpoint's listener instead of wss:// to the messaging session endpoint")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long to send; with -idle, how long to hold the sessions open before measuring")
	fs.IntVar(&o.Idle, "idle", 0, "open this many idle sessions and report the server's memory per session, instead of sending")
	fs.IntVar(&o.OpenConcurrency, "open-concurrency", 50, "sessions being opened at a time")
	fs.DurationVar(&o.Drain, "drain", 10*time.Second, "how long to wait, after the last send, for the events still on their way")
	fs.StringVar(&o.MemProfile, "memprofile", "", "with -idle, write this process's heap profile to this file once the sessions are open (the in-process server's allocations are in it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.Log = out
	res, err := Run(ctx, o)
	if res != nil {
		res.Print(out)
	}
	return err
}
