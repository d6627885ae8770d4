package e2e

// Resuming messaging sessions (docs/sessions.md): a connection that comes
// back with the same user and sessionId receives what it missed, once, in
// order, with the audience rules as of each event.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/hub"
	"github.com/carillonhq/carillon/server"
)

// rsClient is a messaging session whose frames a goroutine reads as they
// come (answering pings as clients do), and whose TCP connection the test
// can reset.
type rsClient struct {
	name string
	conn *websocket.Conn
	tcp  *net.TCPConn

	// resetAtPing: the client answers the next ping, then resets the
	// connection and processes nothing more, like a client that dies
	// right after.
	resetAtPing atomic.Bool
	// muteAtPing: the client answers the next ping, then processes
	// nothing more and answers nothing, its connection left open: a
	// half-open connection, which the server does not see end.
	muteAtPing atomic.Bool
	dead       atomic.Bool
	// gate, when set, holds the reader before its next read until it is
	// closed: a client that stops reading.
	gate atomic.Pointer[chan struct{}]

	mu     sync.Mutex
	frames []wsFrame
	// pinged is the number of frames read before the last ping answered:
	// its pong confirms them to the server.
	pinged    int
	pings     int
	closeCode int
	readErr   error
	changed   chan struct{}
	done      chan struct{}
}

// rsDial connects user's sessionID (extra query parameters signed with
// the rest), starts reading, and waits for SESSION_ESTABLISHED: a session
// receives the events committed after it is established, not after the
// handshake (clients wait for it too).
func (e *wsEnv) rsDial(t *testing.T, name, user, sessionID string, extra url.Values) *rsClient {
	t.Helper()
	c := &rsClient{name: name, changed: make(chan struct{}, 1), done: make(chan struct{})}
	d := *e.srv.Dialer()
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			c.tcp = tc
		}
		return conn, err
	}
	d.TLSClientConfig = &tls.Config{RootCAs: e.srv.CertPool, MinVersion: tls.VersionTLS12}
	conn, _, err := d.Dial(e.srv.ConnectURL(t, e.srv.Config, user, sessionID, extra), nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	c.conn = conn
	t.Cleanup(func() { conn.Close(); <-c.done })
	conn.SetPingHandler(func(data string) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.dead.Load() {
			return nil
		}
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		if err == nil {
			c.pinged, c.pings = len(c.frames), c.pings+1
		}
		if c.resetAtPing.Load() {
			c.resetLocked()
		}
		if c.muteAtPing.Load() {
			c.dead.Store(true)
		}
		c.notify()
		return err
	})
	go c.read(t)
	c.waitFor(t, "SESSION_ESTABLISHED", func(f []wsFrame) bool { return len(f) > 0 })
	return c
}

// resetLocked makes the client's kernel answer with a reset (SO_LINGER 0)
// and drop what it has not read; the client processes nothing more.
func (c *rsClient) resetLocked() {
	c.dead.Store(true)
	_ = c.tcp.SetLinger(0)
	_ = c.tcp.Close()
}

func (c *rsClient) read(t *testing.T) {
	defer close(c.done)
	for {
		if g := c.gate.Load(); g != nil {
			<-*g
		}
		_, b, err := c.conn.ReadMessage()
		c.mu.Lock()
		if c.dead.Load() {
			c.mu.Unlock()
			if err == nil && !c.resetAtPing.Load() {
				continue // muted: reads, and processes nothing
			}
			return // what a dead client read is not processed
		}
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.closeCode = ce.Code
			}
			c.readErr = err
			c.mu.Unlock()
			c.notify()
			return
		}
		f, perr := rsParse(b)
		if perr != nil {
			c.readErr = fmt.Errorf("frame %s: %w", b, perr)
			c.mu.Unlock()
			c.notify()
			return
		}
		c.frames = append(c.frames, f)
		c.mu.Unlock()
		c.notify()
	}
}

func (c *rsClient) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func rsParse(b []byte) (wsFrame, error) {
	var raw struct {
		Headers map[string]string
		Payload *string
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return wsFrame{}, err
	}
	f := wsFrame{Headers: raw.Headers, raw: b}
	if raw.Payload != nil {
		if err := json.Unmarshal([]byte(*raw.Payload), &f.Payload); err != nil {
			return f, err
		}
	}
	return f, nil
}

// waitFor waits until cond holds for the frames received, failing after
// 20 seconds or when the connection ends first.
func (c *rsClient) waitFor(t *testing.T, what string, cond func([]wsFrame) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		ok, err, frames := cond(c.frames), c.readErr, len(c.frames)
		c.mu.Unlock()
		if ok {
			return
		}
		if err != nil {
			t.Fatalf("%s: waiting for %s: the connection ended (%v) after %d frames", c.name, what, err, frames)
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("%s: no %s within 20s (%d frames)", c.name, what, frames)
		}
	}
}

// received returns the frames read, and the close code (0: none yet).
func (c *rsClient) received() ([]wsFrame, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.frames), c.closeCode
}

// rsContents returns the contents of the messages among frames.
func rsContents(frames []wsFrame) []string {
	var out []string
	for _, f := range frames {
		if f.event() == "CREATE_CHANNEL_MESSAGE" {
			out = append(out, f.str("Content"))
		}
	}
	return out
}

func rsHasContent(content string) func([]wsFrame) bool {
	return func(frames []wsFrame) bool { return slices.Contains(rsContents(frames), content) }
}

// rsEvents checks what the two connections of a session received
// together: SESSION_ESTABLISHED first on each, then event frames whose
// x-carillon-seq strictly increases across both (every event at most
// once, in commit order). It returns the event frames.
func rsEvents(t *testing.T, conns ...[]wsFrame) []wsFrame {
	t.Helper()
	var out []wsFrame
	var last int64
	for i, frames := range conns {
		if len(frames) == 0 || frames[0].event() != "SESSION_ESTABLISHED" {
			t.Fatalf("connection %d: first frame is not SESSION_ESTABLISHED: %v", i, frames)
		}
		for _, f := range frames[1:] {
			seq := frameSeq(t, i, f)
			if seq <= last {
				t.Fatalf("connection %d: %s (seq %d) after seq %d: a duplicate, or out of order", i, f.raw, seq, last)
			}
			last = seq
			out = append(out, f)
		}
	}
	return out
}

// rsAtLeastOnce is rsEvents for a session that may receive an event
// twice across its connections (after a crash of the server it was on):
// within each connection x-carillon-seq strictly increases, and the
// event frames it returns are those of every connection, each once, in
// order, a later connection's repeat of an earlier one's dropped.
func rsAtLeastOnce(t *testing.T, conns ...[]wsFrame) []wsFrame {
	t.Helper()
	var out []wsFrame
	var last int64
	for i, frames := range conns {
		if len(frames) == 0 || frames[0].event() != "SESSION_ESTABLISHED" {
			t.Fatalf("connection %d: first frame is not SESSION_ESTABLISHED: %v", i, frames)
		}
		var prev int64
		for _, f := range frames[1:] {
			seq := frameSeq(t, i, f)
			if seq <= prev {
				t.Fatalf("connection %d: %s (seq %d) after seq %d: out of order", i, f.raw, seq, prev)
			}
			prev = seq
			if seq > last {
				last = seq
				out = append(out, f)
			}
		}
	}
	return out
}

// rsSender sends numbered messages to a channel until stopped, and
// returns their contents, in order.
func (e *wsEnv) rsSender(t *testing.T, bearer, channel, prefix string, every time.Duration) (stop func() []string) {
	var sent []string
	var mu sync.Mutex
	var failure error
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-time.After(every):
			}
			content := fmt.Sprintf("%s%d", prefix, i)
			_, err := e.msg.SendChannelMessage(context.Background(), &chimesdkmessaging.SendChannelMessageInput{
				ChannelArn: aws.String(channel), ChimeBearer: aws.String(bearer), Content: aws.String(content),
				Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
			})
			mu.Lock()
			if err != nil {
				failure = err
				mu.Unlock()
				return
			}
			sent = append(sent, content)
			mu.Unlock()
		}
	}()
	return func() []string {
		close(quit)
		<-done
		if failure != nil {
			t.Fatalf("sending to %s: %v", channel, failure)
		}
		return sent
	}
}

// A session reset mid-stream comes back with the same sessionId: it
// receives every message of its channels exactly once and in order, and
// what changed in its memberships while it was away applies as of each
// event: removed from a channel, nothing of it after the removal; added
// to one, what followed; a targeted message only if it is the target; a
// HIDDEN membership's events.
func TestSessionResumeAfterReset(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	chA := e.channel(t, bob, "A", alice, carol)
	chB := e.channel(t, bob, "B", carol)
	chC := e.channel(t, bob, "C", alice)
	chD := e.channel(t, bob, "D")

	first := e.rsDial(t, "first", alice, "s1", nil)
	stop := e.rsSender(t, bob, chA, "a", 5*time.Millisecond)
	e.send(t, bob, chC, "c-before")
	first.waitFor(t, "c-before and 10 messages of A", func(f []wsFrame) bool {
		return slices.Contains(rsContents(f), "c-before") && len(rsContents(f)) > 10
	})
	// Mid-stream: the reset comes right after a pong, while A's messages
	// keep coming (and some were written to the dead connection).
	first.resetAtPing.Store(true)
	select {
	case <-first.done:
	case <-time.After(20 * time.Second):
		t.Fatal("no ping within 20s")
	}

	// While the session is away.
	e.send(t, bob, chB, "b-before")
	e.addMember(t, bob, chB, alice, mtypes.ChannelMembershipTypeDefault)
	e.send(t, bob, chB, "b-after")
	e.send(t, bob, chC, "c-still")
	if _, err := e.msg.DeleteChannelMembership(t.Context(), &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: aws.String(chC), ChimeBearer: aws.String(bob), MemberArn: aws.String(alice),
	}); err != nil {
		t.Fatal(err)
	}
	e.send(t, bob, chC, "c-after")
	e.send(t, bob, chA, "to-carol", wsTarget(carol))
	e.send(t, bob, chA, "to-alice", wsTarget(alice))
	e.addMember(t, bob, chD, alice, mtypes.ChannelMembershipTypeHidden)
	e.send(t, bob, chD, "d-after")

	second := e.rsDial(t, "second", alice, "s1", nil)
	second.waitFor(t, "d-after", rsHasContent("d-after"))
	sentA := stop()
	e.send(t, bob, chA, "end")
	second.waitFor(t, "end", rsHasContent("end"))

	f1, _ := first.received()
	f2, _ := second.received()
	events := rsEvents(t, f1, f2)
	var inA, inB, inC, inD []string
	for _, f := range events {
		ch, _ := f.Payload["ChannelArn"].(string)
		what := f.str("Content")
		if f.event() != "CREATE_CHANNEL_MESSAGE" {
			member, _ := f.Payload["Member"].(map[string]any)
			what = f.event() + " " + fmt.Sprint(member["Arn"])
		}
		switch ch {
		case chA:
			inA = append(inA, what)
		case chB:
			inB = append(inB, what)
		case chC:
			inC = append(inC, what)
		case chD:
			inD = append(inD, what)
		default:
			t.Errorf("a frame of no channel of the test: %s", f.raw)
		}
	}
	wantA := append(slices.Clone(sentA), "to-alice", "end")
	if !slices.Equal(withoutTargeted(inA), withoutTargeted(wantA)) || !slices.Contains(inA, "to-alice") || slices.Contains(inA, "to-carol") {
		t.Errorf("channel A: received %d messages %v,\nwant the %d sent %v, to-alice and end", len(inA), inA, len(sentA), sentA)
	}
	check := func(name string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("channel %s: received %q, want %q", name, got, want)
		}
	}
	check("B", inB, "CREATE_CHANNEL_MEMBERSHIP "+alice, "b-after")
	check("C", inC, "c-before", "c-still", "DELETE_CHANNEL_MEMBERSHIP "+alice)
	check("D", inD, "CREATE_CHANNEL_MEMBERSHIP "+alice, "d-after")
	// A's messages were both confirmed before the reset and replayed.
	n1 := len(rsContents(f1))
	if n1 == 0 || n1 >= len(sentA) {
		t.Errorf("the first connection received %d of A's %d messages: the reset was not mid-stream", n1, len(sentA))
	}
	m := e.wsMetrics(t)
	if m["carillon_session_resumed_total"] != 1 || m["carillon_session_replayed_events_total"] < 6 {
		t.Errorf("resumed %v, replayed %v; want 1 and at least the 6 events of the gap",
			m["carillon_session_resumed_total"], m["carillon_session_replayed_events_total"])
	}
}

// withoutTargeted drops the targeted messages, whose place among the
// others the sender's timing decides.
func withoutTargeted(contents []string) []string {
	return slices.DeleteFunc(slices.Clone(contents), func(s string) bool { return strings.HasPrefix(s, "to-") })
}

// A consumer that stopped reading is closed with 4429; it reads what the
// sockets held and the close frame, reconnects with the same sessionId,
// and has then received every message exactly once, in order.
func TestSessionResumeSlowConsumer(t *testing.T) {
	t.Parallel()
	e := wsNew(t, carillontest.WithHubConfig(hub.Config{QueueBytes: 64 << 10, WriteTimeout: time.Minute}))
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, bob, "flood", alice)

	first := e.rsDial(t, "first", alice, "slow", nil)
	gate := make(chan struct{})
	first.gate.Store(&gate)
	// Frames of ~20 KB (quotes are escaped twice): the socket buffers and
	// the queue fill after a few hundred.
	content := strings.Repeat(`"`, 4000)
	var sent []string
	for i := 0; ; i++ {
		if i == 3000 {
			t.Fatal("the stalled session was never closed for falling behind")
		}
		c := fmt.Sprintf("%s %d", content, i)
		e.send(t, bob, ch, c)
		sent = append(sent, c)
		if e.wsMetrics(t)["carillon_session_slow_consumer_closes_total"] == 1 {
			break
		}
	}
	// The client reads again at once: what the sockets hold, then the
	// close frame, which it answers within the server's linger.
	close(gate)
	select {
	case <-first.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the stalled session did not end")
	}
	for i := range 20 { // while it is away
		c := fmt.Sprint("after ", i)
		e.send(t, bob, ch, c)
		sent = append(sent, c)
	}
	f1, code := first.received()
	if code != hub.CloseSlowConsumer {
		t.Fatalf("the stalled session ended with %d, want %d", code, hub.CloseSlowConsumer)
	}
	second := e.rsDial(t, "second", alice, "slow", nil)
	e.send(t, bob, ch, "end")
	sent = append(sent, "end")
	second.waitFor(t, "end", rsHasContent("end"))
	f2, _ := second.received()
	got := rsContents(rsEvents(t, f1, f2))
	if !slices.Equal(got, sent) {
		t.Fatalf("received %d messages (%d before 4429), want the %d sent, in order", len(got), len(rsContents(f1)), len(sent))
	}
	if len(rsContents(f1)) >= len(sent)-21 {
		t.Errorf("the first connection received %d of %d: nothing was dropped", len(rsContents(f1)), len(sent))
	}
}

// rsResetConfirmed resets the client's connection once it has confirmed
// every frame it read (answered a ping that followed them: the server
// pings after the frames it writes), and waits for its reader to end. No
// event may be in flight: one that came after the check would be read by
// nobody and resent, as it should, but the test would not expect it.
func rsResetConfirmed(t *testing.T, c *rsClient) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		if c.pings > 0 && c.pinged == len(c.frames) {
			c.resetLocked()
			c.mu.Unlock()
			break
		}
		n := len(c.frames) - c.pinged
		c.mu.Unlock()
		select {
		case <-c.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: %d frames not confirmed by a ping within 20s", c.name, n)
		}
	}
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: the reader did not end after the reset", c.name)
	}
}

// Only the same user with the same sessionId, within the window, resumes.
func TestSessionResumeOnlySameSessionWithinWindow(t *testing.T) {
	t.Parallel()
	t.Run("another sessionId, another user", func(t *testing.T) {
		t.Parallel()
		e := wsNew(t)
		alice, bob := e.user(t, "alice"), e.user(t, "bob")
		ch := e.channel(t, alice, "c")
		e.channel(t, bob, "bob's")
		first := e.rsDial(t, "first", alice, "s1", nil)
		e.send(t, alice, ch, "m1")
		first.waitFor(t, "m1", rsHasContent("m1"))
		rsResetConfirmed(t, first)
		e.send(t, alice, ch, "m2")

		other := e.rsDial(t, "other id", alice, "s2", nil)
		bobs := e.rsDial(t, "bob, same id", bob, "s1", nil)
		e.send(t, alice, ch, "m3")
		other.waitFor(t, "m3", rsHasContent("m3"))
		if got, _ := other.received(); !slices.Equal(rsContents(got), []string{"m3"}) {
			t.Errorf("another sessionId received %q, want only m3", rsContents(got))
		}
		// bob is in no channel of alice's: whatever alice's session
		// missed is not his.
		e.send(t, bob, e.channel(t, bob, "sentinel"), "sentinel")
		bobs.waitFor(t, "sentinel", rsHasContent("sentinel"))
		if got, _ := bobs.received(); !slices.Equal(rsContents(got), []string{"sentinel"}) {
			t.Errorf("bob with alice's sessionId received %q", rsContents(got))
		}
		// Neither took alice's position: her session still resumes.
		again := e.rsDial(t, "same id", alice, "s1", nil)
		again.waitFor(t, "m3", rsHasContent("m3"))
		if got, _ := again.received(); !slices.Equal(rsContents(got), []string{"m2", "m3"}) {
			t.Errorf("the same sessionId received %q, want m2 and m3", rsContents(got))
		}
	})
	t.Run("after the window", func(t *testing.T) {
		t.Parallel()
		const window = time.Second
		e := wsNew(t, carillontest.WithSessionResumeWindow(window))
		alice := e.user(t, "alice")
		ch := e.channel(t, alice, "c")
		first := e.rsDial(t, "first", alice, "s1", nil)
		e.send(t, alice, ch, "m1")
		first.waitFor(t, "m1", rsHasContent("m1"))
		rsResetConfirmed(t, first)
		e.send(t, alice, ch, "m2")
		// The window runs from the moment the server saw the session end.
		e.wsWaitMetric(t, "carillon_session_open", 0)
		time.Sleep(window + 500*time.Millisecond)
		late := e.rsDial(t, "late", alice, "s1", nil)
		e.send(t, alice, ch, "m3")
		late.waitFor(t, "m3", rsHasContent("m3"))
		if got, _ := late.received(); !slices.Equal(rsContents(got), []string{"m3"}) {
			t.Errorf("a reconnection after the window received %q, want only m3 (what AWS gives)", rsContents(got))
		}
		e.wsWaitMetric(t, `carillon_session_resume_gaps_total{reason="window"}`, 1)
	})
	t.Run("closed by the client", func(t *testing.T) {
		t.Parallel()
		e := wsNew(t)
		alice := e.user(t, "alice")
		ch := e.channel(t, alice, "c")
		for _, code := range []int{websocket.CloseNormalClosure, 4002} {
			id := fmt.Sprint("closed-", code)
			first := e.rsDial(t, "first", alice, id, nil)
			if err := first.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(5*time.Second)); err != nil {
				t.Fatal(err)
			}
			<-first.done
			e.send(t, alice, ch, id)
			again := e.rsDial(t, "again", alice, id, nil)
			e.send(t, alice, ch, id+" live")
			again.waitFor(t, "the live message", rsHasContent(id+" live"))
			if got, _ := again.received(); !slices.Equal(rsContents(got), []string{id + " live"}) {
				t.Errorf("after a client close %d, the same sessionId received %q", code, rsContents(got))
			}
		}
	})
}

// A session closed by a server restart (1012) resumes on the next run:
// its position is in the store.
func TestSessionResumeAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root := carillontest.WithRootCredentials(server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()})
	e := wsNew(t, carillontest.WithDataDir(dir), root)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, bob, "c", alice)
	first := e.rsDial(t, "first", alice, "s1", nil)
	e.send(t, bob, ch, "before")
	first.waitFor(t, "before", rsHasContent("before"))
	e.srv.Stop()
	<-first.done
	f1, code := first.received()
	if code != websocket.CloseServiceRestart {
		t.Fatalf("closed with %d, want 1012", code)
	}

	srv := carillontest.New(t, carillontest.WithDataDir(dir), root)
	e2 := &wsEnv{srv: srv, id: chimesdkidentity.NewFromConfig(srv.Config), msg: chimesdkmessaging.NewFromConfig(srv.Config), app: e.app}
	e2.send(t, bob, ch, "while away")
	second := e2.rsDial(t, "second", alice, "s1", nil)
	e2.send(t, bob, ch, "after")
	second.waitFor(t, "after", rsHasContent("after"))
	f2, _ := second.received()
	if got := rsContents(rsEvents(t, f1, f2)); !slices.Equal(got, []string{"before", "while away", "after"}) {
		t.Errorf("received %q across the restart", got)
	}
}

// The explicit form: a client names the last Seq it processed, and
// resumes from it whether or not the server remembers the session.
func TestSessionResumeExplicit(t *testing.T) {
	t.Parallel()
	e := wsNew(t, carillontest.WithSessionResumeWindow(-1)) // nothing remembered
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	chA := e.channel(t, bob, "A", alice)
	chB := e.channel(t, bob, "B", carol)
	chC := e.channel(t, bob, "C", alice)
	first := e.rsDial(t, "first", alice, "s1", nil)
	e.send(t, bob, chA, "a1")
	first.waitFor(t, "a1", rsHasContent("a1"))
	f1, _ := first.received()
	last := f1[len(f1)-1].Headers["x-carillon-seq"]
	if est := f1[0].Headers["x-carillon-seq"]; est == "" || est >= last {
		t.Errorf("SESSION_ESTABLISHED names seq %q, want one before a1's %s", est, last)
	}
	first.conn.Close()
	<-first.done
	// Away: a message, a channel joined, a channel left.
	e.send(t, bob, chA, "a2")
	e.addMember(t, bob, chB, alice, mtypes.ChannelMembershipTypeDefault)
	e.send(t, bob, chB, "b1")
	e.send(t, bob, chC, "c1")
	if _, err := e.msg.DeleteChannelMembership(t.Context(), &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: aws.String(chC), ChimeBearer: aws.String(bob), MemberArn: aws.String(alice),
	}); err != nil {
		t.Fatal(err)
	}
	e.send(t, bob, chC, "c2")

	second := e.rsDial(t, "second", alice, "other", url.Values{"carillon-resume-after": {last}})
	e.send(t, bob, chA, "a3")
	second.waitFor(t, "a3", rsHasContent("a3"))
	f2, _ := second.received()
	var got []string
	for _, f := range rsEvents(t, f1, f2) {
		if f.event() == "CREATE_CHANNEL_MESSAGE" {
			got = append(got, f.str("Content"))
		} else {
			got = append(got, f.event())
		}
	}
	want := []string{"a1", "a2", "CREATE_CHANNEL_MEMBERSHIP", "b1", "c1", "DELETE_CHANNEL_MEMBERSHIP", "a3"}
	if !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}

	// The parameter is signed like the others: added to a signed URL, it
	// fails the signature.
	u := e.srv.ConnectURL(t, e.srv.Config, alice, "s3", nil) + "&carillon-resume-after=1"
	c := e.wsDial(t, "unsigned", u)
	c.expectClose(t, hub.CloseUnauthorized)
}

// frameSeq is the x-carillon-seq of an event frame connection i received.
func frameSeq(t *testing.T, i int, f wsFrame) int64 {
	t.Helper()
	seq, err := strconv.ParseInt(f.Headers["x-carillon-seq"], 10, 64)
	if err != nil {
		t.Fatalf("connection %d: frame without x-carillon-seq: %s", i, f.raw)
	}
	return seq
}
