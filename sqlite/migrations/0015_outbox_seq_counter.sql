-- The outbox's seq comes from the counters table rather than from
-- AUTOINCREMENT. AUTOINCREMENT keeps its high-water mark in
-- sqlite_sequence, a page of its own that every append then rewrote:
-- one more page in the WAL per commit. The counter row event_seq lives on
-- the page that message_seq, written by every message, already dirties,
-- and keeps the same promise: a seq once handed out is never handed out
-- again, even after DeleteEventsThrough emptied the table. The trigger
-- moves it inside the INSERT, as messages_seq does (0014).
CREATE TABLE outbox_new (
	seq           INTEGER PRIMARY KEY,
	at            INTEGER,
	type          TEXT NOT NULL,
	channel       TEXT NOT NULL,
	recipients    TEXT NOT NULL, -- JSON array of bearer ARNs
	message_type  TEXT NOT NULL,
	payload       BLOB NOT NULL,
	to_members    INTEGER NOT NULL DEFAULT 0 CHECK (to_members IN (0, 1)),
	member        TEXT NOT NULL DEFAULT '',
	member_change INTEGER NOT NULL DEFAULT 0,
	reason        TEXT NOT NULL DEFAULT '',
	data          BLOB NOT NULL DEFAULT X''
) STRICT;

INSERT INTO outbox_new (seq, at, type, channel, recipients, message_type, payload, to_members, member, member_change, reason, data)
SELECT seq, at, type, channel, recipients, message_type, payload, to_members, member, member_change, reason, data FROM outbox;

INSERT INTO counters (name, value)
VALUES ('event_seq', max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0), COALESCE((SELECT max(seq) FROM outbox), 0)));

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

CREATE TRIGGER outbox_seq AFTER INSERT ON outbox
BEGIN
	UPDATE counters SET value = max(value, NEW.seq) WHERE name = 'event_seq';
END;
