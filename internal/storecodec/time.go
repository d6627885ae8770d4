package storecodec

import (
	"fmt"
	"time"
)

// Millis encodes t for an integer column: milliseconds since the epoch,
// the precision of the Chime APIs, or NULL for the zero time (whose
// UnixMilli is not 0 but year 1, and which must come back as the zero
// time).
func Millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// CeilMillis is t in milliseconds since the epoch, rounded up: the first
// stored millisecond not before t (UnixMilli rounds down). A bound "before
// t" on a stored time is "before CeilMillis(t)".
func CeilMillis(t time.Time) int64 {
	n := t.UnixMilli()
	if time.UnixMilli(n).Before(t) {
		n++
	}
	return n
}

// Time is the scan destination of a column Millis encoded.
func Time(t *time.Time) TimeDest { return TimeDest{t} }

// TimeDest scans what Millis encoded into the time.Time it points to, in
// UTC.
type TimeDest struct{ t *time.Time }

func (d TimeDest) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.UnixMilli(v).UTC()
	default:
		return fmt.Errorf("timestamp column holds a %T", v)
	}
	return nil
}

// msPtr is t in milliseconds since the epoch, nil for the zero time: a
// time in a JSON column, where it is left out when zero.
func msPtr(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixMilli()
	return &n
}

// msPtrTime is the inverse of msPtr, in UTC.
func msPtrTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.UnixMilli(*n).UTC()
}
