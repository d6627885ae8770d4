-- Carillon's schema on PostgreSQL: the tables of the SQLite engine
-- (sqlite/migrations, 0001 to 0012) as they stand after its last migration,
-- in one file. The two engines number their migrations each on its own.
--
-- Conventions for every table:
--   * Keys and every text column that is compared or sorted are text
--     COLLATE "C": byte order, as SQLite's BINARY collation, so that both
--     engines page identically whatever the database's default collation.
--   * Free text a client writes (names, metadata, message content, device
--     tokens, tag values) is bytea: the APIs allow any character in it,
--     NUL included, which a PostgreSQL text value cannot hold.
--   * JSON columns are text, not jsonb: they are only ever read and written
--     whole, and jsonb refuses the \u0000 escape that encodes NUL.
--   * Timestamps are bigint milliseconds since the Unix epoch, UTC. NULL is
--     the zero time.Time, except for the sort keys (messages.created,
--     invocations.next_attempt and deadline), NOT NULL, where the zero time
--     is stored as its own millisecond count.

-- Identity.

CREATE TABLE app_instances (
	arn                    text COLLATE "C" PRIMARY KEY,
	name                   bytea NOT NULL,
	metadata               bytea NOT NULL,
	created                bigint,
	updated                bigint,
	-- NULL channel_days: no retention settings.
	retention_channel_days integer,
	retention_initiated    bigint
);

-- AppInstancesWithRetention.
CREATE INDEX app_instances_with_retention ON app_instances (arn) WHERE retention_channel_days > 0;

CREATE TABLE users (
	arn                  text COLLATE "C" PRIMARY KEY,
	app_instance_arn     text COLLATE "C" NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	name                 bytea NOT NULL,
	metadata             bytea NOT NULL,
	expiration_days      integer,
	expiration_criterion text COLLATE "C",
	created              bigint,
	updated              bigint,
	-- When the user expires (ExpiredUsers), NULL when it does not.
	expires_at           bigint GENERATED ALWAYS AS (
		CASE WHEN expiration_days > 0 THEN created + expiration_days::bigint * 86400000 END) STORED,
	CHECK ((expiration_days IS NULL) = (expiration_criterion IS NULL))
);

CREATE INDEX users_by_app_instance ON users (app_instance_arn, arn);
CREATE INDEX users_by_expiry ON users (expires_at, arn) WHERE expires_at IS NOT NULL;

CREATE TABLE bots (
	arn              text COLLATE "C" PRIMARY KEY,
	app_instance_arn text COLLATE "C" NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	name             bytea NOT NULL,
	metadata         bytea NOT NULL,
	lex              text NOT NULL, -- JSON object
	created          bigint,
	updated          bigint
);

CREATE INDEX bots_by_app_instance ON bots (app_instance_arn, arn);

-- admin_arn names a user or a bot; DeleteUser and DeleteBot remove the rows
-- naming them explicitly.
CREATE TABLE admins (
	app_instance_arn text COLLATE "C" NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	admin_arn        text COLLATE "C" NOT NULL,
	created          bigint,
	PRIMARY KEY (app_instance_arn, admin_arn)
);

CREATE INDEX admins_by_admin ON admins (admin_arn);

CREATE TABLE endpoints (
	user_arn          text COLLATE "C" NOT NULL REFERENCES users (arn) ON DELETE CASCADE,
	endpoint_id       text COLLATE "C" NOT NULL,
	name              bytea NOT NULL,
	type              text COLLATE "C" NOT NULL,
	resource_arn      text COLLATE "C" NOT NULL,
	device_token      bytea NOT NULL,
	voip_device_token bytea NOT NULL,
	allow_messages    text COLLATE "C" NOT NULL,
	state_status      text COLLATE "C" NOT NULL,
	state_reason      text COLLATE "C" NOT NULL,
	created           bigint,
	updated           bigint,
	PRIMARY KEY (user_arn, endpoint_id)
);

-- Tags, idempotency results and access keys, keyed by ARNs of any type:
-- deleted by ARN range (arn >= prefix || '/' AND arn < prefix || '0').

CREATE TABLE tags (
	resource_arn text COLLATE "C" NOT NULL,
	key          bytea NOT NULL, -- bytea sorts by byte, as the keys must
	value        bytea NOT NULL,
	PRIMARY KEY (resource_arn, key)
);

CREATE TABLE idempotency (
	scope   text COLLATE "C" NOT NULL,
	token   text COLLATE "C" NOT NULL,
	result  text NOT NULL,
	created bigint,
	PRIMARY KEY (scope, token)
);

CREATE INDEX idempotency_by_created ON idempotency (created);

CREATE TABLE access_keys (
	id         text COLLATE "C" PRIMARY KEY,
	secret     text NOT NULL,
	bearer     text COLLATE "C" NOT NULL,
	expires    bigint, -- NULL: never
	created    bigint,
	session_id text NOT NULL
);

CREATE INDEX access_keys_by_bearer ON access_keys (bearer, id);

-- The transactional outbox. Seq is commit order without gaps (see the
-- package documentation, "The outbox"): it is allocated by the transaction
-- holding the outbox lock, one past the highest Seq ever committed, which
-- is the greater of max(outbox.seq) and outbox_trimmed.seq.
CREATE TABLE outbox (
	seq           bigint PRIMARY KEY,
	at            bigint,
	type          text COLLATE "C" NOT NULL,
	channel       text COLLATE "C" NOT NULL,
	to_members    boolean NOT NULL,
	recipients    text NOT NULL, -- JSON array of bearer ARNs
	member        text COLLATE "C" NOT NULL,
	member_change integer NOT NULL,
	message_type  text COLLATE "C" NOT NULL,
	reason        text COLLATE "C" NOT NULL,
	payload       bytea NOT NULL,
	data          bytea NOT NULL
);

-- The highest Seq DeleteEventsThrough has deleted, so that Seq is never
-- handed out again once the outbox is empty. One row.
CREATE TABLE outbox_trimmed (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq bigint NOT NULL
);

INSERT INTO outbox_trimmed (seq) VALUES (0);

-- Messaging.

CREATE TABLE channels (
	arn                          text COLLATE "C" PRIMARY KEY,
	app_instance_arn             text COLLATE "C" NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	name                         bytea NOT NULL,
	mode                         text COLLATE "C" NOT NULL,
	privacy                      text COLLATE "C" NOT NULL,
	metadata                     bytea NOT NULL,
	created_by                   text COLLATE "C" NOT NULL,
	flow_arn                     text COLLATE "C" NOT NULL, -- '': no channel flow
	elastic_max_sub_channels     integer,
	elastic_target_memberships   integer,
	elastic_min_membership_pct   integer,
	expiration_days              integer,
	expiration_criterion         text COLLATE "C",
	created                      bigint,
	updated                      bigint,
	last_message_at              bigint,
	-- Kept by the triggers on memberships below.
	membership_count             integer NOT NULL DEFAULT 0,
	-- When the channel expires (ExpiredChannels), NULL when it does not:
	-- Days after its creation, or after its last message with
	-- LAST_MESSAGE_TIMESTAMP (after its creation while it has none).
	expires_at                   bigint GENERATED ALWAYS AS (
		CASE WHEN expiration_days > 0 THEN
			CASE WHEN expiration_criterion = 'LAST_MESSAGE_TIMESTAMP' THEN coalesce(last_message_at, created) ELSE created END
			+ expiration_days::bigint * 86400000
		END) STORED,
	CHECK ((elastic_max_sub_channels IS NULL) = (elastic_target_memberships IS NULL)
		AND (elastic_max_sub_channels IS NULL) = (elastic_min_membership_pct IS NULL)),
	CHECK ((expiration_days IS NULL) = (expiration_criterion IS NULL))
);

CREATE INDEX channels_by_app_instance ON channels (app_instance_arn, arn);
CREATE INDEX channels_by_privacy ON channels (app_instance_arn, privacy, arn);
CREATE INDEX channels_by_flow ON channels (flow_arn, arn) WHERE flow_arn <> '';
CREATE INDEX channels_by_expiry ON channels (expires_at, arn) WHERE expires_at IS NOT NULL;

CREATE TABLE memberships (
	channel_arn         text COLLATE "C" NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	member_arn          text COLLATE "C" NOT NULL,
	type                text COLLATE "C" NOT NULL,
	invited_by          text COLLATE "C" NOT NULL,
	sub_channel_id      text COLLATE "C" NOT NULL, -- '': not in a sub-channel
	read_marker         bigint,
	allow_notifications text COLLATE "C",
	filter_rule         bytea,
	created             bigint,
	updated             bigint,
	PRIMARY KEY (channel_arn, member_arn),
	CHECK ((allow_notifications IS NULL) = (filter_rule IS NULL))
);

CREATE INDEX memberships_by_member ON memberships (member_arn, channel_arn);
CREATE INDEX memberships_by_type ON memberships (channel_arn, type, member_arn);
CREATE INDEX memberships_by_sub_channel ON memberships (channel_arn, sub_channel_id, member_arn)
	WHERE sub_channel_id <> '';

CREATE TABLE moderators (
	channel_arn   text COLLATE "C" NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	moderator_arn text COLLATE "C" NOT NULL,
	created_by    text COLLATE "C" NOT NULL,
	created       bigint,
	PRIMARY KEY (channel_arn, moderator_arn)
);

CREATE INDEX moderators_by_moderator ON moderators (moderator_arn, channel_arn);

CREATE TABLE bans (
	channel_arn text COLLATE "C" NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	member_arn  text COLLATE "C" NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	created     bigint,
	PRIMARY KEY (channel_arn, member_arn)
);

CREATE INDEX bans_by_member ON bans (member_arn, channel_arn);

-- Message Seq: increasing across the store, never reused, gaps allowed.
CREATE SEQUENCE message_seq AS bigint;

CREATE TABLE messages (
	seq            bigint NOT NULL,
	channel_arn    text COLLATE "C" NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	id             text COLLATE "C" NOT NULL,
	sub_channel_id text COLLATE "C" NOT NULL,
	sender         text COLLATE "C" NOT NULL,
	sender_name    bytea NOT NULL,
	content        bytea NOT NULL,
	metadata       bytea NOT NULL,
	content_type   bytea NOT NULL,
	type           text COLLATE "C" NOT NULL,
	persistence    text COLLATE "C" NOT NULL,
	status         text COLLATE "C" NOT NULL,
	status_detail  bytea NOT NULL,
	redacted       boolean NOT NULL,
	attributes     text NOT NULL, -- JSON object of string arrays
	push           text,          -- JSON object; NULL: none
	target         text COLLATE "C" NOT NULL,
	created        bigint NOT NULL,
	updated        bigint,
	last_edited    bigint,
	UNIQUE (channel_arn, id)
);

CREATE INDEX messages_by_time ON messages (channel_arn, sub_channel_id, created, seq);

CREATE TABLE channel_flows (
	arn              text COLLATE "C" PRIMARY KEY,
	app_instance_arn text COLLATE "C" NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	name             bytea NOT NULL,
	processors       text NOT NULL, -- JSON array
	created          bigint,
	updated          bigint
);

CREATE INDEX channel_flows_by_app_instance ON channel_flows (app_instance_arn, arn);

CREATE TABLE invocations (
	callback_id  text COLLATE "C" PRIMARY KEY,
	channel_arn  text COLLATE "C" NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	message_id   text COLLATE "C" NOT NULL,
	flow_arn     text COLLATE "C" NOT NULL,
	kind         text COLLATE "C" NOT NULL,
	step         integer NOT NULL,
	message      text NOT NULL, -- JSON object of every Message field
	state        text COLLATE "C" NOT NULL,
	attempts     integer NOT NULL,
	next_attempt bigint NOT NULL,
	deadline     bigint NOT NULL,
	created      bigint,
	UNIQUE (channel_arn, message_id)
);

CREATE INDEX invocations_due ON invocations (next_attempt, callback_id) WHERE state = 'DUE';
CREATE INDEX invocations_awaiting ON invocations (deadline, callback_id) WHERE state = 'AWAITING_CALLBACK';

CREATE TABLE streaming_configurations (
	app_instance_arn text COLLATE "C" NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	data_type        text COLLATE "C" NOT NULL,
	resource_arn     text COLLATE "C" NOT NULL,
	since            bigint NOT NULL,
	PRIMARY KEY (app_instance_arn, data_type)
);

CREATE TABLE stream_cursors (
	app_instance_arn text COLLATE "C" NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	resource_arn     text COLLATE "C" NOT NULL,
	seq              bigint NOT NULL,
	PRIMARY KEY (app_instance_arn, resource_arn)
);

CREATE TABLE sub_channels (
	channel_arn      text COLLATE "C" NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	id               text COLLATE "C" NOT NULL,
	membership_count integer NOT NULL, -- kept by the triggers below
	created          bigint,
	PRIMARY KEY (channel_arn, id)
);

CREATE TABLE sub_channel_memberships (
	channel_arn    text COLLATE "C" NOT NULL,
	sub_channel_id text COLLATE "C" NOT NULL,
	member_arn     text COLLATE "C" NOT NULL,
	type           text COLLATE "C" NOT NULL,
	invited_by     text COLLATE "C" NOT NULL,
	created        bigint,
	updated        bigint,
	PRIMARY KEY (channel_arn, sub_channel_id, member_arn),
	FOREIGN KEY (channel_arn, sub_channel_id) REFERENCES sub_channels (channel_arn, id) ON DELETE CASCADE,
	FOREIGN KEY (channel_arn, member_arn) REFERENCES memberships (channel_arn, member_arn) ON DELETE CASCADE
);

CREATE INDEX sub_channel_memberships_by_member ON sub_channel_memberships (channel_arn, member_arn, sub_channel_id);

-- The membership counts of channels and sub-channels follow every write
-- of memberships. A membership deleted by its channel's deletion (ON
-- DELETE CASCADE) updates no row: the channel is already gone.
CREATE FUNCTION memberships_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		IF TG_OP = 'DELETE' THEN
			UPDATE channels SET membership_count = membership_count - 1 WHERE arn = OLD.channel_arn;
		END IF;
		IF OLD.sub_channel_id <> '' AND (TG_OP = 'DELETE' OR OLD.sub_channel_id IS DISTINCT FROM NEW.sub_channel_id) THEN
			UPDATE sub_channels SET membership_count = membership_count - 1
			WHERE channel_arn = OLD.channel_arn AND id = OLD.sub_channel_id;
		END IF;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		IF TG_OP = 'INSERT' THEN
			UPDATE channels SET membership_count = membership_count + 1 WHERE arn = NEW.channel_arn;
		END IF;
		IF NEW.sub_channel_id <> '' AND (TG_OP = 'INSERT' OR OLD.sub_channel_id IS DISTINCT FROM NEW.sub_channel_id) THEN
			UPDATE sub_channels SET membership_count = membership_count + 1
			WHERE channel_arn = NEW.channel_arn AND id = NEW.sub_channel_id;
		END IF;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER memberships_count AFTER INSERT OR DELETE OR UPDATE OF sub_channel_id ON memberships
FOR EACH ROW EXECUTE FUNCTION memberships_count();

-- Root credentials generated on first start, shared by every node. One row.
CREATE TABLE root_credentials (
	one               boolean PRIMARY KEY DEFAULT true CHECK (one),
	access_key_id     text NOT NULL,
	secret_access_key text NOT NULL,
	created           bigint
);
