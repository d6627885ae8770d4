-- The message counter moves with the insert itself: CreateMessage was an
-- INSERT whose seq is the counter's next value followed by an UPDATE of
-- the counter, two statements per message. The trigger runs inside the
-- INSERT, so a failed insert still moves nothing (no gap), and max() keeps
-- the counter from going back should a row ever be inserted with a lower
-- seq.
CREATE TRIGGER messages_seq AFTER INSERT ON messages
BEGIN
	UPDATE counters SET value = max(value, NEW.seq) WHERE name = 'message_seq';
END;
