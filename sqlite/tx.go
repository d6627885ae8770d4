package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carillonhq/carillon"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// query is one SQL statement of the package. Every query is a package-level
// variable made by readQuery or writeQuery, so that DB.prepare can prepare
// them all when the database is opened, before any transaction holds the
// writer's only connection (preparing on a pool needs a free connection).
type query struct {
	id    int // index in queries, DB.wstmts and DB.rstmts
	sql   string
	write bool // prepared on the writer only; refused in a View
}

// queries is every query, by id. It is filled by the package-level
// variable initializers and read-only afterwards.
var queries []*query

func newQuery(write bool, sql string) *query {
	q := &query{id: len(queries), sql: sql, write: write}
	queries = append(queries, q)
	return q
}

// readQuery declares a query that only reads, usable in View and Update.
func readQuery(sql string) *query { return newQuery(false, sql) }

// writeQuery declares a query that writes, usable in Update only.
func writeQuery(sql string) *query { return newQuery(true, sql) }

// tx is a carillon.Tx. Like the *sql.Tx it wraps, it is not safe for
// concurrent use, and is done once the function it was passed to returns.
type tx struct {
	// ctx is the context of the Update or View call without its
	// cancellation (DB.View says why): the Tx methods take none, and every
	// statement of the transaction runs under it.
	ctx      context.Context
	db       *DB
	stx      *sql.Tx
	stmts    []*sql.Stmt // the pool's prepared statements, by query id
	readOnly bool
	now      time.Time

	// bound holds the statements bound to stx, made on first use: the
	// View's own list (ownBound), or the list of the batch an Update runs
	// in, shared by its requests, which run one after the other on the
	// same stx.
	bound    *boundList
	ownBound boundList

	// read is set once the transaction ran a statement. A View's snapshot
	// is taken by its first read, so until then Events may answer from
	// the memory of recent events (recent.go) without contradicting it.
	read bool
	// events are the events an Update's request appended, and trim the
	// Seq through which it deleted events: the batch passes them to the
	// memory of recent events once it commits.
	events []carillon.Event
	trim   int64
	// req is the request of an Update, whose undo hooks OnUndo adds to;
	// nil in a View.
	req *request
	// seq is the message numbering of the batch an Update runs in.
	seq *messageSeq
}

// messageSeq is the last message number a batch handed out, once it read
// the counter (known). Only the batch's requests use it, one after the
// other.
type messageSeq struct {
	last  int64
	known bool
}

var _ carillon.UndoNotifier = (*tx)(nil)

// OnUndo registers f to be called if this Update's writes are undone
// (carillon.UndoNotifier): by the turn that undoes them, or by the end of
// a batch that fails to commit. A View has nothing to undo.
func (t *tx) OnUndo(f func()) {
	if t.req != nil {
		t.req.onUndo = append(t.req.onUndo, f)
	}
}

// boundList is a list of statements bound to one *sql.Tx. A transaction
// uses a handful, so a short list searched in order (starting in buf,
// without an allocation) beats a map or a slice indexed by every query id.
type boundList struct {
	list []boundStmt
	buf  [8]boundStmt
}

type boundStmt struct {
	q *query
	s *sql.Stmt
}

var _ carillon.Tx = (*tx)(nil)

func (t *tx) Now() time.Time { return t.now }

// stmt returns q's statement bound to the transaction. The binding is kept
// for the rest of the transaction, for loops such as PutTags.
func (t *tx) stmt(q *query) *sql.Stmt {
	l := t.bound
	for _, b := range l.list {
		if b.q == q {
			return b.s
		}
	}
	if l.list == nil {
		l.list = l.buf[:0]
	}
	s := t.stx.StmtContext(t.ctx, t.stmts[q.id])
	l.list = append(l.list, boundStmt{q, s})
	return s
}

func (t *tx) exec(q *query, args ...any) (sql.Result, error) {
	t.read = true
	if t.db.prepareEachTime {
		return t.stx.ExecContext(t.ctx, q.sql, args...)
	}
	return t.stmt(q).ExecContext(t.ctx, args...)
}

func (t *tx) queryRow(q *query, args ...any) *sql.Row {
	t.read = true
	if t.db.prepareEachTime {
		return t.stx.QueryRowContext(t.ctx, q.sql, args...)
	}
	return t.stmt(q).QueryRowContext(t.ctx, args...)
}

func (t *tx) query(q *query, args ...any) (*sql.Rows, error) {
	t.read = true
	if t.db.prepareEachTime {
		return t.stx.QueryContext(t.ctx, q.sql, args...)
	}
	return t.stmt(q).QueryContext(t.ctx, args...)
}

// writable returns ErrReadOnly in a View. Write methods check it before
// anything else: the readers' query_only would refuse the write too, but
// with an engine error rather than the documented one.
func (t *tx) writable(what string) error {
	if t.readOnly {
		return fmt.Errorf("sqlite: %s: %w", what, carillon.ErrReadOnly)
	}
	return nil
}

// mutate runs a write query that must change at least one row: ErrNotFound
// when none matched its WHERE clause.
func (t *tx) mutate(what string, q *query, args ...any) error {
	return t.mutateLazy(func() string { return what }, q, args...)
}

// mutateLazy is mutate with what formatted only when an error is
// returned: the writes every send makes formatted their description each
// time, which was 1.5% of the server's CPU under the latency load
// (docs/performance.md).
func (t *tx) mutateLazy(what func() string, q *query, args ...any) error {
	if t.readOnly {
		return t.writable(what())
	}
	res, err := t.exec(q, args...)
	if err != nil {
		return fail(err, what())
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fail(err, what())
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", what(), carillon.ErrNotFound)
	}
	return nil
}

// write runs a write query, its constraint failures turned into ErrExists
// (a duplicate key) or ErrNotFound (the row it belongs to is missing).
func (t *tx) write(what string, q *query, args ...any) error {
	if err := t.writable(what); err != nil {
		return err
	}
	if _, err := t.exec(q, args...); err != nil {
		return fail(err, what)
	}
	return nil
}

// fail wraps an engine error with what was being done, mapping the
// constraint violations that callers must tell apart to the store errors.
// It matches the driver's extended result codes, never the message text.
func fail(err error, what string) error {
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("sqlite: %s: %w", what, carillon.ErrExists)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// A child row whose parent (the AppInstance of a user,
			// bot or admin; the user of an endpoint) does not exist.
			return fmt.Errorf("sqlite: %s: owner %w", what, carillon.ErrNotFound)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", what, carillon.ErrNotFound)
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

// scanner is a *sql.Row or a *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// list runs a query and scans every row with scan.
func list[T any](t *tx, what string, q *query, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, fail(err, what)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fail(err, what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(err, what)
	}
	return out, nil
}

// limit turns a Page's Limit into SQL's: a negative LIMIT is no limit.
func limit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
