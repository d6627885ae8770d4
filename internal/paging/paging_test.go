package paging

import (
	"context"
	"strings"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
)

func TestTokenRoundTrip(t *testing.T) {
	for _, key := range []string{"arn:aws:chime:us-east-1:0:app-instance/a/user/u", "x", "ü/\x00"} {
		tok := Encode(key)
		got, err := Decode(&tok)
		if err != nil || got != key {
			t.Errorf("%q: %q %v", key, got, err)
		}
	}
	if got, err := Decode(nil); got != "" || err != nil {
		t.Errorf("nil token: %q %v", got, err)
	}
	for _, bad := range []string{"garbage", "c1.", "c1.!!!", "c2.eA"} {
		if _, err := Decode(api.String(bad)); !carillon.IsKind(err, carillon.BadRequest) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestTrim(t *testing.T) {
	rows := []string{"a", "b", "c"}
	page, limit, err := Request(nil, api.Int32(2))
	if err != nil || limit != 2 || page.Limit != 3 || page.After != "" {
		t.Fatalf("%+v %d %v", page, limit, err)
	}
	got, next := Trim(rows, limit, func(s *string) string { return *s })
	if len(got) != 2 || next == nil {
		t.Fatalf("%v %v", got, next)
	}
	if after, _ := Decode(next); after != "b" {
		t.Fatalf("next resumes after %q", after)
	}
	got, next = Trim(rows[:2], 2, func(s *string) string { return *s })
	if len(got) != 2 || next != nil {
		t.Fatalf("last page: %v %v", got, next)
	}
	if Limit(nil) != DefaultLimit {
		t.Fatal("default limit")
	}
}

// fakeStore serves View with a nil transaction: List's read functions in
// these tests do not touch it.
type fakeStore struct{ carillon.Store }

func (fakeStore) View(_ context.Context, fn func(carillon.Tx) error) error { return fn(nil) }

func TestList(t *testing.T) {
	rows := []string{"a", "b", "c", "d", "e"}
	read := func(_ carillon.Tx, p carillon.Page) ([]string, error) {
		var out []string
		for _, r := range rows {
			if r > p.After && len(out) < p.Limit {
				out = append(out, r)
			}
		}
		return out, nil
	}
	key := func(r *string) string { return *r }
	shape := func(r *string) string { return strings.ToUpper(*r) }
	var got []string
	var token *string
	for range 3 {
		page, next, err := List(t.Context(), fakeStore{}, token, api.Int32(2), read, key, shape)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if token = next; token == nil {
			break
		}
	}
	if strings.Join(got, "") != "ABCDE" || token != nil {
		t.Errorf("pages %v, last token %v", got, token)
	}

	// An empty list is [], not null; the read's error is the list's.
	empty, next, err := List(t.Context(), fakeStore{}, nil, nil, func(carillon.Tx, carillon.Page) ([]string, error) { return nil, nil }, key, shape)
	if err != nil || empty == nil || len(empty) != 0 || next != nil {
		t.Errorf("empty list: %#v %v %v", empty, next, err)
	}
	denied := carillon.Errorf(carillon.Forbidden, "no")
	if _, _, err := List(t.Context(), fakeStore{}, nil, nil, func(carillon.Tx, carillon.Page) ([]string, error) { return nil, denied }, key, shape); err != denied {
		t.Errorf("a failed read: %v", err)
	}
	if _, _, err := List(t.Context(), fakeStore{}, api.String("bad"), nil, read, key, shape); !carillon.IsKind(err, carillon.BadRequest) {
		t.Errorf("a bad token: %v", err)
	}
}
