package carillon

import "time"

// IdempotencyTx remembers the result of a request made with a client
// token, so that a retry returns the first result (package internal/idem
// holds the rules).
type IdempotencyTx interface {
	// Idempotent returns the result stored for (scope, token).
	Idempotent(scope, token string) (result string, found bool, err error)
	// PutIdempotent stores a result; an existing one is kept.
	PutIdempotent(scope, token, result string) error
	// ClaimIdempotent stores a result unless one is stored for (scope,
	// token) already, which it returns instead (found), keeping it: the
	// write of a request's result and the check for an earlier one in
	// one statement, where Idempotent then PutIdempotent take two.
	ClaimIdempotent(scope, token, result string) (prev string, found bool, err error)
	// DeleteIdempotentBefore deletes up to limit results stored before
	// t, the oldest first, and returns how many it deleted: idempotency
	// tokens expire. A store may take the first stored for the oldest
	// (SQLite does): after the clock stepped back, a result then waits
	// behind those stored before it, at most as long as the step.
	DeleteIdempotentBefore(t time.Time, limit int) (int, error)
}
