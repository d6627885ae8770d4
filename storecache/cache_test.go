package storecache

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/sqlite"
	"github.com/carillonhq/carillon/storetest"
)

func openSQLite(t testing.TB, clock carillon.Clock) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "carillon.db"), clock)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

// TestConformance runs the store's conformance suite through the cache.
// (TestRandomized runs with room for a few rows, to evict.)
func TestConformance(t *testing.T) {
	var total Reads
	var mu sync.Mutex
	storetest.Run(t, func(t *testing.T, clock carillon.Clock) carillon.Store {
		c := New(openSQLite(t, clock), Options{})
		t.Cleanup(func() {
			r := c.Stats().Total()
			mu.Lock()
			total.Hits += r.Hits
			total.Misses += r.Misses
			mu.Unlock()
		})
		return c
	})
	t.Logf("reads through the cache: %+v", total)
	if total.Hits == 0 || total.Misses == 0 {
		t.Errorf("the suite did not exercise hits and misses: %+v", total)
	}
}

// unchanged lists the methods of carillon.Tx that the decorator does not
// override, each with why it changes no row the cache keeps. A new method
// of Tx fails TestEveryTxMethodIsClassified until it is overridden (it
// writes such a row, or is one of the reads kept) or listed here.
var unchanged = map[string]string{
	"Now": "the transaction's time",

	// Reads of rows the cache does not keep.
	"GetAppInstance": "read", "ListAppInstances": "read", "GetRetentionSettings": "read",
	"ListUsers": "read", "ListBots": "read", "ListAdmins": "read", "CountAdmins": "read",
	"GetEndpoint": "read", "ListEndpoints": "read", "EndpointsOf": "read", "CountEndpoints": "read",
	"ListChannels": "read", "SearchChannelsByMembers": "read",
	"ListMemberships": "read", "CountMemberships": "read", "ListMembershipsOf": "read",
	"GetSubChannel": "read", "ListSubChannels": "read", "GetSubChannelMembership": "read",
	"ListSubChannelMemberships": "read", "ListSubChannelMembershipsOf": "read",
	"ListModerators": "read", "CountModerators": "read", "ListChannelsModeratedBy": "read",
	"ListBans": "read", "GetMessage": "read", "ListMessages": "read",
	"GetChannelFlow": "read", "ListChannelFlows": "read", "ListChannelsWithFlow": "read",
	"GetInvocation": "read", "GetMessageInvocation": "read", "DueInvocations": "read",
	"StreamingConfigurations": "read", "AllStreamingConfigurations": "read", "StreamCursors": "read",
	"Tags": "read", "Idempotent": "read", "GetAccessKey": "read", "ListAccessKeys": "read", "ListAllAccessKeys": "read",
	"Events": "read", "LastEventSeq": "read",
	"ExpiredChannels": "read", "ExpiredUsers": "read", "AppInstancesWithRetention": "read",
	"GetSessionPosition": "read", "SessionPositionsHold": "read",

	// Writes of rows the cache does not keep, and that cascade to none.
	"CreateAppInstance":    "an AppInstance row; nothing kept exists under a missing AppInstance",
	"UpdateAppInstance":    "an AppInstance row: name and metadata",
	"PutRetentionSettings": "an AppInstance row: retention",
	"CreateEndpoint":       "endpoints", "UpdateEndpoint": "endpoints", "DeleteEndpoint": "endpoints",
	"CreateSubChannel":           "a sub-channel row (its count comes from memberships, which it does not change)",
	"DeleteSubChannel":           "a sub-channel, its messages and its sub-channel memberships; memberships naming it stay",
	"CreateSubChannelMembership": "sub_channel_memberships, not memberships",
	"DeleteSubChannelMembership": "sub_channel_memberships, not memberships",
	"CreateMessage":              "messages", "UpdateMessage": "messages", "DeleteMessage": "messages",
	"DeleteMessagesBefore": "messages",
	"CreateChannelFlow":    "flows", "UpdateChannelFlow": "flows",
	"DeleteChannelFlow": "flows: channels name their flow without a foreign key, and keep the name",
	"CreateInvocation":  "invocations", "UpdateInvocation": "invocations", "DeleteInvocation": "invocations",
	"PutStreamingConfigurations": "streaming configurations", "DeleteStreamingConfigurations": "streaming configurations",
	"AdvanceStreamCursor": "stream cursors",
	"PutTags":             "tags", "DeleteTags": "tags",
	"PutIdempotent": "idempotency results", "DeleteIdempotentBefore": "idempotency results",
	"ClaimIdempotent": "idempotency results",
	"CreateAccessKey": "access keys", "DeleteAccessKey": "access keys",
	"AppendEvent": "the outbox", "DeleteEventsThrough": "the outbox",
	"PutSessionPosition":    "session positions: they name a user without a foreign key",
	"DeleteSessionPosition": "session positions", "DeleteSessionPositionsBefore": "session positions",
	"EndLiveSessionPositions": "session positions",
}

// declaredMethods returns the methods declared with receiver *recv in the
// package's files that test selects (the test files or the others).
func declaredMethods(t *testing.T, recv string, testFiles bool) map[string]bool {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string]bool{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") != testFiles {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			star, ok := fd.Recv.List[0].Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			if id, ok := star.X.(*ast.Ident); ok && id.Name == recv {
				out[fd.Name.Name] = true
			}
		}
	}
	return out
}

func txMethods() []string {
	ty := reflect.TypeFor[carillon.Tx]()
	out := make([]string, ty.NumMethod())
	for i := range out {
		out[i] = ty.Method(i).Name
	}
	return out
}

func TestEveryTxMethodIsClassified(t *testing.T) {
	overridden := declaredMethods(t, "tx", false)
	methods := txMethods()
	for _, m := range methods {
		switch why, listed := unchanged[m]; {
		case overridden[m] && listed:
			t.Errorf("%s is overridden and listed as changing no cached row (%q): which is it?", m, why)
		case !overridden[m] && !listed:
			t.Errorf("carillon.Tx.%s is neither overridden by the cache nor listed in unchanged: "+
				"if it can change a user, bot, admin role, channel, membership, moderator role or ban "+
				"(directly, by cascade or by trigger), mark it in tx.go; otherwise list it", m)
		}
	}
	inTx := map[string]bool{}
	for _, m := range methods {
		inTx[m] = true
	}
	for m := range unchanged {
		if !inTx[m] {
			t.Errorf("unchanged lists %s, which carillon.Tx does not have", m)
		}
	}
	// The overrides must be of Tx methods: a misspelt one would leave
	// the real method promoted and unmarked.
	for m := range overridden {
		if !inTx[m] && !unexportedHelper(m) {
			t.Errorf("tx declares %s, which is not a method of carillon.Tx", m)
		}
	}
}

func unexportedHelper(name string) bool { return name[0] >= 'a' && name[0] <= 'z' }

func TestCountingTxCountsEveryMethod(t *testing.T) {
	declared := declaredMethods(t, "countingTx", true)
	for _, m := range txMethods() {
		if m != "Now" && !declared[m] {
			t.Errorf("countingTx does not count %s", m)
		}
	}
}

// fill sets every field reachable from v to a value that is not zero,
// making the pointers it meets.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.UnixMilli(int64(*n) * 1000).UTC()))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	case reflect.String:
		v.SetString(fmt.Sprint("s", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		fill(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		panic("fill: " + v.Type().String())
	}
}

// shared returns the path of a pointer, slice or map that a and b share.
func shared(a, b reflect.Value, path string) string {
	if a.Type() == reflect.TypeFor[time.Time]() {
		return "" // a value; its *Location is shared by design
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice, reflect.Map:
		if a.Pointer() == b.Pointer() {
			return path
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	}
	return ""
}

// TestCloneIsDeep fills every field of each row kept, so that a field
// added later is covered, and checks that a clone is equal and shares
// nothing with the original.
func TestCloneIsDeep(t *testing.T) {
	check := func(name string, orig any, clone any) {
		t.Helper()
		if !reflect.DeepEqual(orig, clone) {
			t.Errorf("%s: clone differs:\n%+v\n%+v", name, orig, clone)
		}
		if p := shared(reflect.ValueOf(orig), reflect.ValueOf(clone), name); p != "" {
			t.Errorf("%s: the clone shares %s with the original", name, p)
		}
	}
	n := 0
	var u carillon.AppInstanceUser
	fill(reflect.ValueOf(&u).Elem(), &n)
	check("AppInstanceUser", &u, cloneUser(&u))
	var b carillon.AppInstanceBot
	fill(reflect.ValueOf(&b).Elem(), &n)
	check("AppInstanceBot", &b, cloneBot(&b))
	var a carillon.AppInstanceAdmin
	fill(reflect.ValueOf(&a).Elem(), &n)
	check("AppInstanceAdmin", &a, cloneAdmin(&a))
	var c carillon.Channel
	fill(reflect.ValueOf(&c).Elem(), &n)
	check("Channel", &c, cloneChannel(&c))
	var m carillon.Membership
	fill(reflect.ValueOf(&m).Elem(), &n)
	check("Membership", &m, cloneMembership(&m))
	var o carillon.Moderator
	fill(reflect.ValueOf(&o).Elem(), &n)
	check("Moderator", &o, cloneModerator(&o))
	var x carillon.Ban
	fill(reflect.ValueOf(&x).Elem(), &n)
	check("Ban", &x, cloneBan(&x))
}

// Fixtures of the deterministic tests.

const app = "arn:aws:chime:us-east-1:111122223333:app-instance/app"

func userARN(i int) string    { return fmt.Sprintf("%s/user/u%d", app, i) }
func channelARN(i int) string { return fmt.Sprintf("%s/channel/c%d", app, i) }

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *sqlite.DB
	c     *Cache
	clock *storetest.FakeClock
}

func newFixture(t *testing.T, size, users, channels int) *fixture {
	t.Helper()
	clock := storetest.NewFakeClock(storetest.Start)
	db := openSQLite(t, clock)
	f := &fixture{t: t, ctx: t.Context(), db: db, c: New(db, Options{Size: size}), clock: clock}
	t.Cleanup(func() { f.c.Close() })
	f.update(func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "app"}); err != nil {
			return err
		}
		for i := range users {
			if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: userARN(i), AppInstanceARN: app, Name: fmt.Sprint("user ", i)}); err != nil {
				return err
			}
		}
		for i := range channels {
			if err := tx.CreateChannel(&carillon.Channel{ARN: channelARN(i), AppInstanceARN: app, Name: fmt.Sprint("channel ", i),
				Mode: "RESTRICTED", Privacy: "PRIVATE", CreatedBy: userARN(0)}); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

func (f *fixture) update(fn func(tx carillon.Tx) error) {
	f.t.Helper()
	if err := f.c.Update(f.ctx, fn); err != nil {
		f.t.Fatalf("Update: %v", err)
	}
}

func (f *fixture) view(fn func(tx carillon.Tx) error) {
	f.t.Helper()
	if err := f.c.View(f.ctx, fn); err != nil {
		f.t.Fatalf("View: %v", err)
	}
}

// reads returns the cache's reads of a kind.
func (f *fixture) reads(kind string) Reads { return f.c.Stats().Reads[kind] }

// membershipIn reads a membership through the cache and through the
// store in the same transaction, and fails the test when they differ.
func membershipIn(t *testing.T, tx carillon.Tx, ch, member string) *carillon.Membership {
	t.Helper()
	got, err := tx.GetMembership(ch, member)
	want, werr := inner(tx).GetMembership(ch, member)
	sameRead(t, "membership", got, err, want, werr)
	return got
}

// inner is the store's transaction under the cache's.
func inner(x carillon.Tx) carillon.Tx { return x.(*tx).Tx }

// sameRead fails the test unless the cache read (got, err) is the store's
// (want, werr).
func sameRead(t *testing.T, what string, got any, err error, want any, werr error) {
	t.Helper()
	if errors.Is(err, carillon.ErrNotFound) != errors.Is(werr, carillon.ErrNotFound) || (err == nil) != (werr == nil) {
		t.Errorf("%s: the cache answered %v, the store %v", what, err, werr)
		return
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Errorf("%s: the cache answered\n%+v\nthe store\n%+v", what, got, want)
	}
}

func TestHitsAndAbsentRows(t *testing.T) {
	f := newFixture(t, 0, 2, 1)
	for range 3 {
		f.view(func(tx carillon.Tx) error {
			// The first read of a View takes its snapshot from the store.
			if _, err := tx.GetChannel(channelARN(0)); err != nil {
				return err
			}
			if _, err := tx.GetUser(userARN(0)); err != nil {
				return err
			}
			if _, err := tx.GetBan(channelARN(0), userARN(0)); !errors.Is(err, carillon.ErrNotFound) {
				return fmt.Errorf("GetBan: %v, want ErrNotFound", err)
			}
			return nil
		})
	}
	if r := f.reads("user"); r.Hits != 2 || r.Misses != 1 {
		t.Errorf("user reads %+v, want 1 miss then 2 hits", r)
	}
	if r := f.reads("ban"); r.Hits != 2 || r.Misses != 1 {
		t.Errorf("ban reads %+v, want 1 miss then 2 hits (absent rows are kept)", r)
	}
	if r := f.reads("channel"); r.Snapshots != 3 || r.Hits+r.Misses != 0 {
		t.Errorf("channel reads %+v, want 3 snapshot reads", r)
	}
}

// TestHitIsACopy: a service changes the row it read (SendChannelMessage
// sets LastMessageAt before UpdateChannel); the cache must not see that.
func TestHitIsACopy(t *testing.T) {
	f := newFixture(t, 0, 1, 1)
	for range 2 {
		f.view(func(tx carillon.Tx) error {
			ch, err := tx.GetChannel(channelARN(0))
			if err != nil {
				return err
			}
			if ch.Name != "channel 0" {
				t.Errorf("name %q", ch.Name)
			}
			ch.Name = "changed by the caller"
			ch.Expiration = &carillon.ExpirationSettings{Days: 1}
			return nil
		})
	}
	f.view(func(tx carillon.Tx) error {
		ch, err := tx.GetChannel(channelARN(0))
		if err == nil && (ch.Name != "channel 0" || ch.Expiration != nil) {
			t.Errorf("the cache kept a caller's change: %+v", ch)
		}
		return err
	})
}

func TestUpdateSeesItsOwnWrites(t *testing.T) {
	f := newFixture(t, 0, 2, 1)
	ch, u := channelARN(0), userARN(1)
	f.view(func(tx carillon.Tx) error { membershipIn(t, tx, ch, u); return nil }) // kept: absent
	f.update(func(tx carillon.Tx) error {
		if m := membershipIn(t, tx, ch, u); m != nil {
			t.Errorf("a membership before it was created: %+v", m)
		}
		if err := tx.CreateMembership(&carillon.Membership{ChannelARN: ch, MemberARN: u, Type: "DEFAULT"}); err != nil {
			return err
		}
		if m := membershipIn(t, tx, ch, u); m == nil || m.MemberName != "user 1" {
			t.Errorf("the Update does not see the membership it created: %+v", m)
		}
		// Meanwhile, a View sees the snapshot without it.
		if err := f.c.View(f.ctx, func(vtx carillon.Tx) error {
			if m := membershipIn(t, vtx, ch, u); m != nil {
				t.Errorf("a View sees an uncommitted membership: %+v", m)
			}
			return nil
		}); err != nil {
			return err
		}
		return nil
	})
	f.view(func(tx carillon.Tx) error {
		if m := membershipIn(t, tx, ch, u); m == nil {
			t.Error("the membership is missing after the commit")
		}
		return nil
	})
}

func TestRollbackLeavesNothing(t *testing.T) {
	f := newFixture(t, 0, 2, 1)
	ch, u := channelARN(0), userARN(1)
	fail := errors.New("rolled back")
	err := f.c.Update(f.ctx, func(tx carillon.Tx) error {
		if err := tx.CreateModerator(&carillon.Moderator{ChannelARN: ch, ModeratorARN: u}); err != nil {
			return err
		}
		if _, err := tx.GetModerator(ch, u); err != nil {
			return err
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("Update: %v", err)
	}
	for range 2 {
		f.view(func(tx carillon.Tx) error {
			if _, err := tx.GetModerator(ch, u); !errors.Is(err, carillon.ErrNotFound) {
				t.Errorf("GetModerator after a rollback: %v, want ErrNotFound", err)
			}
			return nil
		})
	}
	// A panic rolls back too, and releases the marks.
	func() {
		defer func() { _ = recover() }()
		_ = f.c.Update(f.ctx, func(tx carillon.Tx) error {
			if err := tx.CreateBan(&carillon.Ban{ChannelARN: ch, MemberARN: u}); err != nil {
				return err
			}
			panic("in the function")
		})
	}()
	f.view(func(tx carillon.Tx) error {
		_, err := tx.GetBan(ch, u)
		if !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("GetBan after a panic: %v", err)
		}
		return nil
	})
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	for k, r := range f.c.recs {
		if r.inflight != 0 {
			t.Errorf("%v is still marked in flight", k)
		}
	}
}

// TestOldViewDoesNotKeepItsSnapshot: a View whose snapshot predates a
// change must read the old row, and must not leave it in memory for the
// transactions after the change.
func TestOldViewDoesNotKeepItsSnapshot(t *testing.T) {
	f := newFixture(t, 0, 2, 1)
	ch, u := channelARN(0), userARN(1)
	f.view(func(tx carillon.Tx) error {
		// The snapshot is taken here, by the View's first read.
		if _, err := tx.GetUser(userARN(0)); err != nil {
			return err
		}
		if err := f.c.Update(f.ctx, func(utx carillon.Tx) error {
			return utx.CreateMembership(&carillon.Membership{ChannelARN: ch, MemberARN: u, Type: "DEFAULT"})
		}); err != nil {
			return err
		}
		if m := membershipIn(t, tx, ch, u); m != nil {
			t.Errorf("the View sees a membership created after its snapshot: %+v", m)
		}
		return nil
	})
	f.update(func(tx carillon.Tx) error {
		if m := membershipIn(t, tx, ch, u); m == nil {
			t.Error("an Update after the View does not see the membership")
		}
		return nil
	})
}

// TestWriteThrough: the row SendChannelMessage and UpdateChannelReadMarker
// write is the row the next request finds in memory.
func TestWriteThrough(t *testing.T) {
	f := newFixture(t, 0, 2, 1)
	ch, u := channelARN(0), userARN(1)
	f.update(func(tx carillon.Tx) error {
		return tx.CreateMembership(&carillon.Membership{ChannelARN: ch, MemberARN: u, Type: "DEFAULT", InvitedBy: userARN(0)})
	})
	sent := time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("x", 3600))
	f.update(func(tx carillon.Tx) error {
		c, err := tx.GetChannel(ch)
		if err != nil {
			return err
		}
		c.LastMessageAt = sent
		c.Updated = sent
		c.CreatedBy = "ignored by UpdateChannel"
		if err := tx.UpdateChannel(c); err != nil {
			return err
		}
		m := membershipIn(t, tx, ch, u)
		m.ReadMarker = sent
		m.Preferences = &carillon.MembershipPreferences{AllowNotifications: "FILTERED", FilterRule: "{}"}
		m.MemberName = "ignored"
		return tx.UpdateMembership(m)
	})
	before := f.c.Stats()
	f.update(func(tx carillon.Tx) error {
		c, err := tx.GetChannel(ch)
		w, werr := inner(tx).GetChannel(ch)
		sameRead(t, "channel", c, err, w, werr)
		membershipIn(t, tx, ch, u)
		return nil
	})
	after := f.c.Stats()
	for _, kind := range []string{"channel", "membership"} {
		if after.Reads[kind].Hits != before.Reads[kind].Hits+1 {
			t.Errorf("%s: not written through: %+v then %+v", kind, before.Reads[kind], after.Reads[kind])
		}
	}
}

// TestWriteThroughLastMessageAt: the channel row SendChannelMessage leaves
// with SetChannelLastMessageAt is the row the next request finds in
// memory, as the store has it.
func TestWriteThroughLastMessageAt(t *testing.T) {
	f := newFixture(t, 0, 1, 1)
	ch := channelARN(0)
	sent := time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("x", 3600))
	f.update(func(tx carillon.Tx) error {
		if _, err := tx.GetChannel(ch); err != nil {
			return err
		}
		return tx.SetChannelLastMessageAt(ch, sent)
	})
	before := f.c.Stats()
	f.update(func(tx carillon.Tx) error {
		c, err := tx.GetChannel(ch)
		w, werr := inner(tx).GetChannel(ch)
		sameRead(t, "channel", c, err, w, werr)
		if err == nil && !c.LastMessageAt.Equal(sent.Truncate(time.Millisecond)) {
			t.Errorf("LastMessageAt %v, want %v", c.LastMessageAt, sent)
		}
		return nil
	})
	if after := f.c.Stats(); after.Reads["channel"].Hits != before.Reads["channel"].Hits+1 {
		t.Errorf("not written through: %+v then %+v", before.Reads["channel"], after.Reads["channel"])
	}
}

// TestScopes: the rows a write changes without naming them.
func TestScopes(t *testing.T) {
	f := newFixture(t, 0, 3, 2)
	c0, c1, u1, u2 := channelARN(0), channelARN(1), userARN(1), userARN(2)
	f.update(func(tx carillon.Tx) error {
		for _, ch := range []string{c0, c1} {
			for _, u := range []string{u1, u2} {
				if err := tx.CreateMembership(&carillon.Membership{ChannelARN: ch, MemberARN: u, Type: "DEFAULT"}); err != nil {
					return err
				}
				if err := tx.CreateModerator(&carillon.Moderator{ChannelARN: ch, ModeratorARN: u}); err != nil {
					return err
				}
			}
		}
		if err := tx.CreateAdmin(&carillon.AppInstanceAdmin{AppInstanceARN: app, AdminARN: u1}); err != nil {
			return err
		}
		// A member that is no user yet: its name comes with CreateUser.
		return tx.CreateMembership(&carillon.Membership{ChannelARN: c0, MemberARN: userARN(9), Type: "DEFAULT"})
	})
	// readAll reads everything twice (the second from memory) and checks
	// it against the store.
	readAll := func(what string) {
		t.Helper()
		for range 2 {
			f.view(func(tx carillon.Tx) error {
				itx := inner(tx)
				for _, ch := range []string{c0, c1} {
					got, err := tx.GetChannel(ch)
					want, werr := itx.GetChannel(ch)
					sameRead(t, what+": channel", got, err, want, werr)
					for _, u := range []string{u1, u2, userARN(9)} {
						membershipIn(t, tx, ch, u)
						gm, err := tx.GetModerator(ch, u)
						wm, werr := itx.GetModerator(ch, u)
						sameRead(t, what+": moderator", gm, err, wm, werr)
					}
				}
				for _, u := range []string{u1, u2, userARN(9)} {
					gu, err := tx.GetUser(u)
					wu, werr := itx.GetUser(u)
					sameRead(t, what+": user", gu, err, wu, werr)
					ga, err := tx.GetAdmin(app, u)
					wa, werr := itx.GetAdmin(app, u)
					sameRead(t, what+": admin", ga, err, wa, werr)
				}
				return nil
			})
		}
	}
	readAll("before")
	f.update(func(tx carillon.Tx) error {
		return tx.UpdateUser(&carillon.AppInstanceUser{ARN: u2, AppInstanceARN: app, Name: "renamed"})
	})
	readAll("after a rename")
	f.update(func(tx carillon.Tx) error {
		return tx.CreateUser(&carillon.AppInstanceUser{ARN: userARN(9), AppInstanceARN: app, Name: "new"})
	})
	readAll("after a user's creation")
	f.update(func(tx carillon.Tx) error { return tx.DeleteUser(u1) })
	readAll("after a user's deletion")
	f.update(func(tx carillon.Tx) error { return tx.DeleteChannel(c1) })
	readAll("after a channel's deletion")
	f.update(func(tx carillon.Tx) error { return tx.DeleteAppInstance(app) })
	readAll("after the AppInstance's deletion")

	f.view(func(tx carillon.Tx) error {
		if _, err := tx.GetMembership(c0, u2); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("a membership outlived its AppInstance: %v", err)
		}
		return nil
	})
}

func TestInvalidate(t *testing.T) {
	f := newFixture(t, 0, 2, 1)
	ch, u := channelARN(0), userARN(1)
	read := func() {
		f.view(func(tx carillon.Tx) error {
			_, _ = tx.GetChannel(ch)
			_, _ = tx.GetMembership(ch, u)
			_, _ = tx.GetUser(u)
			return nil
		})
	}
	read()
	// Another node's writes: straight to the database, then invalidated.
	if err := f.db.Update(f.ctx, func(tx carillon.Tx) error {
		if err := tx.CreateMembership(&carillon.Membership{ChannelARN: ch, MemberARN: u, Type: "DEFAULT"}); err != nil {
			return err
		}
		if err := tx.UpdateChannel(&carillon.Channel{ARN: ch, Name: "elsewhere", Mode: "RESTRICTED", Privacy: "PRIVATE"}); err != nil {
			return err
		}
		return tx.UpdateUser(&carillon.AppInstanceUser{ARN: u, Name: "elsewhere"})
	}); err != nil {
		t.Fatal(err)
	}
	f.c.InvalidateChannel(ch)
	f.c.InvalidateBearer(u)
	f.view(func(tx carillon.Tx) error {
		if c, err := tx.GetChannel(ch); err != nil || c.Name != "elsewhere" {
			t.Errorf("channel after InvalidateChannel: %+v, %v", c, err)
		}
		if m, err := tx.GetMembership(ch, u); err != nil || m.MemberName != "elsewhere" {
			t.Errorf("membership after InvalidateChannel: %+v, %v", m, err)
		}
		if u, err := tx.GetUser(u); err != nil || u.Name != "elsewhere" {
			t.Errorf("user after InvalidateBearer: %+v, %v", u, err)
		}
		return nil
	})
	if err := f.db.Update(f.ctx, func(tx carillon.Tx) error { return tx.DeleteAppInstance(app) }); err != nil {
		t.Fatal(err)
	}
	f.c.InvalidateAppInstance(app)
	f.view(func(tx carillon.Tx) error {
		if _, err := tx.GetUser(u); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("user after InvalidateAppInstance: %v", err)
		}
		return nil
	})
}

// TestEviction: the cache holds at most Size rows, the least recently
// used go first, and a row with a write in flight stays.
func TestEviction(t *testing.T) {
	const size = 10
	f := newFixture(t, size, 40, 1)
	ch := channelARN(0)
	release := make(chan struct{})
	marked := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- f.c.Update(f.ctx, func(tx carillon.Tx) error {
			if err := tx.CreateBan(&carillon.Ban{ChannelARN: ch, MemberARN: userARN(0)}); err != nil {
				return err
			}
			close(marked)
			<-release
			return nil
		})
	}()
	<-marked
	for round := range 2 {
		f.view(func(tx carillon.Tx) error {
			for i := range 40 {
				got, err := tx.GetUser(userARN(i))
				want, werr := inner(tx).GetUser(userARN(i))
				sameRead(t, fmt.Sprint("round ", round, " user ", i), got, err, want, werr)
			}
			return nil
		})
	}
	s := f.c.Stats()
	if s.Rows > size+1 { // + the row with a write in flight
		t.Errorf("%d rows held, want at most %d", s.Rows, size+1)
	}
	if s.Evictions < 60 {
		t.Errorf("%d evictions, want at least 60", s.Evictions)
	}
	f.c.mu.Lock()
	r := f.c.recs[key{k: kBan, a: ch, b: userARN(0)}]
	if r == nil || r.inflight != 1 {
		t.Errorf("the row with a write in flight was evicted: %+v", r)
	}
	scopes := 0
	for _, r := range f.c.recs {
		if r.isScope() {
			scopes++
			if r.refs == 0 && r.inflight == 0 {
				t.Errorf("scope %v outlives its rows", r.key)
			}
		}
	}
	f.c.mu.Unlock()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The most recently used rows are kept: reading the last ones again
	// hits.
	before := f.reads("user").Hits
	f.view(func(tx carillon.Tx) error {
		if _, err := tx.GetChannel(ch); err != nil { // the snapshot
			return err
		}
		for i := 35; i < 40; i++ {
			if _, err := tx.GetUser(userARN(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if hits := f.reads("user").Hits - before; hits != 5 {
		t.Errorf("%d hits on the 5 most recent rows, want 5", hits)
	}
	f.view(func(tx carillon.Tx) error {
		_, err := tx.GetBan(ch, userARN(0))
		if err != nil {
			t.Errorf("GetBan after the Update: %v", err)
		}
		return nil
	})
}

func TestStatsCollector(t *testing.T) {
	f := newFixture(t, 0, 1, 1)
	f.view(func(tx carillon.Tx) error { _, err := tx.GetUser(userARN(0)); return err })
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "," + l.GetName() + "=" + l.GetValue()
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	// A counter per kind and result, the rows and the evictions.
	if len(got) != 7*4+2 {
		t.Errorf("%d metrics, want %d: %v", len(got), 7*4+2, got)
	}
	// The user read, and the channel the fixture created, which left a
	// record behind.
	for name, want := range map[string]float64{
		"carillon_store_cache_reads_total,kind=user,result=snapshot": 1,
		"carillon_store_cache_reads_total,kind=user,result=hit":      0,
		"carillon_store_cache_rows":                                  2,
		"carillon_store_cache_evictions_total":                       0,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}

// hookStore calls afterRead after each GetMembership of its
// transactions has read the store.
type hookStore struct {
	carillon.Store
	afterRead func()
}

type hookTx struct {
	carillon.Tx
	s *hookStore
}

func (s *hookStore) View(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return s.Store.View(ctx, func(itx carillon.Tx) error { return fn(&hookTx{Tx: itx, s: s}) })
}

func (t *hookTx) GetMembership(channelARN, memberARN string) (*carillon.Membership, error) {
	m, err := t.Tx.GetMembership(channelARN, memberARN)
	if t.s.afterRead != nil {
		t.s.afterRead()
	}
	return m, err
}

// TestChangeDuringARead: a row that changes while a read of it is on its
// way back from the store is not kept as it was read.
func TestChangeDuringARead(t *testing.T) {
	clock := storetest.NewFakeClock(storetest.Start)
	db := openSQLite(t, clock)
	hs := &hookStore{Store: db}
	c := New(hs, Options{})
	defer c.Close()
	f := &fixture{t: t, ctx: t.Context(), db: db, c: c, clock: clock}
	ch, u := channelARN(0), userARN(1)
	f.update(func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app}); err != nil {
			return err
		}
		if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: u, AppInstanceARN: app}); err != nil {
			return err
		}
		return tx.CreateChannel(&carillon.Channel{ARN: ch, AppInstanceARN: app})
	})
	f.view(func(tx carillon.Tx) error {
		if _, err := tx.GetUser(u); err != nil { // the snapshot
			return err
		}
		hs.afterRead = func() {
			hs.afterRead = nil
			f.update(func(tx carillon.Tx) error {
				return tx.CreateMembership(&carillon.Membership{ChannelARN: ch, MemberARN: u, Type: "DEFAULT"})
			})
		}
		if m := membershipIn(t, tx, ch, u); m != nil {
			t.Errorf("the View sees a membership created after its snapshot: %+v", m)
		}
		return nil
	})
	f.update(func(tx carillon.Tx) error {
		if m := membershipIn(t, tx, ch, u); m == nil {
			t.Error("the cache kept the row read before the change")
		}
		return nil
	})
}

// BenchmarkAbsentRowMemory reports what the cache holds, after a
// collection, per absent row it keeps: a ban read of each of 2,000 members
// of a channel, none of them banned, as SendChannelMessage reads them.
func BenchmarkAbsentRowMemory(b *testing.B) {
	const rows = 2_000
	db := openSQLite(b, storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	err := db.Update(b.Context(), func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "app"}); err != nil {
			return err
		}
		return tx.CreateChannel(&carillon.Channel{ARN: channelARN(0), AppInstanceARN: app, Name: "channel", Mode: "RESTRICTED", Privacy: "PRIVATE"})
	})
	if err != nil {
		b.Fatal(err)
	}
	members := make([]string, rows)
	for i := range members {
		members[i] = userARN(i)
	}
	var held float64
	for b.Loop() {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		c := New(db, Options{Size: 2 * rows})
		err := c.Update(b.Context(), func(tx carillon.Tx) error {
			for _, m := range members {
				if _, err := tx.GetBan(channelARN(0), m); !errors.Is(err, carillon.ErrNotFound) {
					return fmt.Errorf("GetBan: %v, want ErrNotFound", err)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		held += float64(ms.HeapAlloc) - float64(before)
		if n := c.Stats().Rows; n < rows {
			b.Fatalf("%d rows kept, want %d", n, rows)
		}
		runtime.KeepAlive(c)
	}
	b.ReportMetric(held/float64(b.N)/rows, "B/row")
}
