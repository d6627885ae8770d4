package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
// itself) and reconnects to another node; the other servers take its
// work over; every message acknowledged before and after reaches the
// sessions, in order, and stays listed.
func TestClusterNodeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the carillon command")
	}
	bin := buildCarillon(t)
	dsn := carillontest.PostgresDatabase(t)
	ns := natstest.New(t)
	root := server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()}
	var nodes []*wsEnv
	kill := map[*wsEnv]func(){}
	for i := range 3 {
		srv, k := startProcess(t, bin, root, fmt.Sprint("node", i+1), "--database", dsn, "--nats", ns.URL())
		e := &wsEnv{srv: srv, id: chimesdkidentity.NewFromConfig(srv.Config), msg: chimesdkmessaging.NewFromConfig(srv.Config)}
		nodes = append(nodes, e)
		kill[e] = k
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
	onVictim := victim.connect(t, bob, "bob-on-victim")
	onOther := other.connect(t, bob, "bob-on-other")
	var want []string
	send := func(content string) {
		writer.send(t, alice, ch, content)
		want = append(want, content)
	}
	send("before")
	onVictim.expectMessage(t, "before")
	onOther.expectMessage(t, "before")

	kill[victim]()
	onVictim.expectClose(t, websocket.CloseAbnormalClosure)
	// What amazon-chime-sdk-js does on 1006: connect again, through the
	// load balancer, to a node that answers.
	again := writer.connect(t, bob, "bob-reconnected")
	for i := range 10 {
		send(fmt.Sprint("after ", i))
	}
	for _, s := range []*wsConn{onOther, again} {
		for _, content := range want[1:] {
			s.expectMessage(t, content)
		}
	}
	for _, l := range locks {
		waitLockHeld(t, rest, l)
	}
	send("after the takeover")
	onOther.expectMessage(t, "after the takeover")
	again.expectMessage(t, "after the takeover")
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

// startProcess runs `carillon serve` on loopback ports of its own with
// args, until the test ends; kill sends it SIGKILL. Its log is shown when
// the test fails.
func startProcess(t *testing.T, bin string, root server.RootCredentials, name string, args ...string) (srv *carillontest.Server, kill func()) {
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
	kill = func() {
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
	cert, err := os.ReadFile(filepath.Join(dir, "tls-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return carillontest.Remote(addr, tlsAddr, server.DefaultRegion, root, cert, kill), kill
}
