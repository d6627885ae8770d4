package sqlite

// LastEventSeq reads the outbox's counter (migration 0015), which keeps
// the highest Seq ever assigned even after the rows are deleted.
func (t *tx) LastEventSeq() (int64, error) {
	var seq int64
	t.read = true
	err := t.stx.QueryRowContext(t.ctx, `SELECT value FROM counters WHERE name = 'event_seq'`).Scan(&seq)
	return seq, err
}
