package idem

import (
	"errors"
	"testing"

	"github.com/carillonhq/carillon"
)

// records is the idempotency part of a carillon.Tx.
type records struct {
	carillon.Tx
	m map[[2]string]string
}

func (r *records) Idempotent(scope, token string) (string, bool, error) {
	v, ok := r.m[[2]string{scope, token}]
	return v, ok, nil
}

func (r *records) ClaimIdempotent(scope, token, result string) (string, bool, error) {
	k := [2]string{scope, token}
	if v, ok := r.m[k]; ok {
		return v, true, nil
	}
	r.m[k] = result
	return "", false, nil
}

func TestClaim(t *testing.T) {
	tx := &records{m: map[[2]string]string{}}
	token := "token"
	created := 0
	create := func(result string, err error) func() (string, error) {
		return func() (string, error) {
			created++
			return result, err
		}
	}
	// No token: create, and nothing stored.
	if got, err := Claim(tx, "s", nil, "fp", create("a", nil)); got != "a" || err != nil || len(tx.m) != 0 {
		t.Fatalf("without a token: %q, %v, %d records", got, err, len(tx.m))
	}
	// A new token: create's result, stored.
	if got, err := Claim(tx, "s", &token, "fp", create("first", nil)); got != "first" || err != nil {
		t.Fatalf("first use: %q, %v", got, err)
	}
	// The same request again: *Replayed with the first result, and the
	// record kept.
	_, err := Claim(tx, "s", &token, "fp", create("second", nil))
	var r *Replayed
	if !errors.As(err, &r) || r.Result != "first" {
		t.Fatalf("repeated: %v, want *Replayed of %q", err, "first")
	}
	if tx.m[[2]string{"s", token}] != "fp|first" {
		t.Errorf("record %q after a repeat", tx.m[[2]string{"s", token}])
	}
	// A repeat whose create fails answers the first result too.
	if _, err := Claim(tx, "s", &token, "fp", create("", errors.New("gone"))); !errors.As(err, &r) || r.Result != "first" {
		t.Errorf("repeated, create failing: %v", err)
	}
	// Another request with the token: Conflict.
	_, err = Claim(tx, "s", &token, "other", create("third", nil))
	var ce *carillon.Error
	if !errors.As(err, &ce) || ce.Kind != carillon.Conflict {
		t.Errorf("another request: %v, want a Conflict", err)
	}
	// A new token whose create fails: create's error, nothing stored.
	fail := errors.New("fail")
	other := "other"
	if _, err := Claim(tx, "s", &other, "fp", create("", fail)); !errors.Is(err, fail) {
		t.Errorf("failing create: %v", err)
	}
	if _, ok := tx.m[[2]string{"s", other}]; ok {
		t.Errorf("a failed create left a record")
	}
	// Scopes are apart.
	if got, err := Claim(tx, "t", &token, "fp", create("scoped", nil)); got != "scoped" || err != nil {
		t.Errorf("another scope: %q, %v", got, err)
	}
	if created != 7 {
		t.Errorf("create ran %d times, want 7", created)
	}
}
