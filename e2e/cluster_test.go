package e2e

// Cluster tests: three servers on one PostgreSQL database and one NATS
// server, the writer on node 1 and the sessions on nodes 2 and 3. They
// run on PostgreSQL whatever CARILLON_TEST_STORE says.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	itypes "github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/internal/natstest"
	"github.com/carillonhq/carillon/server"
)

// clusterNew starts n servers sharing a database, a NATS server and a
// root key; nodes[0] created the AppInstance all of them use.
func clusterNew(t *testing.T, n int, opts ...carillontest.Option) []*wsEnv {
	t.Helper()
	dsn := carillontest.PostgresDatabase(t)
	ns := natstest.New(t)
	root := server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()}
	opts = append([]carillontest.Option{carillontest.WithDatabase(dsn), carillontest.WithNATS(ns.URL()),
		carillontest.WithRoot(root), carillontest.WithLockRetry(100 * time.Millisecond)}, opts...)
	nodes := []*wsEnv{wsNew(t, opts...)}
	for range n - 1 {
		srv := carillontest.New(t, opts...)
		nodes = append(nodes, &wsEnv{srv: srv, id: chimesdkidentity.NewFromConfig(srv.Config),
			msg: chimesdkmessaging.NewFromConfig(srv.Config), app: nodes[0].app})
	}
	return nodes
}

// TestClusterSessionsOnOtherNodes: what is written through node 1
// reaches the sessions of nodes 2 and 3, each event once, in commit order,
// membership changes included.
func TestClusterSessionsOnOtherNodes(t *testing.T) {
	nodes := clusterNew(t, 3)
	alice, bob, carol, dave := nodes[0].user(t, "alice"), nodes[0].user(t, "bob"), nodes[0].user(t, "carol"), nodes[0].user(t, "dave")
	ch := nodes[0].channel(t, alice, "cluster", bob, carol)
	b := nodes[1].connect(t, bob, "bob-on-2")
	c := nodes[2].connect(t, carol, "carol-on-3")
	d := nodes[2].connect(t, dave, "dave-on-3")
	const n = 30
	for i := range n {
		nodes[0].send(t, alice, ch, fmt.Sprintf("m%d", i))
	}
	for i := range n {
		b.expectMessage(t, fmt.Sprintf("m%d", i))
		c.expectMessage(t, fmt.Sprintf("m%d", i))
	}
	// dave becomes a member through node 1: node 3's session learns it
	// from the event, and delivers him what follows.
	nodes[0].addMember(t, alice, ch, dave, mtypes.ChannelMembershipTypeDefault)
	nodes[0].send(t, alice, ch, "welcome")
	d.expect(t, "CREATE_CHANNEL_MEMBERSHIP")
	d.expectMessage(t, "welcome")
	for _, s := range []*wsConn{b, c} {
		s.expect(t, "CREATE_CHANNEL_MEMBERSHIP")
		s.expectMessage(t, "welcome")
	}
	// Writers on every node: each session still sees one order.
	for i := range n {
		nodes[i%3].send(t, alice, ch, fmt.Sprintf("w%d", i))
	}
	for i := range n {
		for _, s := range []*wsConn{b, c, d} {
			s.expectMessage(t, fmt.Sprintf("w%d", i))
		}
	}
}

// TestClusterAuthorizationAcrossNodes: a change of rights made through
// one node holds on the others at once; no node answers from a stale
// copy.
func TestClusterAuthorizationAcrossNodes(t *testing.T) {
	nodes := clusterNew(t, 3)
	alice, bob := nodes[0].user(t, "alice"), nodes[0].user(t, "bob")
	ch := nodes[0].channel(t, alice, "rights", bob)
	nodes[1].send(t, bob, ch, "before")
	nodes[2].send(t, bob, ch, "before too")
	_, err := nodes[0].msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), MemberArn: aws.String(bob)})
	mustOK(t, err, "CreateChannelBan")
	for _, node := range nodes[1:] {
		_, err := node.msg.SendChannelMessage(t.Context(), &chimesdkmessaging.SendChannelMessageInput{
			ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob), Content: aws.String("after the ban"),
			Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent})
		mxForbidden(t, err)
	}
	// A channel deleted through node 2 is gone on nodes 1 and 3.
	_, err = nodes[1].msg.DeleteChannel(t.Context(), &chimesdkmessaging.DeleteChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "DeleteChannel")
	for _, node := range []*wsEnv{nodes[0], nodes[2]} {
		_, err := node.msg.DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice)})
		mxForbidden(t, err) // as for any channel that does not exist
	}
	// A user deleted through node 3 can no longer act on node 1.
	_, err = nodes[2].id.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: aws.String(bob)})
	mustOK(t, err, "DeleteAppInstanceUser")
	_, err = nodes[0].msg.ListChannelMemberships(t.Context(), &chimesdkmessaging.ListChannelMembershipsInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob)})
	if err == nil {
		t.Fatal("a user deleted on another node still acts")
	}
}

// TestClusterPushOnce: every server receives every event, and each push
// notification is sent once, by the server that holds push dispatch.
func TestClusterPushOnce(t *testing.T) {
	rec := carillontest.NewPushRecorder(t)
	nodes := clusterNew(t, 3, rec.Option())
	alice, bob := nodes[0].user(t, "alice"), nodes[0].user(t, "bob")
	_, err := nodes[0].id.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(bob), Type: itypes.AppInstanceUserEndpointTypeGcm,
		ResourceArn:        aws.String("arn:aws:mobiletargeting:us-east-1:000000000000:apps/carillon"),
		EndpointAttributes: &itypes.EndpointAttributes{DeviceToken: aws.String("bob-phone")}, AllowMessages: itypes.AllowMessagesAll,
	})
	mustOK(t, err, "RegisterAppInstanceUserEndpoint")
	ch := nodes[0].channel(t, alice, "push", bob)
	// Until a server holds push dispatch, notifications are dropped (as
	// across a restart): wait for the lock to be taken.
	waitLockHeld(t, nodes, "carillon/push")
	const n = 12
	for i := range n {
		nodes[i%3].send(t, alice, ch, fmt.Sprintf("p%d", i), func(in *chimesdkmessaging.SendChannelMessageInput) {
			in.PushNotification = &mtypes.PushNotificationConfiguration{Title: aws.String("T"), Body: aws.String("B"), Type: mtypes.PushNotificationTypeDefault}
		})
	}
	rec.Wait(t, n)
	time.Sleep(500 * time.Millisecond) // for a repeat, if any, to arrive
	if got := rec.Notifications(); len(got) != n {
		t.Fatalf("%d push notifications for %d messages across 3 servers, want one each", len(got), n)
	}
	// The server that takes push dispatch over sends what follows, not
	// what it received while another server held it.
	holder := lockHolder(t, nodes, "carillon/push")
	nodes[holder].srv.Stop()
	rest := append(append([]*wsEnv{}, nodes[:holder]...), nodes[holder+1:]...)
	waitLockHeld(t, rest, "carillon/push")
	rest[0].send(t, alice, ch, "last", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.PushNotification = &mtypes.PushNotificationConfiguration{Title: aws.String("T"), Body: aws.String("B"), Type: mtypes.PushNotificationTypeDefault}
	})
	rec.Wait(t, n+1)
	time.Sleep(500 * time.Millisecond)
	if got := rec.Notifications(); len(got) != n+1 {
		t.Fatalf("%d push notifications for %d messages, want one each", len(got), n+1)
	}
}

// TestClusterWorkTakenOver: when the server that holds the work done once
// per deployment stops, the others take every lock over, and events still
// reach the sessions.
func TestClusterWorkTakenOver(t *testing.T) {
	nodes := clusterNew(t, 3)
	alice, bob := nodes[0].user(t, "alice"), nodes[0].user(t, "bob")
	ch := nodes[0].channel(t, alice, "takeover", bob)
	locks := []string{"carillon/relay", "carillon/jobs", "carillon/flows", "carillon/stream", "carillon/push", "carillon/bots"}
	for _, l := range locks {
		waitLockHeld(t, nodes, l)
	}
	holder := lockHolder(t, nodes, "carillon/relay")
	var rest []*wsEnv
	for i, node := range nodes {
		if i != holder {
			rest = append(rest, node)
		}
	}
	s := rest[1].connect(t, bob, "bob")
	rest[0].send(t, alice, ch, "before")
	s.expectMessage(t, "before")
	nodes[holder].srv.Stop()
	for _, l := range locks {
		waitLockHeld(t, rest, l)
	}
	for i := range 5 {
		rest[0].send(t, alice, ch, fmt.Sprintf("after %d", i))
	}
	for i := range 5 {
		s.expectMessage(t, fmt.Sprintf("after %d", i))
	}
}

// lockHolder is the index of the node that holds the lock, -1 if none.
func lockHolder(t *testing.T, nodes []*wsEnv, lock string) int {
	t.Helper()
	holder := -1
	for i, node := range nodes {
		if node.wsMetrics(t)[`carillon_cluster_lock_held{lock="`+lock+`"}`] == 1 {
			if holder >= 0 {
				t.Fatalf("%s held by nodes %d and %d", lock, holder, i)
			}
			holder = i
		}
	}
	return holder
}

// waitLockHeld waits until one of nodes holds the lock.
func waitLockHeld(t *testing.T, nodes []*wsEnv, lock string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for lockHolder(t, nodes, lock) < 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no server took %s", lock)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClusterSessionResumesOnAnotherNode: a session on node 2 is cut
// mid-stream, while node 1 writes, and comes back on node 3 with the same
// sessionId: every event once, in order, the membership changes of the
// gap applied as of each event. Whether node 2 saw the cut (a TCP reset)
// or still holds the connection open (a half-open one), node 3 asks it
// for the session, and it gives the session's position up; "at once"
// reconnects right after the reset, before node 2 has written the
// position of the session it saw end.
func TestClusterSessionResumesOnAnotherNode(t *testing.T) {
	for _, cut := range []string{"reset", "reset, at once", "half-open"} {
		t.Run(cut, func(t *testing.T) {
			nodes := clusterNew(t, 3)
			alice, bob := nodes[0].user(t, "alice"), nodes[0].user(t, "bob")
			chA := nodes[0].channel(t, bob, "A", alice)
			chB := nodes[0].channel(t, bob, "B")
			chC := nodes[0].channel(t, bob, "C", alice)

			first := nodes[1].rsDial(t, "on node 2", alice, "s1", nil)
			stop := nodes[0].rsSender(t, bob, chA, "a", 5*time.Millisecond)
			nodes[0].send(t, bob, chC, "c-before")
			first.waitFor(t, "c-before and 10 messages of A", func(f []wsFrame) bool {
				return slices.Contains(rsContents(f), "c-before") && len(rsContents(f)) > 10
			})
			if cut != "half-open" {
				first.resetAtPing.Store(true)
				select {
				case <-first.done:
				case <-time.After(20 * time.Second):
					t.Fatal("no ping within 20s")
				}
			} else {
				first.muteAtPing.Store(true)
				deadline := time.Now().Add(20 * time.Second)
				for !first.dead.Load() {
					if time.Now().After(deadline) {
						t.Fatal("no ping within 20s")
					}
					time.Sleep(5 * time.Millisecond)
				}
			}

			if cut == "reset, at once" {
				second := nodes[2].rsDial(t, "on node 3", alice, "s1", nil)
				sentA := stop()
				nodes[0].send(t, bob, chA, "end")
				second.waitFor(t, "end", rsHasContent("end"))
				f1, _ := first.received()
				f2, _ := second.received()
				got := rsContents(rsEvents(t, f1, f2))
				if want := append([]string{"c-before"}, append(slices.Clone(sentA), "end")...); !slices.Equal(withoutC(got), withoutC(want)) {
					t.Errorf("received %d messages, want the %d sent and end, in order (%d before the cut)", len(got), len(want), len(rsContents(f1)))
				}
				return
			}

			// While the session is away.
			nodes[0].addMember(t, bob, chB, alice, mtypes.ChannelMembershipTypeDefault)
			nodes[0].send(t, bob, chB, "b-after")
			nodes[0].send(t, bob, chC, "c-still")
			_, err := nodes[0].msg.DeleteChannelMembership(t.Context(), &chimesdkmessaging.DeleteChannelMembershipInput{
				ChannelArn: aws.String(chC), ChimeBearer: aws.String(bob), MemberArn: aws.String(alice)})
			mustOK(t, err, "DeleteChannelMembership")
			nodes[0].send(t, bob, chC, "c-after")

			second := nodes[2].rsDial(t, "on node 3", alice, "s1", nil)
			second.waitFor(t, "b-after", rsHasContent("b-after"))
			sentA := stop()
			nodes[0].send(t, bob, chA, "end")
			second.waitFor(t, "end", rsHasContent("end"))

			f1, _ := first.received()
			f2, _ := second.received()
			var inA, inB, inC []string
			for _, f := range rsEvents(t, f1, f2) {
				what := f.str("Content")
				if f.event() != "CREATE_CHANNEL_MESSAGE" {
					what = f.event()
				}
				switch f.Payload["ChannelArn"] {
				case chA:
					inA = append(inA, what)
				case chB:
					inB = append(inB, what)
				case chC:
					inC = append(inC, what)
				}
			}
			if want := append(slices.Clone(sentA), "end"); !slices.Equal(inA, want) {
				t.Errorf("channel A: received %d messages, want the %d sent and end, in order (%d before the cut)",
					len(inA), len(want), len(rsContents(f1)))
			}
			if want := []string{"CREATE_CHANNEL_MEMBERSHIP", "b-after"}; !slices.Equal(inB, want) {
				t.Errorf("channel B: received %q, want %q", inB, want)
			}
			if want := []string{"c-before", "c-still", "DELETE_CHANNEL_MEMBERSHIP"}; !slices.Equal(inC, want) {
				t.Errorf("channel C: received %q, want %q", inC, want)
			}
			if cut == "half-open" {
				if m := nodes[2].wsMetrics(t); m[`carillon_session_handovers_total{result="received"}`] != 1 || m["carillon_session_resumed_total"] != 1 {
					t.Errorf("node 3: handovers received %v, sessions resumed %v; want 1 and 1",
						m[`carillon_session_handovers_total{result="received"}`], m["carillon_session_resumed_total"])
				}
				// Node 2 closed the connection it held (4003): a newer
				// connection took the session.
				nodes[1].wsWaitMetric(t, "carillon_session_open", 0)
			}
		})
	}
}

// withoutC drops c-before, whose place among A's messages the sender's
// timing decides.
func withoutC(contents []string) []string {
	return slices.DeleteFunc(slices.Clone(contents), func(s string) bool { return s == "c-before" })
}
