package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// kinesalite is a Kinesis-compatible server from npm (e2e/js's
// package.json; CI installs it with npm ci), run by a test as a process
// of its own so that the test can kill it and start it again.
type kinesalite struct {
	node, cli string
	port      int
	path      string // its LevelDB data, so that streams survive a restart
	cmd       *exec.Cmd
	out       *bytes.Buffer
}

// startKinesalite starts kinesalite on a free port, its data in a
// directory of the test.
func startKinesalite(t *testing.T) *kinesalite {
	t.Helper()
	node, dir := jsRuntime(t)
	cli := filepath.Join(dir, "node_modules", "kinesalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("kinesalite is not installed (run: (cd e2e/js && npm ci)): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	k := &kinesalite{node: node, cli: cli, port: port, path: t.TempDir()}
	k.start(t)
	t.Cleanup(k.kill)
	return k
}

// start runs kinesalite and waits until it accepts connections.
func (k *kinesalite) start(t *testing.T) {
	t.Helper()
	k.out = &bytes.Buffer{}
	// Streams are ACTIVE at once, not after kinesalite's default 500ms.
	k.cmd = exec.Command(k.node, k.cli, "--port", strconv.Itoa(k.port), "--path", k.path,
		"--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0")
	k.cmd.Stdout, k.cmd.Stderr = k.out, k.out
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("starting kinesalite: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", k.addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			k.kill()
			t.Fatalf("kinesalite did not start: %v\n%s", err, k.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill stops kinesalite at once, as a crash would.
func (k *kinesalite) kill() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	_ = k.cmd.Process.Kill()
	_ = k.cmd.Wait()
	k.cmd = nil
}

func (k *kinesalite) addr() string     { return "127.0.0.1:" + strconv.Itoa(k.port) }
func (k *kinesalite) endpoint() string { return "http://" + k.addr() }

// awsConfig is the configuration of the test's Kinesis client and of the
// server's export: any credentials do for kinesalite.
func (k *kinesalite) awsConfig() aws.Config {
	return aws.Config{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDKINESALITE", "secret", ""),
		BaseEndpoint:     aws.String(k.endpoint()),
		RetryMaxAttempts: 1,
	}
}

func (k *kinesalite) client() *kinesis.Client { return kinesis.NewFromConfig(k.awsConfig()) }

// createStream creates a stream of shards shards and waits until it is
// ACTIVE.
func (k *kinesalite) createStream(t *testing.T, name string, shards int32) {
	t.Helper()
	c := k.client()
	_, err := c.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)})
	mustOK(t, err, "CreateStream %s", name)
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := c.DescribeStream(t.Context(), &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		mustOK(t, err, "DescribeStream %s", name)
		if out.StreamDescription.StreamStatus == ktypes.StreamStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s is %s", name, out.StreamDescription.StreamStatus)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kinesisRecord is a record read back, with its shard.
type kinesisRecord struct {
	Shard        string
	PartitionKey string
	Data         []byte
}

// readAll reads every record of every shard of the stream from the start,
// each shard in order.
func (k *kinesalite) readAll(ctx context.Context, name string) ([]kinesisRecord, error) {
	c := k.client()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	var out []kinesisRecord
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(name), ShardId: sh.ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return nil, err
		}
		iter := it.ShardIterator
		for iter != nil {
			page, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
			if err != nil {
				return nil, err
			}
			for _, r := range page.Records {
				out = append(out, kinesisRecord{Shard: aws.ToString(sh.ShardId), PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data})
			}
			if len(page.Records) == 0 || aws.ToInt64(page.MillisBehindLatest) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out, nil
}

// waitRecords reads the stream until done says the records are all there,
// or fails the test after a while.
func (k *kinesalite) waitRecords(t *testing.T, name string, done func([]kinesisRecord) error) []kinesisRecord {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs, err := k.readAll(t.Context(), name)
		if err == nil {
			if err = done(recs); err == nil {
				return recs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var errNotYet = errors.New("not yet")

func notYet(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNotYet, fmt.Sprintf(format, args...))
}
