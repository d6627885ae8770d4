// Package sqlite is the SQLite engine of carillon.Store, for a single
// Carillon server. It uses the pure-Go driver modernc.org/sqlite, so the
// server builds without cgo.
//
// # Connections
//
// A database is opened as two connection pools on the same file:
//
//   - the writer, one connection, on which every Update runs. SQLite allows
//     one writer at a time anyway; queueing writers in the pool instead of
//     in SQLite's busy handler means Update never fails with SQLITE_BUSY
//     because of another Update of this process. Its transactions begin
//     with BEGIN IMMEDIATE, taking the write lock up front: a deferred
//     transaction that reads and then writes could fail with SQLITE_BUSY
//     when it upgrades its lock, which no retry of one statement can fix.
//   - the readers, several connections with PRAGMA query_only, on which
//     View runs. In WAL mode readers see a snapshot and neither block nor
//     are blocked by the writer.
//
// Every connection sets busy_timeout first (so the other pragmas wait for a
// lock instead of failing), journal_mode WAL, synchronous NORMAL (durable
// across application crashes; a power loss may lose the last transactions
// but never corrupts the file) and foreign_keys. Open checks that WAL and
// foreign keys really are on, since SQLite ignores a pragma it cannot honour.
// The file is not locked exclusively, so tools such as Litestream can read
// it alongside the server.
//
// # Schema
//
// The schema is in migrations/, applied in lexical order of the file names
// when the database is opened, each file in its own transaction and recorded
// in schema_migrations. The runner is a few lines of this package rather
// than a migration library: migrations are forward-only and embedded in the
// binary, so all it needs is one table and a loop, and it adds no
// dependency. A database that has a migration this binary does not know
// (written by a newer version) is refused rather than written with an older
// idea of the schema.
//
// Timestamps are stored as INTEGER milliseconds since the Unix epoch (UTC),
// the precision of the Chime APIs; the zero time.Time is stored as NULL so
// that it comes back as the zero time.
//
// # Statements
//
// Every statement the package runs is a constant prepared once per
// connection and reused by every transaction through Tx.StmtContext, so that
// the hot paths do not parse SQL again on each call.
package sqlite
