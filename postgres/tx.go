package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// tx is a carillon.Tx. Like the pgx.Tx it wraps, it is not safe for
// concurrent use, and is done once the function it was passed to returns.
type tx struct {
	ctx      context.Context
	db       *DB
	ptx      pgx.Tx
	readOnly bool
	now      time.Time

	// conflict is the first serialization failure or deadlock a statement
	// met: the transaction is aborted, and Update runs it again.
	conflict error

	// nextSeq is the Seq the next AppendEvent takes; 0 until the first,
	// which takes the outbox lock (outbox.go).
	nextSeq int64

	// touched are the row keys of the rows the transaction updated, for
	// the next attempt to lock should this one fail (DB.Update).
	touched []int32
}

// touch is called before the transaction updates the row the parts name
// (a table, then its key): it takes the row's advisory lock until the
// transaction ends, waiting for a retried transaction that holds it
// (DB.Update), and records the row for this one's retry.
func (t *tx) touch(parts ...string) error {
	if t.readOnly {
		return nil // the write that follows fails with ErrReadOnly
	}
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	key := int32(h.Sum32())
	if slices.Contains(t.touched, key) {
		return nil
	}
	if _, err := t.exec(`SELECT pg_advisory_xact_lock($1, $2)`, rowLockClass, key); err != nil {
		return err
	}
	t.touched = append(t.touched, key)
	return nil
}

var _ carillon.Tx = (*tx)(nil)

func (t *tx) Now() time.Time { return t.now }

// errNUL is what a statement would meet with a text argument holding a NUL
// character, which PostgreSQL text cannot hold. No key stored holds one
// (inserting it is refused the same way), so a lookup by such a key finds
// nothing; the statement is not sent, since its error would abort the
// transaction.
var errNUL = errors.New("a NUL character in a key")

func hasNUL(args []any) bool {
	for _, a := range args {
		switch v := a.(type) {
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				return true
			}
		case []string:
			for _, s := range v {
				if strings.IndexByte(s, 0) >= 0 {
					return true
				}
			}
		}
	}
	return false
}

// note records a conflict that dooms the transaction.
func (t *tx) note(err error) error {
	if err != nil && t.conflict == nil && retryable(err) {
		t.conflict = err
	}
	return err
}

func (t *tx) exec(sql string, args ...any) (pgconn.CommandTag, error) {
	if hasNUL(args) {
		return pgconn.CommandTag{}, errNUL
	}
	tag, err := t.ptx.Exec(t.ctx, sql, args...)
	return tag, t.note(err)
}

// row is a pgx.Row that records a conflict when scanned.
type row struct {
	t   *tx
	r   pgx.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.t.note(r.r.Scan(dest...))
}

func (t *tx) queryRow(sql string, args ...any) row {
	if hasNUL(args) {
		return row{err: pgx.ErrNoRows}
	}
	return row{t: t, r: t.ptx.QueryRow(t.ctx, sql, args...)}
}

// writable returns ErrReadOnly in a View. Write methods check it before
// anything else: PostgreSQL would refuse the write too, but with an error
// that aborts the transaction.
func (t *tx) writable(what string) error {
	if t.readOnly {
		return fmt.Errorf("postgres: %s: %w", what, carillon.ErrReadOnly)
	}
	return nil
}

// mutate runs a write that must change at least one row: ErrNotFound when
// none matched its WHERE clause.
func (t *tx) mutate(what, sql string, args ...any) error {
	if err := t.writable(what); err != nil {
		return err
	}
	tag, err := t.exec(sql, args...)
	if err != nil {
		return fail(err, what)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: %w", what, carillon.ErrNotFound)
	}
	return nil
}

// write runs a write whose count of rows does not matter.
func (t *tx) write(what, sql string, args ...any) error {
	if err := t.writable(what); err != nil {
		return err
	}
	if _, err := t.exec(sql, args...); err != nil {
		return fail(err, what)
	}
	return nil
}

// insert runs an INSERT … SELECT … WHERE <the owner exists> ON CONFLICT DO
// NOTHING. No row inserted means the key is taken (ErrExists) or the owner
// is missing (ErrNotFound), which ownerSQL, run only then, tells apart.
// Statements that cannot fail keep the transaction usable after either,
// as the Tx contract requires: a failed statement would abort it.
func (t *tx) insert(what, sql string, ownerSQL string, ownerArgs []any, args ...any) error {
	if err := t.writable(what); err != nil {
		return err
	}
	tag, err := t.exec(sql, args...)
	if errors.Is(err, errNUL) {
		return fmt.Errorf("postgres: %s: %w", what, carillon.ErrNotFound)
	}
	if err != nil {
		return fail(err, what)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	if ownerSQL != "" {
		var exists bool
		if err := t.queryRow(ownerSQL, ownerArgs...).Scan(&exists); err != nil {
			return fail(err, what)
		}
		if !exists {
			return fmt.Errorf("postgres: %s: owner %w", what, carillon.ErrNotFound)
		}
	}
	return fmt.Errorf("postgres: %s: %w", what, carillon.ErrExists)
}

// fail wraps an engine error with what was being done. No row is
// ErrNotFound. Constraint violations do not reach here as errors (insert
// avoids them), except in a race the snapshot cannot see, which
// PostgreSQL reports as a serialization failure, retried.
func fail(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, errNUL) {
		return fmt.Errorf("postgres: %s: %w", what, carillon.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("postgres: %s: %w", what, carillon.ErrExists)
		case "23503": // foreign_key_violation
			return fmt.Errorf("postgres: %s: owner %w", what, carillon.ErrNotFound)
		}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// list runs a query and scans every row with scan. A query whose key
// holds a NUL character matches nothing.
func list[T any](t *tx, what, sql string, scan func(pgx.Row) (T, error), args ...any) ([]T, error) {
	if hasNUL(args) {
		return []T{}, nil
	}
	rows, err := t.ptx.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, fail(t.note(err), what)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fail(t.note(err), what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(t.note(err), what)
	}
	return out, nil
}

// limit turns a Page's Limit into SQL's: LIMIT NULL is no limit.
func limit(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// after is a Page's cursor as a query argument. Keys never hold a NUL
// character (text cannot), so the keys after a cursor with one are the
// keys after the part before it: a key k > p + "\x00" + r exactly when
// k > p.
func after(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// ms encodes a time for a bigint column (storecodec.Millis).
func ms(t time.Time) any { return storecodec.Millis(t) }

// b encodes free text for a bytea column; never NULL, even for "".
func b(s string) []byte {
	if s == "" {
		return []byte{}
	}
	return []byte(s)
}

// bytea scans a bytea column of free text into the string s points to:
// the storecodec.Text of this engine.
func bytea(s *string) any { return bstr{s} }

// bstr scans a bytea column into the string it points to.
type bstr struct{ s *string }

func (x bstr) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*x.s = ""
	case []byte:
		*x.s = string(v)
	case string:
		*x.s = v
	default:
		return fmt.Errorf("bytea column holds a %T", v)
	}
	return nil
}
