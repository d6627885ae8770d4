package sqlite

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"os"
	"path/filepath"
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
	f, err := os.Open(dbFile)
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
