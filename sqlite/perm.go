package sqlite

import (
	"errors"
	"io/fs"
	"os"
)

// Restrict makes the database at path and its companion files readable
// by their owner alone: they hold per-user secret keys in plaintext. A
// missing database file is created empty with mode 0600, so that SQLite,
// which gives the -wal and -shm files the mode of the database, creates
// those 0600 too; existing files with group or other bits are set to
// 0600. It returns the files it tightened, for the caller to warn about.
func Restrict(path string) (tightened []string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	for _, name := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return tightened, err
		}
		if fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(name, 0o600); err != nil {
			return tightened, err
		}
		tightened = append(tightened, name)
	}
	return tightened, nil
}
