-- The transactional outbox. AUTOINCREMENT, unlike a plain INTEGER PRIMARY
-- KEY, never hands out a seq again once it has been committed, even after
-- DeleteEventsThrough emptied the table: publishers and clients remember
-- the last seq they saw. Only one transaction writes at a time, so seq
-- order is commit order.
CREATE TABLE outbox (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	at           INTEGER,
	type         TEXT NOT NULL,
	channel      TEXT NOT NULL,
	recipients   TEXT NOT NULL, -- JSON array of bearer ARNs
	message_type TEXT NOT NULL,
	payload      BLOB NOT NULL
) STRICT;
