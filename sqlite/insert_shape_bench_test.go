package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkInsertShape inserts rows shaped like messages into a table
// that gains one feature of the messages table at a time, in one
// transaction: what each costs an INSERT on this engine. It is how the
// counter's trigger and RETURNING were found to cost more than the row
// and its indexes together (docs/performance.md, "Messages numbered
// without a trigger").
func BenchmarkInsertShape(b *testing.B) {
	const channel = sendApp + "/channel/5c0e9f7a-3d2b-4e61-8a9f-0b7c6d5e4f3a"
	const (
		table   = `CREATE TABLE m (seq INTEGER NOT NULL, ch TEXT NOT NULL, id TEXT NOT NULL, content TEXT NOT NULL, created INTEGER NOT NULL`
		byTime  = `; CREATE INDEX m_by ON m (ch, created, seq)`
		unique  = `, UNIQUE (ch, id)`
		fk      = ` REFERENCES c (arn) ON DELETE CASCADE`
		parent  = `CREATE TABLE c (arn TEXT PRIMARY KEY) WITHOUT ROWID; INSERT INTO c VALUES ('` + channel + `'); `
		counter = `CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT, WITHOUT ROWID; INSERT INTO counters VALUES ('s', 0); `
		trigger = `; CREATE TRIGGER m_seq AFTER INSERT ON m BEGIN UPDATE counters SET value = max(value, NEW.seq) WHERE name = 's'; END`
		given   = `INSERT INTO m (seq, ch, id, content, created) VALUES (?, ?, ?, ?, ?)`
		counted = `INSERT INTO m (seq, ch, id, content, created) VALUES ((SELECT value + 1 FROM counters WHERE name = 's'), ?, ?, ?, ?)`
	)
	withFK := parent + counter + `CREATE TABLE m (seq INTEGER NOT NULL, ch TEXT NOT NULL` + fk + `, id TEXT NOT NULL, content TEXT NOT NULL, created INTEGER NOT NULL` + unique + `)` + byTime
	for _, v := range []struct{ name, ddl, insert string }{
		{"table", table + `)`, given},
		{"index", table + `)` + byTime, given},
		{"unique", table + unique + `)` + byTime, given},
		{"fk", withFK, given},
		{"fk+counter", withFK, given},
		{"fk+trigger", withFK + trigger, counted},
		{"fk+trigger+returning", withFK + trigger, counted + ` RETURNING seq`},
	} {
		b.Run(v.name, func(b *testing.B) {
			db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "shape.db")+"?_pragma=journal_mode(wal)&_pragma=synchronous(normal)&_pragma=foreign_keys(1)")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			if _, err := db.Exec(v.ddl); err != nil {
				b.Fatal(err)
			}
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			defer tx.Rollback()
			insert, err := tx.Prepare(v.insert)
			if err != nil {
				b.Fatal(err)
			}
			var setCounter *sql.Stmt
			if v.name == "fk+counter" {
				if setCounter, err = tx.Prepare(`UPDATE counters SET value = max(value, ?) WHERE name = 's'`); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				i++
				id := fmt.Sprintf("%016x%048x", i, i)
				switch v.name {
				case "fk+trigger":
					_, err = insert.Exec(channel, id, "Hello from the benchmark", i)
				case "fk+trigger+returning":
					var seq int64
					err = insert.QueryRow(channel, id, "Hello from the benchmark", i).Scan(&seq)
				case "fk+counter":
					if _, err = insert.Exec(i, channel, id, "Hello from the benchmark", i); err == nil {
						_, err = setCounter.Exec(i)
					}
				default:
					_, err = insert.Exec(i, channel, id, "Hello from the benchmark", i)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
