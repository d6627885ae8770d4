-- The message counter is moved by CreateMessage itself (messages.go):
-- the store numbers a batch's messages from the counter it read once, and
-- sets the counter with a plain UPDATE. The trigger of 0014, and the
-- INSERT ... RETURNING that went with it, made every insert run a
-- trigger program under a statement journal: about 20 µs of a send's CPU
-- in the store's benchmark of the insert under savepoints.
DROP TRIGGER messages_seq;
