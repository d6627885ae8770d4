package storecodec

import (
	"io/fs"
	"strings"
)

// Migration is one file of an engine's schema.
type Migration struct {
	Version string // the file name without .sql, e.g. 0001_schema
	SQL     string
}

// Migrations returns the migrations in dir of fsys (an engine's embedded
// schema) in the order they apply: the lexical order of their file names,
// which fs.ReadDir returns. Files not ending in .sql are not migrations.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		body, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	return ms, nil
}
