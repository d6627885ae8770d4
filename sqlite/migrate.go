package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// migrationFiles holds the schema, one file per version. A file, once
// released, is never edited: changes go into a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in the order they apply.
func migrations() ([]storecodec.Migration, error) {
	return storecodec.Migrations(migrationFiles, "migrations")
}

// migrate applies the migrations the database lacks. Each runs in its own
// write transaction that first checks whether it has been applied, so two
// processes opening a new database at once apply each migration once.
func migrate(ctx context.Context, w *sql.DB, clock carillon.Clock) error {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    TEXT PRIMARY KEY,
	applied_at INTEGER
) STRICT, WITHOUT ROWID`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := refuseNewer(ctx, w, ms); err != nil {
		return err
	}
	for _, m := range ms {
		if err := apply(ctx, w, m, clock); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Version, err)
		}
	}
	return nil
}

// refuseNewer fails if the database records a migration that this binary
// does not have: it was written by a newer version, whose schema this one
// would misuse.
func refuseNewer(ctx context.Context, w *sql.DB, ms []storecodec.Migration) error {
	known := make(map[string]bool, len(ms))
	for _, m := range ms {
		known[m.Version] = true
	}
	rows, err := w.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if !known[v] {
			return fmt.Errorf("migrate: the database has schema version %s, which this version of Carillon does not know", v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func apply(ctx context.Context, w *sql.DB, m storecodec.Migration, clock carillon.Clock) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op once committed

	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.Version).Scan(&one)
	switch {
	case err == nil:
		return nil // applied already
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, storecodec.Millis(clock.Now())); err != nil {
		return err
	}
	return tx.Commit()
}
