package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/pgtest"
	"github.com/carillonhq/carillon/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openTest(t testing.TB, dsn string, clock carillon.Clock) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, clock)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock carillon.Clock) carillon.Store {
		return openTest(t, testDatabase(t), clock)
	})
}

// testDatabase returns a new database with the schema applied, copied
// from a template migrated once.
func testDatabase(t testing.TB) string {
	return pgtest.DatabaseFrom(t, "carillon", func(dsn string) error {
		db, err := Open(context.Background(), dsn, carillon.SystemClock{})
		if err != nil {
			return err
		}
		return db.Close()
	})
}

// emptyDatabase returns a new database without the schema.
func emptyDatabase(t testing.TB) string { return pgtest.Database(t) }
