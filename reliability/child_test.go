package reliability

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/pgtest"
	"github.com/carillonhq/carillon/postgres"
	"github.com/carillonhq/carillon/server"
	"github.com/carillonhq/carillon/sqlite"
)

var (
	binaryFlag  = flag.String("carillon-binary", "", "run this carillon binary instead of building one")
	cyclesFlag  = flag.Int("cycles", 3, "kill -9 cycles per store engine")
	enginesFlag = flag.String("engines", "sqlite,postgres", "comma-separated store engines to run the kill -9 cycles on")
)

// binary is the carillon binary the tests run.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	binary = *binaryFlag
	if binary == "" {
		dir, err := os.MkdirTemp("", "carillon-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "carillon")
		args := []string{"build", "-o", binary}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "../cmd/carillon")...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building carillon:", err)
			return 1
		}
	}
	return pgtest.Main(m)
}

// engine is a store engine the server can run on: how to point `carillon
// serve` at a store of its own, and how to open that store to inspect it
// while the server is down.
type engine struct {
	name string
	// prepare, when set, makes the test's store before the first start,
	// noting under dir what args and open need.
	prepare func(t *testing.T, dir string)
	// args are the serve flags for the store kept under dir.
	args func(dir string) []string
	// open opens the store the server used.
	open func(ctx context.Context, dir string) (carillon.Store, error)
}

// engines are the engines -engines may name.
var engines = map[string]engine{
	"sqlite": {
		name: "sqlite",
		args: func(dir string) []string { return []string{"--data-dir", dir} },
		open: func(ctx context.Context, dir string) (carillon.Store, error) {
			return sqlite.Open(ctx, filepath.Join(dir, "carillon.db"), carillon.SystemClock{})
		},
	},
	// postgres: a database of the test's own on the throwaway PostgreSQL
	// server of internal/pgtest, its URL kept in dir.
	"postgres": {
		name: "postgres",
		prepare: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, databaseURLFile), []byte(pgtest.Database(t)), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		args: func(dir string) []string { return []string{"--data-dir", dir, "--database", databaseURL(dir)} },
		open: func(ctx context.Context, dir string) (carillon.Store, error) {
			return postgres.Open(ctx, databaseURL(dir), carillon.SystemClock{})
		},
	},
}

// databaseURLFile holds, in a postgres engine's dir, its database's URL.
const databaseURLFile = "database-url"

// databaseURL is the URL prepare kept in dir; "" (which serve and
// postgres.Open refuse) when there is none.
func databaseURL(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, databaseURLFile))
	return string(b)
}

// syncBuffer collects a child's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// child is a running `carillon serve`.
type child struct {
	cmd    *exec.Cmd
	addr   string // the plain-HTTP listener
	root   server.RootCredentials
	log    *syncBuffer
	exited chan struct{}
}

// startServe starts `carillon serve` on loopback with the given store
// flags, without TLS, and waits for it to listen. shell, when not "",
// wraps the command: `sh -c '<shell> && exec "$0" "$@"' carillon serve …`.
func startServe(t *testing.T, root server.RootCredentials, shell string, args ...string) *child {
	t.Helper()
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--tls-listen", "", "--log-format", "json", "--log-level", "info"}, args...)
	var cmd *exec.Cmd
	if shell != "" {
		cmd = exec.Command("sh", append([]string{"-c", shell + ` && exec "$0" "$@"`, binary}, args...)...)
	} else {
		cmd = exec.Command(binary, args...)
	}
	cmd.Env = append(os.Environ(), "CARILLON_ACCESS_KEY_ID="+root.AccessKeyID, "CARILLON_SECRET_ACCESS_KEY="+root.SecretAccessKey)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, root: root, log: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = c.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.log.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, HTTP string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "carillon started" {
				addr <- line.HTTP
			}
		}
		_, _ = io.Copy(c.log, stderr)
	}()
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() { c.kill() })
	select {
	case c.addr = <-addr:
	case <-c.exited:
		t.Fatalf("carillon serve exited:\n%s", c.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("carillon serve did not start:\n%s", c.log)
	}
	return c
}

// kill sends SIGKILL and waits for the process to end.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// stop asks the server to shut down (SIGTERM) and waits.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.kill()
		t.Fatalf("carillon serve did not stop on SIGINT:\n%s", c.log)
	}
}

func (c *child) endpoint() string { return "http://" + c.addr }

// config is an aws.Config for the root key at the child.
func (c *child) config() aws.Config {
	return aws.Config{
		Region:       server.DefaultRegion,
		BaseEndpoint: aws.String(c.endpoint()),
		Credentials:  credentials.NewStaticCredentialsProvider(c.root.AccessKeyID, c.root.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
		// The harness decides what to retry, and with which token.
		RetryMaxAttempts: 1,
	}
}

// healthz asks /healthz once, within timeout.
func healthz(addr string, timeout time.Duration) error {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != "ok" {
		return fmt.Errorf("/healthz: %d %q", resp.StatusCode, b)
	}
	return nil
}
