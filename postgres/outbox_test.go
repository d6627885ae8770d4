package postgres

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

// TestOutboxCommitOrder holds a transaction open (pg_sleep) after it
// appended an event while writers append and commit theirs: no reader may
// see an event after the slow one's before the slow one commits, and a
// relay reading from a cursor skips nothing. Without the outbox lock
// (Seq from a sequence) the readers see the later events first.
func TestOutboxCommitOrder(t *testing.T) {
	t.Run("outbox lock", func(t *testing.T) {
		v := commitOrder(t, "")
		if v.exposedEarly > 0 || v.gaps > 0 || v.skipped > 0 {
			t.Errorf("%d reads showed an event after the open transaction's, %d reads had gaps, the relay skipped %d events",
				v.exposedEarly, v.gaps, v.skipped)
		}
		if v.returnedEarly > 0 {
			t.Errorf("%d writers committed while the transaction holding an earlier Seq was open", v.returnedEarly)
		}
	})
	// The same run with Seq taken from a sequence: the test sees what it
	// is there to see.
	t.Run("a sequence instead", func(t *testing.T) {
		v := commitOrder(t, "test_unordered_seq")
		if v.exposedEarly == 0 || v.skipped == 0 {
			t.Errorf("without the lock, %d early reads and %d skipped events: the test cannot tell", v.exposedEarly, v.skipped)
		}
	})
}

type orderViolations struct {
	exposedEarly  int // reads that showed an event after the slow one's without it
	gaps          int // reads whose Seqs were not 1, 2, 3, …
	skipped       int // events a cursor-following reader never saw
	returnedEarly int // writers whose Update returned before the slow one's
}

func commitOrder(t *testing.T, unordered string) orderViolations {
	ctx := t.Context()
	db := openTest(t, testDatabase(t), storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	if unordered != "" {
		if _, err := db.w.Exec(ctx, "CREATE SEQUENCE "+unordered); err != nil {
			t.Fatal(err)
		}
		db.unordered = unordered
	}
	const writers, rounds = 8, 10
	const hold = 1500 * time.Millisecond

	var slowSeq atomic.Int64
	appended := make(chan struct{})
	slowDone := make(chan error, 1)
	var slowReturned atomic.Bool
	go func() {
		first := true
		err := db.Update(ctx, func(ctx carillon.Tx) error {
			ev := &carillon.Event{Type: "SLOW"}
			if err := ctx.AppendEvent(ev); err != nil {
				return err
			}
			slowSeq.Store(ev.Seq)
			if first {
				first = false
				close(appended)
			}
			_, err := ctx.(*tx).exec(fmt.Sprintf("SELECT pg_sleep(%f)", hold.Seconds()))
			return err
		})
		slowReturned.Store(true)
		slowDone <- err
	}()
	<-appended

	var v orderViolations
	var mu sync.Mutex
	stop := make(chan struct{})
	var readers sync.WaitGroup
	// A reader of whole snapshots: Seqs 1, 2, 3, … and never one past the
	// slow event without it.
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			var evs []carillon.Event
			if err := db.View(ctx, func(tx carillon.Tx) error {
				var err error
				evs, err = tx.Events(0, 0)
				return err
			}); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			sawSlow, sawLater := false, false
			for i, e := range evs {
				if e.Seq != int64(i+1) && unordered == "" {
					v.gaps++
					break
				}
				if e.Seq == slowSeq.Load() {
					sawSlow = true
				}
				if e.Seq > slowSeq.Load() {
					sawLater = true
				}
			}
			if sawLater && !sawSlow {
				v.exposedEarly++
			}
			mu.Unlock()
		}
	})
	// A relay: follows a cursor and records what it saw.
	seen := map[int64]bool{}
	readers.Go(func() {
		var after int64
		for {
			select {
			case <-stop:
				return
			default:
			}
			var evs []carillon.Event
			if err := db.View(ctx, func(tx carillon.Tx) error {
				var err error
				evs, err = tx.Events(after, 3)
				return err
			}); err != nil {
				t.Error(err)
				return
			}
			for _, e := range evs {
				seen[e.Seq] = true
				after = e.Seq
			}
		}
	})

	var wg sync.WaitGroup
	var seqs sync.Map
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				ev := &carillon.Event{Type: "W"}
				err := db.Update(ctx, func(tx carillon.Tx) error {
					if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: fmt.Sprintf("a-%d-%d", w, r)}); err != nil {
						return err
					}
					return tx.AppendEvent(ev)
				})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				if !slowReturned.Load() {
					mu.Lock()
					v.returnedEarly++
					mu.Unlock()
				}
				seqs.Store(ev.Seq, true)
			}
		})
	}
	wg.Wait()
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	// Let the relay catch up, then stop the readers.
	time.Sleep(200 * time.Millisecond)
	close(stop)
	readers.Wait()
	seqs.Range(func(k, _ any) bool {
		if !seen[k.(int64)] {
			v.skipped++
		}
		return true
	})
	if !seen[slowSeq.Load()] {
		v.skipped++
	}
	t.Logf("%+v", v)
	return v
}

// TestOutboxNoGaps: a transaction that appended and rolled back, for an
// error of its function or a conflict run again, gives its Seq back.
func TestOutboxNoGaps(t *testing.T) {
	ctx := t.Context()
	db := openTest(t, testDatabase(t), storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	appendOne := func() int64 {
		ev := &carillon.Event{Type: "T"}
		if err := db.Update(ctx, func(tx carillon.Tx) error { return tx.AppendEvent(ev) }); err != nil {
			t.Fatal(err)
		}
		return ev.Seq
	}
	first := appendOne()
	boom := errors.New("boom")
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.AppendEvent(&carillon.Event{Type: "ROLLED_BACK"}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	if got := appendOne(); got != first+1 {
		t.Errorf("Seq after a rolled-back append: %d, want %d", got, first+1)
	}

	// Conflicts: every writer increments one row and appends; PostgreSQL
	// fails all but one of each collision, and the store runs them again.
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		return tx.CreateAppInstance(&carillon.AppInstance{ARN: "counter", Metadata: "0"})
	}); err != nil {
		t.Fatal(err)
	}
	retries := db.Retries()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range 10 {
				err := db.Update(ctx, func(tx carillon.Tx) error {
					a, err := tx.GetAppInstance("counter")
					if err != nil {
						return err
					}
					if err := tx.AppendEvent(&carillon.Event{Type: "C"}); err != nil {
						return err
					}
					a.Metadata += "+"
					return tx.UpdateAppInstance(a)
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d transactions run again", db.Retries()-retries)
	var evs []carillon.Event
	if err := db.View(ctx, func(tx carillon.Tx) error {
		var err error
		evs, err = tx.Events(0, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.Seq != first+int64(i) {
			t.Fatalf("event %d has Seq %d, want %d: a gap", i, e.Seq, first+int64(i))
		}
	}
	if want := 2 + 60; len(evs) != want {
		t.Errorf("%d events, want %d", len(evs), want)
	}
}
