package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

const testApp = "arn:aws:chime:us-east-1:111122223333:app-instance/app"

func openTest(t testing.TB, path string, clock carillon.Clock) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, clock)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

// openFresh opens a new database in the test's directory, on a fake
// clock at storetest.Start, and closes it when the test ends.
func openFresh(t testing.TB) *DB {
	t.Helper()
	db := openTest(t, tempPath(t), storetest.NewFakeClock(storetest.Start))
	t.Cleanup(func() { db.Close() })
	return db
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "carillon.db")
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock carillon.Clock) carillon.Store {
		return openTest(t, tempPath(t), clock)
	})
}

func TestPragmas(t *testing.T) {
	path := tempPath(t)
	db := openTest(t, path, storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	ctx := t.Context()
	want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000"}
	for name, value := range want {
		for pool, p := range map[string]*sql.DB{"writer": db.w, "reader": db.r} {
			var got string
			if err := p.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", pool, name, err)
			}
			if !strings.EqualFold(got, value) {
				t.Errorf("%s: PRAGMA %s = %s, want %s", pool, name, got, value)
			}
		}
	}
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		return tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no WAL file beside the database: %v", err)
	}
	// The readers refuse writes, should a bug let one through.
	if _, err := db.r.ExecContext(ctx, `DELETE FROM app_instances`); err == nil {
		t.Errorf("a reader connection wrote")
	}
}

// TestSync: the Sync option sets PRAGMA synchronous on every connection.
func TestSync(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []Options
		want string
	}{
		{"default", nil, "1"},
		{"normal", []Options{{Sync: SyncNormal}}, "1"},
		{"full", []Options{{Sync: SyncFull}}, "2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := Open(t.Context(), tempPath(t), storetest.NewFakeClock(storetest.Start), c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for pool, p := range map[string]*sql.DB{"writer": db.w, "reader": db.r} {
				var got string
				if err := p.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%s: PRAGMA synchronous = %s, want %s", pool, got, c.want)
				}
			}
			if err := db.Update(t.Context(), func(tx carillon.Tx) error {
				return tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp})
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if db, err := Open(t.Context(), tempPath(t), storetest.NewFakeClock(storetest.Start), Options{Sync: 7}); err == nil {
		db.Close()
		t.Error("Open with an unknown Sync succeeded")
	}
	if db, err := Open(t.Context(), tempPath(t), storetest.NewFakeClock(storetest.Start), Options{}, Options{}); err == nil {
		db.Close()
		t.Error("Open with two Options succeeded")
	}

	// A *Sync is a flag.Value.
	var s Sync
	for in, want := range map[string]Sync{"full": SyncFull, "FULL": SyncFull, "normal": SyncNormal, "Normal": SyncNormal} {
		if err := s.Set(in); err != nil || s != want {
			t.Errorf("Set(%q): %v, %v; want %v", in, s, err, want)
		}
		if got := want.String(); !strings.EqualFold(got, in) {
			t.Errorf("%v.String() = %q", want, got)
		}
	}
	for _, in := range []string{"", "off", "extra", "2"} {
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) succeeded", in)
		}
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	clock := storetest.NewFakeClock(storetest.Start)
	for _, path := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "a?b.db")} {
		if db, err := Open(t.Context(), path, clock); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
	if db, err := Open(t.Context(), tempPath(t), nil); err == nil {
		db.Close()
		t.Errorf("Open with a nil clock succeeded")
	}
}

func TestReopen(t *testing.T) {
	path := tempPath(t)
	first := storetest.NewFakeClock(storetest.Start)
	db := openTest(t, path, first)
	if err := db.Update(t.Context(), func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp, Name: "kept"}); err != nil {
			return err
		}
		return tx.AppendEvent(&carillon.Event{Type: "T"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	db = openTest(t, path, storetest.NewFakeClock(storetest.Start.Add(time.Hour)))
	defer db.Close()
	err := db.View(t.Context(), func(tx carillon.Tx) error {
		a, err := tx.GetAppInstance(testApp)
		if err != nil {
			return err
		}
		if a.Name != "kept" {
			t.Errorf("Name after reopening = %q", a.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Seq goes on from where it was.
	ev := &carillon.Event{Type: "T"}
	if err := db.Update(t.Context(), func(tx carillon.Tx) error { return tx.AppendEvent(ev) }); err != nil {
		t.Fatal(err)
	}
	if ev.Seq != 2 {
		t.Errorf("Seq after reopening = %d, want 2", ev.Seq)
	}

	// Each migration was applied once, when the database was created.
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.r.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []string
	for rows.Next() {
		var v string
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
		if at != storetest.Start.UnixMilli() {
			t.Errorf("migration %s applied at %v, want when the database was created", v, time.UnixMilli(at).UTC())
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(ms) || len(ms) == 0 {
		t.Fatalf("schema_migrations holds %v, want one row per migration (%d)", versions, len(ms))
	}
	for i, m := range ms {
		if versions[i] != m.Version {
			t.Errorf("schema_migrations[%d] = %s, want %s", i, versions[i], m.Version)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := tempPath(t)
	clock := storetest.NewFakeClock(storetest.Start)
	db := openTest(t, path, clock)
	if _, err := db.w.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES ('9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(t.Context(), path, clock); err == nil {
		db.Close()
		t.Fatal("Open of a database with an unknown migration succeeded")
	} else if !strings.Contains(err.Error(), "9999_future") {
		t.Errorf("Open: %v, want it to name the unknown version", err)
	}
}

// TestConcurrency runs Updates and Views from many goroutines, on one DB
// and on a second DB opened on the same file (as another process would):
// none of them may fail, with SQLITE_BUSY or anything else.
func TestConcurrency(t *testing.T) {
	path := tempPath(t)
	clock := storetest.NewFakeClock(storetest.Start)
	db := openTest(t, path, clock)
	defer db.Close()
	other := openTest(t, path, clock)
	defer other.Close()
	if err := db.Update(t.Context(), func(tx carillon.Tx) error {
		return tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp})
	}); err != nil {
		t.Fatal(err)
	}

	const goroutines, rounds = 16, 25
	var wg sync.WaitGroup
	for g := range goroutines {
		store := db
		if g%4 == 3 {
			store = other
		}
		wg.Go(func() {
			for r := range rounds {
				clock.Advance(time.Millisecond)
				arn := fmt.Sprintf("%s/user/g%02d-r%02d", testApp, g, r)
				err := store.Update(t.Context(), func(tx carillon.Tx) error {
					if err := tx.CreateUser(&carillon.AppInstanceUser{ARN: arn, AppInstanceARN: testApp, Created: tx.Now()}); err != nil {
						return err
					}
					if err := tx.PutTags(arn, []carillon.Tag{{Key: "g", Value: fmt.Sprint(g)}}); err != nil {
						return err
					}
					return tx.AppendEvent(&carillon.Event{Type: "T", Recipients: []string{arn}})
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				err = store.View(t.Context(), func(tx carillon.Tx) error {
					if _, err := tx.GetUser(arn); err != nil {
						return err
					}
					_, err := tx.ListUsers(testApp, carillon.Page{Limit: 10})
					return err
				})
				if err != nil {
					t.Errorf("View: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	err := db.View(t.Context(), func(tx carillon.Tx) error {
		users, err := tx.ListUsers(testApp, carillon.Page{})
		if err != nil {
			return err
		}
		if len(users) != goroutines*rounds {
			t.Errorf("%d users, want %d", len(users), goroutines*rounds)
		}
		evs, err := tx.Events(0, 0)
		if err != nil {
			return err
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq <= evs[i-1].Seq {
				t.Errorf("events out of order: %d then %d", evs[i-1].Seq, evs[i].Seq)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateCanceled checks that a canceled context ends a transaction
// with an error and leaves the writer usable.
func TestUpdateCanceled(t *testing.T) {
	db := openFresh(t)
	ctx, cancel := context.WithCancel(t.Context())
	err := db.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp}); err != nil {
			return err
		}
		cancel()
		_, err := tx.GetAppInstance(testApp)
		return err
	})
	if err == nil {
		t.Fatal("Update with a canceled context succeeded")
	}
	if err := db.Update(t.Context(), func(tx carillon.Tx) error {
		if _, err := tx.GetAppInstance(testApp); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("GetAppInstance after a canceled Update: %v, want ErrNotFound", err)
		}
		return tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp})
	}); err != nil {
		t.Fatal(err)
	}
}

// TestQueryPlans checks that no query scans a whole table or sorts in a
// temporary b-tree: every lookup, list order and ARN range has an index.
// It checks the plans on an empty database and again once ANALYZE has
// seen lopsided data: big channels, few private channels and hidden
// members, members in few channels.
func TestQueryPlans(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		db := openFresh(t)
		if _, err := db.w.ExecContext(t.Context(), `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		checkPlans(t, db)
	})
	t.Run("with statistics", func(t *testing.T) {
		db := openFresh(t)
		err := db.Update(t.Context(), func(tx carillon.Tx) error {
			if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp}); err != nil {
				return err
			}
			for c := range 20 {
				ch := fmt.Sprintf("%s/channel/c%02d", testApp, c)
				privacy := "PUBLIC"
				if c == 0 {
					privacy = "PRIVATE"
				}
				if err := tx.CreateChannel(&carillon.Channel{ARN: ch, AppInstanceARN: testApp, Privacy: privacy}); err != nil {
					return err
				}
				members := 3
				if c < 2 {
					members = 500
				}
				if c == 1 {
					// An elastic channel of 50 sub-channels, created
					// first so that the memberships count in them.
					for sc := range 50 {
						if err := tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: fmt.Sprint("s", sc)}); err != nil {
							return err
						}
					}
				}
				for m := range members {
					ms := &carillon.Membership{ChannelARN: ch, MemberARN: fmt.Sprintf("%s/user/u%03d", testApp, m), Type: "DEFAULT"}
					if m == 7 {
						ms.Type = "HIDDEN"
					}
					if c == 1 {
						ms.SubChannelID = fmt.Sprint("s", m%50)
					}
					if err := tx.CreateMembership(ms); err != nil {
						return err
					}
					if c == 1 && m < 20 {
						// Twenty members are in ten more sub-channels each,
						// as moderators are.
						for sc := range 10 {
							sm := &carillon.Membership{ChannelARN: ch, MemberARN: ms.MemberARN, Type: "DEFAULT", SubChannelID: fmt.Sprint("s", 10+sc)}
							if err := tx.CreateSubChannelMembership(sm); err != nil {
								return err
							}
						}
					}
				}
				for _, arn := range []string{"a", "b"} {
					if err := tx.CreateModerator(&carillon.Moderator{ChannelARN: ch, ModeratorARN: arn}); err != nil {
						return err
					}
					if err := tx.CreateBan(&carillon.Ban{ChannelARN: ch, MemberARN: arn + "-banned"}); err != nil {
						return err
					}
				}
				// Channels 0 to 9 use a flow: f0 has most of them.
				if c < 10 {
					flow := fmt.Sprintf("%s/channel-flow/f%d", testApp, min(c/8, 1))
					if err := tx.UpdateChannel(&carillon.Channel{ARN: ch, AppInstanceARN: testApp, Privacy: privacy, FlowARN: flow}); err != nil {
						return err
					}
				}
				messages := 5
				if c == 0 {
					messages = 2000
				}
				for i := range messages {
					m := &carillon.Message{ChannelARN: ch, ID: fmt.Sprint(i), Created: storetest.Start.Add(time.Duration(i) * time.Millisecond)}
					if err := tx.CreateMessage(m); err != nil {
						return err
					}
					// Many invocations not yet due or awaiting, a few
					// due or expired.
					if c < 10 && i < 200 {
						inv := &carillon.Invocation{
							CallbackID: fmt.Sprintf("cb-%02d-%04d", c, i), ChannelARN: ch, MessageID: m.ID,
							State:       carillon.InvocationAwaiting,
							NextAttempt: storetest.Start.Add(time.Hour), Deadline: storetest.Start.Add(48 * time.Hour),
						}
						if i%5 == 0 {
							inv.State = carillon.InvocationDue
						}
						if i%50 == 0 {
							inv.NextAttempt, inv.Deadline = storetest.Start, storetest.Start
						}
						if err := tx.CreateInvocation(inv); err != nil {
							return err
						}
					}
				}
			}
			for f := range 3 {
				if err := tx.CreateChannelFlow(&carillon.ChannelFlow{
					ARN: fmt.Sprintf("%s/channel-flow/f%d", testApp, f), AppInstanceARN: testApp,
				}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.w.ExecContext(t.Context(), `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		// The readers prepared their statements before the statistics
		// existed; the plans are checked on the writer.
		checkPlans(t, db)
	})
}

func checkPlans(t *testing.T, db *DB) {
	for _, q := range queries {
		plan := queryPlan(t, db, q.sql)
		for _, step := range plan {
			// json_each is the list of ARNs a search was given, not a
			// table.
			if strings.HasPrefix(step, "SCAN ") && !strings.HasPrefix(step, "SCAN json_each VIRTUAL TABLE") ||
				strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s\nplan: %s", q.sql, strings.Join(plan, "; "))
				break
			}
		}
	}

	// The queries whose cost must not grow with a channel, an AppInstance
	// or a member's channels use the index that makes them a range.
	for _, c := range []struct {
		q    *query
		want []string // in this order, each contained in a step of the plan
	}{
		{qDeleteIdempotentBefore, []string{"SEARCH idempotency USING INTEGER PRIMARY KEY (rowid=?)", "SEARCH idempotency USING INTEGER PRIMARY KEY (rowid>?)"}},
		{qListMessagesForward, []string{"SEARCH messages USING INDEX messages_by_time (channel_arn=? AND sub_channel_id=? AND (created,seq)>(?,?) AND (created,seq)<(?,?))"}},
		{qListMessagesReverse, []string{"SEARCH messages USING INDEX messages_by_time (channel_arn=? AND sub_channel_id=? AND (created,seq)>(?,?) AND (created,seq)<(?,?))"}},
		{qSearchChannels, []string{
			"SEARCH f USING COVERING INDEX memberships_by_member (member_arn=? AND channel_arn>?)",
			"SEARCH c USING PRIMARY KEY (arn=?)",
		}},
		{qListMembershipsOf, []string{
			"SEARCH m USING INDEX memberships_by_member (member_arn=? AND channel_arn>?)",
			"SEARCH c USING PRIMARY KEY (arn=?)",
		}},
		{qListChannelsModeratedBy, []string{
			"SEARCH o USING COVERING INDEX moderators_by_moderator (moderator_arn=? AND channel_arn>?)",
			"SEARCH c USING PRIMARY KEY (arn=?)",
		}},
		{qSearchAllChannels, []string{"INDEX channels_by_app_instance (app_instance_arn=? AND arn>?)"}},
		{qListChannels, []string{"INDEX channels_by_app_instance (app_instance_arn=? AND arn>?)"}},
		{qListChannelsOfPrivacy, []string{"INDEX channels_by_privacy (app_instance_arn=? AND privacy=? AND arn>?)"}},
		{qListMemberships, []string{"SEARCH m USING PRIMARY KEY (channel_arn=? AND member_arn>?)"}},
		{qListMembershipsOfType, []string{"SEARCH m USING INDEX memberships_by_type (channel_arn=? AND type=? AND member_arn>?)"}},
		{qListMembershipsOfSubChannel, []string{"SEARCH m USING INDEX memberships_by_sub_channel (channel_arn=? AND sub_channel_id=? AND member_arn>?)"}},
		{qDeleteMembershipsOf, []string{"INDEX memberships_by_member (member_arn=?)"}},
		{qCreateSubChannel, []string{"INDEX memberships_by_sub_channel (channel_arn=? AND sub_channel_id=?)"}},
		{qListSubChannels, []string{"SEARCH sub_channels USING PRIMARY KEY (channel_arn=? AND id>?)"}},
		{qDeleteSubChannelMessages, []string{"INDEX messages_by_time (channel_arn=? AND sub_channel_id=?)"}},
		{qListSubChannelMemberships, []string{"SEARCH s USING PRIMARY KEY (channel_arn=? AND sub_channel_id=? AND member_arn>?)"}},
		{qListSubChannelMembershipsOf, []string{"SEARCH s USING INDEX sub_channel_memberships_by_member (channel_arn=? AND member_arn=? AND sub_channel_id>?)"}},
		{qDeleteModeratorRolesOf, []string{"INDEX moderators_by_moderator (moderator_arn=?)"}},
		{qDeleteBansOf, []string{"INDEX bans_by_member (member_arn=?)"}},
		{qListChannelFlows, []string{"INDEX channel_flows_by_app_instance (app_instance_arn=? AND arn>?)"}},
		{qListChannelsWithFlow, []string{"SEARCH c USING INDEX channels_by_flow (flow_arn=? AND arn>?)"}},
		{qGetMessageInvocation, []string{"INDEX sqlite_autoindex_invocations_2 (channel_arn=? AND message_id=?)"}},
		{qDueInvocations, []string{
			"MERGE (UNION ALL)",
			"SEARCH invocations USING INDEX invocations_due (next_attempt<?)",
			"SEARCH invocations USING INDEX invocations_awaiting (deadline<?)",
		}},
	} {
		plan := queryPlan(t, db, c.q.sql)
		i := 0
		for _, step := range plan {
			if i < len(c.want) && strings.Contains(step, c.want[i]) {
				i++
			}
		}
		if i < len(c.want) {
			t.Errorf("%s\nplan: %s\nwant the steps: %s", c.q.sql, strings.Join(plan, "; "), strings.Join(c.want, "; "))
		}
	}
}

// numberedParam is an SQL parameter with an explicit number, ?NNN.
var numberedParam = regexp.MustCompile(`\?(\d+)`)

// queryPlan returns the steps of the plan of a query, run with every
// parameter bound to a string.
func queryPlan(t *testing.T, db *DB, sql string) []string {
	t.Helper()
	nargs := strings.Count(sql, "?")
	if ns := numberedParam.FindAllStringSubmatch(sql, -1); ns != nil {
		nargs = 0
		for _, n := range ns {
			if i, _ := strconv.Atoi(n[1]); i > nargs {
				nargs = i
			}
		}
	}
	args := make([]any, nargs)
	for i := range args {
		args[i] = "x"
	}
	rows, err := db.w.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// The benchmarks compare the statement cache with preparing each
// statement in every transaction.

func benchDB(b *testing.B, prepareEachTime bool) *DB {
	db := openTest(b, tempPath(b), storetest.NewFakeClock(storetest.Start))
	b.Cleanup(func() { db.Close() })
	db.prepareEachTime = prepareEachTime
	if err := db.Update(b.Context(), func(tx carillon.Tx) error {
		return tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp})
	}); err != nil {
		b.Fatal(err)
	}
	return db
}

func benchModes(b *testing.B, run func(b *testing.B, db *DB)) {
	for _, mode := range []struct {
		name            string
		prepareEachTime bool
	}{{"cached", false}, {"prepareEachTime", true}} {
		b.Run(mode.name, func(b *testing.B) { run(b, benchDB(b, mode.prepareEachTime)) })
	}
}

func BenchmarkCreateUser(b *testing.B) {
	benchModes(b, func(b *testing.B, db *DB) {
		i := 0
		for b.Loop() {
			i++
			u := &carillon.AppInstanceUser{
				ARN: fmt.Sprintf("%s/user/u%09d", testApp, i), AppInstanceARN: testApp,
				Name: "user", Metadata: "metadata", Created: storetest.Start, Updated: storetest.Start,
			}
			if err := db.Update(b.Context(), func(tx carillon.Tx) error { return tx.CreateUser(u) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGetUser(b *testing.B) {
	benchModes(b, func(b *testing.B, db *DB) {
		arn := testApp + "/user/u1"
		if err := db.Update(b.Context(), func(tx carillon.Tx) error {
			return tx.CreateUser(&carillon.AppInstanceUser{ARN: arn, AppInstanceARN: testApp, Name: "user"})
		}); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := db.View(b.Context(), func(tx carillon.Tx) error {
				_, err := tx.GetUser(arn)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// migratedBefore creates a database at path with the migrations that sort
// before version applied, as a binary from before it left it, and returns
// the writer to fill it with; the caller closes it and opens the database,
// which applies the rest.
func migratedBefore(t *testing.T, path string, clock carillon.Clock, version string) *sql.DB {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	w, err := sql.Open("sqlite", dsn(path, "synchronous(NORMAL)", nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(t.Context(), `CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER) STRICT, WITHOUT ROWID`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version >= version {
			break
		}
		if err := apply(t.Context(), w, m, clock); err != nil {
			t.Fatalf("apply %s: %v", m.Version, err)
		}
	}
	return w
}

// TestMigrateOutboxAudience upgrades a database whose outbox holds events
// from before the audience columns: they read back with the defaults.
func TestMigrateOutboxAudience(t *testing.T) {
	path := tempPath(t)
	clock := storetest.NewFakeClock(storetest.Start)
	w := migratedBefore(t, path, clock, "0005_outbox_audience")
	if _, err := w.ExecContext(t.Context(), `INSERT INTO outbox (at, type, channel, recipients, message_type, payload)
		VALUES (?, 'OLD', 'c', '["r"]', 'SYSTEM', X'7B7D')`, storetest.Start.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	db := openTest(t, path, clock)
	defer db.Close()
	err := db.View(t.Context(), func(tx carillon.Tx) error {
		evs, err := tx.Events(0, 0)
		if err != nil {
			return err
		}
		want := carillon.Event{Seq: 1, At: storetest.Start.Truncate(time.Millisecond), Type: "OLD", Channel: "c",
			Recipients: []string{"r"}, MessageType: "SYSTEM", Payload: []byte("{}")}
		if len(evs) != 1 || !reflect.DeepEqual(evs[0], want) {
			t.Errorf("events after the migration: %+v, want %+v", evs, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateOutboxData upgrades a database whose outbox holds events
// from before their typed data: the batch membership events, which the
// streaming export may still have to export, get theirs from their
// payload; the others have none.
func TestMigrateOutboxData(t *testing.T) {
	path := tempPath(t)
	clock := storetest.NewFakeClock(storetest.Start)
	w := migratedBefore(t, path, clock, "0012_outbox_data")
	batch := `{"InvitedBy":{"Arn":"u0","Name":"Zero"},"Type":"DEFAULT","Members":[{"Arn":"u1","Name":"One"},{"Arn":"u2","Name":"Two \"2\""}],"ChannelArn":"c"}`
	for _, e := range []struct{ typ, payload string }{
		{"BATCH_CREATE_CHANNEL_MEMBERSHIP", batch},
		{"CREATE_CHANNEL_MESSAGE", `{"MessageId":"m"}`},
	} {
		if _, err := w.ExecContext(t.Context(), `INSERT INTO outbox (at, type, channel, recipients, message_type, payload)
			VALUES (?, ?, 'c', '[]', 'SYSTEM', ?)`, storetest.Start.UnixMilli(), e.typ, []byte(e.payload)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	db := openTest(t, path, clock)
	defer db.Close()
	err := db.View(t.Context(), func(tx carillon.Tx) error {
		evs, err := tx.Events(0, 0)
		if err != nil {
			return err
		}
		want := `{"v":1,"batch":{"channel":"c","sub_channel":"","type":"DEFAULT","invited_by":{"arn":"u0","name":"Zero"},` +
			`"members":[{"arn":"u1","name":"One"},{"arn":"u2","name":"Two \"2\""}]}}`
		if len(evs) != 2 || string(evs[0].Data) != want || string(evs[0].Payload) != batch || evs[1].Data != nil {
			t.Errorf("events after the migration: %+v\nwant the batch's data %s", evs, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkListMessages reads pages of 50 messages from channels of a
// thousand and of a million messages: a page costs the same in both.
// Building the big channel takes a few seconds and a few hundred MB of
// disk, so it is skipped with -short.
func BenchmarkListMessages(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			if n > 1_000 && testing.Short() {
				b.Skip("the channel of a million messages is not built with -short")
			}
			db := benchDB(b, false)
			channel := benchChannel(b, db, n)
			// Messages are two per millisecond, seq i at Start + i/2 ms.
			middle := &carillon.MessageCursor{Created: storetest.Start.Add(time.Duration(n/4) * time.Millisecond), Seq: int64(n / 2)}
			for _, c := range []struct {
				name string
				q    carillon.MessageQuery
			}{
				{"newest", carillon.MessageQuery{Channel: channel, Descending: true, Limit: 50}},
				{"oldest", carillon.MessageQuery{Channel: channel, Limit: 50}},
				{"after-middle", carillon.MessageQuery{Channel: channel, After: middle, Limit: 50}},
				{"window-descending", carillon.MessageQuery{Channel: channel, Descending: true, Limit: 50,
					NotBefore: storetest.Start.Add(time.Duration(n/8) * time.Millisecond),
					NotAfter:  storetest.Start.Add(time.Duration(n/4) * time.Millisecond)}},
				{"visible-to", carillon.MessageQuery{Channel: channel, Descending: true, Limit: 50, VisibleTo: "arn:reader"}},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						err := db.View(b.Context(), func(tx carillon.Tx) error {
							ms, err := tx.ListMessages(c.q)
							if err == nil && len(ms) != 50 {
								err = fmt.Errorf("%d messages, want 50", len(ms))
							}
							return err
						})
						if err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// benchChannel creates a channel of n messages and returns its ARN. The
// messages are inserted by one statement in one transaction, in the form
// CreateMessage stores them, with seq 1 to n.
func benchChannel(b *testing.B, db *DB, n int) string {
	b.Helper()
	channel := testApp + "/channel/c1"
	if err := db.Update(b.Context(), func(tx carillon.Tx) error {
		return tx.CreateChannel(&carillon.Channel{ARN: channel, AppInstanceARN: testApp, Mode: "UNRESTRICTED", Privacy: "PUBLIC"})
	}); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer stx.Rollback()
	if _, err := stx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 WHERE ?2 > 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
	INSERT INTO messages (seq, channel_arn, id, sub_channel_id, sender, sender_name, content, metadata, content_type,
		type, persistence, status, status_detail, redacted, attributes, push, target, created, updated, last_edited)
	SELECT i, ?1, 'm' || i, '', 'arn:sender', 'sender', 'message ' || i, '', 'text/plain',
		'STANDARD', 'PERSISTENT', 'SENT', '', 0, '{}', NULL, '', ?3 + i / 2, ?3 + i / 2, NULL
	FROM n`, channel, n, storetest.Start.UnixMilli()); err != nil {
		b.Fatal(err)
	}
	if _, err := stx.ExecContext(ctx, `UPDATE counters SET value = ? WHERE name = 'message_seq'`, n); err != nil {
		b.Fatal(err)
	}
	if err := stx.Commit(); err != nil {
		b.Fatal(err)
	}
	return channel
}

func BenchmarkCreateMessage(b *testing.B) {
	benchModes(b, func(b *testing.B, db *DB) {
		channel := benchChannel(b, db, 0)
		i := 0
		for b.Loop() {
			i++
			m := &carillon.Message{
				ChannelARN: channel, ID: fmt.Sprintf("m%09d", i), Sender: "arn:sender", SenderName: "sender",
				Content: "hello", ContentType: "text/plain", Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT",
				Attributes: map[string][]string{"k": {"v"}}, Created: storetest.Start, Updated: storetest.Start,
			}
			if err := db.Update(b.Context(), func(tx carillon.Tx) error { return tx.CreateMessage(m) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestMigrateChannelMembershipCount upgrades a database whose channels have
// members from before 0010_channel_membership_count: their counts are
// backfilled, then kept by the triggers.
func TestMigrateChannelMembershipCount(t *testing.T) {
	path := tempPath(t)
	clock := storetest.NewFakeClock(storetest.Start)
	w := migratedBefore(t, path, clock, "0010_channel_membership_count")
	start := storetest.Start.UnixMilli()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO app_instances (arn, name, metadata, created, updated) VALUES (?, '', '', ?, ?)`, testApp, start, start)
	for _, c := range []string{"full", "empty"} {
		exec(`INSERT INTO channels (arn, app_instance_arn, name, mode, privacy, metadata, created_by, flow_arn, created, updated)
			VALUES (?, ?, '', 'UNRESTRICTED', 'PUBLIC', '', '', '', ?, ?)`, testApp+"/channel/"+c, testApp, start, start)
	}
	for i := range 3 {
		exec(`INSERT INTO memberships (channel_arn, member_arn, type, invited_by, sub_channel_id, created, updated)
			VALUES (?, ?, 'DEFAULT', '', '', ?, ?)`, testApp+"/channel/full", fmt.Sprintf("%s/user/u%d", testApp, i), start, start)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	db := openTest(t, path, clock)
	defer db.Close()
	counts := func() (full, empty int) {
		t.Helper()
		err := db.View(t.Context(), func(tx carillon.Tx) (err error) {
			if full, err = tx.CountMemberships(testApp + "/channel/full"); err != nil {
				return err
			}
			empty, err = tx.CountMemberships(testApp + "/channel/empty")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return full, empty
	}
	if full, empty := counts(); full != 3 || empty != 0 {
		t.Errorf("counts after the migration: %d and %d, want 3 and 0", full, empty)
	}
	err := db.Update(t.Context(), func(tx carillon.Tx) error {
		return tx.DeleteMembership(testApp+"/channel/full", testApp+"/user/u0")
	})
	if err != nil {
		t.Fatal(err)
	}
	if full, _ := counts(); full != 2 {
		t.Errorf("count after a deletion: %d, want 2", full)
	}
}

// TestMigrateOutboxSeq upgrades a database whose outbox numbered events
// with AUTOINCREMENT, the newest deleted: the events stay with their Seq,
// and the next one takes the number after the highest ever handed out.
func TestMigrateOutboxSeq(t *testing.T) {
	path := tempPath(t)
	clock := storetest.NewFakeClock(storetest.Start)
	w := migratedBefore(t, path, clock, "0015_outbox_seq_counter")
	for range 3 {
		if _, err := w.ExecContext(t.Context(), `INSERT INTO outbox (at, type, channel, recipients, message_type, payload)
			VALUES (?, 'OLD', 'c', '[]', 'SYSTEM', X'7B7D')`, storetest.Start.UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.ExecContext(t.Context(), `DELETE FROM outbox WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	db := openTest(t, path, clock)
	defer db.Close()
	var appended carillon.Event
	if err := db.Update(t.Context(), func(tx carillon.Tx) error {
		if last, err := tx.LastEventSeq(); last != 3 || err != nil {
			t.Errorf("LastEventSeq after the migration = %d, %v; want 3", last, err)
		}
		appended = carillon.Event{Type: "NEW"}
		return tx.AppendEvent(&appended)
	}); err != nil {
		t.Fatal(err)
	}
	if appended.Seq != 4 {
		t.Errorf("the first event after the migration has Seq %d, want 4", appended.Seq)
	}
	var seqs []int64
	if err := db.View(t.Context(), func(tx carillon.Tx) error {
		evs, err := tx.Events(0, 0)
		for _, e := range evs {
			seqs = append(seqs, e.Seq)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seqs, []int64{1, 2, 4}) {
		t.Errorf("events after the migration: %v, want [1 2 4]", seqs)
	}
}
