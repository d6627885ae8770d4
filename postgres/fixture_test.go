package postgres

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon/internal/pgtest"
	"github.com/carillonhq/carillon/storetest"
)

var updateFixture = flag.Bool("update-fixture", false, "write testdata/fixture.sql and testdata/fixture.json anew")

// TestFixture loads the rows an earlier version of this package wrote
// (testdata/fixture.sql, pg_dump's data-only dump of storetest.WriteFixture's
// rows) into a database of the current schema and checks that they read
// what that version read (testdata/fixture.json): the encodings of the
// columns must not change under existing databases. -update-fixture
// writes both files anew, for a new migration: the old dump must then
// still read as before, so keep the old files too.
func TestFixture(t *testing.T) {
	sqlFile, jsonFile := filepath.Join("testdata", "fixture.sql"), filepath.Join("testdata", "fixture.json")
	dsn := testDatabase(t)
	if *updateFixture {
		db := openTest(t, dsn, storetest.NewFakeClock(storetest.FixtureTime()))
		defer db.Close()
		if err := storetest.WriteFixture(t.Context(), db); err != nil {
			t.Fatal(err)
		}
		got, err := storetest.ReadFixture(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sqlFile, dumpData(t, dsn), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(jsonFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	dump, err := os.ReadFile(sqlFile)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	// The dump's rows are what the triggers left (membership counts):
	// they must not run again on load, nor the foreign keys be checked
	// in the dump's table order.
	script := "SET session_replication_role = replica;\n" + string(dump)
	if _, err := conn.Exec(t.Context(), script, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("load %s: %v", sqlFile, err)
	}
	db := openTest(t, dsn, storetest.NewFakeClock(storetest.FixtureTime()))
	defer db.Close()
	got, err := storetest.ReadFixture(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the fixture dump reads\n%s\nwant (%s)\n%s", got, jsonFile, want)
	}
}

// dumpData returns pg_dump's dump of the rows of the database at dsn.
func dumpData(t *testing.T, dsn string) []byte {
	t.Helper()
	// outbox_trimmed holds the row its migration inserts, and
	// schema_migrations the time the database was created.
	dump, err := exec.Command(filepath.Join(pgtest.BinDir(), "pg_dump"), "--data-only", "--column-inserts",
		"--no-owner", "--exclude-table-data=schema_migrations", "--exclude-table-data=outbox_trimmed", dsn).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	return withoutVersions(dump)
}

// withoutVersions is a dump without psql's meta-commands (\restrict and
// \unrestrict, with a random key), which are not SQL, and without the
// comments naming the server's and pg_dump's versions, which a point
// release of PostgreSQL changes while the rows stay the same.
func withoutVersions(dump []byte) []byte {
	var kept []string
	for _, l := range strings.SplitAfter(string(dump), "\n") {
		if !strings.HasPrefix(l, "\\") && !strings.HasPrefix(l, "-- Dumped from ") && !strings.HasPrefix(l, "-- Dumped by ") {
			kept = append(kept, l)
		}
	}
	return []byte(strings.Join(kept, ""))
}

// TestFixtureWrites writes the fixture anew and checks that pg_dump dumps
// what it dumped of the fixture an earlier version wrote: this version
// writes what earlier versions wrote.
func TestFixtureWrites(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	dsn := testDatabase(t)
	db := openTest(t, dsn, storetest.NewFakeClock(storetest.FixtureTime()))
	defer db.Close()
	if err := storetest.WriteFixture(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	want = withoutVersions(want)
	if got := dumpData(t, dsn); !bytes.Equal(got, want) {
		t.Errorf("the fixture written anew dumps\n%s\nwant (testdata/fixture.sql)\n%s", got, want)
	}
}
