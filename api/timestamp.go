package api

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"time"
)

// Timestamp is a point in time encoded as restJson1 encodes timestamps in
// bodies: a JSON number of seconds since the epoch, with the milliseconds as
// a fraction. The Go SDK refuses a string here ("expected Timestamp to be a
// JSON Number"), so the encoding is not a matter of taste.
type Timestamp struct{ time.Time }

// TimestampOf returns t as a *Timestamp, or nil for the zero time so that an
// unset time is omitted from the response.
func TimestampOf(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	return &Timestamp{t}
}

// MarshalJSON writes seconds since the epoch with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return AppendEpochSeconds(nil, t.Time), nil
}

// AppendEpochSeconds appends t as epoch seconds with up to three decimals.
func AppendEpochSeconds(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	}
	sec, frac := ms/1000, ms%1000
	b = strconv.AppendInt(b, sec, 10)
	if frac != 0 {
		b = append(b, '.')
		digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		n := 3
		for n > 1 && digits[n-1] == '0' {
			n--
		}
		b = append(b, digits[:n]...)
	}
	return b
}

// UnmarshalJSON reads epoch seconds given as a JSON number.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == '"' {
		return errors.New("expected a timestamp as a JSON number of epoch seconds")
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return errors.New("invalid epoch seconds timestamp")
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()
	return nil
}

// ParseQueryTimestamp parses a timestamp bound to the query or a header,
// which restJson1 writes as ISO-8601 (RFC 3339 with optional fractional
// seconds). Epoch seconds are accepted too, for hand-written clients.
func ParseQueryTimestamp(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1e13 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	return time.Time{}, errors.New("not an ISO-8601 timestamp")
}

// ISOLayout is how websocket payloads, channel-flow processor events and
// streaming records write timestamps: ISO-8601 in UTC with milliseconds,
// which the official mobile samples parse with yyyy-MM-dd'T'HH:mm:ss.SSS'Z'
// (REST bodies use epoch seconds instead).
const ISOLayout = "2006-01-02T15:04:05.000Z"

// ISOTime is a timestamp that encodes in JSON with ISOLayout.
type ISOTime time.Time

// ISOTimeOf returns t as an *ISOTime, or nil for the zero time so that an
// unset time is omitted.
func ISOTimeOf(t time.Time) *ISOTime {
	if t.IsZero() {
		return nil
	}
	v := ISOTime(t)
	return &v
}

// MarshalJSON writes the time as a quoted ISOLayout string.
func (t ISOTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(ISOLayout)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, ISOLayout)
	return append(b, '"'), nil
}
