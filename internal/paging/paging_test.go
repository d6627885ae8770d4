package paging

import (
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
