package carillon

import "time"

// Clock tells the time. Services and stores take one so that tests can
// drive time instead of waiting for it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
