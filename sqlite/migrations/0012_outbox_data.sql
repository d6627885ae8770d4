-- The typed form of an event for Carillon's own readers (carillon.Event.Data:
-- package messaging's versioned JSON), beside the payload clients receive.
-- Events written before this migration have none, which is right for all
-- of them but the batch membership events the streaming export may still
-- have to export: their typed form is derived once, here, from their
-- payload (the fields of messaging.BatchData).
ALTER TABLE outbox ADD COLUMN data BLOB NOT NULL DEFAULT X'';

UPDATE outbox SET data = CAST(json_object('v', 1, 'batch', json_object(
	'channel', json_extract(payload, '$.ChannelArn'),
	'sub_channel', coalesce(json_extract(payload, '$.SubChannelId'), ''),
	'type', json_extract(payload, '$.Type'),
	'invited_by', json_object('arn', coalesce(json_extract(payload, '$.InvitedBy.Arn'), ''), 'name', coalesce(json_extract(payload, '$.InvitedBy.Name'), '')),
	'members', json((SELECT json_group_array(json_object('arn', json_extract(m.value, '$.Arn'), 'name', json_extract(m.value, '$.Name')) ORDER BY m.key)
		FROM json_each(outbox.payload, '$.Members') AS m))
)) AS BLOB)
WHERE type = 'BATCH_CREATE_CHANNEL_MEMBERSHIP' AND json_valid(payload);
