-- What the background jobs (package jobs) look for: channels and users
-- whose expiration is due, AppInstances with a retention setting. Each is
-- one range of a partial index, however many rows do not qualify.

-- expires_at is when a channel or a user expires, in the milliseconds of
-- the other timestamps; NULL when it does not: no settings, Days not
-- positive, or no time to count from. A VIRTUAL generated column, so that
-- every write of the row keeps it right without the statements naming it:
-- the index below stores its value, the table does not.
--
-- A channel counts from its creation, or, with LAST_MESSAGE_TIMESTAMP,
-- from its last message (from its creation while it has none). A day is
-- 86,400,000 ms.
ALTER TABLE channels ADD COLUMN expires_at INTEGER GENERATED ALWAYS AS (
	CASE WHEN expiration_days > 0 THEN
		CASE WHEN expiration_criterion = 'LAST_MESSAGE_TIMESTAMP' THEN coalesce(last_message_at, created) ELSE created END
		+ expiration_days * 86400000
	END) VIRTUAL;

-- Users have CREATED_TIMESTAMP only.
ALTER TABLE users ADD COLUMN expires_at INTEGER GENERATED ALWAYS AS (
	CASE WHEN expiration_days > 0 THEN created + expiration_days * 86400000 END) VIRTUAL;

-- ExpiredChannels and ExpiredUsers: the rows due by now, oldest first.
-- Partial: most channels and users never expire.
CREATE INDEX channels_by_expiry ON channels (expires_at, arn) WHERE expires_at IS NOT NULL;
CREATE INDEX users_by_expiry ON users (expires_at, arn) WHERE expires_at IS NOT NULL;

-- AppInstancesWithRetention: the AppInstances that keep messages for a
-- limited time, by ARN.
CREATE INDEX app_instances_with_retention ON app_instances (arn) WHERE retention_channel_days > 0;
