package server

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/pgtest"
	"github.com/carillonhq/carillon/postgres"
)

// TestMain stops the PostgreSQL server TestPostgresCacheless started.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestPostgresCacheless: the server's store on PostgreSQL keeps both of
// two concurrent changes of a channel row, when one Update read the row,
// another changed it and committed, and the first then wrote it back (as
// SendChannelMessage does with LastMessageAt). PostgreSQL fails the first
// for the conflict and the store runs it again only if the read reached
// the database: a store cache in front of it (storecache) would serve the
// read from memory and lose the second change.
func TestPostgresCacheless(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.Database(t), carillon.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &Server{} // the default StoreCacheSize: the cache, where it may be
	store := s.cached(db)

	const app = "arn:aws:chime:us-east-1:111122223333:app-instance/a"
	const arn = app + "/channel/c"
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err = store.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app, Name: "a", Created: start, Updated: start}); err != nil {
			return err
		}
		return tx.CreateChannel(&carillon.Channel{ARN: arn, AppInstanceARN: app, Name: "before", Mode: "UNRESTRICTED",
			Privacy: "PUBLIC", CreatedBy: app + "/user/u", Created: start, Updated: start})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Read the row once, as the authorization of an earlier request does.
	if err := store.View(ctx, func(tx carillon.Tx) error { _, err := tx.GetChannel(arn); return err }); err != nil {
		t.Fatal(err)
	}

	read, renamed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sent := make(chan error, 1)
	go func() {
		sent <- store.Update(ctx, func(tx carillon.Tx) error {
			c, err := tx.GetChannel(arn)
			if err != nil {
				return err
			}
			first := false
			once.Do(func() { first = true })
			if first {
				close(read)
				<-renamed
			}
			c.LastMessageAt = start.Add(time.Hour)
			return tx.UpdateChannel(c)
		})
	}()
	<-read
	err = store.Update(ctx, func(tx carillon.Tx) error {
		c, err := tx.GetChannel(arn)
		if err != nil {
			return err
		}
		c.Name = "after"
		return tx.UpdateChannel(c)
	})
	close(renamed)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	var got *carillon.Channel
	if err := db.View(ctx, func(tx carillon.Tx) error { got, err = tx.GetChannel(arn); return err }); err != nil {
		t.Fatal(err)
	}
	if got.Name != "after" || !got.LastMessageAt.Equal(start.Add(time.Hour)) {
		t.Errorf("channel = name %q, last message at %v; want both changes: %q, %v", got.Name, got.LastMessageAt, "after", start.Add(time.Hour))
	}
}
