package reliability

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/server"
)

// The load of a cycle: senders send messages with ClientRequestTokens,
// editors edit messages sent before the load, membership workers add and
// remove members; all at once, until the server is killed.
const (
	senders      = 3
	editors      = 2
	edited       = 3 // messages per editor
	memberships  = 2
	membersEach  = 2 // users per membership worker
	minLoad      = 300 * time.Millisecond
	maxExtraLoad = 900 * time.Millisecond
)

// TestKillNine: SIGKILL during concurrent sends, edits and membership
// changes; after a restart every acknowledged change is present once,
// nothing is half applied, and events reach a connected session.
func TestKillNine(t *testing.T) {
	for _, name := range strings.Split(*enginesFlag, ",") {
		eng, ok := engines[strings.TrimSpace(name)]
		if !ok {
			t.Fatalf("-engines: no engine %q", name)
		}
		t.Run(eng.name, func(t *testing.T) { killNine(t, eng, *cyclesFlag) })
	}
}

// world is what every cycle shares: the AppInstance and its users.
type world struct {
	app                string
	senders, members   []string
	moderator, watcher string
}

func killNine(t *testing.T, eng engine, cycles int) {
	dir := t.TempDir()
	root := server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	if eng.prepare != nil {
		eng.prepare(t, dir)
	}
	srv := startServe(t, root, "", eng.args(dir)...)
	w := setup(t, srv)
	for cycle := range cycles {
		c := newCycle(t, srv, w, cycle)
		load := minLoad + time.Duration(rng.Int64N(int64(maxExtraLoad)))
		c.run(t, srv, load)
		c.checkStore(t, eng, dir)
		srv = startServe(t, root, "", eng.args(dir)...)
		c.checkAPI(t, srv)
		t.Logf("cycle %d: killed after %v; %d sends (%d unanswered, %d of them committed), %d edits, %d membership changes acknowledged",
			cycle, load, len(c.sends), c.unackedSends(), c.committedUnacked, c.ackedEdits.Load(), c.ackedMemberships.Load())
	}
	srv.stop(t)
}

func setup(t *testing.T, srv *child) *world {
	t.Helper()
	ctx := t.Context()
	id := chimesdkidentity.NewFromConfig(srv.config())
	out, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("reliability"), ClientRequestToken: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{app: aws.ToString(out.AppInstanceArn)}
	user := func(name string) string {
		u, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
			AppInstanceArn: aws.String(w.app), AppInstanceUserId: aws.String(name), Name: aws.String(name), ClientRequestToken: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(u.AppInstanceUserArn)
	}
	w.moderator, w.watcher = user("moderator"), user("watcher")
	for i := range senders {
		w.senders = append(w.senders, user(fmt.Sprint("sender", i)))
	}
	for i := range memberships * membersEach {
		w.members = append(w.members, user(fmt.Sprint("member", i)))
	}
	return w
}

// sendOp is one message a sender sent, or tried to.
type sendOp struct {
	token, content, sender string
	acked                  bool
}

// editState is what an editor did to one message: the content of its
// last acknowledged edit, and of an edit whose answer never came.
type editState struct {
	id, original, lastAcked, uncertain string
}

// memberState is what a membership worker did to one user.
type memberState struct {
	acked, hasAcked bool
	// uncertain is set when a change was not answered; want is the state
	// it asked for.
	uncertain, want bool
}

type cycle struct {
	w       *world
	n       int
	channel string
	msg     *chimesdkmessaging.Client
	killed  atomic.Bool

	mu      sync.Mutex
	sends   []*sendOp
	edits   []*editState
	members map[string]*memberState

	ackedEdits, ackedMemberships atomic.Int64
	// committedUnacked counts the unanswered sends the store had
	// committed: the retries with their tokens must not repeat them.
	committedUnacked int
}

func newCycle(t *testing.T, srv *child, w *world, n int) *cycle {
	t.Helper()
	ctx := t.Context()
	c := &cycle{w: w, n: n, msg: chimesdkmessaging.NewFromConfig(srv.config()), members: map[string]*memberState{}}
	out, err := c.msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(w.app), Name: aws.String(fmt.Sprint("cycle ", n)), ChimeBearer: aws.String(w.moderator),
		MemberArns: append([]string{w.watcher}, w.senders...), ClientRequestToken: aws.String(fmt.Sprint("cycle-", n)),
		Mode: mtypes.ChannelModeRestricted})
	if err != nil {
		t.Fatal(err)
	}
	c.channel = aws.ToString(out.ChannelArn)
	for e := range editors * edited {
		content := fmt.Sprintf("original %d/%d", n, e)
		m, err := c.msg.SendChannelMessage(ctx, c.sendInput(w.senders[e%senders], content, tokenOf(content)))
		if err != nil {
			t.Fatal(err)
		}
		c.edits = append(c.edits, &editState{id: aws.ToString(m.MessageId), original: content})
	}
	for _, u := range w.members {
		c.members[u] = &memberState{}
	}
	return c
}

// tokenOf makes a ClientRequestToken ([-_a-zA-Z0-9]*) of a content.
func tokenOf(content string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, content)
}

func (c *cycle) sendInput(sender, content, token string) *chimesdkmessaging.SendChannelMessageInput {
	return &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: aws.String(c.channel), ChimeBearer: aws.String(sender), Content: aws.String(content),
		Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
		ClientRequestToken: aws.String(token),
	}
}

// run puts the load on the server for d, then kills it with SIGKILL while
// the requests are in flight, and waits for the workers to see it.
func (c *cycle) run(t *testing.T, srv *child, d time.Duration) {
	ctx := context.WithoutCancel(t.Context())
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() { c.sender(ctx, s) })
	}
	for e := range editors {
		wg.Go(func() { c.editor(ctx, e) })
	}
	for m := range memberships {
		wg.Go(func() { c.membership(ctx, m) })
	}
	time.Sleep(d)
	// Killed first, so that the workers have their requests in flight:
	// each stops at its first failure.
	srv.kill()
	c.killed.Store(true)
	wg.Wait()
}

func (c *cycle) sender(ctx context.Context, s int) {
	sender := c.w.senders[s]
	for i := 0; !c.killed.Load(); i++ {
		op := &sendOp{token: fmt.Sprintf("c%d-s%d-%d", c.n, s, i), content: fmt.Sprintf("message %d/%d/%d", c.n, s, i), sender: sender}
		c.mu.Lock()
		c.sends = append(c.sends, op)
		c.mu.Unlock()
		_, err := c.msg.SendChannelMessage(ctx, c.sendInput(sender, op.content, op.token))
		c.mu.Lock()
		op.acked = err == nil
		c.mu.Unlock()
		if err != nil {
			return // the server is gone
		}
	}
}

func (c *cycle) editor(ctx context.Context, e int) {
	mine := c.edits[e*edited : (e+1)*edited]
	for k := 0; !c.killed.Load(); k++ {
		st := mine[k%len(mine)]
		content := fmt.Sprintf("edit %d/%d/%d", c.n, e, k)
		_, err := c.msg.UpdateChannelMessage(ctx, &chimesdkmessaging.UpdateChannelMessageInput{
			ChannelArn: aws.String(c.channel), MessageId: aws.String(st.id), ChimeBearer: aws.String(c.w.senders[indexOf(c.edits, st)%senders]),
			Content: aws.String(content)})
		c.mu.Lock()
		if err == nil {
			st.lastAcked = content
			c.ackedEdits.Add(1)
		} else {
			st.uncertain = content
		}
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func indexOf(edits []*editState, st *editState) int {
	for i, e := range edits {
		if e == st {
			return i
		}
	}
	panic("not an edit of this cycle")
}

func (c *cycle) membership(ctx context.Context, m int) {
	mine := c.w.members[m*membersEach : (m+1)*membersEach]
	for k := 0; !c.killed.Load(); k++ {
		u := mine[k%len(mine)]
		c.mu.Lock()
		st := c.members[u]
		add := !st.acked
		c.mu.Unlock()
		var err error
		if add {
			_, err = c.msg.CreateChannelMembership(ctx, &chimesdkmessaging.CreateChannelMembershipInput{
				ChannelArn: aws.String(c.channel), ChimeBearer: aws.String(c.w.moderator), MemberArn: aws.String(u),
				Type: mtypes.ChannelMembershipTypeDefault})
		} else {
			_, err = c.msg.DeleteChannelMembership(ctx, &chimesdkmessaging.DeleteChannelMembershipInput{
				ChannelArn: aws.String(c.channel), ChimeBearer: aws.String(c.w.moderator), MemberArn: aws.String(u)})
		}
		c.mu.Lock()
		if err == nil {
			st.acked, st.hasAcked = add, true
			c.ackedMemberships.Add(1)
		} else {
			st.uncertain, st.want = true, add
		}
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (c *cycle) unackedSends() int {
	n := 0
	for _, s := range c.sends {
		if !s.acked {
			n++
		}
	}
	return n
}

// messageEvent is the part of a message event's payload the checks read.
type messageEvent struct {
	MessageId, Content string
}

// checkStore opens the store the killed server left, before anything
// recovers it but the engine itself: every message has exactly one
// CREATE_CHANNEL_MESSAGE event and its content is the last event's, every
// event names a stored message, each acknowledged message is stored
// once, and each member's state is its last membership event's.
func (c *cycle) checkStore(t *testing.T, eng engine, dir string) {
	t.Helper()
	ctx := t.Context()
	store, err := eng.open(ctx, dir)
	if err != nil {
		t.Fatalf("cycle %d: opening the store after the kill: %v", c.n, err)
	}
	defer store.Close()
	var msgs []carillon.Message
	var events []carillon.Event
	stateOf := map[string]bool{}
	err = store.View(ctx, func(tx carillon.Tx) error {
		var err error
		if msgs, err = tx.ListMessages(carillon.MessageQuery{Channel: c.channel}); err != nil {
			return err
		}
		if events, err = tx.Events(0, 0); err != nil {
			return err
		}
		for u := range c.members {
			_, err := tx.GetMembership(c.channel, u)
			switch {
			case err == nil:
				stateOf[u] = true
			case !errors.Is(err, carillon.ErrNotFound):
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("cycle %d: reading the store: %v", c.n, err)
	}

	var last int64
	creates := map[string]int{}
	lastContent := map[string]string{}
	lastMember := map[string]bool{}
	for _, e := range events {
		if e.Seq <= last {
			t.Errorf("cycle %d: event seq %d after %d", c.n, e.Seq, last)
		}
		last = e.Seq
		if e.Channel != c.channel {
			continue
		}
		switch e.Type {
		case "CREATE_CHANNEL_MESSAGE", "UPDATE_CHANNEL_MESSAGE":
			var p messageEvent
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Fatalf("cycle %d: event %d: %v", c.n, e.Seq, err)
			}
			if e.Type == "CREATE_CHANNEL_MESSAGE" {
				creates[p.MessageId]++
			}
			lastContent[p.MessageId] = p.Content
		case "CREATE_CHANNEL_MEMBERSHIP", "DELETE_CHANNEL_MEMBERSHIP":
			if _, ours := c.members[e.Member]; ours {
				lastMember[e.Member] = e.MemberChange > 0
			}
		}
	}
	stored := map[string]int{}
	ids := map[string]bool{}
	for _, m := range msgs {
		stored[m.Content]++
		ids[m.ID] = true
		if creates[m.ID] != 1 {
			t.Errorf("cycle %d: message %s (%q) has %d CREATE_CHANNEL_MESSAGE events", c.n, m.ID, m.Content, creates[m.ID])
		}
		if lastContent[m.ID] != m.Content {
			t.Errorf("cycle %d: message %s is %q, its last event says %q", c.n, m.ID, m.Content, lastContent[m.ID])
		}
	}
	for id := range creates {
		if !ids[id] {
			t.Errorf("cycle %d: an event announces message %s, which is not stored", c.n, id)
		}
	}
	for _, s := range c.sends {
		if !s.acked && stored[s.content] == 1 {
			c.committedUnacked++
		}
		switch n := stored[s.content]; {
		case s.acked && n != 1:
			t.Errorf("cycle %d: acknowledged message %q stored %d times", c.n, s.content, n)
		case n > 1:
			t.Errorf("cycle %d: unacknowledged message %q stored %d times", c.n, s.content, n)
		}
	}
	c.checkEdits(t, func(id string) string {
		for _, m := range msgs {
			if m.ID == id {
				return m.Content
			}
		}
		return "<missing>"
	})
	for u, st := range c.members {
		if stateOf[u] != lastMember[u] {
			t.Errorf("cycle %d: %s is a member: %v, its last membership event says %v", c.n, u, stateOf[u], lastMember[u])
		}
		c.checkMember(t, u, st, stateOf[u])
	}
}

func (c *cycle) checkEdits(t *testing.T, content func(id string) string) {
	t.Helper()
	for _, st := range c.edits {
		want := []string{st.original}
		if st.lastAcked != "" {
			want = []string{st.lastAcked}
		}
		if st.uncertain != "" {
			want = append(want, st.uncertain)
		}
		got := content(st.id)
		if !contains(want, got) {
			t.Errorf("cycle %d: message %s is %q, want one of %q", c.n, st.id, got, want)
		}
	}
}

func (c *cycle) checkMember(t *testing.T, u string, st *memberState, got bool) {
	t.Helper()
	if got != st.acked && !(st.uncertain && got == st.want) {
		t.Errorf("cycle %d: %s is a member: %v; acknowledged %v (uncertain: %v, asked %v)", c.n, u, got, st.acked, st.uncertain, st.want)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkAPI, on the restarted server: the unanswered sends, retried with
// their tokens, make one message each; clients see what checkStore saw;
// and a session receives the events of new changes.
func (c *cycle) checkAPI(t *testing.T, srv *child) {
	t.Helper()
	ctx := t.Context()
	c.msg = chimesdkmessaging.NewFromConfig(srv.config())
	for _, s := range c.sends {
		if s.acked {
			continue
		}
		if _, err := c.msg.SendChannelMessage(ctx, c.sendInput(s.sender, s.content, s.token)); err != nil {
			t.Fatalf("cycle %d: retrying %q with its token: %v", c.n, s.content, err)
		}
	}
	contents := map[string]int{}
	byID := map[string]string{}
	p := chimesdkmessaging.NewListChannelMessagesPaginator(c.msg, &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(c.channel), ChimeBearer: aws.String(c.w.watcher), MaxResults: aws.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("cycle %d: ListChannelMessages: %v", c.n, err)
		}
		for _, m := range page.ChannelMessages {
			contents[aws.ToString(m.Content)]++
			byID[aws.ToString(m.MessageId)] = aws.ToString(m.Content)
		}
	}
	for _, s := range c.sends {
		if n := contents[s.content]; n != 1 {
			t.Errorf("cycle %d: after the retries, %q is listed %d times", c.n, s.content, n)
		}
	}
	c.checkEdits(t, func(id string) string { return byID[id] })
	for u, st := range c.members {
		_, err := c.msg.DescribeChannelMembership(ctx, &chimesdkmessaging.DescribeChannelMembershipInput{
			ChannelArn: aws.String(c.channel), ChimeBearer: aws.String(c.w.moderator), MemberArn: aws.String(u)})
		c.checkMember(t, u, st, err == nil)
	}

	// Events flow again: a session connected now receives a new message.
	ws := connect(t, srv, c.w.watcher)
	defer ws.Close()
	content := fmt.Sprintf("after restart %d", c.n)
	if _, err := c.msg.SendChannelMessage(ctx, c.sendInput(c.w.senders[0], content, tokenOf(content))); err != nil {
		t.Fatalf("cycle %d: send after the restart: %v", c.n, err)
	}
	for {
		_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("cycle %d: the session received no event after the restart: %v", c.n, err)
		}
		if strings.Contains(string(b), "CREATE_CHANNEL_MESSAGE") && strings.Contains(string(b), content) {
			return
		}
	}
}

// connect opens a messaging session as user on the plain listener, with
// a URL presigned as amazon-chime-sdk-js presigns it.
func connect(t *testing.T, srv *child, user string) *websocket.Conn {
	t.Helper()
	q := url.Values{"userArn": {user}, "sessionId": {fmt.Sprint(time.Now().UnixNano())}, "X-Amz-Expires": {"10"}}
	req, _ := http.NewRequest(http.MethodGet, "ws://"+srv.addr+"/connect?"+q.Encode(), nil)
	empty := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: srv.root.AccessKeyID, SecretAccessKey: srv.root.SecretAccessKey}
	u, _, err := v4.NewSigner().PresignHTTP(t.Context(), creds, req, hex.EncodeToString(empty[:]), "chime", server.DefaultRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil || !strings.Contains(string(b), "SESSION_ESTABLISHED") {
		t.Fatalf("connect: %s %v", b, err)
	}
	return ws
}
