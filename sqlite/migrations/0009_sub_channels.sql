-- The sub-channels of elastic channels. The conventions of 0001_identity.sql
-- hold.
--
-- A regular member of an elastic channel is in the one sub-channel its
-- memberships row names (memberships.sub_channel_id, indexed by
-- memberships_by_sub_channel since 0004). A moderator may be in several:
-- its memberships row names none ('') and each sub-channel it is in is a
-- row of sub_channel_memberships.

CREATE TABLE sub_channels (
	channel_arn      TEXT NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	id               TEXT NOT NULL,
	-- The memberships rows naming the sub-channel, kept by the triggers
	-- below, so that the balancing of an elastic channel reads one row
	-- per sub-channel rather than counting up to a million memberships.
	membership_count INTEGER NOT NULL,
	created          INTEGER,
	PRIMARY KEY (channel_arn, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE sub_channel_memberships (
	channel_arn    TEXT NOT NULL,
	sub_channel_id TEXT NOT NULL,
	member_arn     TEXT NOT NULL,
	type           TEXT NOT NULL,
	invited_by     TEXT NOT NULL,
	created        INTEGER,
	updated        INTEGER,
	PRIMARY KEY (channel_arn, sub_channel_id, member_arn),
	-- Deleting the sub-channel, or the member's membership of the
	-- channel (DeleteMembership, DeleteUser, DeleteBot, and the channel's
	-- own deletion through either), deletes these rows.
	FOREIGN KEY (channel_arn, sub_channel_id) REFERENCES sub_channels (channel_arn, id) ON DELETE CASCADE,
	FOREIGN KEY (channel_arn, member_arn) REFERENCES memberships (channel_arn, member_arn) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- ListSubChannelMembershipsOf (a member's sub-channels), and the ON DELETE
-- CASCADE from memberships.
CREATE INDEX sub_channel_memberships_by_member ON sub_channel_memberships (channel_arn, member_arn, sub_channel_id);

-- membership_count follows every write of memberships.sub_channel_id.
-- Memberships of channels that are not elastic (sub_channel_id '') touch
-- nothing.
CREATE TRIGGER sub_channel_count_insert AFTER INSERT ON memberships
WHEN NEW.sub_channel_id <> '' BEGIN
	UPDATE sub_channels SET membership_count = membership_count + 1
	WHERE channel_arn = NEW.channel_arn AND id = NEW.sub_channel_id;
END;

CREATE TRIGGER sub_channel_count_delete AFTER DELETE ON memberships
WHEN OLD.sub_channel_id <> '' BEGIN
	UPDATE sub_channels SET membership_count = membership_count - 1
	WHERE channel_arn = OLD.channel_arn AND id = OLD.sub_channel_id;
END;

CREATE TRIGGER sub_channel_count_update AFTER UPDATE OF sub_channel_id ON memberships
WHEN OLD.sub_channel_id IS NOT NEW.sub_channel_id BEGIN
	UPDATE sub_channels SET membership_count = membership_count - 1
	WHERE OLD.sub_channel_id <> '' AND channel_arn = OLD.channel_arn AND id = OLD.sub_channel_id;
	UPDATE sub_channels SET membership_count = membership_count + 1
	WHERE NEW.sub_channel_id <> '' AND channel_arn = NEW.channel_arn AND id = NEW.sub_channel_id;
END;
