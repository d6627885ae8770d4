package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/carillonhq/carillon"
)

// DB is a Carillon store in one PostgreSQL database. It is safe for
// concurrent use, and several processes may share the database.
type DB struct {
	clock carillon.Clock

	// w runs Updates, r runs Views: apart, so that a View called inside
	// an Update never waits for a connection held by Updates that wait
	// for that Update's locks.
	w, r *pgxpool.Pool
	// alloc reads the outbox's newest Seq outside the snapshot of the
	// transaction that allocates (outbox.go). Only the holder of the
	// outbox lock uses it, one transaction at a time per database.
	alloc *pgxpool.Pool
	// cfg is the parsed connection string, for the connections of
	// session locks (lock.go).
	cfg *pgx.ConnConfig

	// MaxAttempts bounds how many times Update runs its function when
	// transactions keep failing for serialization conflicts or
	// deadlocks (default 100); the last failure is returned.
	MaxAttempts int

	// Retries counts the transactions run again after a serialization
	// failure or a deadlock, for tests and benchmarks.
	retries atomic.Int64
	// unordered names a sequence that AppendEvent takes Seq from instead
	// of taking the outbox lock: the baseline of the benchmarks, which
	// measure what the lock costs. Never set outside them.
	unordered string

	closeOnce sync.Once
}

var _ carillon.Store = (*DB)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string) and brings its schema up to date. clock
// gives every transaction its time.
func Open(ctx context.Context, dsn string, clock carillon.Clock) (*DB, error) {
	if clock == nil {
		return nil, errors.New("postgres: open: nil clock")
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// A connection string without pool_max_conns gets a pool sized for
	// the machine; with it, the user's size for each pool.
	if pcfg.MaxConns == max(4, int32(runtime.NumCPU())) {
		pcfg.MaxConns = int32(8 + 4*runtime.NumCPU())
	}
	pcfg.ConnConfig.RuntimeParams["application_name"] = "carillon"
	// Statements of the store are short: a statement that runs for
	// minutes is a bug or a stuck lock, better failed than waited for.
	if _, ok := pcfg.ConnConfig.RuntimeParams["statement_timeout"]; !ok {
		pcfg.ConnConfig.RuntimeParams["statement_timeout"] = "60000"
	}
	db := &DB{clock: clock, cfg: pcfg.ConnConfig.Copy(), MaxAttempts: 100}
	rcfg := pcfg.Copy()
	acfg := pcfg.Copy()
	acfg.MaxConns, acfg.MinConns = 2, 0
	if db.w, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if db.r, err = pgxpool.NewWithConfig(ctx, rcfg); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if db.alloc, err = pgxpool.NewWithConfig(ctx, acfg); err != nil {
		db.w.Close()
		db.r.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, db.w, clock.Now().UnixMilli()); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return db, nil
}

// Update runs fn in a SERIALIZABLE transaction, again when PostgreSQL
// fails it for a serialization conflict or a deadlock, as the Store
// contract allows.
//
// An attempt that failed remembers the rows it updated (the row of a
// channel that every message and membership updates, for one: the hot
// spot of a busy channel), and the next attempt takes a session advisory
// lock on each of them before its transaction begins, so before its
// snapshot is taken: attempts that collided once then queue for the row
// instead of colliding again (PostgreSQL fails the later of two
// transactions updating one row whenever the earlier committed after the
// later took its snapshot, however short the overlap). Attempts that
// learned no row sleep for a jittered backoff instead.
func (db *DB) Update(ctx context.Context, fn func(tx carillon.Tx) error) error {
	var keys []int32
	return db.retry(ctx, func() bool { return len(keys) > 0 }, func() error {
		touched, err := db.run(ctx, db.w, pgx.TxOptions{IsoLevel: pgx.Serializable}, false, keys, fn)
		if retryable(err) {
			keys = union(keys, touched)
		}
		return err
	})
}

// View runs fn in a REPEATABLE READ, READ ONLY transaction: one snapshot
// of every transaction committed when it began (the package documentation
// says why not SERIALIZABLE). Such a transaction never fails for a
// conflict, so fn runs once.
func (db *DB) View(ctx context.Context, fn func(tx carillon.Tx) error) error {
	return db.retry(ctx, func() bool { return false }, func() error {
		_, err := db.run(ctx, db.r, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, true, nil, fn)
		return err
	})
}

// retry runs try until it does not fail for a conflict, at most
// MaxAttempts times, sleeping between attempts (unless queued, when the
// next attempt waits for locks instead) for a random time whose bound
// doubles from 1ms to 64ms (full jitter: transactions that collided once
// spread out instead of colliding again in step).
func (db *DB) retry(ctx context.Context, queued func() bool, try func() error) error {
	attempts := db.MaxAttempts
	if attempts <= 0 {
		attempts = 1
	}
	for attempt := 0; ; attempt++ {
		err := try()
		if err == nil || !retryable(err) || attempt+1 >= attempts {
			return err
		}
		db.retries.Add(1)
		if queued() {
			continue
		}
		bound := time.Millisecond << min(attempt, 6)
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres: %w (after %v)", ctx.Err(), err)
		case <-time.After(rand.N(bound) + 1):
		}
	}
}

// Serialization failures and deadlocks: the transaction did nothing and
// may be run again.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// retryable reports whether err is PostgreSQL failing a transaction that a
// new attempt may commit.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected
	}
	return false
}

// Session advisory locks with two int4 keys, class 2: the rows an Update
// waits for before it begins (Update), keyed by rowKey.
const rowLockClass = 2

// run runs fn in one transaction on a connection of pool, after taking the
// row locks keys on that connection, and returns the rows fn updated.
func (db *DB) run(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, readOnly bool, keys []int32, fn func(carillon.Tx) error) (touched []int32, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: connection: %w", err)
	}
	defer conn.Release()
	if len(keys) > 0 {
		// Released after the transaction whatever happens; a connection
		// that cannot release them is closed, which does.
		defer func() {
			if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock_all()`); err != nil {
				_ = conn.Conn().Close(context.WithoutCancel(ctx))
			}
		}()
		for _, k := range keys { // sorted: two attempts never wait for each other in a cycle
			if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, rowLockClass, k); err != nil {
				return nil, fmt.Errorf("postgres: row lock: %w", err)
			}
		}
	}
	ptx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	t := &tx{
		ctx:      ctx,
		db:       db,
		ptx:      ptx,
		readOnly: readOnly,
		now:      db.clock.Now().UTC().Truncate(time.Millisecond),
	}
	// Roll back unless committed below: when fn returns an error, and also
	// when it panics (the panic then goes on) or calls runtime.Goexit, as
	// t.FailNow does in a test.
	done := false
	defer func() {
		if !done {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	err = fn(t)
	// A statement that failed for a conflict doomed the transaction,
	// whatever fn made of its error (wrapped it, dropped it): run it again.
	if t.conflict != nil {
		return t.touched, t.conflict
	}
	if err != nil {
		return t.touched, err
	}
	if err := ctx.Err(); err != nil {
		return t.touched, fmt.Errorf("postgres: %w", err)
	}
	done = true
	if err := ptx.Commit(ctx); err != nil {
		return t.touched, fmt.Errorf("postgres: commit: %w", err)
	}
	return t.touched, nil
}

// union returns the sorted, distinct keys of a and b.
func union(a, b []int32) []int32 {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes every connection, waiting for the ones in use to be
// returned. Session locks (Lock) keep their own connections and end with
// their Release.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		for _, p := range []*pgxpool.Pool{db.r, db.w, db.alloc} {
			if p != nil {
				p.Close()
			}
		}
	})
	return nil
}

// Retries returns how many transactions were run again after a
// serialization failure or a deadlock since the store was opened.
func (db *DB) Retries() int64 { return db.retries.Load() }
