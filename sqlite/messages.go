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
	// qCreateMessage inserts a message with the seq CreateMessage chose,
	// and qSetMessageSeq moves the counter on to it (migration 0017 says
	// why not a trigger); qMessageSeq reads the counter.
	qCreateMessage = writeQuery(`INSERT INTO messages (seq, channel_arn, id, sub_channel_id, sender, sender_name,
	content, metadata, content_type, type, persistence, status, status_detail, redacted, attributes, push, target,
	created, updated, last_edited)
	VALUES (` + placeholders(20) + `)`)
	qMessageSeq    = writeQuery(`SELECT value FROM counters WHERE name = 'message_seq'`)
	qSetMessageSeq = writeQuery(`UPDATE counters SET value = max(value, ?) WHERE name = 'message_seq'`)
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
	// The batch numbers its messages from the counter it read once. A
	// request rolled back leaves a gap, never a number handed out twice:
	// the batch's next number is past it, and the counter only goes up.
	seq := t.seq
	if !seq.known {
		if err := t.queryRow(qMessageSeq).Scan(&seq.last); err != nil {
			return fail(err, what())
		}
		seq.known = true
	}
	next := seq.last + 1
	if _, err := t.exec(qCreateMessage, next, m.ChannelARN, m.ID, m.SubChannelID, m.Sender, m.SenderName, m.Content,
		m.Metadata, m.ContentType, m.Type, m.Persistence, m.Status, m.StatusDetail, m.Redacted, attributes, push,
		m.Target, m.Created.UnixMilli(), storecodec.Millis(m.Updated), storecodec.Millis(m.LastEdited)); err != nil {
		return fail(err, what())
	}
	seq.last = next
	if _, err := t.exec(qSetMessageSeq, next); err != nil {
		return fail(err, what())
	}
	m.Seq = next
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
