package carillon

import (
	"context"
	"errors"
	"time"
)

// Store errors. Stores return them (possibly wrapped); services turn them
// into the *Error of the kind their operation models.
var (
	// ErrNotFound: the row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a row with the same key already exists.
	ErrExists = errors.New("already exists")
	// ErrReadOnly: a write was attempted in a View transaction.
	ErrReadOnly = errors.New("write in a read-only transaction")
)

// Store is the persistence of Carillon. It holds data, not rules: every
// check of who may do what lives in the services, so that each engine
// (SQLite now, PostgreSQL for clusters) behaves the same. The conformance
// suite in package storetest is the contract; each engine runs it.
type Store interface {
	// View runs fn in a read-only transaction over a consistent snapshot.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Update runs fn in a read-write transaction and commits when fn
	// returns nil; any error (or panic) rolls everything back.
	// Transactions are serializable and concurrent Updates never fail
	// for contention: an engine that detects serialization conflicts
	// retries, so fn may run more than once and must not have effects
	// outside tx. tx.Now() is fixed for the whole transaction. fn must
	// not call Update; it may call View.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	// Locker hands out the locks of the work done once per deployment
	// (lock.go).
	Locker
	Close() error
}

// UndoNotifier is implemented by the Tx of an Update in an engine that
// runs several Updates in one transaction (the SQLite engine's group
// commit) and may undo one Update's writes while the transaction goes on.
// OnUndo registers f, to be called once if this Update's writes are
// undone: when its function fails, panics or is abandoned, before the
// function of any other Update runs; and when the transaction fails to
// commit, before the next transaction begins. A decorator that keeps what
// an Update wrote, for the Updates after it in the same transaction to
// read (package storecache), learns from it when that is no longer true.
type UndoNotifier interface {
	OnUndo(f func())
}

// Tx is one transaction. Methods return ErrNotFound, ErrExists or
// ErrReadOnly as documented, or an engine error. ErrNotFound and ErrExists
// do not end the transaction: it stays usable and commits what was
// written around them. Creating a row under a missing parent (a user of a
// missing AppInstance) returns ErrNotFound. Times come back in UTC with
// millisecond precision; the zero time round-trips as zero.
//
// Tx is composed of one interface per noun, each declared in the file of
// that noun with its types (appinstance.go, user.go, channel.go, …), so
// that an engine can be written and reviewed noun by noun.
type Tx interface {
	// Now is the transaction's time, fixed when it began (from the
	// store's Clock); every timestamp written in the transaction uses it.
	Now() time.Time

	// The Identity API.
	AppInstanceTx
	UserTx
	BotTx
	AdminTx
	EndpointTx

	// The Messaging API.
	ChannelTx
	MembershipTx
	SubChannelTx
	ModeratorTx
	BanTx
	MessageTx
	FlowTx
	InvocationTx
	StreamTx

	// Shared by both, and Carillon's own.
	TagTx
	IdempotencyTx
	AccessKeyTx
	OutboxTx
	SessionPositionTx
	JobsTx
}
