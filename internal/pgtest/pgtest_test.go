package pgtest

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestDatabase: two databases of the shared server are empty and apart.
func TestDatabase(t *testing.T) {
	a, b := Database(t), Database(t)
	if a == b {
		t.Fatalf("two databases with one DSN %s", a)
	}
	for _, dsn := range []string{a, b} {
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if err := conn.QueryRow(t.Context(), "SHOW server_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		var fsync string
		if err := conn.QueryRow(t.Context(), "SHOW fsync").Scan(&fsync); err != nil {
			t.Fatal(err)
		}
		if fsync != "off" {
			t.Errorf("fsync = %s, want off", fsync)
		}
		if _, err := conn.Exec(t.Context(), "CREATE TABLE t (x int)"); err != nil {
			t.Errorf("%s: %v", dsn, err)
		}
		conn.Close(t.Context())
	}
}
