// Package storecache is a carillon.Store decorator that keeps in memory the
// rows authorization reads: every channel operation starts by reading its
// bearer (GetUser or GetBot), the bearer's AppInstanceAdmin role
// (GetAdmin), the channel (GetChannel), and the bearer's moderator role,
// membership and ban in it (GetModerator, GetMembership, GetBan), and
// messaging/authz.go reads them again in every request. Most of those
// answers are "not found" (not a moderator, not banned), so absent rows
// are kept too. Every other method goes to the store unchanged.
//
// # Exact, not eventually consistent
//
// A read through the cache returns what the store would return in the same
// transaction: the services write back what they read (SendChannelMessage
// rewrites the channel row it authorized against), so a stale copy would
// not only answer wrongly, it would be written back. The cache keeps a
// record per row key (the user or bot, the admin role (AppInstance,
// bearer), the channel, and the moderator role, membership and ban
// (channel, bearer)), and a scope record per bearer and per channel for
// writes that change many rows at once. Each record counts the writes in
// flight on it and when its last change completed, on one logical clock:
//
//   - A write marks its record (or scope) in flight before it calls the
//     store, and the mark is released when the request's Update returns
//     (committed, rolled back, or its batch failed to commit). While a
//     mark is held, every read of the record, in any transaction, goes to
//     the store: so an Update sees its own writes and those of the other
//     requests of its group-commit batch, and a View sees its snapshot.
//     One exception: when the latest write in flight on a row is one whose
//     result the cache knows (a write-through, below) and the engine
//     tells the cache if that write is undone (carillon.UndoNotifier: the
//     SQLite engine calls it in the turn that undoes a request's writes,
//     before the next request runs, and for a whole batch whose COMMIT
//     fails, before the next batch), an Update reads the row as that write
//     left it, from memory: it is what the store would answer in the same
//     transaction. Every send writes its channel's LastMessageTimestamp,
//     so without it each request of a batch after the first read its
//     channel from the store.
//     On release the cached value is dropped, or, for UpdateChannel and
//     UpdateMembership, replaced by the row as written (derived from the
//     row this transaction read and the fields the method replaces, as the
//     Tx contract defines them), when that write was the last one anyone
//     made to the row and nothing else changed since.
//   - A read that misses loads the row from the store and keeps it only if
//     the record is still the one it started with (not evicted) and no
//     change of the record or of its scopes is in flight or completed
//     since the read began; a View's reads use the time the View began,
//     since its snapshot may be older than the read.
//   - A hit returns a copy (the services mutate what they get), and only
//     when nothing is in flight and, in a View, when the row has not
//     changed since the View began.
//   - A View's snapshot is taken by its first read of the store, which may
//     come after the View began; a row served from memory before that
//     could differ from what the store then shows the same View. So the
//     first cached read of a View goes to the store (counted as a
//     "snapshot" read), and the reads after it may come from memory: a
//     row that changes after the snapshot is in flight or has changed
//     since the View began, and is read from the store. Everything a View
//     reads is thus of one snapshot, from memory or not.
//
// The rows that change without their key being written are covered by
// scopes: deleting a user or a bot deletes its admin roles, memberships,
// moderator roles and bans, and creating, renaming or deleting one changes
// the member name the store joins into those rows (bearer scope); deleting
// a channel deletes its memberships, moderator roles and bans (channel
// scope); deleting an AppInstance deletes everything under it (a global
// scope: every read goes to the store while it is in flight, and every
// value kept before it is dropped). Sub-channel operations change none of
// the rows kept, nor do the SQL triggers of the SQLite engine: they keep
// membership counts in the channel and sub-channel rows, which only
// CountMemberships and the sub-channel reads return, and the cache keeps
// neither (a Channel has no count). TestEveryTxMethodIsClassified fails when a
// method of carillon.Tx is neither overridden here nor listed as changing
// no row the cache keeps, so a new write cannot bypass invalidation.
//
// The cache relies on two properties of the engine under it, both true of
// the SQLite engine: an Update returns only once its transaction (or its
// batch) has committed or failed, and the functions of concurrent Updates
// run one after the other (one writer), so that a row read in a function
// is the row its later write applies to. Reads served from memory are not
// seen by the engine, so an engine whose serializability rests on tracking
// reads (PostgreSQL's SERIALIZABLE) must not run under it.
//
// # One node only
//
// Writes made by another process do not pass through this decorator. The
// server therefore enables the cache over its single-node SQLite store
// only; a cluster (several nodes on PostgreSQL) must call
// InvalidateChannel, InvalidateBearer and InvalidateAppInstance from the
// commit events of the other nodes before it can turn the cache on, and
// even then a read between another node's commit and its invalidation is
// stale. Tools that write the database file beside a running server (the
// `carillon credentials` command) write access keys only, which the cache
// does not keep.
//
// # Size
//
// Options.Size bounds the row records kept (DefaultSize); the least
// recently used go first, never one with a write in flight. Nothing
// expires by time: a row stays right until a write says otherwise. An
// evicted record leaves its last change time behind (in one of a few
// floors, by hash of its key), so that a View older than that change never
// fills a new record with what its snapshot still shows.
//
// Stats counts hits, misses (read from the store, kept if allowed),
// bypasses (read from the store because a write was in flight or the
// View's snapshot is older than the row) and snapshot reads (the first of
// a View) per kind of row; the Cache is a prometheus.Collector of the
// same figures (carillon_store_cache_reads_total and others).
//
// What it saves, counted by TestStoreCallsPerRequest once the cache is
// warm: SendChannelMessage makes 5 store calls instead of 11 (the six
// authorization reads are gone), UpdateChannelReadMarker 1 instead of 7,
// GetChannelMessage and ListChannelMessages 2 instead of 7 (their
// snapshot read remains). Under concurrent sends to one channel the
// channel row is nearly always being written, so its reads go to the
// store; the other five stay in memory.
//
// The cache is written here rather than taken from a caching library
// because what it needs is not in one: commit-ordered invalidation with
// in-flight marks, negative entries, and scopes over keys.
package storecache
