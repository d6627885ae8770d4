package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carillonhq/carillon"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a Carillon store in one SQLite database file. It is safe for
// concurrent use.
type DB struct {
	clock carillon.Clock

	w *sql.DB // the writer: one connection, BEGIN IMMEDIATE
	r *sql.DB // the readers: query_only

	// Statements prepared once at Open, indexed by query.id. wstmts are on
	// the writer (every query: an Update reads too); rstmts on the readers
	// (read queries only, nil for writes). Never modified after Open, so
	// they are read without a lock.
	wstmts, rstmts []*sql.Stmt

	// savepoints are SAVEPOINT, RELEASE and ROLLBACK TO of a request's
	// savepoint, prepared on the writer (commit.go).
	savepoints [numSavepointOps]*sql.Stmt

	// prepareEachTime makes transactions prepare every statement anew
	// instead of using wstmts and rstmts. Only the benchmarks set it, to
	// measure what the statement cache saves.
	prepareEachTime bool

	// wr queues the Updates for the writer and holds the batch they share
	// (commit.go).
	wr writer
	// maxBatch is how many requests a batch takes at most: defaultMaxBatch,
	// or what a test or benchmark sets before the first Update (1 is one
	// transaction per request, as before group commit).
	maxBatch int
	// maxBatchTime is how long a batch takes new requests after it began:
	// defaultMaxBatchTime, or what a test sets before the first Update.
	maxBatchTime time.Duration
	// commits counts the batches committed, for the benchmarks.
	commits atomic.Int64
	// recent holds the events of the last commits (recent.go).
	recent recentEvents
	// ck runs the checkpoints (checkpoint.go).
	ck *checkpointer

	locks locks // TryLock's

	closeOnce sync.Once
	closeErr  error
}

var _ carillon.Store = (*DB)(nil)

// Pragmas applied to every connection, writer and readers alike, before
// synchronous (which depends on the Sync option). busy_timeout comes first
// so that the others wait for a lock held by another process rather than
// failing (the driver also runs it first).
var pragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"foreign_keys(1)",
}

// Sync is how a commit waits for the disk: PRAGMA synchronous. The
// package documentation says what each one keeps through which crash.
type Sync int

const (
	// SyncNormal (the default) writes each commit to the WAL without
	// waiting for the disk; the WAL is flushed to the disk at checkpoints.
	// A crash of the process loses nothing committed; a power loss or a
	// crash of the operating system may lose the last commits, never
	// corrupt the database.
	SyncNormal Sync = iota
	// SyncFull also flushes the WAL to the disk (fsync) at every commit:
	// nothing committed is lost even to a power loss, for one flush per
	// batch of requests.
	SyncFull
)

// String is the name of the setting, as Set takes it.
func (s Sync) String() string {
	switch s {
	case SyncNormal:
		return "normal"
	case SyncFull:
		return "full"
	}
	return fmt.Sprintf("Sync(%d)", int(s))
}

// Set parses "normal" or "full" (in any case), so that a *Sync is a
// flag.Value.
func (s *Sync) Set(v string) error {
	switch strings.ToLower(v) {
	case "normal":
		*s = SyncNormal
	case "full":
		*s = SyncFull
	default:
		return fmt.Errorf("sync %q: want normal or full", v)
	}
	return nil
}

// pragma is the PRAGMA synchronous setting of s.
func (s Sync) pragma() (string, error) {
	switch s {
	case SyncNormal:
		return "synchronous(NORMAL)", nil
	case SyncFull:
		return "synchronous(FULL)", nil
	}
	return "", fmt.Errorf("unknown %v", s)
}

// Options are the settings of Open; the zero value is the default.
type Options struct {
	// Sync is how a commit waits for the disk (SyncNormal by default).
	Sync Sync
}

// dsn builds the driver's data source name for path. path is a plain file
// name: the driver cuts it at the first '?', which Open therefore refuses.
func dsn(path string, sync string, extra url.Values) string {
	q := url.Values{"_pragma": append(append([]string(nil), pragmas...), sync)}
	for k, vs := range extra {
		q[k] = append(q[k], vs...)
	}
	return path + "?" + q.Encode()
}

// Open opens (creating it if need be) the database at path and brings its
// schema up to date. clock gives every transaction its time. opts, at most
// one, changes the defaults. The files are made private to their owner
// first (Restrict).
func Open(ctx context.Context, path string, clock carillon.Clock, opts ...Options) (*DB, error) {
	switch {
	case path == "", path == ":memory:", strings.HasPrefix(path, "file:"):
		// Each connection of the two pools would get a database of its
		// own, or the DSN would be parsed as a URI.
		return nil, fmt.Errorf("sqlite: open %q: want the name of a database file", path)
	case strings.ContainsRune(path, '?'):
		return nil, fmt.Errorf("sqlite: open %q: a file name with '?' is not supported", path)
	}
	if clock == nil {
		return nil, errors.New("sqlite: open: nil clock")
	}
	var o Options
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		return nil, errors.New("sqlite: open: more than one Options")
	}
	sync, err := o.Sync.pragma()
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if _, err := Restrict(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db := &DB{clock: clock, maxBatch: defaultMaxBatch, maxBatchTime: defaultMaxBatchTime}
	if err := db.open(ctx, path, sync); err != nil {
		db.closePools()
		return nil, err
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, path, sync string) error {
	var err error
	// The writer never checkpoints: the checkpointer does (checkpoint.go).
	db.w, err = sql.Open("sqlite", dsn(path, sync, url.Values{"_txlock": {"immediate"}, "_pragma": {"wal_autocheckpoint(0)"}}))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	// The writer connection is opened first and alone, so that it is the
	// one that creates the file and switches it to WAL, before any reader.
	if err := checkPragmas(ctx, db.w, "writer", false); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, db.w, db.clock); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	db.r, err = sql.Open("sqlite", dsn(path, sync, url.Values{"_pragma": {"query_only(1)"}}))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := 4 + runtime.NumCPU()
	db.r.SetMaxOpenConns(n)
	// Keep every reader open: a new connection pays for its pragmas and
	// for preparing the statements again.
	db.r.SetMaxIdleConns(n)
	if err := checkPragmas(ctx, db.r, "reader", true); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	if err := db.prepare(ctx); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	ck, err := sql.Open("sqlite", dsn(path, sync, nil))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	ck.SetConnMaxIdleTime(0)
	db.ck = newCheckpointer(ck)
	return nil
}

// checkPragmas verifies that the DSN's pragmas took effect on a connection
// of pool: SQLite silently keeps another journal mode when it cannot use
// WAL (on some network file systems, for one), and the store's guarantees
// rest on WAL snapshots and on the foreign keys' cascades.
func checkPragmas(ctx context.Context, pool *sql.DB, name string, queryOnly bool) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("%s: journal_mode: %w", name, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("%s: journal_mode is %q, not wal", name, mode)
	}
	var fk int
	if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("%s: foreign_keys: %w", name, err)
	}
	if fk != 1 {
		return fmt.Errorf("%s: foreign keys are off", name)
	}
	if queryOnly {
		var qo int
		if err := conn.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo); err != nil {
			return fmt.Errorf("%s: query_only: %w", name, err)
		}
		if qo != 1 {
			return fmt.Errorf("%s: query_only is off", name)
		}
	}
	return nil
}

// prepare prepares every query on the writer and the read queries on the
// readers. A statement is bound to the connection it was prepared on;
// Tx.StmtContext prepares it again on another connection of the pool the
// first time that connection needs it, and keeps it.
func (db *DB) prepare(ctx context.Context) error {
	db.wstmts = make([]*sql.Stmt, len(queries))
	db.rstmts = make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		s, err := db.w.PrepareContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", q.sql, err)
		}
		db.wstmts[i] = s
		if q.write {
			continue
		}
		if s, err = db.r.PrepareContext(ctx, q.sql); err != nil {
			return fmt.Errorf("prepare %s: %w", q.sql, err)
		}
		db.rstmts[i] = s
	}
	for op, q := range savepointSQL {
		s, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", q, err)
		}
		db.savepoints[op] = s
	}
	return nil
}

// View runs fn in a read-only transaction on a reader connection. In WAL
// mode the transaction reads one snapshot, taken at its first read, and
// does not block or wait for Update.
//
// Waiting for a connection ends with ctx, but fn's statements run without
// it. They are short and bounded (index ranges, pages, batches:
// TestQueryPlans), so there is nothing to interrupt, and statements
// without a cancellable context save the driver a watcher goroutine per
// statement and database/sql one per result set: 46 of
// CreateAppInstanceUser's 738 allocations and 7% of its time
// (BenchmarkCreateAppInstanceUser). Update's statements run without their
// caller's cancellation too (commit.go).
func (db *DB) View(ctx context.Context, fn func(tx carillon.Tx) error) error {
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: connection: %w", err)
	}
	defer conn.Close()
	caller := ctx
	ctx = context.WithoutCancel(ctx)
	stx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	// A read-only transaction has nothing to commit: it ends with a
	// rollback, also when fn panics or calls runtime.Goexit.
	defer stx.Rollback()
	t := &tx{
		ctx:      ctx,
		db:       db,
		stx:      stx,
		stmts:    db.rstmts,
		readOnly: true,
		now:      db.clock.Now().UTC().Truncate(time.Millisecond),
	}
	t.bound = &t.ownBound
	if err := fn(t); err != nil {
		return err
	}
	if err := caller.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Ping checks that both pools can reach the database.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping readers: %w", err)
	}
	return nil
}

// Close closes the statements and both pools, waiting for running
// transactions to finish. It does not checkpoint: when the writer, the
// last connection of the process, closes, SQLite checkpoints the WAL into
// the database by itself, unless another process such as a backup tool
// still has the file open, in which case a forced checkpoint would have to
// wait for it. Calling Close again returns the first result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.closePools() })
	return db.closeErr
}

func (db *DB) closePools() error {
	var errs []error
	for _, stmts := range [][]*sql.Stmt{db.rstmts, db.wstmts, db.savepoints[:]} {
		for _, s := range stmts {
			if s != nil {
				errs = append(errs, s.Close())
			}
		}
	}
	// Readers first, so that the writer is the last connection to close.
	if db.ck != nil {
		errs = append(errs, db.ck.close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}
