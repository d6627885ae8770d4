-- The audience of an event and the membership change it carries. Events
-- written before this migration get the defaults: delivered to their
-- recipients only, changing no membership.
ALTER TABLE outbox ADD COLUMN to_members INTEGER NOT NULL DEFAULT 0 CHECK (to_members IN (0, 1));
ALTER TABLE outbox ADD COLUMN member TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN member_change INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN reason TEXT NOT NULL DEFAULT '';
