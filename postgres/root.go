package postgres

import (
	"context"
	"fmt"
)

// RootCredentials returns the root key pair kept in the database, first
// storing the one gen makes if there is none: every server of a
// deployment then accepts the same root credentials, however many start
// at once (the first insert wins; the others read it). created reports
// whether this call stored the pair, so that the caller prints it once.
func (db *DB) RootCredentials(ctx context.Context, gen func() (id, secret string)) (id, secret string, created bool, err error) {
	newID, newSecret := gen()
	tag, err := db.w.Exec(ctx, `INSERT INTO root_credentials (access_key_id, secret_access_key, created)
	VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, newID, newSecret, db.clock.Now().UnixMilli())
	if err != nil {
		return "", "", false, fmt.Errorf("postgres: root credentials: %w", err)
	}
	if err := db.w.QueryRow(ctx, `SELECT access_key_id, secret_access_key FROM root_credentials`).Scan(&id, &secret); err != nil {
		return "", "", false, fmt.Errorf("postgres: root credentials: %w", err)
	}
	return id, secret, tag.RowsAffected() == 1, nil
}
