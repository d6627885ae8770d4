package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Session positions (0002).

const (
	qPutSessionPosition = `INSERT INTO session_positions (user_arn, session_id, seq, hold, pending, audiences, saved, live)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (user_arn, session_id) DO UPDATE SET seq = excluded.seq, hold = excluded.hold, pending = excluded.pending,
		audiences = excluded.audiences, saved = excluded.saved, live = excluded.live`
	qGetSessionPosition = `SELECT seq, pending, audiences, saved, live FROM session_positions
	WHERE user_arn = $1 AND session_id = $2`
	qDeleteSessionPosition = `DELETE FROM session_positions WHERE user_arn = $1 AND session_id = $2`
	// The oldest first, by session_positions_by_saved.
	qDeleteSessionPositionsBefore = `DELETE FROM session_positions WHERE (user_arn, session_id) IN
		(SELECT user_arn, session_id FROM session_positions WHERE saved < $1 ORDER BY saved LIMIT $2)`
	qSessionPositionsHold    = `SELECT min(hold) FROM session_positions WHERE saved >= $1 AND NOT live`
	qEndLiveSessionPositions = `UPDATE session_positions SET live = false, saved = $1 WHERE live`
)

func (t *tx) PutSessionPosition(p *carillon.SessionPosition) error {
	what := fmt.Sprintf("put session position of %q, %q", p.UserARN, p.SessionID)
	pending, audiences, err := storecodec.SessionPositionColumns(p)
	if err != nil {
		return fail(err, what)
	}
	return t.write(what, qPutSessionPosition, p.UserARN, p.SessionID, p.Seq, p.Hold(), pending, audiences, ms(t.now), p.Live)
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
	tag, err := t.exec(qDeleteSessionPositionsBefore, before.UnixMilli(), limit(n))
	if err != nil {
		return 0, fail(err, what)
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) SessionPositionsHold(since time.Time) (int64, bool, error) {
	var hold *int64
	if err := t.queryRow(qSessionPositionsHold, since.UnixMilli()).Scan(&hold); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fail(err, "session positions hold")
	}
	if hold == nil {
		return 0, false, nil
	}
	return *hold, true, nil
}

func (t *tx) EndLiveSessionPositions() (int, error) {
	const what = "end live session positions"
	if err := t.writable(what); err != nil {
		return 0, err
	}
	tag, err := t.exec(qEndLiveSessionPositions, ms(t.now))
	if err != nil {
		return 0, fail(err, what)
	}
	return int(tag.RowsAffected()), nil
}
