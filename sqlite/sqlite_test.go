package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
		if versions[i] != m.version {
			t.Errorf("schema_migrations[%d] = %s, want %s", i, versions[i], m.version)
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
	db := openTest(t, tempPath(t), storetest.NewFakeClock(storetest.Start))
	defer db.Close()
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
func TestQueryPlans(t *testing.T) {
	db := openTest(t, tempPath(t), storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	if _, err := db.w.ExecContext(t.Context(), `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		nargs := strings.Count(q.sql, "?")
		if strings.Contains(q.sql, "?1") {
			nargs = 1
		}
		args := make([]any, nargs)
		for i := range args {
			args[i] = "x"
		}
		rows, err := db.w.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q.sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") || strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s\nplan: %s", q.sql, strings.Join(plan, "; "))
				break
			}
		}
	}
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
