package sqlite

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/carillonhq/carillon/storetest"
)

var updateFixture = flag.Bool("update-fixture", false, "write testdata/fixture.db.gz and testdata/fixture.json anew")

// TestFixture reads a database written by an earlier version of this
// package (testdata/fixture.db.gz, storetest.WriteFixture's rows) and checks
// that it reads what that version read (testdata/fixture.json): the
// encodings of the columns must not change under existing databases.
// -update-fixture writes both files anew, for a new migration: the old
// database must then still read as before, so keep the old files too.
func TestFixture(t *testing.T) {
	dbFile, jsonFile := filepath.Join("testdata", "fixture.db.gz"), filepath.Join("testdata", "fixture.json")
	path := tempPath(t)
	if *updateFixture {
		db := openTest(t, path, storetest.NewFakeClock(storetest.FixtureTime()))
		if err := storetest.WriteFixture(t.Context(), db); err != nil {
			t.Fatal(err)
		}
		got, err := storetest.ReadFixture(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		// Close checkpoints the WAL into the file and removes it.
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		if _, err := zw.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dbFile, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(jsonFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	copyFixture(t, dbFile, path)
	want, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	db := openTest(t, path, storetest.NewFakeClock(storetest.FixtureTime()))
	defer db.Close()
	got, err := storetest.ReadFixture(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the fixture database reads\n%s\nwant (%s)\n%s", got, jsonFile, want)
	}
}

// copyFixture writes the database of the gzipped file src to path.
func copyFixture(t *testing.T, src, path string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFixtureWrites writes the fixture anew and checks that every table
// holds what the fixture database holds, value for value: this version
// writes what earlier versions wrote.
func TestFixtureWrites(t *testing.T) {
	old := tempPath(t)
	copyFixture(t, filepath.Join("testdata", "fixture.db.gz"), old)
	db := openTest(t, tempPath(t), storetest.NewFakeClock(storetest.FixtureTime()))
	defer db.Close()
	if err := storetest.WriteFixture(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	was := openTest(t, old, storetest.NewFakeClock(storetest.FixtureTime()))
	defer was.Close()

	tables := tableRows(t, was.r, "")
	if len(tables) == 0 {
		t.Fatal("the fixture database has no tables")
	}
	for _, row := range tables {
		name := row[0].(string)
		want, got := tableRows(t, was.r, name), tableRows(t, db.r, name)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("table %s holds\n%q\nwant, as the fixture database holds,\n%q", name, got, want)
		}
	}
}

// tableRows returns every row of table, in its key's order, as the driver
// returns the values; with table "", the names of the tables.
func tableRows(t *testing.T, db *sql.DB, table string) [][]any {
	t.Helper()
	q := `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`
	if table != "" {
		q = `SELECT * FROM "` + table + `"`
	}
	rows, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
