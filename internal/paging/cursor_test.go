package paging

import (
	"testing"
	"time"

	"github.com/carillonhq/carillon"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := carillon.MessageCursor{Created: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC), Seq: 42}
	for _, desc := range []bool{true, false} {
		tok := EncodeCursor(c, desc)
		got, err := DecodeCursor(&tok, desc)
		if err != nil {
			t.Fatalf("DecodeCursor(%q): %v", tok, err)
		}
		if !got.Created.Equal(c.Created) || got.Seq != c.Seq {
			t.Errorf("round trip (desc=%v) = %+v, want %+v", desc, *got, c)
		}
		if _, err := DecodeCursor(&tok, !desc); !carillon.IsKind(err, carillon.BadRequest) {
			t.Errorf("token of the other order: err %v, want BadRequest", err)
		}
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	t.Parallel()
	if c, err := DecodeCursor(nil, true); c != nil || err != nil {
		t.Errorf("nil token = %v, %v", c, err)
	}
	empty := ""
	if c, err := DecodeCursor(&empty, true); c != nil || err != nil {
		t.Errorf("empty token = %v, %v", c, err)
	}
	key := Encode("some-arn") // a token of another list
	for _, tok := range []string{"garbage", "m1.", "m1.!!!!", "m1.RA", key, "m2." + EncodeCursor(carillon.MessageCursor{}, true)[3:]} {
		if _, err := DecodeCursor(&tok, true); !carillon.IsKind(err, carillon.BadRequest) {
			t.Errorf("DecodeCursor(%q): err %v, want BadRequest", tok, err)
		}
	}
}
