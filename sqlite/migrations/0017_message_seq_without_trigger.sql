-- The message counter is moved by CreateMessage itself (messages.go):
-- the store numbers a batch's messages from the counter it read once, and
-- sets the counter with a plain UPDATE. The trigger of 0014 went with an
-- INSERT ... RETURNING seq, which ran through an ephemeral table: about
-- half of the INSERT's cost (BenchmarkInsertShape).
DROP TRIGGER messages_seq;
