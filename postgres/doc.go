// Package postgres is the PostgreSQL engine of carillon.Store, for servers
// that share one database. It uses pgx (github.com/jackc/pgx/v5) and its
// connection pools.
//
// # Transactions
//
// Update runs SERIALIZABLE, View REPEATABLE READ READ ONLY. A View is a
// snapshot of every transaction committed when it began, as SQLite's
// readers see; it is not SERIALIZABLE because a serializable read-only
// transaction can fail for a conflict (and make writers fail), and the
// Store contract runs a View's function once. No decision a View reads
// is written back without an Update reading it again.
//
// PostgreSQL fails a transaction that conflicts with another (SQLSTATE
// 40001) and one caught in a deadlock (40P01); Update runs the function
// again, after a jittered backoff, up to DB.MaxAttempts times. A
// statement that failed so doomed its transaction whatever the function
// did with the error, so the store remembers the failure itself. An
// attempt that failed takes, before its next attempt begins, a session
// advisory lock (class 2) on each row it updated, and every update takes
// that row's lock in its transaction: transactions that collided on a hot
// row (a busy channel's) queue for it instead of colliding again.
//
// Updates and Views use two pools, so that a View called inside an
// Update never waits for a connection held by Updates waiting for that
// Update's locks. pool_max_conns in the connection string sizes each.
//
// A failed statement aborts a PostgreSQL transaction, but the Tx contract
// keeps a transaction usable after ErrExists and ErrNotFound. So inserts
// never fail on a constraint: INSERT … SELECT … WHERE EXISTS (the owner)
// ON CONFLICT DO NOTHING, and a statement that inserted nothing is told
// apart (ErrExists or ErrNotFound) by a second query. A key holding a NUL
// character, which text cannot hold, finds nothing rather than failing.
//
// # The outbox
//
// Seq is commit order and dense: docs/architecture.md ("The outbox: Seq
// is commit order") states the invariant and the argument. In short, the
// first AppendEvent of a transaction takes pg_advisory_xact_lock(1, 2)
// and reads the newest committed Seq on a connection of its own (the
// alloc pool: at most one transaction per database holds the lock, so it
// needs one connection), in a statement whose snapshot is taken once the
// lock is held.
//
// # Schema
//
// migrations/ holds the schema, applied in the lexical order of the file
// names in one transaction under an advisory lock (class 1), recorded in
// schema_migrations; a database with a migration this binary does not
// know is refused. The runner is a loop of this package rather than a
// migration library, for the reasons package sqlite gives. The numbering
// is this package's own: 0001_schema.sql is the SQLite engine's tables
// after its twelfth migration.
//
// Keys and compared text are COLLATE "C", so that pages follow byte
// order as on SQLite whatever the database's collation; free text is
// bytea (the APIs allow NUL); timestamps are bigint milliseconds, NULL
// for the zero time.
//
// The encodings of the columns (times, the JSON columns, the rows with
// nullable columns) are package internal/storecodec's, shared with the
// SQLite engine; the rows scan free text through bytea (bstr).
// TestFixture loads a dump of rows an earlier version wrote (testdata) to
// keep the encodings what existing databases hold.
//
// # Locks
//
// TryLock is a session advisory lock (one int8 key, FNV-1a of the name)
// on a connection opened for it, released by the database when that
// connection ends; the holder pings it every LeaseCheck and closes Lost
// when a ping fails.
package postgres
