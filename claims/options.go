package claims

import (
	"encoding/json"
	"time"
)

// Option configures a validator built by HasValue, IsTrue, IsFalse, Includes,
// Excludes, IncludesAll, IncludesAny or ExcludesAll.
type Option func(*options)

type options struct {
	id        string
	maxAge    time.Duration
	maxAgeSet bool
	noMaxAge  bool
}

// MaxAge makes the validator ask for a refetch, and fail with an "expired"
// reason, when the value was fetched more than d ago. It overrides the claim's
// default max age. A negative d is treated as 0 (a value is stale as soon as
// one millisecond has passed since it was fetched).
func MaxAge(d time.Duration) Option {
	return func(o *options) {
		if d < 0 {
			d = 0
		}
		o.maxAge, o.maxAgeSet, o.noMaxAge = d, true, false
	}
}

// NoMaxAge disables the age check for the validator, even when the claim has a
// default max age: only a missing value triggers a refetch.
func NoMaxAge() Option {
	return func(o *options) {
		o.maxAge, o.maxAgeSet, o.noMaxAge = 0, false, true
	}
}

// ID sets the validator id reported in ValidationError.ID. The default is the
// claim key. An empty id keeps the default.
func ID(id string) Option {
	return func(o *options) { o.id = id }
}

// policy is the resolved id and max age of one validator.
type policy struct {
	id        string
	maxAge    time.Duration
	hasMaxAge bool
}

func resolve(key string, def *time.Duration, opts []Option) policy {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	pol := policy{id: key}
	if o.id != "" {
		pol.id = o.id
	}
	switch {
	case o.noMaxAge:
	case o.maxAgeSet:
		pol.maxAge, pol.hasMaxAge = o.maxAge, true
	case def != nil:
		pol.maxAge, pol.hasMaxAge = *def, true
	}
	return pol
}

// stale reports whether the value fetched at tMillis is older than the max
// age at now. It follows the FDI rule t < now - maxAge, in milliseconds.
func (pol policy) stale(tMillis int64, now time.Time) bool {
	return pol.hasMaxAge && tMillis < now.UnixMilli()-pol.maxAge.Milliseconds()
}

// expired builds the "expired" reason.
func (pol policy) expired(tMillis int64, now time.Time) *ValidationError {
	return &ValidationError{ID: pol.id, Reason: map[string]any{
		"message":         "expired",
		"ageInSeconds":    float64(now.UnixMilli()-tMillis) / 1000,
		"maxAgeInSeconds": float64(pol.maxAge.Milliseconds()) / 1000,
	}}
}

// entry is the {"v": ..., "t": ...} object stored under a claim key.
type entry struct {
	v      any   // raw value, nil when absent or null
	t      int64 // fetch time in ms; 0 when absent or unreadable
	hasT   bool
	exists bool // the key holds an object (v may still be nil)
}

// readEntry extracts the claim object stored under key. It accepts values
// built in process (map[string]any with typed v and int64 t) as well as
// values decoded from JSON (float64 or json.Number numbers).
func readEntry(p Payload, key string) entry {
	raw, ok := p[key]
	if !ok || raw == nil {
		return entry{}
	}
	m, ok := raw.(map[string]any)
	if !ok {
		// Some other representation (for example a struct or a typed map):
		// normalise it through JSON.
		b, err := json.Marshal(raw)
		if err != nil {
			return entry{}
		}
		if err := json.Unmarshal(b, &m); err != nil || m == nil {
			return entry{}
		}
	}
	e := entry{exists: true, v: m["v"]}
	e.t, e.hasT = toMillis(m["t"])
	return e
}

// fetchTime returns the fetch time in ms; an unknown time counts as the Unix
// epoch, so that a validator with a max age treats the value as stale.
func (e entry) fetchTime() int64 {
	if !e.hasT {
		return 0
	}
	return e.t
}

func toMillis(x any) (int64, bool) {
	switch n := x.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case uint64:
		return int64(n), true
	case uint32:
		return int64(n), true
	case float64:
		return int64(n), true
	case float32:
		return int64(n), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil {
			return int64(f), true
		}
	}
	return 0, false
}

// convert reads a raw payload value as T: a direct type assertion first, then
// a JSON re-marshal, which turns float64 or json.Number into integer types,
// []any into slices, and so on.
func convert[T any](raw any) (T, bool) {
	var zero T
	if raw == nil {
		return zero, false
	}
	if v, ok := raw.(T); ok {
		return v, true
	}
	return convertJSON[T](raw)
}

// convertSlice reads a raw payload value as []T. A JSON-decoded array is a
// []any: its elements are converted one by one, which spares the JSON
// round trip on every guarded request; anything unusual falls back to it.
func convertSlice[T any](raw any) ([]T, bool) {
	if raw == nil {
		return nil, false
	}
	if v, ok := raw.([]T); ok {
		return v, true
	}
	items, ok := raw.([]any)
	if !ok {
		return convertJSON[[]T](raw)
	}
	out := make([]T, len(items))
	for i, it := range items {
		v, ok := it.(T)
		if !ok {
			return convertJSON[[]T](raw)
		}
		out[i] = v
	}
	return out, true
}

func convertJSON[T any](raw any) (T, bool) {
	var zero T
	b, err := json.Marshal(raw)
	if err != nil {
		return zero, false
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return zero, false
	}
	return v, true
}
