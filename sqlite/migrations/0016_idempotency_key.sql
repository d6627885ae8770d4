-- Idempotency records keyed by a hash of their scope and token
-- (idempotencyKey in misc.go: SHA-256, 32 bytes) instead of by both. The
-- scope names the operation and the bearer's ARN, often the channel's
-- too, so the key was some 200 bytes, the token a random UUID: every
-- record landed on a random leaf of a tree of long keys, split often, and
-- the created index repeated the whole key. With a 32-byte key a record
-- dirties fewer pages (BenchmarkLoneSendPages). A lookup still finds a
-- record only by the very scope and token it was stored with; the rows
-- keep their result and creation time.
--
-- carillon_idempotency_key is the same function, registered with the
-- driver for this migration: the rows written before it are rekeyed here.
CREATE TABLE idempotency_new (
	key     BLOB PRIMARY KEY,
	result  TEXT NOT NULL,
	created INTEGER
) STRICT, WITHOUT ROWID;

INSERT INTO idempotency_new (key, result, created)
SELECT carillon_idempotency_key(scope, token), result, created FROM idempotency;

DROP TABLE idempotency;
ALTER TABLE idempotency_new RENAME TO idempotency;

CREATE INDEX idempotency_by_created ON idempotency (created);
