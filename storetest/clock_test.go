package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
)

var _ carillon.Clock = (*FakeClock)(nil)

func TestFakeClock(t *testing.T) {
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewFakeClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	if got := c.Advance(time.Minute); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("Advance returned %v, want %v", got, start.Add(time.Minute))
	}
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("Now() after Advance = %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() after Set = %v, want %v", got, start)
	}
	var zero FakeClock
	if !zero.Now().IsZero() {
		t.Fatalf("zero FakeClock reads %v", zero.Now())
	}
}

func TestFakeClockConcurrent(t *testing.T) {
	c := NewFakeClock(time.Time{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), (time.Time{}).Add(800*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}
