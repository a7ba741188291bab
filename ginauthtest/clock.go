package ginauthtest

import (
	"sync"
	"time"
)

// Start is where NewClock(time.Time{}) stands: a fixed date, so that a
// failing test fails the same way on every run.
var Start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Clock is a test clock for ginauth.Config.Now: it moves only when told,
// and is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t, or at Start when t is zero.
func NewClock(t time.Time) *Clock {
	if t.IsZero() {
		t = Start
	}
	return &Clock{t: t}
}

// Now returns the clock's time. Pass the method value (clock.Now) as
// ginauth.Config.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
