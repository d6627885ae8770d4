package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carillonhq/carillon"
)

func wantPerm(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", filepath.Base(path), got, want)
	}
}

// TestDataDirPermissions: the database and its -wal and -shm files hold
// per-user secrets, so they are 0600 in a 0700 directory, whether the
// server creates them or finds them open to others (and then says so).
func TestDataDirPermissions(t *testing.T) {
	root := RootCredentials{AccessKeyID: "CKIAROOTROOTROOTROOT", SecretAccessKey: "root-secret"}
	n := 0
	start := func(t *testing.T, dir string) (*Server, *syncBuffer) {
		t.Helper()
		logs := &syncBuffer{}
		srv, err := New(context.Background(), Config{DataDir: dir, Root: root, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		// A write, so that the -wal and -shm files exist.
		n++
		if err := srv.Store().Update(context.Background(), func(tx carillon.Tx) error {
			return tx.CreateAppInstance(&carillon.AppInstance{ARN: fmt.Sprintf("arn:aws:chime:us-east-1:000000000000:app-instance/a%d", n), Name: "a"})
		}); err != nil {
			t.Fatal(err)
		}
		return srv, logs
	}
	db := func(dir, suffix string) string { return filepath.Join(dir, databaseFile+suffix) }

	t.Run("new", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		srv, logs := start(t, dir)
		defer srv.Close()
		wantPerm(t, dir, 0o700)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			wantPerm(t, db(dir, suffix), 0o600)
		}
		if strings.Contains(logs.String(), "open to other users") {
			t.Errorf("warned about a new data directory:\n%s", logs)
		}
	})
	t.Run("existing and open", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		srv, _ := start(t, dir)
		srv.Close()
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// As an earlier version left them: the database 0644, and the
		// -wal and -shm files (removed by a clean close) too.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			f, err := os.OpenFile(db(dir, suffix), os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if err := os.Chmod(db(dir, suffix), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		srv, logs := start(t, dir)
		defer srv.Close()
		wantPerm(t, dir, 0o700)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			wantPerm(t, db(dir, suffix), 0o600)
		}
		for _, want := range []string{"data directory was open to other users", "database file was open to other users"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("no warning %q in:\n%s", want, logs)
			}
		}
	})
}
