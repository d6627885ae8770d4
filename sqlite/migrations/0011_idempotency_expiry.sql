-- Idempotency results expire (jobs deletes those older than its window):
-- this index lets it find the oldest without reading the table. The
-- conventions of 0001_identity.sql hold.

CREATE INDEX idempotency_by_created ON idempotency (created);
