package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
// never a scan of the channel or a sort (TestQueryPlans).
//
// VisibleTo ($7) keeps what its bearer sent, and of the rest only the
// messages that are SENT (not held by a channel flow, nor failed) and
// either untargeted or targeted at it.
func listMessages(order string) string {
	return `SELECT ` + messageCols + ` FROM messages
	WHERE channel_arn = $1 AND sub_channel_id = $2
	AND (created, seq) > ($3, $4) AND (created, seq) < ($5, $6)
	AND ($7::text = '' OR sender = $7 OR status = 'SENT' AND (target = '' OR target = $7))
	ORDER BY created ` + order + `, seq ` + order + ` LIMIT $8`
}

var (
	// qCreateMessage gives the message the next value of message_seq;
	// a conflict or a missing channel wastes it, which the contract
	// allows (gaps are possible).
	qCreateMessage = `INSERT INTO messages (seq, channel_arn, id, sub_channel_id, sender, sender_name,
	content, metadata, content_type, type, persistence, status, status_detail, redacted, attributes, push, target,
	created, updated, last_edited)
	SELECT nextval('message_seq'), ` + params("text", "text", "text", "text", "bytea", "bytea", "bytea", "bytea", "text", "text",
		"text", "bytea", "boolean", "text", "text", "text", "bigint", "bigint", "bigint") + `
	WHERE EXISTS (SELECT 1 FROM channels WHERE arn = $1)
	ON CONFLICT DO NOTHING RETURNING seq`
	qGetMessage    = `SELECT ` + messageCols + ` FROM messages WHERE channel_arn = $1 AND id = $2`
	qUpdateMessage = `UPDATE messages SET content = $1, metadata = $2, content_type = $3, attributes = $4,
	push = $5, status = $6, status_detail = $7, redacted = $8, updated = $9, last_edited = $10
	WHERE channel_arn = $11 AND id = $12`
	qDeleteMessage       = `DELETE FROM messages WHERE channel_arn = $1 AND id = $2`
	qListMessagesForward = listMessages("ASC")
	qListMessagesReverse = listMessages("DESC")
)

func scanMessage(s pgx.Row) (carillon.Message, error) {
	var r storecodec.MessageRow
	if err := s.Scan(r.Dest(bytea)...); err != nil {
		return carillon.Message{}, err
	}
	return r.Message()
}

// CreateMessage inserts m and sets its Seq, the next value of the
// store-wide sequence message_seq: increasing across the whole store, so in
// particular within a channel, and never handed out twice. Created is
// stored even when zero, as the sort key.
func (t *tx) CreateMessage(m *carillon.Message) error {
	what := fmt.Sprintf("create message %q in %q", m.ID, m.ChannelARN)
	if err := t.writable(what); err != nil {
		return err
	}
	attributes, push, err := storecodec.MessageColumns(m)
	if err != nil {
		return fail(err, what)
	}
	err = t.queryRow(qCreateMessage, m.ChannelARN, m.ID, m.SubChannelID, m.Sender, b(m.SenderName), b(m.Content),
		b(m.Metadata), b(m.ContentType), m.Type, m.Persistence, m.Status, b(m.StatusDetail), m.Redacted, attributes, push,
		m.Target, m.Created.UnixMilli(), ms(m.Updated), ms(m.LastEdited)).Scan(&m.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := t.queryRow(channelExists, m.ChannelARN).Scan(&exists); err != nil {
			return fail(err, what)
		}
		if !exists {
			return fmt.Errorf("postgres: %s: owner %w", what, carillon.ErrNotFound)
		}
		return fmt.Errorf("postgres: %s: %w", what, carillon.ErrExists)
	}
	if err != nil {
		return fail(err, what)
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
	if err := t.touch("message", m.ChannelARN, m.ID); err != nil {
		return fail(err, "lock a row")
	}
	what := fmt.Sprintf("update message %q in %q", m.ID, m.ChannelARN)
	if err := t.writable(what); err != nil {
		return err
	}
	attributes, push, err := storecodec.MessageColumns(m)
	if err != nil {
		return fail(err, what)
	}
	return t.mutate(what, qUpdateMessage, b(m.Content), b(m.Metadata), b(m.ContentType), attributes, push,
		m.Status, b(m.StatusDetail), m.Redacted, ms(m.Updated), ms(m.LastEdited), m.ChannelARN, m.ID)
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
