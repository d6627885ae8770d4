package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// The outbox lock: pg_advisory_xact_lock(outboxLockClass, outboxLockKey).
// Advisory locks with two int4 keys are a key space apart from those with
// one int8 key, which Lock uses for names; class 1 is this package's.
const outboxLockClass, outboxLockKey = 1, 2

const eventCols = `seq, at, type, channel, to_members, recipients, member, member_change, message_type, reason, payload, data`

const (
	qLockOutbox = `SELECT pg_advisory_xact_lock($1, $2)`
	// qNewestSeq is the highest Seq ever committed: of the events still
	// in the outbox, or of those deleted.
	qNewestSeq   = `SELECT greatest(coalesce((SELECT max(seq) FROM outbox), 0), (SELECT seq FROM outbox_trimmed))`
	qAppendEvent = `INSERT INTO outbox (` + eventCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	qEvents      = `SELECT ` + eventCols + ` FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2`
	// qDeleteEventsThrough deletes, and remembers the highest Seq it
	// deleted so that qNewestSeq never goes back.
	qDeleteEventsThrough = `WITH d AS (DELETE FROM outbox WHERE seq <= $1 RETURNING seq)
	UPDATE outbox_trimmed SET seq = greatest(seq, (SELECT max(seq) FROM d)) WHERE EXISTS (SELECT 1 FROM d)`
)

func scanEvent(s pgx.Row) (carillon.Event, error) {
	var r storecodec.EventRow
	if err := s.Scan(r.Dest()...); err != nil {
		return carillon.Event{}, err
	}
	return r.Event()
}

// AppendEvent writes e with the next Seq and the transaction's time.
//
// The first event of a transaction takes the outbox lock, held until the
// transaction commits or rolls back, and reads the newest Seq committed
// (outside the transaction's snapshot, which may predate it); its events
// take the Seqs after it. So Seq N+1 is handed out only once the
// transaction holding N has ended, and a rolled-back transaction leaves no
// gap: the package documentation ("The outbox") has the argument.
func (t *tx) AppendEvent(e *carillon.Event) error {
	const what = "append event"
	if err := t.writable(what); err != nil {
		return err
	}
	recipients, payload, data, err := storecodec.EventColumns(e)
	if err != nil {
		return fail(err, what)
	}
	if t.nextSeq == 0 || t.db.unordered != "" {
		if err := t.lockOutbox(); err != nil {
			return fail(err, what)
		}
	}
	seq := t.nextSeq
	if _, err := t.exec(qAppendEvent, seq, ms(t.now), e.Type, e.Channel, e.ToMembers, recipients, e.Member, e.MemberChange,
		e.MessageType, e.Reason, payload, data); err != nil {
		return fail(err, what)
	}
	t.nextSeq++
	e.Seq, e.At = seq, t.now
	return nil
}

// lockOutbox takes the outbox lock and sets nextSeq past the newest Seq
// committed. The newest Seq is read on a connection of its own, in a
// statement of its own whose snapshot is taken now that the lock is held:
// the transaction's snapshot, taken at its first statement, may predate
// the commit of the previous holder.
func (t *tx) lockOutbox() error {
	if t.db.unordered != "" {
		// The benchmarks' baseline: a sequence, which is not commit order.
		return t.queryRow(`SELECT nextval('` + t.db.unordered + `')`).Scan(&t.nextSeq)
	}
	if _, err := t.exec(qLockOutbox, outboxLockClass, outboxLockKey); err != nil {
		return err
	}
	var newest int64
	if err := t.db.alloc.QueryRow(t.ctx, qNewestSeq).Scan(&newest); err != nil {
		return err
	}
	t.nextSeq = newest + 1
	return nil
}

// Events returns up to limit events after seq after; limit <= 0 means all.
func (t *tx) Events(after int64, n int) ([]carillon.Event, error) {
	return list(t, "events", qEvents, scanEvent, after, limit(n))
}

// LastEventSeq is the newest Seq the transaction sees, deleted events
// included.
func (t *tx) LastEventSeq() (int64, error) {
	var seq int64
	if err := t.queryRow(qNewestSeq).Scan(&seq); err != nil {
		return 0, fail(err, "last event seq")
	}
	return seq, nil
}

func (t *tx) DeleteEventsThrough(seq int64) error {
	if err := t.touch("outbox_trimmed"); err != nil {
		return fail(err, "lock a row")
	}
	return t.write("delete events", qDeleteEventsThrough, seq)
}
