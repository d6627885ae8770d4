package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon"
)

// LeaseCheck is how often a held lock's connection is checked, so that a
// holder learns within about that long that it lost the lock (Lease.Lost).
var LeaseCheck = time.Second

// lockKey maps a lock's name to the int8 key of its advisory lock (FNV-1a).
// Two names could share a key: then they exclude each other, which costs
// some concurrency and never safety.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// TryLock takes the session advisory lock of name on a connection opened
// for it, kept until Release. The database releases the lock when that
// connection ends: when the process dies, at once (its socket closes); when
// the network between them fails, once TCP keepalives give up, which the
// connection asks for after 5s of silence, then every 2s, 3 times. The
// holder checks the connection every LeaseCheck, and closes Lost when a
// check fails: before the database gives up on the connection, so that two
// holders do not both believe they hold the lock for long.
func (db *DB) TryLock(ctx context.Context, name string) (carillon.Lease, bool, error) {
	cfg := db.cfg.Copy()
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	cfg.RuntimeParams["application_name"] = "carillon lock " + name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lock %q: %w", name, err)
	}
	key := lockKey(name)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Close(context.Background())
		return nil, false, fmt.Errorf("postgres: lock %q: %w", name, err)
	}
	if !ok {
		conn.Close(context.Background())
		return nil, false, nil
	}
	l := &lease{conn: conn, key: key, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, true, nil
}

type lease struct {
	mu   sync.Mutex // serializes the connection's use by watch and Release
	conn *pgx.Conn
	key  int64

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	release  sync.Once
}

func (l *lease) Lost() <-chan struct{} { return l.lost }

// watch pings the connection every LeaseCheck until Release, and closes
// lost when a ping fails.
func (l *lease) watch() {
	defer close(l.done)
	tick := time.NewTicker(LeaseCheck)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		l.mu.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*LeaseCheck)
		err := l.conn.Ping(ctx)
		cancel()
		l.mu.Unlock()
		if err != nil {
			l.lostOnce.Do(func() { close(l.lost) })
			return
		}
	}
}

// Release unlocks and closes the connection. A connection that has
// failed needs no unlock: the database released the lock with it.
func (l *lease) Release() {
	l.release.Do(func() {
		close(l.stop)
		<-l.done
		l.mu.Lock()
		defer l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
		_ = l.conn.Close(ctx)
	})
}
