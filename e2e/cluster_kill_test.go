package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/internal/natstest"
	"github.com/carillonhq/carillon/server"
)

// TestClusterNodeKilled: three `carillon serve` processes on one database
// and one NATS server; the one holding the outbox relay (and whatever
// else it holds) is killed with SIGKILL mid-stream. Its client sees an
// abnormal closure (1006, on which amazon-chime-sdk-js reconnects by
// itself) and reconnects to another node with the same sessionId, where
// the session resumes from what the dead node last wrote of it: every
// message at least once (a duplicate is what a crash may cost), in
// order, none missing. The other servers take its work over; every
// message acknowledged before and after reaches the sessions, in order,
// and stays listed.
func TestClusterNodeKilled(t *testing.T) {
	bin := buildCarillon(t)
	dsn := carillontest.PostgresDatabase(t)
	ns := natstest.New(t)
	root := server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()}
	var nodes []*wsEnv
	kill := map[*wsEnv]func(){}
	for i := range 3 {
		p := startProcess(t, bin, root, fmt.Sprint("node", i+1), "--database", dsn, "--nats", ns.URL())
		e := &wsEnv{srv: p.Server, id: chimesdkidentity.NewFromConfig(p.Config), msg: chimesdkmessaging.NewFromConfig(p.Config)}
		nodes = append(nodes, e)
		kill[e] = p.kill
	}
	out, err := nodes[0].id.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("cluster")})
	mustOK(t, err, "CreateAppInstance")
	for _, n := range nodes {
		n.app = aws.ToString(out.AppInstanceArn)
	}
	alice, bob := nodes[0].user(t, "alice"), nodes[0].user(t, "bob")
	ch := nodes[0].channel(t, alice, "kill", bob)
	locks := []string{"carillon/relay", "carillon/jobs", "carillon/flows", "carillon/stream", "carillon/push", "carillon/bots"}
	for _, l := range locks {
		waitLockHeld(t, nodes, l)
	}
	victim := nodes[lockHolder(t, nodes, "carillon/relay")]
	var rest []*wsEnv
	for _, n := range nodes {
		if n != victim {
			rest = append(rest, n)
		}
	}
	writer, other := rest[0], rest[1]
	onVictim := victim.rsDial(t, "on the victim", bob, "bob-on-victim", nil)
	onOther := other.connect(t, bob, "bob-on-other")
	var want []string
	send := func(content string) {
		writer.send(t, alice, ch, content)
		want = append(want, content)
	}
	send("before")
	onVictim.waitFor(t, "before", rsHasContent("before"))
	onOther.expectMessage(t, "before")

	kill[victim]()
	select {
	case <-onVictim.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the session on the killed node did not end")
	}
	// 1006 (the connection ended without a close frame), or a reset
	// when the dead server's socket had unread bytes (a pong).
	if _, code := onVictim.received(); code != websocket.CloseAbnormalClosure && code != 0 {
		t.Fatalf("the session on the killed node ended with %d, want 1006 or a reset", code)
	}
	send("while away")
	// What amazon-chime-sdk-js does on 1006: connect again, with the
	// same sessionId, through the load balancer, to a node that answers.
	again := writer.rsDial(t, "again", bob, "bob-on-victim", nil)
	for i := range 10 {
		send(fmt.Sprint("after ", i))
	}
	for _, content := range want[1:] {
		onOther.expectMessage(t, content)
	}
	for _, l := range locks {
		waitLockHeld(t, rest, l)
	}
	send("after the takeover")
	onOther.expectMessage(t, "after the takeover")
	again.waitFor(t, "after the takeover", rsHasContent("after the takeover"))
	f1, _ := onVictim.received()
	f2, _ := again.received()
	if got := rsContents(rsAtLeastOnce(t, f1, f2)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the session received %q across the kill, want %q", got, want)
	}
	if m := writer.wsMetrics(t); m[`carillon_session_handovers_total{result="unanswered"}`] != 1 {
		t.Errorf("handovers unanswered %v, want 1: the killed node could not answer", m[`carillon_session_handovers_total{result="unanswered"}`])
	}
	list, err := other.msg.ListChannelMessages(t.Context(), &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob), SortOrder: "ASCENDING", MaxResults: aws.Int32(50)})
	mustOK(t, err, "ListChannelMessages")
	var got []string
	for _, m := range list.ChannelMessages {
		got = append(got, aws.ToString(m.Content))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("messages listed after the kill: %q, want %q", got, want)
	}
}

// buildCarillon builds the carillon command into a directory of the
// test.
func buildCarillon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "carillon")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/carillonhq/carillon/cmd/carillon").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a `carillon serve` a test started.
type process struct {
	*carillontest.Server
	kill    func() // SIGKILL, and wait for the exit
	dataDir string
}

// startProcess runs `carillon serve` on loopback ports of its own with
// args, until the test ends. Its log is shown when the test fails.
func startProcess(t *testing.T, bin string, root server.RootCredentials, name string, args ...string) *process {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
		"--data-dir", dir, "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "CARILLON_ACCESS_KEY_ID="+root.AccessKeyID, "CARILLON_SECRET_ACCESS_KEY="+root.SecretAccessKey)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var once sync.Once
	kill := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		})
	}
	var logs bytes.Buffer
	var logsMu sync.Mutex
	started := make(chan map[string]any, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			logsMu.Lock()
			logs.Write(sc.Bytes())
			logs.WriteByte('\n')
			logsMu.Unlock()
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "carillon started" {
				started <- line
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		kill()
		if t.Failed() {
			logsMu.Lock()
			t.Logf("%s's log:\n%s", name, logs.String())
			logsMu.Unlock()
		}
	})
	var line map[string]any
	select {
	case line = <-started:
	case <-exited:
		t.Fatalf("%s exited:\n%s", name, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start", name)
	}
	addr, _ := line["http"].(string)
	tlsAddr, _ := line["https"].(string)
	certFile := filepath.Join(dir, "tls-cert.pem")
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--tls-cert" {
			certFile = args[i+1]
		}
	}
	cert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	return &process{Server: carillontest.Remote(addr, tlsAddr, server.DefaultRegion, root, cert, kill), kill: kill, dataDir: dir}
}

// TestJSClusterNodeKilled drives amazon-chime-sdk-js's
// DefaultMessagingSession (e2e/js/cluster_session.mjs) through a load
// balancer in front of three `carillon serve` processes, each given the
// balancer as --public-endpoint. When the script is connected, the test
// kills the server its session is on; the script checks that the SDK
// reconnects by itself on 1006, through the balancer, to a server that
// delivers what is sent afterwards.
func TestJSClusterNodeKilled(t *testing.T) {
	node, dir := jsRuntime(t)
	bin := buildCarillon(t)
	dsn := carillontest.PostgresDatabase(t)
	ns := natstest.New(t)
	lb := newBalancer(t)
	root := server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()}
	// The servers share one certificate, as the servers behind a
	// balancer that passes TLS through do: the first generates it.
	var nodes []*process
	args := []string{"--database", dsn, "--nats", ns.URL(), "--public-endpoint", lb.addr}
	for i := range 3 {
		p := startProcess(t, bin, root, fmt.Sprint("node", i+1), args...)
		if i == 0 {
			args = append(args, "--tls-cert", filepath.Join(p.dataDir, "tls-cert.pem"), "--tls-key", filepath.Join(p.dataDir, "tls-key.pem"))
		}
		nodes = append(nodes, p)
		lb.add(strings.TrimPrefix(p.TLSEndpoint, "https://"))
	}
	caFile := filepath.Join(nodes[0].dataDir, "tls-cert.pem")

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var stderr, transcript jsBuffer
	cmd := exec.CommandContext(ctx, node, "cluster_session.mjs")
	cmd.Dir = dir
	cmd.Env = jsEnv(t, "https://"+lb.addr, server.DefaultRegion, root, "NODE_EXTRA_CA_CERTS="+caFile)
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	killed, passed := false, false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		fmt.Fprintln(&transcript, line)
		switch line {
		case "WAITING_KILL":
			var on *process
			for _, n := range nodes {
				if jsSessionsOpen(t, n.Server) > 0 {
					on = n
				}
			}
			if on == nil {
				t.Fatal("no server has the script's session open")
			}
			on.kill()
			killed = true
			if _, err := io.WriteString(stdin, "KILLED\n"); err != nil {
				t.Fatalf("answering the script: %v", err)
			}
		case "PASS":
			passed = true
		}
	}
	err = cmd.Wait()
	if err != nil || !killed || !passed {
		t.Fatalf("node cluster_session.mjs: %v (killed %v, passed %v)\nstdout:\n%s\nstderr:\n%s", err, killed, passed, transcript.String(), stderr.String())
	}
}

// jsSessionsOpen reads carillon_session_open from a server's /metrics.
func jsSessionsOpen(t *testing.T, srv *carillontest.Server) float64 {
	t.Helper()
	resp, err := http.Get(srv.Endpoint + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "carillon_session_open "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

// balancer is a TCP load balancer for a test: each connection goes to the
// next backend, round robin, skipping those that refuse it. TLS passes
// through, so that clients see the servers' certificates.
type balancer struct {
	addr string
	ln   net.Listener

	mu       sync.Mutex
	backends []string
	next     int
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

func newBalancer(t *testing.T) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	b.wg.Add(1)
	go b.serve()
	t.Cleanup(b.close)
	return b
}

func (b *balancer) add(backend string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, backend)
}

func (b *balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.proxy(c)
		}()
	}
}

func (b *balancer) track(c net.Conn, on bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !on {
		delete(b.conns, c)
		return true
	}
	if b.conns == nil { // closed
		return false
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *balancer) proxy(client net.Conn) {
	defer client.Close()
	if !b.track(client, true) {
		return
	}
	defer b.track(client, false)
	b.mu.Lock()
	backends, start := append([]string(nil), b.backends...), b.next
	b.next++
	b.mu.Unlock()
	var upstream net.Conn
	for i := range backends {
		c, err := net.DialTimeout("tcp", backends[(start+i)%len(backends)], 2*time.Second)
		if err == nil {
			upstream = c
			break
		}
	}
	if upstream == nil {
		return
	}
	defer upstream.Close()
	if !b.track(upstream, true) {
		return
	}
	defer b.track(upstream, false)
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(upstream, client)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(client, upstream)
		done <- struct{}{}
	}()
	<-done // either side ending ends both, as a balancer does
	client.Close()
	upstream.Close()
	<-done
}

func (b *balancer) close() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.conns = nil
	b.mu.Unlock()
	b.wg.Wait()
}
