package sqlite

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

// Results expire in the order they were stored (migration 0016): one
// stored after the clock stepped back is deleted once it is among the
// oldest, and the deletes never take a result stored after the time they
// are given.
func TestIdempotencyExpiryOrder(t *testing.T) {
	clock := storetest.NewFakeClock(storetest.Start)
	db := openTest(t, tempPath(t), clock)
	put := func(token string, at time.Time) {
		t.Helper()
		clock.Set(at)
		if err := db.Update(t.Context(), func(tx carillon.Tx) error { return tx.PutIdempotent("scope", token, token) }); err != nil {
			t.Fatal(err)
		}
	}
	h := func(n int) time.Time { return storetest.Start.Add(time.Duration(n) * time.Hour) }
	put("a", h(1))
	put("b", h(3))
	put("c", h(2)) // the clock stepped back
	put("d", h(4))
	left := func() []string {
		t.Helper()
		var tokens []string
		err := db.View(t.Context(), func(tx carillon.Tx) error {
			for _, token := range []string{"a", "b", "c", "d"} {
				if _, found, err := tx.Idempotent("scope", token); err != nil {
					return err
				} else if found {
					tokens = append(tokens, token)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return tokens
	}
	del := func(before time.Time, limit int) int {
		t.Helper()
		var n int
		if err := db.Update(t.Context(), func(tx carillon.Tx) (err error) {
			n, err = tx.DeleteIdempotentBefore(before, limit)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		before time.Time
		limit  int
		n      int
		left   []string
	}{
		{h(1), 10, 0, []string{"a", "b", "c", "d"}},
		{h(3), 1, 1, []string{"b", "c", "d"}},
		// b is not due: of the first two, only c goes.
		{h(3), 2, 1, []string{"b", "d"}},
		{h(5), 10, 2, nil},
	} {
		n := del(c.before, c.limit)
		got := left()
		if n != c.n || !slices.Equal(got, c.left) {
			t.Errorf("DeleteIdempotentBefore(%v, %d) = %d, leaving %v; want %d, leaving %v", c.before, c.limit, n, got, c.n, c.left)
		}
	}
}

// The key of a record depends on where its scope ends.
func TestIdempotencyKey(t *testing.T) {
	keys := map[string]string{}
	for _, p := range [][2]string{{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"", "abc"}} {
		k := fmt.Sprintf("%x", idempotencyKey(p[0], p[1]))
		if prev, ok := keys[k]; ok {
			t.Errorf("idempotencyKey%q = idempotencyKey%s", p, prev)
		}
		keys[k] = fmt.Sprintf("%q", p)
	}
}
