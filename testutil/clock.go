package testutil

import (
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// Clock is a fake clock, safe for concurrent use. Tests never sleep to wait for an expiry: they Advance the clock,
// which also moves the attached miniredis servers, so that the protector's notion of freshness and Redis's TTLs agree.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	mini []*miniredis.Miniredis
}

// NewClock returns a clock reading start, or 2026-01-01T00:00:00Z when start is zero.
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return &Clock{now: start}
}

// Now returns the current fake time. Pass c.Now as Config.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Attach links mr to the clock: from now on Advance also fast-forwards mr's TTLs, and Redis's TIME reads the clock.
func (c *Clock) Attach(mr *miniredis.Miniredis) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mr.SetTime(c.now)
	c.mini = append(c.mini, mr)
}

// Advance moves the clock forward by d and, in the same call, expires what d expires in the attached servers: a
// reader of Now never sees the new time while Redis still holds a key that should be gone. A clock never goes back:
// a negative d panics.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("testutil: Clock.Advance(%v): the clock cannot go back", d))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, mr := range c.mini {
		mr.FastForward(d)
		mr.SetTime(c.now)
	}
}
