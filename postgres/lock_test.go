package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

// TestTryLock: a lock is held by one holder at a time across two stores
// on one database (two nodes), until Release; a holder whose connection
// dies learns it through Lost, and the lock is free again.
func TestTryLock(t *testing.T) {
	ctx := t.Context()
	dsn := testDatabase(t)
	clock := storetest.NewFakeClock(storetest.Start)
	a, b := openTest(t, dsn, clock), openTest(t, dsn, clock)
	defer a.Close()
	defer b.Close()

	l1, ok, err := a.TryLock(ctx, "jobs")
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	for name, s := range map[string]*DB{"the same node": a, "another node": b} {
		if _, ok, err := s.TryLock(ctx, "jobs"); ok || err != nil {
			t.Errorf("TryLock of a held lock from %s = %v, %v", name, ok, err)
		}
	}
	l2, ok, err := b.TryLock(ctx, "relay")
	if err != nil || !ok {
		t.Fatalf("TryLock of another name = %v, %v", ok, err)
	}
	l1.Release()
	l1.Release() // again: nothing
	l3, ok, err := b.TryLock(ctx, "jobs")
	if err != nil || !ok {
		t.Fatalf("TryLock after Release = %v, %v", ok, err)
	}
	l3.Release()
	l2.Release()

	// The holder's connection dies (its node was cut off, or the database
	// ended its session): Lost, and another node takes the lock.
	old := LeaseCheck
	LeaseCheck = 100 * time.Millisecond
	defer func() { LeaseCheck = old }()
	l4, ok, err := a.TryLock(ctx, "stream")
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	defer l4.Release()
	var killed bool
	if err := b.w.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) = 1 FROM pg_stat_activity
		WHERE application_name = 'carillon lock stream'`).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating the lock's session: %v, %v", killed, err)
	}
	select {
	case <-l4.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("Lost not closed 10s after the lock's connection died")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l5, ok, err := b.TryLock(ctx, "stream")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			l5.Release()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock of a dead connection was not released")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOpenConcurrently: nodes starting at once on a new database apply
// the schema once.
func TestOpenConcurrently(t *testing.T) {
	dsn := emptyDatabase(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			db, err := Open(context.Background(), dsn, carillon.SystemClock{})
			if err != nil {
				t.Error(err)
				return
			}
			db.Close()
		})
	}
	wg.Wait()
}

// TestOpenRefusesNewerSchema: a database written by a newer version is
// refused rather than misused.
func TestOpenRefusesNewerSchema(t *testing.T) {
	dsn := testDatabase(t)
	db := openTest(t, dsn, carillon.SystemClock{})
	if _, err := db.w.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES ('9999_future')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(t.Context(), dsn, carillon.SystemClock{}); err == nil || !strings.Contains(err.Error(), "9999_future") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// TestNUL: free text with NUL characters round-trips; a key with one finds
// nothing, and the transaction goes on.
func TestNUL(t *testing.T) {
	ctx := t.Context()
	db := openTest(t, testDatabase(t), storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	const app = "arn:aws:chime:us-east-1:111122223333:app-instance/nul"
	ch := app + "/channel/c"
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "a\x00b", Metadata: "\x00"}); err != nil {
			return err
		}
		if err := tx.CreateChannel(&carillon.Channel{ARN: ch, AppInstanceARN: app, Name: "c", Mode: "UNRESTRICTED", Privacy: "PUBLIC", Metadata: "m\x00"}); err != nil {
			return err
		}
		if err := tx.CreateMessage(&carillon.Message{ChannelARN: ch, ID: "m1", Content: "hi\x00there", Metadata: "\x00", ContentType: "\x00",
			Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT", StatusDetail: "\x00", Sender: app + "/user/u"}); err != nil {
			return err
		}
		if err := tx.PutTags(ch, []carillon.Tag{{Key: "k\x00", Value: "v\x00"}}); err != nil {
			return err
		}
		if _, err := tx.GetUser(app + "/user/\x00"); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("GetUser of an ARN with NUL: %v, want ErrNotFound", err)
		}
		if us, err := tx.ListUsers(app+"\x00", carillon.Page{}); err != nil || len(us) != 0 {
			t.Errorf("ListUsers of an ARN with NUL: %v, %v", us, err)
		}
		return tx.CreateUser(&carillon.AppInstanceUser{ARN: app + "/user/u", AppInstanceARN: app, Name: "u"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.View(ctx, func(tx carillon.Tx) error {
		a, err := tx.GetAppInstance(app)
		if err != nil {
			return err
		}
		m, err := tx.GetMessage(ch, "m1")
		if err != nil {
			return err
		}
		tags, err := tx.Tags(ch)
		if err != nil {
			return err
		}
		if a.Name != "a\x00b" || a.Metadata != "\x00" || m.Content != "hi\x00there" || m.ContentType != "\x00" ||
			len(tags) != 1 || tags[0].Key != "k\x00" || tags[0].Value != "v\x00" {
			t.Errorf("read back %q %q %q %q %v", a.Name, a.Metadata, m.Content, m.ContentType, tags)
		}
		_, err = tx.GetUser(app + "/user/u")
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestRootCredentials: servers starting at once on one database agree on
// one root key pair, made by one of them.
func TestRootCredentials(t *testing.T) {
	dsn := testDatabase(t)
	type result struct {
		id, secret string
		created    bool
	}
	results := make([]result, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			db := openTest(t, dsn, carillon.SystemClock{})
			defer db.Close()
			id, secret, created, err := db.RootCredentials(t.Context(), func() (string, string) {
				return "id-" + string(rune('a'+i)), "secret"
			})
			if err != nil {
				t.Error(err)
			}
			results[i] = result{id, secret, created}
		})
	}
	wg.Wait()
	made := 0
	for _, r := range results {
		if r.id != results[0].id || r.secret != "secret" {
			t.Errorf("root credentials differ: %+v", results)
		}
		if r.created {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d servers report they made the root credentials, want 1", made)
	}
}
