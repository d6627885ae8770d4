-- Streaming export: the configurations of each AppInstance (at most one
-- per data type) and, for each stream an AppInstance exports to, the Seq
-- of the outbox through which its events have been exported. Both go
-- with their AppInstance.
CREATE TABLE streaming_configurations (
	app_instance_arn TEXT NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	data_type        TEXT NOT NULL,
	resource_arn     TEXT NOT NULL,
	since            INTEGER NOT NULL,
	PRIMARY KEY (app_instance_arn, data_type)
) STRICT, WITHOUT ROWID;

CREATE TABLE stream_cursors (
	app_instance_arn TEXT NOT NULL REFERENCES app_instances (arn) ON DELETE CASCADE,
	resource_arn     TEXT NOT NULL,
	seq              INTEGER NOT NULL,
	PRIMARY KEY (app_instance_arn, resource_arn)
) STRICT, WITHOUT ROWID;
