-- The resources of the Chime SDK Messaging API. The conventions of
-- 0001_identity.sql hold, except for messages.created (see there).
--
-- Everything in a channel references it with ON DELETE CASCADE, and
-- channels reference their AppInstance the same way, so deleting either
-- deletes what is under it. The columns naming a user or a bot
-- (member_arn, moderator_arn) cannot reference either table: DeleteUser and
-- DeleteBot delete the rows naming them by the *_by_member indexes.

CREATE TABLE channels (
	arn                          TEXT PRIMARY KEY,
	app_instance_arn             TEXT NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	name                         TEXT NOT NULL,
	mode                         TEXT NOT NULL,
	privacy                      TEXT NOT NULL,
	metadata                     TEXT NOT NULL,
	created_by                   TEXT NOT NULL,
	flow_arn                     TEXT NOT NULL, -- '': no channel flow
	-- All three NULL: the channel is not elastic.
	elastic_max_sub_channels     INTEGER,
	elastic_target_memberships   INTEGER,
	elastic_min_membership_pct   INTEGER,
	-- Both NULL: the channel does not expire.
	expiration_days              INTEGER,
	expiration_criterion         TEXT,
	created                      INTEGER,
	updated                      INTEGER,
	last_message_at              INTEGER,
	CHECK ((elastic_max_sub_channels IS NULL) = (elastic_target_memberships IS NULL)
		AND (elastic_max_sub_channels IS NULL) = (elastic_min_membership_pct IS NULL)),
	CHECK ((expiration_days IS NULL) = (expiration_criterion IS NULL))
) STRICT, WITHOUT ROWID;

-- ListChannels without a privacy filter, and the ON DELETE CASCADE from
-- app_instances.
CREATE INDEX channels_by_app_instance ON channels (app_instance_arn, arn);
-- ListChannels of one privacy: PUBLIC channels are a range of their own,
-- however many private ones the AppInstance has.
CREATE INDEX channels_by_privacy ON channels (app_instance_arn, privacy, arn);

CREATE TABLE memberships (
	channel_arn         TEXT NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	member_arn          TEXT NOT NULL,
	type                TEXT NOT NULL,
	invited_by          TEXT NOT NULL,
	sub_channel_id      TEXT NOT NULL, -- '': not in a sub-channel
	read_marker         INTEGER,
	-- Both NULL: no preferences were put.
	allow_notifications TEXT,
	filter_rule         TEXT,
	created             INTEGER,
	updated             INTEGER,
	PRIMARY KEY (channel_arn, member_arn),
	CHECK ((allow_notifications IS NULL) = (filter_rule IS NULL))
) STRICT, WITHOUT ROWID;

-- ListMembershipsOf and SearchChannelsByMembers (a member's channels in
-- ARN order), and the deletes of DeleteUser and DeleteBot.
CREATE INDEX memberships_by_member ON memberships (member_arn, channel_arn);
-- ListMemberships of one type: the HIDDEN members of a channel are a range
-- of their own.
CREATE INDEX memberships_by_type ON memberships (channel_arn, type, member_arn);
-- ListMemberships of one sub-channel of an elastic channel, which may have
-- a million members. Partial: the memberships of other channels, all in
-- sub-channel '', would only make it bigger.
CREATE INDEX memberships_by_sub_channel ON memberships (channel_arn, sub_channel_id, member_arn)
	WHERE sub_channel_id <> '';

CREATE TABLE moderators (
	channel_arn   TEXT NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	moderator_arn TEXT NOT NULL,
	created_by    TEXT NOT NULL,
	created       INTEGER,
	PRIMARY KEY (channel_arn, moderator_arn)
) STRICT, WITHOUT ROWID;

-- ListChannelsModeratedBy, and the deletes of DeleteUser and DeleteBot.
CREATE INDEX moderators_by_moderator ON moderators (moderator_arn, channel_arn);

CREATE TABLE bans (
	channel_arn TEXT NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	member_arn  TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	created     INTEGER,
	PRIMARY KEY (channel_arn, member_arn)
) STRICT, WITHOUT ROWID;

-- The deletes of DeleteUser and DeleteBot.
CREATE INDEX bans_by_member ON bans (member_arn, channel_arn);

-- Counters the store hands out, each only ever going up: message_seq
-- numbers messages across the whole store. A counter rather than the
-- messages' rowid, because SQLite seeks an index on a (created, seq) row
-- value only when seq is an ordinary column; and rather than max(seq) + 1,
-- so that the seq of a deleted message is never handed out again and a
-- cursor never names two messages.
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO counters (name, value) VALUES ('message_seq', 0);

-- Messages keep a rowid (implicit, unused): their rows are large, which a
-- WITHOUT ROWID table, storing whole rows in its interior pages, handles
-- badly.
CREATE TABLE messages (
	seq            INTEGER NOT NULL, -- from counters.message_seq
	channel_arn    TEXT NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	id             TEXT NOT NULL,
	sub_channel_id TEXT NOT NULL, -- '': the channel itself
	sender         TEXT NOT NULL,
	sender_name    TEXT NOT NULL,
	content        TEXT NOT NULL,
	metadata       TEXT NOT NULL,
	content_type   TEXT NOT NULL,
	type           TEXT NOT NULL,
	persistence    TEXT NOT NULL,
	status         TEXT NOT NULL,
	status_detail  TEXT NOT NULL,
	redacted       INTEGER NOT NULL CHECK (redacted IN (0, 1)),
	attributes     TEXT NOT NULL, -- JSON object of string arrays
	push           TEXT,          -- JSON object; NULL: no push notification
	target         TEXT NOT NULL, -- '': visible to the channel
	-- The sort key, so NOT NULL unlike the other timestamps: the zero
	-- time is stored as its own millisecond count (year 1), which sorts
	-- first, as the zero time does.
	created        INTEGER NOT NULL,
	updated        INTEGER,
	last_edited    INTEGER,
	-- GetMessage, UpdateMessage, DeleteMessage, and the ON DELETE CASCADE
	-- from channels.
	UNIQUE (channel_arn, id)
) STRICT;

-- ListMessages: one sub-channel's messages in (created, seq) order. Its
-- bounds and cursor are one range of this index, read forwards or
-- backwards, so a page costs the same in a channel of a hundred messages
-- or of millions.
CREATE INDEX messages_by_time ON messages (channel_arn, sub_channel_id, created, seq);
