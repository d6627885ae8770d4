-- Channel flows and the messages they hold. The conventions of
-- 0001_identity.sql hold, except for invocations (see there).

-- A flow belongs to its AppInstance and goes with it. Channels name their
-- flow in channels.flow_arn, which is not a foreign key: '' means none,
-- and deleting a flow that channels still name is refused by the service,
-- not here.
CREATE TABLE channel_flows (
	arn              TEXT PRIMARY KEY,
	app_instance_arn TEXT NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	name             TEXT NOT NULL,
	-- The processors as a JSON array, in the order the client gave them.
	-- A flow has at most three and they are only read and written whole.
	processors       TEXT NOT NULL,
	created          INTEGER,
	updated          INTEGER
) STRICT, WITHOUT ROWID;

-- ListChannelFlows, and the ON DELETE CASCADE from app_instances.
CREATE INDEX channel_flows_by_app_instance ON channel_flows (app_instance_arn, arn);

-- ListChannelsWithFlow. Partial: most channels have no flow, and would
-- only make the index bigger.
CREATE INDEX channels_by_flow ON channels (flow_arn, arn) WHERE flow_arn <> '';

-- A message held by a channel flow, one row per message: the UNIQUE
-- constraint keeps a message from being held twice, and serves
-- GetMessageInvocation and the ON DELETE CASCADE from channels (deleting
-- an AppInstance deletes its channels, so their invocations too). Deleting
-- a flow leaves its invocations to the service.
--
-- Like messages, invocations keep a rowid (implicit, unused), with the
-- callback id a unique key beside it: a row holds a whole message, which a
-- WITHOUT ROWID table, storing whole rows in its interior pages, handles
-- badly.
CREATE TABLE invocations (
	callback_id  TEXT NOT NULL PRIMARY KEY,
	channel_arn  TEXT NOT NULL REFERENCES channels (arn) ON DELETE CASCADE,
	message_id   TEXT NOT NULL,
	flow_arn     TEXT NOT NULL,
	kind         TEXT NOT NULL,
	step         INTEGER NOT NULL,
	-- The message as processed so far: a JSON object of every Message
	-- field.
	message      TEXT NOT NULL,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL,
	-- The times DueInvocations compares and sorts by, so NOT NULL like
	-- messages.created: the zero time is stored as its own millisecond
	-- count (year 1), which sorts first and is before any now.
	next_attempt INTEGER NOT NULL,
	deadline     INTEGER NOT NULL,
	created      INTEGER,
	UNIQUE (channel_arn, message_id)
) STRICT;

-- DueInvocations: the DUE invocations by next_attempt and the awaiting
-- ones by deadline, each a range from the oldest on, whatever the number
-- of invocations in the other state or not yet due.
CREATE INDEX invocations_due ON invocations (next_attempt, callback_id) WHERE state = 'DUE';
CREATE INDEX invocations_awaiting ON invocations (deadline, callback_id) WHERE state = 'AWAITING_CALLBACK';
