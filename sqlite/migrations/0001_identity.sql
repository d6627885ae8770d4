-- The resources of the Chime SDK Identity API.
--
-- Conventions for every table:
--   * STRICT, so a value of the wrong type is an error instead of being
--     silently stored as whatever affinity makes of it.
--   * Tables keyed by an ARN or another text key are WITHOUT ROWID: the rows
--     are clustered by the key every list pages by, so a page is one range
--     scan of the primary key.
--   * Timestamps are INTEGER milliseconds since the Unix epoch, UTC. NULL is
--     the zero time.Time; the store holds data, not rules, so even created
--     and updated are nullable rather than refusing a zero time.

CREATE TABLE app_instances (
	arn                    TEXT PRIMARY KEY,
	name                   TEXT NOT NULL,
	metadata               TEXT NOT NULL,
	created                INTEGER,
	updated                INTEGER,
	-- Retention settings live on the AppInstance: there is at most one set
	-- per AppInstance and they go when it goes. A NULL channel_days means no
	-- settings were put (or they were cleared).
	retention_channel_days INTEGER,
	retention_initiated    INTEGER
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
	arn                  TEXT PRIMARY KEY,
	app_instance_arn     TEXT NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	name                 TEXT NOT NULL,
	metadata             TEXT NOT NULL,
	-- Both NULL: the user does not expire.
	expiration_days      INTEGER,
	expiration_criterion TEXT,
	created              INTEGER,
	updated              INTEGER,
	CHECK ((expiration_days IS NULL) = (expiration_criterion IS NULL))
) STRICT, WITHOUT ROWID;

-- ListUsers pages by ARN within an AppInstance; the same index serves the
-- ON DELETE CASCADE from app_instances.
CREATE INDEX users_by_app_instance ON users (app_instance_arn, arn);

CREATE TABLE bots (
	arn              TEXT PRIMARY KEY,
	app_instance_arn TEXT NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	name             TEXT NOT NULL,
	metadata         TEXT NOT NULL,
	-- The Lex configuration as a JSON object. It is only ever read and
	-- written whole, so one column spares a table per nested shape.
	lex              TEXT NOT NULL,
	created          INTEGER,
	updated          INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX bots_by_app_instance ON bots (app_instance_arn, arn);

-- admin_arn names a user or a bot, so it cannot reference either table;
-- DeleteUser and DeleteBot remove the rows naming them explicitly.
CREATE TABLE admins (
	app_instance_arn TEXT NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	admin_arn        TEXT NOT NULL,
	created          INTEGER,
	PRIMARY KEY (app_instance_arn, admin_arn)
) STRICT, WITHOUT ROWID;

-- DeleteUser and DeleteBot find the admin rows naming them by admin_arn.
CREATE INDEX admins_by_admin ON admins (admin_arn);

CREATE TABLE endpoints (
	user_arn          TEXT NOT NULL REFERENCES users (arn) ON DELETE CASCADE,
	endpoint_id       TEXT NOT NULL,
	name              TEXT NOT NULL,
	type              TEXT NOT NULL,
	resource_arn      TEXT NOT NULL,
	device_token      TEXT NOT NULL,
	voip_device_token TEXT NOT NULL,
	allow_messages    TEXT NOT NULL,
	state_status      TEXT NOT NULL,
	state_reason      TEXT NOT NULL,
	created           INTEGER,
	updated           INTEGER,
	PRIMARY KEY (user_arn, endpoint_id)
) STRICT, WITHOUT ROWID;
