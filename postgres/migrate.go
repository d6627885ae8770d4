package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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

// migrationLock is the key of the advisory lock migrate holds, so that
// nodes starting at once against a new database apply each migration once:
// the others wait, then find it applied. It is in the two-int key space
// (see outboxLockClass), class 1.
const migrationLockClass, migrationLockKey = 1, 1

// migrate applies the migrations the database lacks, in one transaction
// under an advisory lock. A database that records a migration this binary
// does not know (written by a newer version) is refused rather than
// written with an older idea of the schema.
func migrate(ctx context.Context, pool *pgxpool.Pool, now int64) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, migrationLockClass, migrationLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text COLLATE "C" PRIMARY KEY,
	applied_at bigint
)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		applied := map[string]bool{}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		known := map[string]bool{}
		for _, m := range ms {
			known[m.Version] = true
		}
		for _, v := range versions {
			if !known[v] {
				return fmt.Errorf("migrate: the database has schema version %s, which this version of Carillon does not know", v)
			}
			applied[v] = true
		}
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Version, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.Version, now); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Version, err)
			}
		}
		return nil
	})
}
