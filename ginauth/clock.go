package ginauth

import (
	"sync/atomic"
	"time"
)

// monoClock is the clock of the verify path when Config.Now is not set:
// the wall time of its last base plus the monotonic time since, re-based
// on time.Now once a second. time.Now reads two clocks (wall and
// monotonic, two vDSO calls, about 40 ns each on a kvm-clock VM); this
// reads one. The answer is time.Now's up to a step of the wall clock in
// the last second (an NTP step, a settimeofday), which the next base picks
// up; token times have a one-second granularity and a skew of seconds.
type monoClock struct {
	base atomic.Pointer[time.Time] // time.Now at the last base, monotonic reading kept
}

// now returns the current time in UTC, as Auth.now does.
func (m *monoClock) now() time.Time {
	if b := m.base.Load(); b != nil {
		// time.Since reads only the monotonic clock when b has a reading.
		if d := time.Since(*b); d >= 0 && d < time.Second {
			return b.Add(d).UTC()
		}
	}
	t := time.Now()
	m.base.Store(&t)
	return t.UTC()
}
