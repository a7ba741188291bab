package ginauth

import (
	"testing"
	"time"
)

// TestMonoClock: the verify path's default clock gives time.Now's answer
// (UTC, no monotonic reading, as Auth.now), keeps its base for up to a
// second and takes a new one from time.Now after that, so a step of the
// wall clock is seen within a second.
func TestMonoClock(t *testing.T) {
	var m monoClock
	near := func(got time.Time) {
		t.Helper()
		want := time.Now()
		if d := want.Sub(got); d < 0 || d > 100*time.Millisecond {
			t.Fatalf("monoClock.now = %v, time.Now = %v", got, want)
		}
		if got.Location() != time.UTC || got != got.Round(0) {
			t.Fatalf("monoClock.now = %#v: want UTC without a monotonic reading", got)
		}
	}
	near(m.now())
	first := m.base.Load()
	near(m.now())
	if m.base.Load() != first {
		t.Fatal("re-based within the second")
	}

	// A base more than a second old is replaced by time.Now.
	old := time.Now().Add(-2 * time.Second)
	m.base.Store(&old)
	near(m.now())
	if m.base.Load() == &old {
		t.Fatal("a base older than a second was kept")
	}
}

// TestVerifyNowConfigured: with Config.Now set, the verify path reads that
// clock itself, exactly (TestVerifyCacheExpiry moves it across exp + skew
// second by second).
func TestVerifyNowConfigured(t *testing.T) {
	h := newHarness(t, nil)
	h.clock.Advance(1234567 * time.Nanosecond)
	if got, want := h.auth.verifyNow(), h.clock.Now().UTC(); !got.Equal(want) {
		t.Fatalf("verifyNow = %v, want the configured clock's %v", got, want)
	}
}
