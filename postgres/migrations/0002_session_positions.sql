-- Where messaging sessions stopped (carillon.SessionPosition,
-- docs/sessions.md); as sqlite/migrations/0013_session_positions.sql.
-- pending and audiences are JSON arrays; hold is SessionPosition.Hold.
CREATE TABLE session_positions (
	user_arn   text COLLATE "C" NOT NULL,
	session_id text COLLATE "C" NOT NULL,
	seq        bigint NOT NULL,
	hold       bigint NOT NULL,
	pending    text NOT NULL,
	audiences  text NOT NULL,
	saved      bigint NOT NULL,
	live       boolean NOT NULL,
	PRIMARY KEY (user_arn, session_id)
);

CREATE INDEX session_positions_by_saved ON session_positions (saved);

CREATE INDEX session_positions_live ON session_positions (live) WHERE live;
