-- The number of memberships of each channel, kept by triggers, so that the
-- quota check of every join (10,000 memberships in a regular channel)
-- reads one row instead of counting up to 10,000 index entries. The
-- conventions of 0001_identity.sql hold.

ALTER TABLE channels ADD COLUMN membership_count INTEGER NOT NULL DEFAULT 0;

UPDATE channels SET membership_count = (SELECT count(*) FROM memberships WHERE channel_arn = channels.arn);

-- A membership deleted by the channel's own deletion (ON DELETE CASCADE)
-- updates no row: the channel is already gone.
CREATE TRIGGER channel_count_insert AFTER INSERT ON memberships BEGIN
	UPDATE channels SET membership_count = membership_count + 1 WHERE arn = NEW.channel_arn;
END;

CREATE TRIGGER channel_count_delete AFTER DELETE ON memberships BEGIN
	UPDATE channels SET membership_count = membership_count - 1 WHERE arn = OLD.channel_arn;
END;
