package sqlite

// LastEventSeq reads the outbox's AUTOINCREMENT counter, which keeps the
// highest Seq ever assigned even after the rows are deleted.
func (t *tx) LastEventSeq() (int64, error) {
	var seq int64
	t.read = true
	err := t.stx.QueryRowContext(t.ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)`).Scan(&seq)
	return seq, err
}
