package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// Checkpoints off the request path.
//
// SQLite's own checkpoints run inside the COMMIT that takes the WAL past
// 1,000 pages (wal_autocheckpoint), on the writer connection: the batch
// that commits then also copies the WAL into the database and flushes
// both to the disk while every request behind it waits for the writer.
// The writer's automatic checkpoints are off (Open sets
// wal_autocheckpoint to 0) and a goroutine of the store's checkpoints on a
// connection of its own instead: a PASSIVE checkpoint, which copies what
// no reader still needs and never blocks the writer or the readers, at
// most once per checkpointInterval, after a commit.
//
// What it costs: the WAL holds what the writes of one interval appended
// (plus what readers with older snapshots keep from being copied), where
// it held about 1,000 pages before: at a thousand messages a second, ten
// to fifteen thousand pages (40 to 60 MiB) in the file, which SQLite does
// not shrink once grown. Recovery after a crash reads the WAL through
// once when the database is next opened, a fraction of a second for that
// size. In exchange a page written many times in an interval (the
// channel's row, the counter, the last pages of the outbox and of the
// indexes) is copied into the database once, and the writer never waits
// for the disk in a checkpoint. With SyncNormal, the WAL reaches the disk
// at these checkpoints, so at most one interval after a commit when the
// writes stop.
const checkpointInterval = 200 * time.Millisecond

// checkpointer runs the store's checkpoints until stop closes.
type checkpointer struct {
	conn *sql.DB // one connection, not query_only
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	// runs counts the checkpoints run, and copied is how many of the
	// WAL's pages the last one left copied into the database, out of wal:
	// for the tests.
	runs, copied, wal atomic.Int64
}

func newCheckpointer(conn *sql.DB) *checkpointer {
	c := &checkpointer{conn: conn, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// kicked tells the checkpointer that a commit added to the WAL. It never
// blocks.
func (c *checkpointer) kicked() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	wait := time.NewTimer(0)
	defer wait.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		// A failed checkpoint (the disk full, say) leaves the WAL as it
		// is, readable and complete: the next kick tries again.
		var busy, wal, copied int64
		if c.conn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &wal, &copied) == nil {
			c.wal.Store(wal)
			c.copied.Store(copied)
		}
		c.runs.Add(1)
		wait.Reset(checkpointInterval)
		select {
		case <-c.stop:
			return
		case <-wait.C:
		}
	}
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.conn.Close()
}
