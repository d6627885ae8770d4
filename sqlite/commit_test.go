package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

// queued is how many Updates wait for the writer.
func (db *DB) queued() int {
	db.wr.mu.Lock()
	defer db.wr.mu.Unlock()
	return len(db.wr.queue)
}

// waitQueued waits until n Updates wait for the writer.
func waitQueued(db *DB, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for db.queued() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d Updates queued after 30s, want %d", db.queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// waitBusy waits until an Update holds the writer.
func waitBusy(db *DB) {
	for {
		db.wr.mu.Lock()
		busy := db.wr.busy
		db.wr.mu.Unlock()
		if busy {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// outcome is how an Update ended in the goroutine that called it.
type outcome struct {
	err      error
	panicked any  // the value recovered, if Update panicked
	goexit   bool // Update called runtime.Goexit
}

// call runs Update in a new goroutine and sends how it ended.
func call(ctx context.Context, db *DB, fn func(carillon.Tx) error) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		var o outcome
		returned := false
		defer func() {
			if !returned {
				if o.panicked = recover(); o.panicked == nil {
					o.goexit = true
				}
			}
			ch <- o
		}()
		o.err = db.Update(ctx, fn)
		returned = true
	}()
	return ch
}

// inOneBatch runs the functions as Updates queued, in this order, behind an
// Update that holds the writer until they all wait, so that they run in one
// batch with it (maxBatch permitting; it lifts maxBatchTime). The gate writes as
// writeApp("gate") does. It returns the outcome of each function, then the gate's.
func inOneBatch(t *testing.T, db *DB, fns ...func(carillon.Tx) error) []outcome {
	t.Helper()
	// However slowly the test queues them.
	db.maxBatchTime = time.Hour
	gate := call(t.Context(), db, func(tx carillon.Tx) error {
		if err := waitQueued(db, len(fns)); err != nil {
			return err
		}
		return writeApp("gate", nil, nil)(tx)
	})
	waitBusy(db)
	chs := make([]<-chan outcome, len(fns))
	for i, fn := range fns {
		chs[i] = call(t.Context(), db, fn)
		// The gate waits for the last one, then the queue drains.
		if i < len(fns)-1 {
			if err := waitQueued(db, i+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := make([]outcome, 0, len(fns)+1)
	for _, ch := range chs {
		out = append(out, <-ch)
	}
	return append(out, <-gate)
}

func appARN(name string) string {
	return "arn:aws:chime:us-east-1:111122223333:app-instance/" + name
}

// writeApp is an Update's function that creates the AppInstance name and
// appends an event for it, then returns ret (a nil ret commits).
func writeApp(name string, ret error, stxs *sync.Map) func(carillon.Tx) error {
	return func(tx carillon.Tx) error {
		if stxs != nil {
			stxs.Store(name, stxOf(tx))
		}
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: appARN(name), Name: name}); err != nil {
			return err
		}
		if err := tx.AppendEvent(&carillon.Event{Type: "T", Channel: name}); err != nil {
			return err
		}
		return ret
	}
}

// present reports which of the AppInstances named exist, and checks that
// each has exactly one event if it does, none if it does not.
func present(t *testing.T, db *DB, names ...string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	err := db.View(t.Context(), func(tx carillon.Tx) error {
		evs, err := tx.Events(0, 0)
		if err != nil {
			return err
		}
		events := map[string]int{}
		for i, e := range evs {
			events[e.Channel]++
			if i > 0 && e.Seq <= evs[i-1].Seq {
				t.Errorf("event Seq %d after %d", e.Seq, evs[i-1].Seq)
			}
		}
		for _, name := range names {
			_, err := tx.GetAppInstance(appARN(name))
			switch {
			case err == nil:
				got[name] = true
				if events[name] != 1 {
					t.Errorf("%s: %d events, want 1", name, events[name])
				}
			case errors.Is(err, carillon.ErrNotFound):
				if events[name] != 0 {
					t.Errorf("%s: absent, with %d events", name, events[name])
				}
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestGroupCommitFailures runs a batch whose requests fail in turn: each
// failure rolls back only its own writes and is answered its own error,
// and the others commit, in one transaction.
func TestGroupCommitFailures(t *testing.T) {
	db := openFresh(t)
	var stxs sync.Map
	const n = 12
	fns := make([]func(carillon.Tx) error, n)
	names := make([]string, n)
	wantErr := make([]error, n)
	for i := range fns {
		names[i] = fmt.Sprintf("app%02d", i)
		if i%3 == 1 {
			wantErr[i] = fmt.Errorf("request %d fails", i)
		}
		fns[i] = writeApp(names[i], wantErr[i], &stxs)
	}
	// A request that meets a store error and returns it, after a write.
	names = append(names, "taken")
	fns = append(fns, func(tx carillon.Tx) error {
		stxs.Store("taken", stxOf(tx))
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: appARN("taken")}); err != nil {
			return err
		}
		return tx.CreateAppInstance(&carillon.AppInstance{ARN: appARN(names[0])}) // ErrExists
	})
	out := inOneBatch(t, db, fns...)

	for i, o := range out[:n] {
		if o.panicked != nil || o.goexit {
			t.Fatalf("request %d: %+v", i, o)
		}
		if wantErr[i] == nil && o.err != nil || wantErr[i] != nil && o.err != wantErr[i] {
			t.Errorf("request %d: Update returned %v, want %v", i, o.err, wantErr[i])
		}
	}
	if err := out[n].err; !errors.Is(err, carillon.ErrExists) {
		t.Errorf("request meeting a taken ARN: Update returned %v, want ErrExists", err)
	}
	if err := out[n+1].err; err != nil {
		t.Errorf("gate: %v", err)
	}
	got := present(t, db, names...)
	for i, name := range names {
		want := i < n && wantErr[i] == nil
		if got[name] != want {
			t.Errorf("%s present = %v, want %v", name, got[name], want)
		}
	}
	// They all ran in one transaction.
	first, _ := stxs.Load(names[0])
	stxs.Range(func(k, v any) bool {
		if v != first {
			t.Errorf("%s ran in another transaction than %s", k, names[0])
		}
		return true
	})
}

// TestGroupCommitConcurrent runs many concurrent Updates, a quarter of
// which fail: every answer is the request's own, every committed write is
// there once, and no failed one is.
func TestGroupCommitConcurrent(t *testing.T) {
	db := openFresh(t)
	const goroutines, rounds = 32, 20
	var wg sync.WaitGroup
	var names []string
	want := map[string]bool{}
	var mu sync.Mutex
	var batches sync.Map // *sql.Tx -> requests
	for g := range goroutines {
		for r := range rounds {
			names = append(names, fmt.Sprintf("g%02d-r%02d", g, r))
		}
		wg.Go(func() {
			for r := range rounds {
				name := fmt.Sprintf("g%02d-r%02d", g, r)
				var fail error
				if (g+r)%4 == 0 {
					fail = errors.New(name)
				}
				var stx *sql.Tx
				err := db.Update(t.Context(), func(tx carillon.Tx) error {
					stx = stxOf(tx)
					return writeApp(name, fail, nil)(tx)
				})
				if err != fail {
					t.Errorf("%s: Update returned %v, want %v", name, err, fail)
				}
				mu.Lock()
				want[name] = fail == nil
				mu.Unlock()
				n, _ := batches.LoadOrStore(stx, new(atomic.Int32))
				n.(*atomic.Int32).Add(1)
			}
		})
	}
	wg.Wait()
	got := present(t, db, names...)
	for _, name := range names {
		if got[name] != want[name] {
			t.Errorf("%s present = %v, want %v", name, got[name], want[name])
		}
	}
	var count, biggest int
	batches.Range(func(_, v any) bool {
		count++
		biggest = max(biggest, int(v.(*atomic.Int32).Load()))
		return true
	})
	t.Logf("%d requests in %d transactions, the biggest of %d", goroutines*rounds, count, biggest)
	if biggest > db.maxBatch {
		t.Errorf("a batch of %d requests, more than %d", biggest, db.maxBatch)
	}
}

// TestGroupCommitPanic: a request that panics has its writes undone, the
// panic goes on in its caller with its value, and the others of its batch
// commit.
func TestGroupCommitPanic(t *testing.T) {
	db := openFresh(t)
	out := inOneBatch(t, db,
		writeApp("before", nil, nil),
		func(tx carillon.Tx) error {
			if err := writeApp("panics", nil, nil)(tx); err != nil {
				return err
			}
			panic("request panic")
		},
		writeApp("after", nil, nil),
	)
	if out[1].panicked != "request panic" {
		t.Errorf("the panicking request's caller recovered %v, want its panic", out[1].panicked)
	}
	for _, i := range []int{0, 2, 3} {
		if out[i] != (outcome{}) {
			t.Errorf("request %d: %+v, want success", i, out[i])
		}
	}
	got := present(t, db, "before", "panics", "after", "gate")
	if !got["before"] || got["panics"] || !got["after"] || !got["gate"] {
		t.Errorf("present after a panic: %v, want all but the panicking request", got)
	}

	// A lone request that panics leaves the writer usable.
	o := <-call(t.Context(), db, func(tx carillon.Tx) error {
		if err := writeApp("alone", nil, nil)(tx); err != nil {
			return err
		}
		panic("alone")
	})
	if o.panicked != "alone" {
		t.Errorf("lone panicking request: %+v", o)
	}
	if err := db.Update(t.Context(), writeApp("next", nil, nil)); err != nil {
		t.Fatal(err)
	}
	if got := present(t, db, "alone", "next"); got["alone"] || !got["next"] {
		t.Errorf("present: %v", got)
	}
}

// TestGroupCommitGoexit: a request whose function calls runtime.Goexit, as
// t.FailNow does, has its writes undone and its goroutine ends; the others
// commit and the writer goes on.
func TestGroupCommitGoexit(t *testing.T) {
	db := openFresh(t)
	out := inOneBatch(t, db,
		writeApp("before", nil, nil),
		func(tx carillon.Tx) error {
			if err := writeApp("exits", nil, nil)(tx); err != nil {
				return err
			}
			runtime.Goexit()
			return nil
		},
		writeApp("after", nil, nil),
	)
	if !out[1].goexit {
		t.Errorf("the request calling Goexit: %+v", out[1])
	}
	for _, i := range []int{0, 2, 3} {
		if out[i] != (outcome{}) {
			t.Errorf("request %d: %+v, want success", i, out[i])
		}
	}
	got := present(t, db, "before", "exits", "after")
	if !got["before"] || got["exits"] || !got["after"] {
		t.Errorf("present after a Goexit: %v", got)
	}
	// Alone, and last of its batch.
	if o := <-call(t.Context(), db, func(tx carillon.Tx) error { runtime.Goexit(); return nil }); !o.goexit {
		t.Errorf("lone request calling Goexit: %+v", o)
	}
	if err := db.Update(t.Context(), writeApp("next", nil, nil)); err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitCanceledWhileWaiting: a caller whose context ends while
// it waits for the writer returns at once with the context's error, and
// its function never runs.
func TestGroupCommitCanceledWhileWaiting(t *testing.T) {
	db := openFresh(t)
	release := make(chan struct{})
	holder := call(t.Context(), db, func(tx carillon.Tx) error {
		<-release
		return writeApp("holder", nil, nil)(tx)
	})
	waitBusy(db)
	ctx, cancel := context.WithCancel(t.Context())
	var ran atomic.Bool
	waiter := call(ctx, db, func(tx carillon.Tx) error {
		ran.Store(true)
		return writeApp("canceled", nil, nil)(tx)
	})
	other := call(t.Context(), db, writeApp("other", nil, nil))
	if err := waitQueued(db, 2); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case o := <-waiter:
		if !errors.Is(o.err, context.Canceled) {
			t.Errorf("canceled waiter: %+v, want context.Canceled", o)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a canceled waiter still waits for the writer")
	}
	close(release)
	if o := <-holder; o != (outcome{}) {
		t.Errorf("holder: %+v", o)
	}
	if o := <-other; o != (outcome{}) {
		t.Errorf("other: %+v", o)
	}
	if ran.Load() {
		t.Error("the canceled request's function ran")
	}
	if got := present(t, db, "holder", "canceled", "other"); !got["holder"] || got["canceled"] || !got["other"] {
		t.Errorf("present: %v", got)
	}
	// A context that ended before Update was called.
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		t.Error("a request with an ended context ran")
		return nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with an ended context: %v", err)
	}
}

// TestGroupCommitCancelStress cancels Updates at random moments while
// many run: whatever Update answered holds. Success: the write is there;
// failure: it is not, and a request answered before its turn never ran.
func TestGroupCommitCancelStress(t *testing.T) {
	db := openFresh(t)
	const goroutines, rounds = 16, 40
	var mu sync.Mutex
	want := map[string]bool{}
	var names []string
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for r := range rounds {
				name := fmt.Sprintf("g%02d-r%02d", g, r)
				ctx, cancel := context.WithTimeout(t.Context(), time.Duration(rng.IntN(2000))*time.Microsecond)
				var ran atomic.Bool
				err := db.Update(ctx, func(tx carillon.Tx) error {
					ran.Store(true)
					return writeApp(name, nil, nil)(tx)
				})
				cancel()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s: %v", name, err)
				}
				mu.Lock()
				names = append(names, name)
				want[name] = err == nil
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := present(t, db, names...)
	ok := 0
	for _, name := range names {
		if got[name] != want[name] {
			t.Errorf("%s present = %v, but Update answered success = %v", name, got[name], want[name])
		}
		if want[name] {
			ok++
		}
	}
	t.Logf("%d of %d committed", ok, len(names))
	if err := db.Update(t.Context(), writeApp("after", nil, nil)); err != nil {
		t.Fatal(err)
	}
}

// breakCommit is a request that makes its batch's COMMIT fail: it violates
// a foreign key whose check it deferred to the COMMIT.
func breakCommit(tx carillon.Tx) error {
	stx := stxOf(tx)
	if _, err := stx.Exec(`PRAGMA defer_foreign_keys = ON`); err != nil {
		return err
	}
	_, err := stx.Exec(`INSERT INTO users (arn, app_instance_arn, name, metadata, created, updated)
		VALUES ('arn:orphan', 'arn:missing', '', '', 0, 0)`)
	return err
}

// TestGroupCommitCommitFails makes a batch's COMMIT fail (a deferred
// foreign key that a request of the batch violates; SQLite checks it at
// COMMIT): every request of the batch is answered the failure, even those
// whose own function succeeded or failed, nothing of the batch is there,
// and the writer goes on.
func TestGroupCommitCommitFails(t *testing.T) {
	db := openFresh(t)
	own := errors.New("own failure")
	out := inOneBatch(t, db,
		writeApp("first", nil, nil),
		breakCommit,
		writeApp("failing", own, nil),
		writeApp("last", nil, nil),
	)
	for i, o := range out {
		if o.err == nil || !strings.Contains(o.err.Error(), "commit") {
			t.Errorf("request %d: %+v, want the commit's failure", i, o)
		}
	}
	if errors.Is(out[2].err, own) {
		t.Errorf("a failed request's own error is matched after its batch failed to commit: %v", out[2].err)
	}
	if got := present(t, db, "first", "failing", "last", "gate"); len(got) != 0 {
		t.Errorf("present after a failed commit: %v", got)
	}
	if err := db.Update(t.Context(), writeApp("next", nil, nil)); err != nil {
		t.Fatalf("Update after a failed commit: %v", err)
	}
	if got := present(t, db, "next"); !got["next"] {
		t.Error("the Update after a failed commit is not there")
	}
	err := db.View(t.Context(), func(tx carillon.Tx) error {
		if _, err := tx.GetUser("arn:orphan"); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("the orphan user: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitNow: each request of a batch reads the clock when its
// turn begins, but never gets a time before the previous request's.
func TestGroupCommitNow(t *testing.T) {
	clock := storetest.NewFakeClock(storetest.Start)
	db := openTest(t, tempPath(t), clock)
	defer db.Close()
	times := make([]time.Time, 4)
	fn := func(i int, move time.Duration) func(carillon.Tx) error {
		return func(tx carillon.Tx) error {
			times[i] = tx.Now()
			clock.Advance(move)
			if !tx.Now().Equal(times[i]) {
				t.Errorf("request %d: tx.Now() moved", i)
			}
			return nil
		}
	}
	out := inOneBatch(t, db,
		fn(0, time.Second), // reads Start
		fn(1, -time.Hour),  // reads Start+1s
		fn(2, 2*time.Hour), // the clock went back: Start+1s again
		fn(3, time.Second)) // Start+1h+1s
	for i, o := range out {
		if o != (outcome{}) {
			t.Errorf("request %d: %+v", i, o)
		}
	}
	start := storetest.Start.Truncate(time.Millisecond)
	want := []time.Time{start, start.Add(time.Second), start.Add(time.Second), start.Add(time.Hour + time.Second)}
	for i := range want {
		if !times[i].Equal(want[i]) {
			t.Errorf("request %d: tx.Now() = %v, want %v", i, times[i], want[i])
		}
	}
}

// TestGroupCommitBounded: a batch takes at most maxBatch requests; the
// rest start the next one.
func TestGroupCommitBounded(t *testing.T) {
	db := openFresh(t)
	db.maxBatch = 4
	var stxs sync.Map
	var fns []func(carillon.Tx) error
	for i := range 10 {
		fns = append(fns, writeApp(fmt.Sprintf("app%d", i), nil, &stxs))
	}
	for i, o := range inOneBatch(t, db, fns...) {
		if o != (outcome{}) {
			t.Errorf("request %d: %+v", i, o)
		}
	}
	// The gate and app0-2 are the first batch, app3-6 the second,
	// app7-9 the third.
	tx := func(i int) any { v, _ := stxs.Load(fmt.Sprintf("app%d", i)); return v }
	for i := range 10 {
		batch, first := (i+1)/4, max(0, (i+1)/4*4-1)
		if tx(i) != tx(first) {
			t.Errorf("app%d not in the batch of app%d", i, first)
		}
		if batch > 0 && tx(i) == tx(first-1) {
			t.Errorf("app%d in the batch of app%d", i, first-1)
		}
	}
}

// stxOf is the *sql.Tx of a request's transaction: its batch's.
func stxOf(c carillon.Tx) *sql.Tx { return c.(*tx).stx }

// TestStmtJournalSpill: the sub-journal threshold was set, and a request
// whose sub-journal outgrows it (deleting a channel of thousands of
// messages) spills it to a file without harm: a request after it in the
// batch still rolls back alone, and the batch commits.
func TestStmtJournalSpill(t *testing.T) {
	if stmtJournalSpillErr != nil {
		t.Fatal(stmtJournalSpillErr)
	}
	db := openFresh(t)
	if err := db.Update(t.Context(), func(tx carillon.Tx) error {
		return tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp})
	}); err != nil {
		t.Fatal(err)
	}
	channel := testApp + "/channel/big"
	if err := db.Update(t.Context(), func(tx carillon.Tx) error {
		return tx.CreateChannel(&carillon.Channel{ARN: channel, AppInstanceARN: testApp, Mode: "UNRESTRICTED", Privacy: "PUBLIC"})
	}); err != nil {
		t.Fatal(err)
	}
	// 1,000 messages of 1,000 bytes: about 300 pages, more than a MB of
	// sub-journal.
	if _, err := db.w.ExecContext(t.Context(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
	INSERT INTO messages (seq, channel_arn, id, sub_channel_id, sender, sender_name, content, metadata, content_type,
		type, persistence, status, status_detail, redacted, attributes, push, target, created, updated, last_edited)
	SELECT i, ?1, 'm' || i, '', 'arn:sender', 'sender', printf('%.1000c', 'x'), '', 'text/plain',
		'STANDARD', 'PERSISTENT', 'SENT', '', 0, '{}', NULL, '', i, i, NULL
	FROM n`, channel); err != nil {
		t.Fatal(err)
	}
	fail := errors.New("fails")
	out := inOneBatch(t, db,
		writeApp("first", nil, nil),
		func(tx carillon.Tx) error { return tx.DeleteChannel(channel) },
		writeApp("failing", fail, nil),
		writeApp("last", nil, nil),
	)
	for i, want := range []error{nil, nil, fail, nil, nil} {
		if out[i].err != want || out[i].panicked != nil || out[i].goexit {
			t.Errorf("request %d: %+v, want %v", i, out[i], want)
		}
	}
	if got := present(t, db, "first", "failing", "last"); !got["first"] || got["failing"] || !got["last"] {
		t.Errorf("present: %v", got)
	}
	var n int
	if err := db.r.QueryRowContext(t.Context(), `SELECT count(*) FROM messages WHERE channel_arn = ?`, channel).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d messages left of the deleted channel (%v)", n, err)
	}
}

// TestGroupCommitSeq: events are numbered in the order the requests of a
// batch run; a request rolled back to its savepoint gives its number back
// (it was never visible), so the batch's events are numbered without a
// gap, in commit order.
func TestGroupCommitSeq(t *testing.T) {
	db := openFresh(t)
	evs := make([]*carillon.Event, 3)
	appendEvent := func(i int, ret error) func(carillon.Tx) error {
		return func(tx carillon.Tx) error {
			evs[i] = &carillon.Event{Type: "T", Channel: fmt.Sprint(i)}
			if err := tx.AppendEvent(evs[i]); err != nil {
				return err
			}
			return ret
		}
	}
	fail := errors.New("fails")
	out := inOneBatch(t, db, appendEvent(0, nil), appendEvent(1, fail), appendEvent(2, nil))
	if out[0].err != nil || out[1].err != fail || out[2].err != nil || out[3].err != nil {
		t.Fatalf("outcomes: %+v", out)
	}
	// The gate's event is 1.
	if evs[0].Seq != 2 || evs[2].Seq != 3 {
		t.Errorf("Seq of the committed events: %d, %d; want 2, 3", evs[0].Seq, evs[2].Seq)
	}
	err := db.View(t.Context(), func(tx carillon.Tx) error {
		got, err := tx.Events(0, 0)
		if err != nil {
			return err
		}
		var seqs []string
		for _, e := range got {
			seqs = append(seqs, fmt.Sprintf("%d:%s", e.Seq, e.Channel))
		}
		if want := "1:gate 2:0 3:2"; strings.Join(seqs, " ") != want {
			t.Errorf("events %s, want %s", strings.Join(seqs, " "), want)
		}
		last, err := tx.LastEventSeq()
		if err != nil || last != 3 {
			t.Errorf("LastEventSeq = %d, %v; want 3", last, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitFirstFails: the first request of a batch runs without a
// savepoint; when it fails (or panics), the batch rolls back and ends, and
// the requests waiting start the next one.
func TestGroupCommitFirstFails(t *testing.T) {
	for _, how := range []string{"error", "panic", "canceled"} {
		t.Run(how, func(t *testing.T) {
			db := openFresh(t)
			db.maxBatchTime = time.Hour // however slowly the second and third run
			fail := errors.New("first fails")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var stxs sync.Map
			first := call(ctx, db, func(tx carillon.Tx) error {
				if err := writeApp("first", nil, &stxs)(tx); err != nil {
					return err
				}
				if err := waitQueued(db, 2); err != nil {
					return err
				}
				switch how {
				case "panic":
					panic(fail)
				case "canceled":
					cancel()
					return nil
				}
				return fail
			})
			waitBusy(db)
			second := call(t.Context(), db, writeApp("second", nil, &stxs))
			if err := waitQueued(db, 1); err != nil {
				t.Fatal(err)
			}
			third := call(t.Context(), db, writeApp("third", nil, &stxs))
			o := <-first
			switch how {
			case "error":
				if o.err != fail {
					t.Errorf("first: %+v", o)
				}
			case "panic":
				if o.panicked != fail {
					t.Errorf("first: %+v", o)
				}
			case "canceled":
				if !errors.Is(o.err, context.Canceled) {
					t.Errorf("first: %+v", o)
				}
			}
			for _, ch := range []<-chan outcome{second, third} {
				if o := <-ch; o != (outcome{}) {
					t.Errorf("%+v", o)
				}
			}
			if got := present(t, db, "first", "second", "third"); got["first"] || !got["second"] || !got["third"] {
				t.Errorf("present: %v", got)
			}
			s1, _ := stxs.Load("first")
			s2, _ := stxs.Load("second")
			s3, _ := stxs.Load("third")
			if s1 == s2 || s2 != s3 {
				t.Error("the requests after a failed first one did not run in a batch of their own")
			}
		})
	}
}

// TestGroupCommitOnOneCore: with one P (a server pinned to one core),
// requests that became runnable together share a batch. Nothing else runs
// while a request's function runs, so none of them has queued when the
// first one ends its turn; the holder yields before committing alone, and
// the others queue meanwhile. Without the yield, each commits alone.
func TestGroupCommitOnOneCore(t *testing.T) {
	db := openFresh(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const requests = 16
	commits := db.commits.Load()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			<-start
			if err := db.Update(t.Context(), writeApp(fmt.Sprintf("app%d", i), nil, nil)); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	n := db.commits.Load() - commits
	t.Logf("%d requests in %d commits", requests, n)
	if n > requests/4 {
		t.Errorf("%d requests took %d commits, want at most %d", requests, n, requests/4)
	}
}

// TestGroupCommitUndoHooks: a request's OnUndo hooks run once its writes
// are undone, in its own turn (before the next request runs) when its
// function fails or panics, and for every request of a batch whose COMMIT
// fails, before the next batch; never for writes that commit.
func TestGroupCommitUndoHooks(t *testing.T) {
	db := openFresh(t)
	var mu sync.Mutex
	var log []string
	note := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	// hooked writes the AppInstance name, registers a hook that notes
	// "undo name", notes "ran name", and returns ret.
	hooked := func(name string, ret error) func(carillon.Tx) error {
		return func(tx carillon.Tx) error {
			tx.(carillon.UndoNotifier).OnUndo(func() { note("undo " + name) })
			note("ran " + name)
			return writeApp(name, ret, nil)(tx)
		}
	}
	failure := errors.New("fails")
	out := inOneBatch(t, db,
		hooked("a", nil),
		hooked("b", failure),
		func(tx carillon.Tx) error {
			tx.(carillon.UndoNotifier).OnUndo(func() { note("undo c") })
			note("ran c")
			panic("c panics")
		},
		hooked("d", nil),
	)
	if out[1].err != failure || out[2].panicked == nil || out[0].err != nil || out[3].err != nil {
		t.Fatalf("outcomes %+v", out)
	}
	want := []string{"ran a", "ran b", "undo b", "ran c", "undo c", "ran d"}
	if !slices.Equal(log, want) {
		t.Errorf("batch with failures: %q, want %q", log, want)
	}

	log = nil
	inOneBatch(t, db,
		hooked("e", nil),
		func(tx carillon.Tx) error {
			tx.(carillon.UndoNotifier).OnUndo(func() { note("undo orphan") })
			return breakCommit(tx)
		},
		hooked("f", failure),
	)
	want = []string{"ran e", "ran f", "undo f", "undo e", "undo orphan"}
	if !slices.Equal(log, want) {
		t.Errorf("batch whose COMMIT fails: %q, want %q", log, want)
	}
}

// TestMessageSeqInBatches: a batch numbers its messages from the counter
// it read once; a request rolled back leaves a gap, the next batch goes on
// from the counter, and a number is never handed out twice, even once the
// newest message is deleted.
func TestMessageSeqInBatches(t *testing.T) {
	db := openFresh(t)
	channel := testApp + "/channel/seq"
	if err := db.Update(t.Context(), func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp, Name: "app"}); err != nil {
			return err
		}
		return tx.CreateChannel(&carillon.Channel{ARN: channel, AppInstanceARN: testApp, Mode: "UNRESTRICTED", Privacy: "PUBLIC"})
	}); err != nil {
		t.Fatal(err)
	}
	seqs := map[string]int64{}
	var mu sync.Mutex
	send := func(id string, ret error) func(carillon.Tx) error {
		return func(tx carillon.Tx) error {
			m := &carillon.Message{ChannelARN: channel, ID: id, Sender: "arn:sender", Type: "STANDARD",
				Persistence: "PERSISTENT", Status: "SENT", Created: tx.Now(), Updated: tx.Now()}
			if err := tx.CreateMessage(m); err != nil {
				return err
			}
			mu.Lock()
			seqs[id] = m.Seq
			mu.Unlock()
			return ret
		}
	}
	failure := errors.New("fails")
	inOneBatch(t, db, send("a", nil), send("b", failure), send("c", nil))
	if !(seqs["a"] < seqs["b"] && seqs["b"] < seqs["c"]) {
		t.Errorf("seqs in one batch: %v", seqs)
	}
	if err := db.Update(t.Context(), func(tx carillon.Tx) error { return tx.DeleteMessage(channel, "c") }); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(t.Context(), send("d", nil)); err != nil {
		t.Fatal(err)
	}
	if seqs["d"] <= seqs["c"] {
		t.Errorf("after deleting the newest message, seq %d again (it had %d): %v", seqs["d"], seqs["c"], seqs)
	}
	err := db.View(t.Context(), func(tx carillon.Tx) error {
		for _, id := range []string{"a", "d"} {
			m, err := tx.GetMessage(channel, id)
			if err != nil {
				return err
			}
			if m.Seq != seqs[id] {
				t.Errorf("message %s stored with seq %d, CreateMessage said %d", id, m.Seq, seqs[id])
			}
		}
		if _, err := tx.GetMessage(channel, "b"); !errors.Is(err, carillon.ErrNotFound) {
			t.Errorf("the rolled-back message: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
