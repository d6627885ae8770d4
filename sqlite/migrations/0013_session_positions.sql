-- Where messaging sessions stopped, so that a new connection with the same
-- user and sessionId resumes where the last one left off
-- (carillon.SessionPosition, docs/sessions.md). pending and audiences are
-- JSON arrays; hold is SessionPosition.Hold, kept as a column so that the
-- outbox trim finds the lowest one without decoding them. Not WITHOUT
-- ROWID: the audiences of a user in many channels make a row large.
-- The conventions of 0001_identity.sql hold.
CREATE TABLE session_positions (
	user_arn   TEXT NOT NULL,
	session_id TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	hold       INTEGER NOT NULL,
	pending    TEXT NOT NULL,
	audiences  TEXT NOT NULL,
	saved      INTEGER NOT NULL,
	live       INTEGER NOT NULL,
	PRIMARY KEY (user_arn, session_id)
) STRICT;

CREATE INDEX session_positions_by_saved ON session_positions (saved);
-- The checkpoints of open sessions, which the next run of the server turns
-- into positions to resume from (EndLiveSessionPositions): the index
-- keeps only them.
CREATE INDEX session_positions_live ON session_positions (live) WHERE live = 1;
