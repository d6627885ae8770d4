package messaging

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api/messagingapi"
)

func TestCheckMessageSize(t *testing.T) {
	t.Parallel()
	ok := []struct{ typ, content, metadata string }{
		{messageStandard, strings.Repeat("x", 4096), strings.Repeat("m", 1024)},
		{messageStandard, strings.Repeat("é", 2048), strings.Repeat("é", 512)},
		{messageControl, strings.Repeat("x", 30), ""},
		{messageControl, strings.Repeat("é", 15), ""},
	}
	for _, c := range ok {
		if err := CheckMessageSize(c.typ, c.content, c.metadata); err != nil {
			t.Errorf("%s of %d+%d bytes: %v", c.typ, len(c.content), len(c.metadata), err)
		}
	}
	bad := []struct{ typ, content, metadata, want string }{
		{messageStandard, strings.Repeat("x", 4097), "", "Content of a STANDARD message is 4097 bytes"},
		{messageStandard, strings.Repeat("é", 2049), "", "4098 bytes"},
		{messageStandard, "x", strings.Repeat("é", 513), "Metadata is 1026 bytes"},
		{messageControl, strings.Repeat("x", 31), "", "Content of a CONTROL message is 31 bytes"},
		{messageControl, strings.Repeat("é", 16), "", "32 bytes"},
		{messageControl, "x", "m", "cannot have Metadata"},
	}
	for _, c := range bad {
		err := CheckMessageSize(c.typ, c.content, c.metadata)
		if !carillon.IsKind(err, carillon.BadRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s of %d+%d bytes: %v, want a BadRequest about %q", c.typ, len(c.content), len(c.metadata), err, c.want)
		}
	}
}

func TestCheckAttributesSize(t *testing.T) {
	t.Parallel()
	attrs := func(key string, values ...string) map[string]messagingapi.MessageAttributeValue {
		return map[string]messagingapi.MessageAttributeValue{key: {StringValues: values}}
	}
	// Keys and values count, in bytes.
	if err := CheckAttributesSize(attrs("k", strings.Repeat("v", 511), strings.Repeat("w", 512))); err != nil {
		t.Errorf("1024 bytes: %v", err)
	}
	if err := CheckAttributesSize(nil); err != nil {
		t.Errorf("no attributes: %v", err)
	}
	err := CheckAttributesSize(attrs("kk", strings.Repeat("v", 511), strings.Repeat("w", 512)))
	if !carillon.IsKind(err, carillon.BadRequest) || !strings.Contains(err.Error(), "1025 bytes") {
		t.Errorf("1025 bytes: %v", err)
	}
	err = CheckAttributesSize(attrs("k", strings.Repeat("é", 512)))
	if !carillon.IsKind(err, carillon.BadRequest) || !strings.Contains(err.Error(), "1025 bytes") {
		t.Errorf("512 two-byte characters and a key: %v", err)
	}
}

func TestVisibleTo(t *testing.T) {
	t.Parallel()
	open := &carillon.Message{Sender: "s"}
	targeted := &carillon.Message{Sender: "s", Target: "t"}
	for _, c := range []struct {
		m    *carillon.Message
		who  string
		want bool
	}{
		{open, "s", true}, {open, "x", true},
		{targeted, "s", true}, {targeted, "t", true}, {targeted, "x", false},
	} {
		if got := visibleTo(c.m, c.who); got != c.want {
			t.Errorf("visibleTo(target %q, %q) = %v", c.m.Target, c.who, got)
		}
	}
}

func TestVisibleToHeldMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		m    carillon.Message
		arn  string
		want bool
	}{
		{carillon.Message{Sender: "a", Status: StatusSent}, "b", true},
		{carillon.Message{Sender: "a", Status: StatusSent, Target: "c"}, "b", false},
		{carillon.Message{Sender: "a", Status: StatusSent, Target: "b"}, "b", true},
		// Held by a channel flow, or failed: the sender's only.
		{carillon.Message{Sender: "a", Status: StatusPending}, "b", false},
		{carillon.Message{Sender: "a", Status: StatusPending}, "a", true},
		{carillon.Message{Sender: "a", Status: "FAILED", Target: "b"}, "b", false},
		{carillon.Message{Sender: "a", Status: "FAILED"}, "a", true},
	}
	for _, c := range cases {
		if got := visibleTo(&c.m, c.arn); got != c.want {
			t.Errorf("visibleTo(%+v, %s) = %v, want %v", c.m, c.arn, got, c.want)
		}
	}
}

// TestNewMessageIDOrder checks that message ids keep AWS's form and grow
// with time, so that the stores' (channel, id) index takes each message at
// its end.
func TestNewMessageIDOrder(t *testing.T) {
	form := regexp.MustCompile(`^[0-9a-f]{64}$`)
	prev := NewMessageID()
	seen := map[string]bool{prev: true}
	for range 50 {
		time.Sleep(2 * time.Millisecond)
		id := NewMessageID()
		if !form.MatchString(id) {
			t.Fatalf("id %q is not 64 hex digits", id)
		}
		if id <= prev {
			t.Errorf("id %q, made later, sorts before %q", id, prev)
		}
		if seen[id] {
			t.Fatalf("id %q twice", id)
		}
		seen[id] = true
		prev = id
	}
}
