package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
)

// TestCheckpointer checks that the writer leaves checkpoints to the
// checkpointer, and that the checkpointer copies the whole WAL into the
// database once the writes stop.
func TestCheckpointer(t *testing.T) {
	db := openFresh(t)
	ctx := t.Context()
	var auto int
	if err := db.w.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Errorf("the writer's wal_autocheckpoint is %d, want 0", auto)
	}
	runs := db.ck.runs.Load()
	for i := range 200 {
		if err := db.Update(ctx, func(tx carillon.Tx) error {
			name := fmt.Sprintf("app-%d", i)
			return tx.CreateAppInstance(&carillon.AppInstance{ARN: appARN(name), Name: name})
		}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The last run after the last commit copies everything.
		wal, copied := db.ck.wal.Load(), db.ck.copied.Load()
		if db.ck.runs.Load() > runs && wal > 0 && wal == copied && len(db.ck.kick) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d checkpoints, %d of the WAL's %d pages copied", db.ck.runs.Load()-runs, copied, wal)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
