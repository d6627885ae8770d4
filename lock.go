package carillon

import "context"

// Locker hands out named locks, each held by one holder at a time across
// every server that shares the store: the work that must happen once per
// deployment (the background jobs, the flow runner, push and bot
// dispatch, the streaming export, the outbox relay's publishing) runs
// while its lock is held, and another server takes it over when the
// holder releases it or dies.
//
// On SQLite, one server uses the store and the locks are only shared by
// the callers of that process. On PostgreSQL a lock is a session advisory
// lock on a connection of its own: the database releases it when that
// connection ends, so a server that dies gives its locks up within
// seconds.
type Locker interface {
	// TryLock takes the lock called name if no one holds it, without
	// waiting; ok is false when another holder (in this process or
	// another) has it. Names are compared exactly.
	TryLock(ctx context.Context, name string) (lease Lease, ok bool, err error)
}

// Lease is a lock held.
type Lease interface {
	// Lost is closed when the lock is lost without Release: the
	// connection that holds it failed, and the database may have given
	// the lock to another holder already. The work it guards must stop.
	Lost() <-chan struct{}
	// Release gives the lock up. Calling it again does nothing.
	Release()
}
