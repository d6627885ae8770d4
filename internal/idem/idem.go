// Package idem gives create operations their ClientRequestToken semantics:
// a request repeated with the same token by the same caller returns the
// first result instead of creating a second resource, and a token reused
// for a different request is refused, as AWS refuses it.
package idem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
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
//
// The JSON form hashed is encoding/json's Marshal of the request with its
// top-level members sorted by name: fingerprints are stored with the
// records, so a retry after an upgrade must hash the same bytes. A
// generated shape writes that form itself (api.JSONAppender), which is
// done on every create and send; anything else goes through encoding/json.
func Fingerprint(request any) string {
	if a, ok := request.(api.JSONAppender); ok {
		return appenderFingerprint(a)
	}
	b, err := json.Marshal(request)
	if err != nil {
		return ""
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(b, &members) == nil {
		delete(members, tokenMember)
		b, _ = json.Marshal(members) // keys sorted: a stable form
	}
	return sum(b)
}

const tokenMember = "ClientRequestToken"

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

// member is one top-level member of an encoded object: its name at
// b[name[0]:name[1]], the whole member ("name":value) at b[at[0]:at[1]].
type member struct{ name, at [2]int }

// maxPooledBuf bounds the buffers kept for the next request: a large
// request's buffer is left to the collector.
const maxPooledBuf = 64 << 10

var fingerprintBufs = sync.Pool{New: func() any { return new(fingerprintBuf) }}

type fingerprintBuf struct {
	b       []byte
	members []member
}

// appenderFingerprint hashes a's JSON form, HTML escaped as Marshal
// escapes, with its top-level members sorted and the token left out: the
// bytes Fingerprint's encoding/json path hashes.
func appenderFingerprint(a api.JSONAppender) string {
	fb := fingerprintBufs.Get().(*fingerprintBuf)
	defer func() {
		if cap(fb.b) <= maxPooledBuf {
			fingerprintBufs.Put(fb)
		}
	}()
	b := a.AppendJSON(fb.b[:0], true)
	members, ok := splitObject(b, fb.members[:0])
	if !ok {
		// Not an object: hashed as Marshal wrote it, as the encoding/json
		// path does when the form does not decode into members.
		fb.b, fb.members = b, members
		return sum(b)
	}
	sorted := slices.IsSortedFunc(members, func(x, y member) int { return compareNames(b, x, y) })
	if !sorted {
		slices.SortFunc(members, func(x, y member) int { return compareNames(b, x, y) })
	}
	// The sorted form, after the encoded one in the same buffer.
	start := len(b)
	b = append(b, '{')
	for _, m := range members {
		if string(b[m.name[0]:m.name[1]]) == tokenMember {
			continue
		}
		if len(b) > start+1 {
			b = append(b, ',')
		}
		b = append(b, b[m.at[0]:m.at[1]]...)
	}
	b = append(b, '}')
	fb.b, fb.members = b, members
	return sum(b[start:])
}

func compareNames(b []byte, x, y member) int {
	return bytes.Compare(b[x.name[0]:x.name[1]], b[y.name[0]:y.name[1]])
}

// splitObject finds the top-level members of b, a compact JSON object as
// the generated encoders write it, whose member names need no escaping.
func splitObject(b []byte, members []member) ([]member, bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return members, false
	}
	i := 1
	for i < len(b)-1 {
		if b[i] != '"' {
			return members, false
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return members, false
		}
		m := member{name: [2]int{i + 1, i + 1 + end}}
		m.at[0] = i
		i += end + 2
		if i >= len(b) || b[i] != ':' {
			return members, false
		}
		i = skipValue(b, i+1)
		if i < 0 || i >= len(b) {
			return members, false
		}
		m.at[1] = i
		members = append(members, m)
		if b[i] == ',' {
			i++
		} else if i != len(b)-1 {
			return members, false
		}
	}
	return members, true
}

// skipValue returns the offset of the comma or brace that ends the member
// whose compact JSON value starts at b[i], or -1.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return -1
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

// Replayed is the error Claim returns for a request made before with the
// same token and parameters: Result is what the first one returned.
type Replayed struct{ Result string }

func (r *Replayed) Error() string {
	return fmt.Sprintf("idempotency: the request was made before, with result %q", r.Result)
}

// Claim is Do for the hot operations, at one statement per request where
// Do takes two: it runs create first, then stores its result in the same
// statement that finds a result stored before (carillon.Tx's
// ClaimIdempotent), instead of looking first. A new token answers create's
// result. A token seen before answers as Do does, a ConflictException when
// the fingerprint differs, but the repeated request answers with a
// *Replayed error, so that the caller's transaction, in which create ran
// again, rolls back: the caller returns the error from its Update's
// function and, once Update returns it, answers Result. When create fails,
// the stored result, if any, is the answer, as Do would have found it
// before running create.
func Claim(tx carillon.Tx, scope string, token *string, fingerprint string, create func() (string, error)) (string, error) {
	if token == nil || *token == "" {
		return create()
	}
	result, err := create()
	if err != nil {
		prev, found, lerr := tx.Idempotent(scope, *token)
		if lerr != nil || !found {
			return "", err
		}
		return "", replayed(prev, fingerprint, *token)
	}
	prev, found, err := tx.ClaimIdempotent(scope, *token, fingerprint+"|"+result)
	if err != nil {
		return "", err
	}
	if found {
		return "", replayed(prev, fingerprint, *token)
	}
	return result, nil
}

// replayed is the error for a token whose stored record is prev.
func replayed(prev, fingerprint, token string) error {
	fp, res, _ := strings.Cut(prev, "|")
	if fp != fingerprint {
		return carillon.Errorf(carillon.Conflict, "The ClientRequestToken %s was already used for a different request", token)
	}
	return &Replayed{Result: res}
}
