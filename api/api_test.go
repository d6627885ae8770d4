package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
)

func TestTimestampIsEpochSeconds(t *testing.T) {
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1700000000, 0), "1700000000"},
		{time.Unix(1700000000, 123e6), "1700000000.123"},
		{time.Unix(1700000000, 120e6), "1700000000.12"},
		{time.Unix(1700000000, 5e6), "1700000000.005"},
		{time.Unix(-1, 500e6), "-0.5"},
	}
	for _, c := range cases {
		b, err := json.Marshal(Timestamp{c.t})
		if err != nil || string(b) != c.want {
			t.Errorf("%v: %s %v, want %s", c.t, b, err, c.want)
		}
		var back Timestamp
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(c.t) {
			t.Errorf("%s: decoded %v %v", b, back.Time, err)
		}
	}
	var ts Timestamp
	if err := json.Unmarshal([]byte(`"2024-01-01T00:00:00Z"`), &ts); err == nil {
		t.Error("a string timestamp in a body was accepted")
	}
	if TimestampOf(time.Time{}) != nil {
		t.Error("the zero time must be omitted")
	}
}

func TestParseQueryTimestamp(t *testing.T) {
	for in, want := range map[string]string{
		"2024-01-02T03:04:05Z":      "2024-01-02T03:04:05.000Z",
		"2024-01-02T03:04:05.678Z":  "2024-01-02T03:04:05.678Z",
		"2024-01-02T04:04:05+01:00": "2024-01-02T03:04:05.000Z",
		"1704164645.5":              "2024-01-02T03:04:05.500Z",
	} {
		got, err := ParseQueryTimestamp(in)
		if err != nil || got.Format("2006-01-02T15:04:05.000Z") != want {
			t.Errorf("%s: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "NaN", "1e300"} {
		if _, err := ParseQueryTimestamp(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestValidatorMessages(t *testing.T) {
	var v Validator
	if v.Err() != nil {
		t.Fatal("no failures must be no error")
	}
	v.Required("Name", false)
	v.Length("Metadata", strings.Repeat("é", 5), 0, 4)
	v.Length("Metadata", strings.Repeat("é", 4), 0, 4) // 8 bytes, 4 characters: fine
	v.Pattern("Id", "a b", MustCompilePattern(`^(?s:[a-z]*)$`))
	v.Enum("Mode", "SOMETIMES", []string{"UNRESTRICTED", "RESTRICTED"})
	v.Range("MaxResults", 51, 1, 50, true, true)
	v.Count("Tags", 0, 1, 50)
	err := v.Err()
	if !carillon.IsKind(err, carillon.BadRequest) {
		t.Fatalf("kind of %v", err)
	}
	msg := err.(*carillon.Error).Message
	for _, want := range []string{
		"6 validation errors detected",
		"Value null at 'Name' failed to satisfy constraint: Member must not be null",
		"'Metadata' failed to satisfy constraint: Member must have length less than or equal to 4",
		"'Id' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]*",
		"Member must satisfy enum value set: [UNRESTRICTED, RESTRICTED]",
		"'MaxResults' failed to satisfy constraint: Member must have value less than or equal to 50",
		"'Tags' failed to satisfy constraint: Member must have length greater than or equal to 1",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}
