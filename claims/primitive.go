package claims

import (
	"context"
	"time"
)

// Primitive is a claim holding one JSON primitive value (string, number or
// boolean) of type T, stored in the payload as {"<key>": {"v": value, "t": ms}}.
//
// A Primitive is safe for concurrent use once configured; call
// WithDefaultMaxAge before building validators and sharing the claim.
type Primitive[T comparable] struct {
	key           string
	fetch         func(ctx context.Context, userID, tenantID string) (T, bool, error)
	defaultMaxAge *time.Duration
	self          Claim // the claim reported by validators (an outer wrapper, if any)
}

// NewPrimitive returns a claim stored under key whose value is read by fetch.
// fetch returns ok=false when the user has no value, in which case Build
// leaves the payload untouched.
func NewPrimitive[T comparable](key string, fetch func(ctx context.Context, userID, tenantID string) (value T, ok bool, err error)) *Primitive[T] {
	c := &Primitive[T]{key: key, fetch: fetch}
	c.self = c
	return c
}

// WithDefaultMaxAge sets the max age used by validators created afterwards
// without a MaxAge or NoMaxAge option, and returns the claim.
func (c *Primitive[T]) WithDefaultMaxAge(d time.Duration) *Primitive[T] {
	if d < 0 {
		d = 0
	}
	c.defaultMaxAge = &d
	return c
}

// Key returns the top-level payload key of the claim.
func (c *Primitive[T]) Key() string { return c.key }

// Build fetches the value and returns the payload update that stores it with
// fetch time now, or nil when fetch reports no value (or is nil).
func (c *Primitive[T]) Build(ctx context.Context, userID, tenantID string, now time.Time) (Payload, error) {
	if c.fetch == nil {
		return nil, nil
	}
	v, ok, err := c.fetch(ctx, userID, tenantID)
	if err != nil || !ok {
		return nil, err
	}
	return c.Update(v, now), nil
}

// Update returns the payload update {key: {"v": v, "t": now in ms}} that sets
// the value, for use with Merge or a session's payload merge.
func (c *Primitive[T]) Update(v T, now time.Time) Payload {
	return Payload{c.key: map[string]any{"v": v, "t": now.UnixMilli()}}
}

// Remove returns the payload update {key: nil}, which deletes the claim when
// merged.
func (c *Primitive[T]) Remove() Payload {
	return Payload{c.key: nil}
}

// Get returns the value stored in p. It accepts payloads built in process as
// well as payloads decoded from JSON (where numbers are float64). ok is false
// when the claim is absent, null, or not readable as T.
func (c *Primitive[T]) Get(p Payload) (T, bool) {
	return convert[T](readEntry(p, c.key).v)
}

// FetchedAt returns the time the value in p was fetched (its "t" field).
func (c *Primitive[T]) FetchedAt(p Payload) (time.Time, bool) {
	return fetchedAt(p, c.key)
}

func fetchedAt(p Payload, key string) (time.Time, bool) {
	e := readEntry(p, key)
	if !e.exists || !e.hasT {
		return time.Time{}, false
	}
	return time.UnixMilli(e.t), true
}

// HasValue returns a validator that passes when the claim's value equals v.
//
// It asks for a refetch when the value is missing (or unreadable as T), or
// when a max age applies and the value was fetched more than that long ago.
// Validate fails with one of these reasons, checked in this order:
//
//	{"message": "value does not exist", "expectedValue": v, "actualValue": nil}
//	{"message": "expired", "ageInSeconds": age, "maxAgeInSeconds": maxAge}
//	{"message": "wrong value", "expectedValue": v, "actualValue": actual}
//
// A value present but not readable as T fails with "wrong value" and the raw
// value as actualValue.
func (c *Primitive[T]) HasValue(v T, opts ...Option) Validator {
	return &hasValue[T]{c: c, pol: resolve(c.key, c.defaultMaxAge, opts), want: v}
}

type hasValue[T comparable] struct {
	c    *Primitive[T]
	pol  policy
	want T
}

// ID returns the validator id.
func (h *hasValue[T]) ID() string { return h.pol.id }

// Claim returns the claim the validator checks.
func (h *hasValue[T]) Claim() Claim { return h.c.self }

// ShouldRefetch reports whether the claim must be rebuilt before Validate.
func (h *hasValue[T]) ShouldRefetch(p Payload, now time.Time) bool {
	e := readEntry(p, h.c.key)
	if _, ok := convert[T](e.v); !ok {
		return true
	}
	return h.pol.stale(e.fetchTime(), now)
}

// Validate returns nil when p passes, else the failure.
func (h *hasValue[T]) Validate(p Payload, now time.Time) *ValidationError {
	e := readEntry(p, h.c.key)
	if e.v == nil {
		return &ValidationError{ID: h.pol.id, Reason: map[string]any{
			"message":       "value does not exist",
			"expectedValue": h.want,
			"actualValue":   nil,
		}}
	}
	if h.pol.stale(e.fetchTime(), now) {
		return h.pol.expired(e.fetchTime(), now)
	}
	got, ok := convert[T](e.v)
	if !ok {
		return &ValidationError{ID: h.pol.id, Reason: map[string]any{
			"message":       "wrong value",
			"expectedValue": h.want,
			"actualValue":   e.v,
		}}
	}
	if got != h.want {
		return &ValidationError{ID: h.pol.id, Reason: map[string]any{
			"message":       "wrong value",
			"expectedValue": h.want,
			"actualValue":   got,
		}}
	}
	return nil
}
