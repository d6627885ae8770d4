-- Idempotency records keyed by a hash of their scope and token
-- (idempotencyKey in misc.go: SHA-256, 32 bytes) instead of by both, and
-- kept in the order they were stored. The scope names the operation and
-- the bearer's ARN, often the channel's too, so the key was some 200
-- bytes, and the token is a random UUID: every record landed on a random
-- leaf of a tree of long rows, which split often, and the created index
-- repeated the whole key. Now the rows are appended to the end of the
-- table (the rowid grows with each record), the only random write is a
-- 32-byte key into its index, and expiry, which deletes the oldest
-- first, walks the table from its start: the created index is gone. A
-- lone send writes 2 WAL pages fewer (BenchmarkLoneSendPages).
--
-- A lookup still finds a record only by the very scope and token it was
-- stored with; the rows keep their result and creation time.
-- carillon_idempotency_key is idempotencyKey, registered with the driver
-- for this migration: the rows written before it are rekeyed here, in the
-- order of their creation.
CREATE TABLE idempotency_new (
	id      INTEGER PRIMARY KEY,
	key     BLOB NOT NULL UNIQUE,
	result  TEXT NOT NULL,
	created INTEGER
) STRICT;

INSERT INTO idempotency_new (key, result, created)
SELECT carillon_idempotency_key(scope, token), result, created FROM idempotency ORDER BY created;

DROP TABLE idempotency;
ALTER TABLE idempotency_new RENAME TO idempotency;
