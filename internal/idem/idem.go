// Package idem gives create operations their ClientRequestToken semantics:
// a request repeated with the same token by the same caller returns the
// first result instead of creating a second resource, and a token reused
// for a different request is refused, as AWS refuses it.
package idem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/carillonhq/carillon"
)

// Scope names the space a token lives in: the operation and who acts. Two
// users sending the same token do not collide.
func Scope(ctx context.Context, op, actingAs string) string {
	who := actingAs
	if who == "" {
		if c, ok := carillon.CallerFrom(ctx); ok && !c.Root {
			who = c.Bearer
		} else {
			who = "root"
		}
	}
	return op + "|" + who
}

// Fingerprint identifies a request's parameters: a hash of its JSON form
// without its ClientRequestToken. Members bound to the path, query or
// headers are not in the JSON form; an operation whose labels or bearer
// matter puts them in the token's Scope.
func Fingerprint(request any) string {
	b, err := json.Marshal(request)
	if err != nil {
		return ""
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(b, &members) == nil {
		delete(members, "ClientRequestToken")
		b, _ = json.Marshal(members) // keys sorted: a stable form
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// Do returns the result stored for (scope, token), or runs create and
// stores what it returns, in the caller's transaction. A token seen before
// with a different fingerprint is a ConflictException. A nil token always
// creates.
func Do(tx carillon.Tx, scope string, token *string, fingerprint string, create func() (string, error)) (result string, replayed bool, err error) {
	if token != nil && *token != "" {
		prev, found, err := tx.Idempotent(scope, *token)
		if err != nil {
			return "", false, err
		}
		if found {
			fp, res, _ := strings.Cut(prev, "|")
			if fp != fingerprint {
				return "", false, carillon.Errorf(carillon.Conflict, "The ClientRequestToken %s was already used for a different request", *token)
			}
			return res, true, nil
		}
	}
	result, err = create()
	if err != nil {
		return "", false, err
	}
	if token != nil && *token != "" {
		if err := tx.PutIdempotent(scope, *token, fingerprint+"|"+result); err != nil {
			return "", false, err
		}
	}
	return result, false, nil
}
