-- Tables keyed by ARNs of any resource type, so without foreign keys:
-- DeleteAppInstance, DeleteUser and DeleteBot delete from them explicitly,
-- by ARN range (arn >= prefix || '/' AND arn < prefix || '0'), which the
-- primary key or the bearer index serves.

CREATE TABLE tags (
	resource_arn TEXT NOT NULL,
	key          TEXT NOT NULL,
	value        TEXT NOT NULL,
	PRIMARY KEY (resource_arn, key)
) STRICT, WITHOUT ROWID;

-- Results of requests made with a client token. Kept when the resource the
-- result names is deleted: a retry of the request must still see the first
-- result.
CREATE TABLE idempotency (
	scope   TEXT NOT NULL,
	token   TEXT NOT NULL,
	result  TEXT NOT NULL,
	created INTEGER,
	PRIMARY KEY (scope, token)
) STRICT, WITHOUT ROWID;

CREATE TABLE access_keys (
	id         TEXT PRIMARY KEY,
	secret     TEXT NOT NULL,
	bearer     TEXT NOT NULL,
	expires    INTEGER, -- NULL: never
	created    INTEGER,
	session_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- ListAccessKeys (by bearer, in id order) and the deletes by bearer ARN.
CREATE INDEX access_keys_by_bearer ON access_keys (bearer, id);
