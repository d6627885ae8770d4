package hub

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// While sessions are parked, the poller's goroutine waits in the
// runtime's network poller ("IO wait"), never in a system call: a thread
// blocked in epoll_wait keeps its P until the runtime's monitor takes it
// back, and with one P the whole server stalls meanwhile.
func TestPollerWaitsWithoutAThread(t *testing.T) {
	if sharedPoller() == nil {
		t.Fatal("no epoll on linux")
	}
	f := newCountingEndpoint(t, Config{PingInterval: time.Hour}, true)
	c := f.dial(t, "alice", "1")
	defer c.Close()
	var state string
	waitFor(t, "the poller to wait", func() bool {
		state = pollerState()
		return state != "" && state != "running" && state != "runnable"
	})
	if state != "IO wait" {
		t.Fatalf("the poller's goroutine waits in %q, want IO wait", state)
	}
}

// pollerState is the state runtime.Stack gives the poller's goroutine,
// "" if there is none.
func pollerState() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "hub.(*poller).run") {
			continue
		}
		// "goroutine 7 [IO wait, 2 minutes]:"
		head, _, _ := strings.Cut(g, "\n")
		_, state, _ := strings.Cut(head, "[")
		state, _, _ = strings.Cut(state, "]")
		state, _, _ = strings.Cut(state, ",")
		return state
	}
	return ""
}
