package ginauthtest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// Recorder keeps the values a hook is handed, from any goroutine: give its
// Hook as ginauth.Config.Hooks.OnEvent (a Recorder[ginauth.Event]) or the
// Recorder itself as a recipe's e-mail or SMS sender (its Send).
type Recorder[T any] struct {
	mu   sync.Mutex
	list []T
}

// Hook records v.
func (r *Recorder[T]) Hook(_ context.Context, v T) {
	r.mu.Lock()
	r.list = append(r.list, v)
	r.mu.Unlock()
}

// Send records v and reports success.
func (r *Recorder[T]) Send(ctx context.Context, v T) error {
	r.Hook(ctx, v)
	return nil
}

// All returns the values recorded so far, oldest first.
func (r *Recorder[T]) All() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.list...)
}

// Filter returns the recorded values that keep accepts, oldest first.
func (r *Recorder[T]) Filter(keep func(T) bool) []T {
	var out []T
	for _, v := range r.All() {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// Clear forgets the values recorded so far.
func (r *Recorder[T]) Clear() {
	r.mu.Lock()
	r.list = nil
	r.mu.Unlock()
}

// Wait returns the latest recorded value that keep accepts, waiting up to
// ten seconds for one (e-mails go out in the background), and fails the
// test when none comes.
func (r *Recorder[T]) Wait(t testing.TB, keep func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := r.Filter(keep); len(got) > 0 {
			return got[len(got)-1]
		}
		if time.Now().After(deadline) {
			t.Fatal("ginauthtest: the value waited for was not recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// LogBuffer is a log sink (an io.Writer for slog or gin's logger) that is
// safe to read while requests still write to it.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
