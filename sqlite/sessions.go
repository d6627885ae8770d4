package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Session positions (0013).

var (
	qPutSessionPosition = writeQuery(`INSERT INTO session_positions (user_arn, session_id, seq, hold, pending, audiences, saved, live)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (user_arn, session_id) DO UPDATE SET seq = excluded.seq, hold = excluded.hold, pending = excluded.pending,
		audiences = excluded.audiences, saved = excluded.saved, live = excluded.live`)
	qGetSessionPosition = readQuery(`SELECT seq, pending, audiences, saved, live FROM session_positions
	WHERE user_arn = ? AND session_id = ?`)
	qDeleteSessionPosition = writeQuery(`DELETE FROM session_positions WHERE user_arn = ? AND session_id = ?`)
	// The oldest first, by session_positions_by_saved.
	qDeleteSessionPositionsBefore = writeQuery(`DELETE FROM session_positions WHERE rowid IN
		(SELECT rowid FROM session_positions WHERE saved < ? ORDER BY saved LIMIT ?)`)
	qSessionPositionsHold    = readQuery(`SELECT MIN(hold) FROM session_positions WHERE saved >= ? AND live = 0`)
	qEndLiveSessionPositions = writeQuery(`UPDATE session_positions SET live = 0, saved = ? WHERE live = 1`)
)

func (t *tx) PutSessionPosition(p *carillon.SessionPosition) error {
	what := fmt.Sprintf("put session position of %q, %q", p.UserARN, p.SessionID)
	pending, audiences, err := storecodec.SessionPositionColumns(p)
	if err != nil {
		return fail(err, what)
	}
	return t.write(what, qPutSessionPosition, p.UserARN, p.SessionID, p.Seq, p.Hold(), pending, audiences, storecodec.Millis(t.now), p.Live)
}

func (t *tx) GetSessionPosition(userARN, sessionID string) (*carillon.SessionPosition, error) {
	what := fmt.Sprintf("session position of %q, %q", userARN, sessionID)
	p := &carillon.SessionPosition{UserARN: userARN, SessionID: sessionID}
	var pending, audiences string
	if err := t.queryRow(qGetSessionPosition, userARN, sessionID).Scan(&p.Seq, &pending, &audiences, storecodec.Time(&p.Saved), &p.Live); err != nil {
		return nil, fail(err, what)
	}
	if err := storecodec.DecodeSessionPosition(p, pending, audiences); err != nil {
		return nil, fail(err, what)
	}
	return p, nil
}

func (t *tx) DeleteSessionPosition(userARN, sessionID string) error {
	return t.write(fmt.Sprintf("delete session position of %q, %q", userARN, sessionID), qDeleteSessionPosition, userARN, sessionID)
}

func (t *tx) DeleteSessionPositionsBefore(before time.Time, n int) (int, error) {
	const what = "delete session positions"
	if err := t.writable(what); err != nil {
		return 0, err
	}
	res, err := t.exec(qDeleteSessionPositionsBefore, before.UnixMilli(), limit(n))
	if err != nil {
		return 0, fail(err, what)
	}
	deleted, err := res.RowsAffected()
	return int(deleted), err
}

func (t *tx) SessionPositionsHold(since time.Time) (int64, bool, error) {
	var hold sql.NullInt64
	if err := t.queryRow(qSessionPositionsHold, since.UnixMilli()).Scan(&hold); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fail(err, "session positions hold")
	}
	return hold.Int64, hold.Valid, nil
}

func (t *tx) EndLiveSessionPositions() (int, error) {
	const what = "end live session positions"
	if err := t.writable(what); err != nil {
		return 0, err
	}
	res, err := t.exec(qEndLiveSessionPositions, storecodec.Millis(t.now))
	if err != nil {
		return 0, fail(err, what)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
