package sqlite

import (
	"fmt"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Messages.

const messageCols = `seq, channel_arn, id, sub_channel_id, sender, sender_name, content, metadata, content_type,
	type, persistence, status, status_detail, redacted, attributes, push, target, created, updated, last_edited`

// listMessages is ListMessages' query in one order. The page is the range
// of messages_by_time between two (created, seq) bounds, both exclusive,
// that ListMessages computes from the time bounds and the cursor: a seek
// and a walk of at most the page's rows plus the ones VisibleTo skips,
// never a scan of the channel or a sort. INDEXED BY makes preparing the
// statement fail, rather than the query go slow, should the index ever
// stop serving it.
//
// VisibleTo (?7) keeps what its bearer sent, and of the rest only the
// messages that are SENT (not held by a channel flow, nor failed) and
// either untargeted or targeted at it.
func listMessages(order string) string {
	return `SELECT ` + messageCols + ` FROM messages INDEXED BY messages_by_time
	WHERE channel_arn = ?1 AND sub_channel_id = ?2
	AND (created, seq) > (?3, ?4) AND (created, seq) < (?5, ?6)
	AND (?7 = '' OR sender = ?7 OR status = 'SENT' AND (target = '' OR target = ?7))
	ORDER BY created ` + order + `, seq ` + order + ` LIMIT ?8`
}

var (
	// qCreateMessage gives the message the counter's next value, which
	// the messages_seq trigger (migration 0014) moves the counter on to
	// once the insert has succeeded, in the same statement: a failed
	// insert leaves no gap.
	qCreateMessage = writeQuery(`INSERT INTO messages (seq, channel_arn, id, sub_channel_id, sender, sender_name,
	content, metadata, content_type, type, persistence, status, status_detail, redacted, attributes, push, target,
	created, updated, last_edited)
	VALUES ((SELECT value + 1 FROM counters WHERE name = 'message_seq'), ` + placeholders(19) + `)
	RETURNING seq`)
	qGetMessage    = readQuery(`SELECT ` + messageCols + ` FROM messages WHERE channel_arn = ? AND id = ?`)
	qUpdateMessage = writeQuery(`UPDATE messages SET content = ?, metadata = ?, content_type = ?, attributes = ?,
	push = ?, status = ?, status_detail = ?, redacted = ?, updated = ?, last_edited = ?
	WHERE channel_arn = ? AND id = ?`)
	qDeleteMessage       = writeQuery(`DELETE FROM messages WHERE channel_arn = ? AND id = ?`)
	qListMessagesForward = readQuery(listMessages("ASC"))
	qListMessagesReverse = readQuery(listMessages("DESC"))
)

func scanMessage(s scanner) (carillon.Message, error) {
	var r storecodec.MessageRow
	if err := s.Scan(r.Dest(plain)...); err != nil {
		return carillon.Message{}, err
	}
	return r.Message()
}

// CreateMessage inserts m and sets its Seq, the next value of the
// store-wide message counter: increasing across the whole store, so in
// particular within a channel, and never handed out twice. Created is
// stored even when zero, as the sort key.
func (t *tx) CreateMessage(m *carillon.Message) error {
	// Formatted only for an error (mutateLazy says why).
	what := func() string { return fmt.Sprintf("create message %q in %q", m.ID, m.ChannelARN) }
	if t.readOnly {
		return t.writable(what())
	}
	attributes, push, err := storecodec.MessageColumns(m)
	if err != nil {
		return fail(err, what())
	}
	if err := t.queryRow(qCreateMessage, m.ChannelARN, m.ID, m.SubChannelID, m.Sender, m.SenderName, m.Content,
		m.Metadata, m.ContentType, m.Type, m.Persistence, m.Status, m.StatusDetail, m.Redacted, attributes, push,
		m.Target, m.Created.UnixMilli(), storecodec.Millis(m.Updated), storecodec.Millis(m.LastEdited)).Scan(&m.Seq); err != nil {
		return fail(err, what())
	}
	return nil
}

func (t *tx) GetMessage(channelARN, id string) (*carillon.Message, error) {
	m, err := scanMessage(t.queryRow(qGetMessage, channelARN, id))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("message %q in %q", id, channelARN))
	}
	return &m, nil
}

// UpdateMessage replaces Content, Metadata, ContentType, Attributes, Push,
// Status, StatusDetail, Redacted, Updated and LastEdited. The message keeps
// its place in the channel's order: Created and Seq do not change, nor do
// its sub-channel, sender, type, persistence and target.
func (t *tx) UpdateMessage(m *carillon.Message) error {
	what := fmt.Sprintf("update message %q in %q", m.ID, m.ChannelARN)
	if err := t.writable(what); err != nil {
		return err
	}
	attributes, push, err := storecodec.MessageColumns(m)
	if err != nil {
		return fail(err, what)
	}
	return t.mutate(what, qUpdateMessage, m.Content, m.Metadata, m.ContentType, attributes, push,
		m.Status, m.StatusDetail, m.Redacted, storecodec.Millis(m.Updated), storecodec.Millis(m.LastEdited), m.ChannelARN, m.ID)
}

func (t *tx) DeleteMessage(channelARN, id string) error {
	return t.mutate(fmt.Sprintf("delete message %q in %q", id, channelARN), qDeleteMessage, channelARN, id)
}

// ListMessages reads the page in the open interval of positions
// storecodec.MessageRange makes of the query.
func (t *tx) ListMessages(q carillon.MessageQuery) ([]carillon.Message, error) {
	lo, hi := storecodec.MessageRange(q)
	query := qListMessagesForward
	if q.Descending {
		query = qListMessagesReverse
	}
	return list(t, fmt.Sprintf("list messages of %q", q.Channel), query, scanMessage,
		q.Channel, q.SubChannel, lo.Created, lo.Seq, hi.Created, hi.Seq, q.VisibleTo, limit(q.Limit))
}
