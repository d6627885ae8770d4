package sqlite

import (
	"context"
	"sync"

	"github.com/carillonhq/carillon"
)

// locks are the names held through TryLock. One server uses a SQLite
// database, so the locks need only be shared by its own callers.
type locks struct {
	mu   sync.Mutex
	held map[string]bool
}

// TryLock takes the lock called name if no caller of this process holds
// it.
func (db *DB) TryLock(ctx context.Context, name string) (carillon.Lease, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	db.locks.mu.Lock()
	defer db.locks.mu.Unlock()
	if db.locks.held[name] {
		return nil, false, nil
	}
	if db.locks.held == nil {
		db.locks.held = map[string]bool{}
	}
	db.locks.held[name] = true
	return &lease{locks: &db.locks, name: name, lost: make(chan struct{})}, true, nil
}

type lease struct {
	locks *locks
	name  string
	once  sync.Once
	lost  chan struct{} // never closed: a process-local lock is not lost
}

func (l *lease) Lost() <-chan struct{} { return l.lost }

func (l *lease) Release() {
	l.once.Do(func() {
		l.locks.mu.Lock()
		delete(l.locks.held, l.name)
		l.locks.mu.Unlock()
	})
}
