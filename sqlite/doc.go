// Package sqlite is the SQLite engine of carillon.Store, for a single
// Carillon server. It uses the pure-Go driver modernc.org/sqlite, so the
// server builds without cgo.
//
// # Connections
//
// A database is opened as two connection pools on the same file:
//
//   - the writer, one connection, on which every Update runs, in batches
//     (group commit, below). SQLite allows one writer at a time anyway;
//     queueing writers in the process instead of in SQLite's busy handler
//     means Update never fails with SQLITE_BUSY because of another Update
//     of this process. Its transactions begin with BEGIN IMMEDIATE, taking
//     the write lock up front: a deferred transaction that reads and then
//     writes could fail with SQLITE_BUSY when it upgrades its lock, which
//     no retry of one statement can fix.
//   - the readers, several connections with PRAGMA query_only, on which
//     View runs. In WAL mode readers see a snapshot and neither block nor
//     are blocked by the writer.
//
// Every connection sets busy_timeout first (so the other pragmas wait for a
// lock instead of failing), journal_mode WAL, foreign_keys and synchronous
// (Durability, below). Open checks that WAL and foreign keys really are on,
// since SQLite ignores a pragma it cannot honour. The file is not locked
// exclusively, so tools such as Litestream can read it alongside the
// server.
//
// # Group commit
//
// Concurrent Updates share one transaction, so that what a commit costs
// (writing the changed pages to the WAL, in several system calls) is paid
// once per batch rather than once per request, and the pages the requests
// share (a channel's row, index leaves, the outbox's tail) are written
// once. An Update waits in a queue for the writer connection. The one
// holding it runs its function inside a savepoint of the batch's
// transaction (SAVEPOINT, then RELEASE), then hands the connection to the
// oldest one waiting, which runs in the same transaction. (The first
// request of a batch needs no savepoint: if it fails, the batch rolls back
// and ends, and the next request begins another.) The request that
// finds nobody waiting, or the batch at its bound (64 requests, or 20 ms
// since it began: BenchmarkGroupCommitBound), commits; only then are the
// requests of the batch answered, and the next batch begins. Before
// committing a batch that could take more, the request yields the
// processor once, so that requests already on their way (on a server
// pinned to one core, none of them ran while it did) queue and join the
// batch. Nothing waits on a timer: a lone Update commits as soon as
// nothing else is ready to run, and under load a batch is whatever queued
// while the previous one ran.
//
// A caller sees what one transaction per Update would give it:
//
//   - Its function reads its own writes, and those of the requests before
//     it in the batch: the requests run one after the other, so they are
//     serializable in the order they ran.
//   - When its function returns an error, panics or calls runtime.Goexit,
//     its writes are rolled back to its savepoint (ROLLBACK TO, RELEASE)
//     and the others' stay. A panic goes on in the caller's goroutine, and
//     Goexit ends it, once the batch can go on without it. ErrNotFound and
//     ErrExists from a Tx method end nothing: the function decides.
//   - It is answered only once its batch has committed: nil, or the error
//     its function returned (which may rest on what an earlier request of
//     the batch wrote, so it too waits for the commit). If the batch fails
//     to commit, every request of it is answered that failure; the error a
//     function had returned is then kept in the message only, so that
//     errors.Is does not find ErrExists in an answer about writes that are
//     gone.
//   - A caller whose context ends while it waits for its turn returns at
//     once, and its function never runs. One whose context ends while its
//     function runs is rolled back to its savepoint and answered the
//     context's error. Once a request's savepoint is released, it commits
//     with its batch and is answered the commit's outcome, whatever its
//     context.
//   - tx.Now() is read from the clock when the request's turn begins, and
//     is fixed for the request. Within a batch it is never before the
//     previous request's, so that the times of a batch's writes (outbox
//     events among them) follow their order even if the clock steps back.
//   - The outbox numbers events in the order the requests run, and a batch
//     commits whole, so Seq order is commit order. A request rolled back
//     to its savepoint gives back the numbers it took (the event_seq
//     counter is rolled back with it), as a rolled-back transaction
//     always did: a number is never reused once it was visible.
//
// A savepoint keeps the original of each page its request changes in the
// transaction's sub-journal, which SQLite empties at every RELEASE while it
// is in memory. The package raises the size at which SQLite moves it to a
// temporary file from 64 KiB to 127 KiB, above what one message journals
// and below SQLite's limit (spill.go): requests stay off the disk until
// the commit, and one that changes thousands of pages spills without
// holding them all in memory.
//
// The functions run on their callers' goroutines, the connection passing
// from one caller to the next, rather than on a writer goroutine: a panic
// then unwinds the caller's own stack, runtime.Goexit (t.FailNow in a
// test) works, and neither closures nor results cross goroutines. The
// price is a channel hand-off per request of a batch.
//
// # Durability
//
// The journal is a write-ahead log (WAL). With synchronous NORMAL, the
// default (SyncNormal), a commit writes its pages to the WAL file but does
// not wait for the disk; the WAL is flushed to the disk when it is
// checkpointed into the database. So a crash of the process, even a kill
// -9, loses nothing that was acknowledged: the operating system holds
// what was written. A power loss or a crash of the operating system may
// lose the last transactions acknowledged before it, never corrupt the
// database. Options.Sync = SyncFull (synchronous FULL) flushes the WAL at
// every commit, so nothing acknowledged is lost even then; group commit
// pays that flush once per batch. The checkpoints run on a connection of
// their own, not in the writer's commits (checkpoint.go says what that
// costs in WAL size). TestGroupCommitCrash kills a process
// writing concurrently, over and over, and checks every acknowledged
// write.
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
// The encodings of the columns (times, the JSON columns, the rows with
// nullable columns) are package internal/storecodec's, shared with the
// PostgreSQL engine; TestFixture reads a database an earlier version wrote
// (testdata) to keep them what existing databases hold.
//
// # Statements
//
// Every statement the package runs is a constant prepared once per
// connection and reused by every transaction through Tx.StmtContext, so that
// the hot paths do not parse SQL again on each call. The statements bound
// to a batch's transaction are shared by its requests, which run one after
// the other; savepoints leave them valid.
package sqlite
