package reliability

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"

	"github.com/carillonhq/carillon/server"
)

// fdLimit is the descriptor limit the server runs under: room for its
// database, listeners and a little more, far below the connections the
// test opens.
const fdLimit = 256

// TestDescriptorExhaustion starts the server under `ulimit -n 256` and
// opens twice as many connections as it has descriptors: first idle
// keep-alive connections, then connections that never send a byte. The
// server keeps answering /healthz and API calls throughout (it used to
// stop accepting at "too many open files").
func TestDescriptorExhaustion(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to lower the descriptor limit with")
	}
	root := server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()}
	srv := startServe(t, root, fmt.Sprintf("ulimit -n %d", fdLimit), "--data-dir", t.TempDir())

	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	open := func(n int, request bool) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				c, err := net.DialTimeout("tcp", srv.addr, 5*time.Second)
				if err != nil {
					return
				}
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
				if !request {
					return
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: carillon\r\n\r\n")
				if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
					resp.Body.Close() // the connection stays open, idle
				}
			})
		}
		wg.Wait()
	}
	answered := func(what string) {
		t.Helper()
		// A few tries: a connection that arrives while every slot is
		// held by a silent one waits out their grace period.
		var err error
		for range 20 {
			if err = healthz(srv.addr, 3*time.Second); err == nil {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: /healthz not answered: %v\n%s", what, err, srv.log)
		}
		id := chimesdkidentity.NewFromConfig(srv.config())
		if _, err := id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{MaxResults: aws.Int32(1)}); err != nil {
			t.Fatalf("%s: ListAppInstances: %v", what, err)
		}
	}

	open(2*fdLimit, true)
	answered("with idle keep-alive connections")
	open(2*fdLimit, false)
	answered("with silent connections")
}
