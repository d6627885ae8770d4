package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/carillonhq/carillon"
)

// Group commit: the package documentation says what it guarantees; this
// file is how.
//
// The writer connection is a baton. The Update holding it runs its
// function on its own goroutine, inside a savepoint of the batch's
// transaction, then hands the baton to the oldest Update waiting, which
// runs in the same transaction; the one that finds nobody waiting, even
// after yielding the processor once (or the batch full), commits, answers
// every request of the batch, and hands the baton on to start the next
// batch. Nothing waits on a timer: a batch is whatever queued while its
// requests ran, and while the last of them yielded.

// Bounds of a batch. Past either, the request that ends its turn commits
// even though others wait: they start the next batch. The count bounds the
// work a commit can fail and the wait of a batch's first request; the time
// bounds that wait when requests are slow (a cascade deleting an
// AppInstance). BenchmarkGroupCommitBound, 64 senders, bounds of 1, 4, 16,
// 64 and 256 (medians of 3 on a loaded 2-core machine): write calls per
// message 25.9, 12.1, 6.9, 5.1, 5.2 with synchronous NORMAL, and 26.8,
// 11.7, 6.7, 4.9, 4.5 with FULL, whose slower commits let batches grow to
// 30-40 requests; CPU per message fell to 0.60x of unbatched at 64, no
// further at 256.
const (
	defaultMaxBatch     = 64
	defaultMaxBatchTime = 20 * time.Millisecond
)

// The statements of a request's savepoint, by op, prepared on the writer
// at Open. The savepoint has one name: a request releases it before the
// next one takes a turn, so savepoints never nest.
const (
	opSavepoint = iota
	opRelease
	opRollbackTo
	numSavepointOps
)

var savepointSQL = [numSavepointOps]string{
	opSavepoint:  `SAVEPOINT request`,
	opRelease:    `RELEASE request`,
	opRollbackTo: `ROLLBACK TO request`,
}

// writer is the writer connection's baton and queue.
type writer struct {
	mu    sync.Mutex
	busy  bool       // an Update holds the baton: it is running or committing
	queue []*request // the Updates waiting for the baton, oldest first

	// sizes counts the committed batches by size (metrics.go). Guarded
	// by mu.
	sizes batchSizes

	// batch is the open transaction, or nil between batches. Only the
	// holder of the baton touches it; handing the baton on (a channel
	// send, or mu) orders the holders' accesses.
	batch *batch
}

// request is one Update waiting for its turn or for its batch's outcome.
// Requests are reused (requests, below): both channels are empty whenever
// a request is not in use.
type request struct {
	turn chan struct{} // receives the baton
	done chan error    // receives the batch's outcome: nil once committed
	err  error         // what the request's function returned
	// onUndo are the functions its transaction's OnUndo registered.
	onUndo []func()
}

// undone calls the request's undo hooks, once: its writes were undone.
func (r *request) undone() {
	for _, f := range r.onUndo {
		f()
	}
	r.forgetUndo()
}

// forgetUndo drops the request's undo hooks.
func (r *request) forgetUndo() {
	clear(r.onUndo)
	r.onUndo = r.onUndo[:0]
}

var requests = sync.Pool{New: func() any {
	return &request{turn: make(chan struct{}, 1), done: make(chan error, 1)}
}}

// batch is one transaction shared by the requests that run in it.
type batch struct {
	stx     *sql.Tx
	started time.Time // for DB.maxBatchTime
	turns   int       // requests that took a turn
	now     time.Time // the time of the latest turn

	// wrote is set once a request succeeded (released its savepoint, or
	// was the first): the batch has something to commit.
	wrote bool
	// ending ends the batch after the current turn: its first request
	// failed, and the batch rolls back.
	ending bool
	// err, once set, breaks the batch: the transaction is in a state that
	// savepoints cannot undo, so the batch ends at once, rolled back, and
	// every request in it fails with err.
	err error
	// ran are the requests that ran their function and wait for the
	// outcome, in turn order.
	ran []*request
	// events are the events of the requests that succeeded, in Seq
	// order, and trim the Seq through which they deleted events: what
	// the memory of recent events learns once the batch commits.
	events []carillon.Event
	trim   int64

	bound      boundList
	seq        messageSeq
	savepoints [numSavepointOps]*sql.Stmt // bound to stx on first use
}

// Update runs fn in a write transaction on the writer connection, in a
// batch with the Updates that queued meanwhile (group commit: see the
// package documentation). It returns only once the batch has committed,
// with nil, or with the error fn returned, or with the batch's commit
// error. A panic or runtime.Goexit in fn undoes fn's writes and goes on
// in the caller once the others' requests are safe. fn must not call
// Update itself: the writer is busy with fn's batch. It may call View.
func (db *DB) Update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	r := requests.Get().(*request)
	defer func() {
		// Kept only until the batch's outcome: nothing can be undone after.
		r.forgetUndo()
		requests.Put(r)
	}()
	if err := db.wr.acquire(ctx, r); err != nil {
		return err
	}
	return db.turn(ctx, r, fn)
}

// acquire returns once r holds the baton, or with ctx's error if ctx ends
// first.
func (w *writer) acquire(ctx context.Context, r *request) error {
	w.mu.Lock()
	if !w.busy {
		w.busy = true
		w.mu.Unlock()
		return nil
	}
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case <-r.turn:
		return nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	for i, q := range w.queue {
		if q == r {
			w.queue = append(w.queue[:i], w.queue[i+1:]...)
			w.mu.Unlock()
			return fmt.Errorf("sqlite: %w", ctx.Err())
		}
	}
	w.mu.Unlock()
	// The holder took r off the queue before ctx ended: the baton is on
	// its way, and r must take its turn (to hand it on), without running.
	<-r.turn
	return nil
}

// next takes the oldest waiting request off the queue, nil if none. w.mu
// is held.
func (w *writer) next() *request {
	if len(w.queue) == 0 {
		return nil
	}
	r := w.queue[0]
	w.queue[0] = nil
	w.queue = w.queue[1:]
	if len(w.queue) == 0 {
		w.queue = w.queue[:0:0] // let the array go once the burst is over
	}
	return r
}

// turn runs r's function in the batch, starting one if none is open. r
// holds the baton, and hands it on before turn returns or, if fn panics,
// before the panic goes on.
func (db *DB) turn(ctx context.Context, r *request, fn func(carillon.Tx) error) error {
	b := db.wr.batch
	// A caller whose context ended while it waited does not run.
	if err := ctx.Err(); err != nil {
		if b != nil {
			db.endTurn(b)
		} else {
			db.handOn()
		}
		return fmt.Errorf("sqlite: %w", err)
	}
	if b == nil {
		stx, err := db.w.BeginTx(context.Background(), nil)
		if err != nil {
			db.handOn()
			return fmt.Errorf("sqlite: begin: %w", err)
		}
		b = &batch{stx: stx, started: time.Now()}
		db.wr.batch = b
	}
	b.turns++
	// The first request of a batch needs no savepoint: to undo it, the
	// batch ends and rolls back, having nothing else to commit.
	sp := b.turns > 1
	if sp {
		if err := db.savepoint(b, opSavepoint); err != nil {
			b.err = err
			db.endTurn(b)
			return err
		}
	}
	t := &tx{
		ctx:   context.WithoutCancel(ctx),
		db:    db,
		stx:   b.stx,
		stmts: db.wstmts,
		now:   b.nextNow(db.clock),
		bound: &b.bound,
		seq:   &b.seq,
		req:   r,
	}
	returned := false
	defer func() {
		if !returned {
			// fn panicked or called runtime.Goexit (t.FailNow in a
			// test): undo its writes and let the batch go on without
			// it before the panic goes on.
			db.undo(b, sp)
			r.undone()
			db.endTurn(b)
		}
	}()
	err := fn(t)
	returned = true
	if err == nil {
		if cerr := ctx.Err(); cerr != nil {
			// The caller is gone: it is answered with ctx's error and
			// does not wait, so nothing of it may commit.
			db.undo(b, sp)
			r.undone()
			db.endTurn(b)
			return fmt.Errorf("sqlite: %w", cerr)
		}
		kept := true
		if sp {
			if rerr := db.savepoint(b, opRelease); rerr != nil {
				b.err = rerr
				kept = false
			}
		}
		if kept {
			b.wrote = true
			b.events = append(b.events, t.events...)
			b.trim = max(b.trim, t.trim)
		}
	} else {
		db.undo(b, sp)
		r.undone()
	}
	// Even a request that failed waits for the outcome: its answer may
	// rest on what an earlier request of the batch wrote (ErrExists, say),
	// which is not true unless the batch commits.
	r.err = err
	b.ran = append(b.ran, r)
	db.endTurn(b)
	return r.answer(<-r.done)
}

// answer is what a request that ran is answered, given its batch's
// outcome.
func (r *request) answer(outcome error) error {
	err := r.err
	r.err = nil
	switch {
	case outcome == nil:
		return err
	case err == nil:
		return outcome
	default:
		// The request's own error may rest on writes that did not
		// commit: it is kept in the text only, so that errors.Is does
		// not find ErrExists or ErrNotFound in it.
		return fmt.Errorf("%w (the request had failed: %v)", outcome, err)
	}
}

// nextNow is the time of the next turn: the clock's, in UTC to the
// millisecond, but never before the previous turn's in the batch, so that
// the times of a batch's writes (outbox events among them) follow their
// order.
func (b *batch) nextNow(clock carillon.Clock) time.Time {
	now := clock.Now().UTC().Truncate(time.Millisecond)
	if now.Before(b.now) {
		now = b.now
	}
	b.now = now
	return now
}

// savepoint runs one of the savepoint statements in b.
func (db *DB) savepoint(b *batch, op int) error {
	s := b.savepoints[op]
	if s == nil {
		s = b.stx.StmtContext(context.Background(), db.savepoints[op])
		b.savepoints[op] = s
	}
	if _, err := s.ExecContext(context.Background()); err != nil {
		return fmt.Errorf("sqlite: %s: %w", savepointSQL[op], err)
	}
	return nil
}

// undo rolls the current request's writes back: to its savepoint (sp), or,
// for the first request of the batch, by ending the batch, which rolls
// back since nothing in it was released. If rolling back to the savepoint
// fails (SQLite rolled the whole transaction back after an I/O error, say,
// so that the savepoint is gone), the batch breaks.
func (db *DB) undo(b *batch, sp bool) {
	if b.err != nil {
		return
	}
	if !sp {
		b.ending = true
		return
	}
	if err := db.savepoint(b, opRollbackTo); err != nil {
		b.err = err
		return
	}
	if err := db.savepoint(b, opRelease); err != nil {
		b.err = err
	}
}

// endTurn ends the turn of the baton's holder: it hands the baton to the
// next request of the batch or, when nobody waits or the batch is full or
// broken, ends the batch.
func (db *DB) endTurn(b *batch) {
	w := &db.wr
	open := b.err == nil && !b.ending && b.turns < db.maxBatch && time.Since(b.started) < db.maxBatchTime
	w.mu.Lock()
	if open && len(w.queue) == 0 {
		// Nobody waits: let the goroutines that are ready run first.
		// With one P (a server pinned to one core) nothing else ran
		// while fn did, so the requests that arrived meanwhile are
		// still parsing or checking signatures, not queued here;
		// committing now would give each of them a commit of its own
		// (TestGroupCommitOnOneCore). Those that reach Update queue
		// during the yield and join this batch. With nothing else
		// ready, the yield returns at once.
		w.mu.Unlock()
		runtime.Gosched()
		w.mu.Lock()
	}
	if open {
		if r := w.next(); r != nil {
			w.mu.Unlock()
			r.turn <- struct{}{}
			return
		}
	}
	w.mu.Unlock()
	w.batch = nil
	outcome := db.finish(b)
	if outcome != nil {
		// Nothing of the batch committed: the requests whose writes
		// were not undone in their turn learn it now, before the next
		// batch begins.
		for _, r := range b.ran {
			r.undone()
		}
	}
	for _, r := range b.ran {
		r.done <- outcome
	}
	db.handOn()
}

// finish commits b, or rolls it back when it is broken or has nothing to
// commit, and returns the outcome for its requests.
func (db *DB) finish(b *batch) error {
	if b.err != nil {
		_ = b.stx.Rollback()
		return b.err
	}
	if !b.wrote {
		// Every request failed, or none ran: their answers are their own
		// errors, and nothing they read can commit.
		_ = b.stx.Rollback()
		return nil
	}
	if err := b.stx.Commit(); err != nil {
		// The driver rolls back what a failed COMMIT left open.
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	db.commits.Add(1)
	db.wr.mu.Lock()
	db.wr.sizes.add(len(b.ran))
	db.wr.mu.Unlock()
	db.ck.kicked()
	db.recent.add(b.events)
	if b.trim > 0 {
		db.recent.dropThrough(b.trim)
	}
	return nil
}

// handOn gives the baton to the oldest waiting request, which starts a
// batch, or puts it down.
func (db *DB) handOn() {
	w := &db.wr
	w.mu.Lock()
	r := w.next()
	if r == nil {
		w.busy = false
	}
	w.mu.Unlock()
	if r != nil {
		r.turn <- struct{}{}
	}
}
