package claims

import (
	"context"
	"slices"
	"time"
)

// PrimitiveArray is a claim holding a list of JSON primitives of type T (for
// example roles or permissions), stored as {"<key>": {"v": [...], "t": ms}}.
//
// A PrimitiveArray is safe for concurrent use once configured; call
// WithDefaultMaxAge before building validators and sharing the claim.
type PrimitiveArray[T comparable] struct {
	key           string
	fetch         func(ctx context.Context, userID, tenantID string) ([]T, bool, error)
	defaultMaxAge *time.Duration
}

// NewPrimitiveArray returns an array claim stored under key whose value is
// read by fetch. fetch returns ok=false when the user has no value, in which
// case Build leaves the payload untouched; ok=true with an empty slice stores
// an empty list.
func NewPrimitiveArray[T comparable](key string, fetch func(ctx context.Context, userID, tenantID string) (values []T, ok bool, err error)) *PrimitiveArray[T] {
	return &PrimitiveArray[T]{key: key, fetch: fetch}
}

// WithDefaultMaxAge sets the max age used by validators created afterwards
// without a MaxAge or NoMaxAge option, and returns the claim.
func (c *PrimitiveArray[T]) WithDefaultMaxAge(d time.Duration) *PrimitiveArray[T] {
	if d < 0 {
		d = 0
	}
	c.defaultMaxAge = &d
	return c
}

// Key returns the top-level payload key of the claim.
func (c *PrimitiveArray[T]) Key() string { return c.key }

// Build fetches the values and returns the payload update that stores them
// with fetch time now, or nil when fetch reports no value (or is nil).
func (c *PrimitiveArray[T]) Build(ctx context.Context, userID, tenantID string, now time.Time) (Payload, error) {
	if c.fetch == nil {
		return nil, nil
	}
	vs, ok, err := c.fetch(ctx, userID, tenantID)
	if err != nil || !ok {
		return nil, err
	}
	return c.Update(vs, now), nil
}

// Update returns the payload update {key: {"v": vs, "t": now in ms}} that sets
// the values. vs is copied; a nil vs is stored as an empty list.
func (c *PrimitiveArray[T]) Update(vs []T, now time.Time) Payload {
	cp := make([]T, len(vs))
	copy(cp, vs)
	return Payload{c.key: map[string]any{"v": cp, "t": now.UnixMilli()}}
}

// Remove returns the payload update {key: nil}, which deletes the claim when
// merged.
func (c *PrimitiveArray[T]) Remove() Payload {
	return Payload{c.key: nil}
}

// Get returns the values stored in p. It accepts payloads built in process as
// well as payloads decoded from JSON. ok is false when the claim is absent,
// null, or not readable as []T.
func (c *PrimitiveArray[T]) Get(p Payload) ([]T, bool) {
	vs, ok := convertSlice[T](readEntry(p, c.key).v)
	if !ok || vs == nil {
		return nil, false
	}
	return vs, true
}

// FetchedAt returns the time the values in p were fetched (its "t" field).
func (c *PrimitiveArray[T]) FetchedAt(p Payload) (time.Time, bool) {
	return fetchedAt(p, c.key)
}

// Includes returns a validator that passes when the list contains v.
// Failure reasons:
//
//	{"message": "value does not exist", "expectedToInclude": v, "actualValue": nil}
//	{"message": "expired", "ageInSeconds": age, "maxAgeInSeconds": maxAge}
//	{"message": "wrong value", "expectedToInclude": v, "actualValue": list}
//
// All array validators ask for a refetch when the value is missing (or not
// readable as []T), or when a max age applies and the value was fetched more
// than that long ago.
func (c *PrimitiveArray[T]) Includes(v T, opts ...Option) Validator {
	return c.validator(opts, "expectedToInclude", v, func(have []T) bool {
		return slices.Contains(have, v)
	})
}

// Excludes returns a validator that passes when the list does not contain v.
// Its reasons use the key "expectedToNotInclude" (see Includes).
func (c *PrimitiveArray[T]) Excludes(v T, opts ...Option) Validator {
	return c.validator(opts, "expectedToNotInclude", v, func(have []T) bool {
		return !slices.Contains(have, v)
	})
}

// IncludesAll returns a validator that passes when the list contains every
// element of vs (always, when vs is empty). Its reasons use the key
// "expectedToInclude" with vs as the value (see Includes).
func (c *PrimitiveArray[T]) IncludesAll(vs []T, opts ...Option) Validator {
	want := append([]T{}, vs...)
	return c.validator(opts, "expectedToInclude", want, func(have []T) bool {
		set := toSet(have)
		for _, v := range want {
			if _, ok := set[v]; !ok {
				return false
			}
		}
		return true
	})
}

// IncludesAny returns a validator that passes when the list contains at least
// one element of vs (never, when vs is empty). Its reasons use the key
// "expectedToIncludeAtLeastOneOf" with vs as the value (see Includes).
func (c *PrimitiveArray[T]) IncludesAny(vs []T, opts ...Option) Validator {
	want := append([]T{}, vs...)
	return c.validator(opts, "expectedToIncludeAtLeastOneOf", want, func(have []T) bool {
		set := toSet(have)
		for _, v := range want {
			if _, ok := set[v]; ok {
				return true
			}
		}
		return false
	})
}

// ExcludesAll returns a validator that passes when the list contains no
// element of vs. Its reasons use the key "expectedToNotInclude" with vs as
// the value (see Includes).
func (c *PrimitiveArray[T]) ExcludesAll(vs []T, opts ...Option) Validator {
	want := append([]T{}, vs...)
	return c.validator(opts, "expectedToNotInclude", want, func(have []T) bool {
		set := toSet(have)
		for _, v := range want {
			if _, ok := set[v]; ok {
				return false
			}
		}
		return true
	})
}

func toSet[T comparable](vs []T) map[T]struct{} {
	set := make(map[T]struct{}, len(vs))
	for _, v := range vs {
		set[v] = struct{}{}
	}
	return set
}

func (c *PrimitiveArray[T]) validator(opts []Option, expectKey string, expected any, pass func([]T) bool) Validator {
	return &arrayValidator[T]{
		c:         c,
		pol:       resolve(c.key, c.defaultMaxAge, opts),
		expectKey: expectKey,
		expected:  expected,
		pass:      pass,
	}
}

type arrayValidator[T comparable] struct {
	c         *PrimitiveArray[T]
	pol       policy
	expectKey string
	expected  any
	pass      func([]T) bool
}

// ID returns the validator id.
func (a *arrayValidator[T]) ID() string { return a.pol.id }

// Claim returns the claim the validator checks.
func (a *arrayValidator[T]) Claim() Claim { return a.c }

// ShouldRefetch reports whether the claim must be rebuilt before Validate.
func (a *arrayValidator[T]) ShouldRefetch(p Payload, now time.Time) bool {
	if _, ok := a.c.Get(p); !ok {
		return true
	}
	e := readEntry(p, a.c.key)
	return a.pol.stale(e.fetchTime(), now)
}

// Validate returns nil when p passes, else the failure.
func (a *arrayValidator[T]) Validate(p Payload, now time.Time) *ValidationError {
	e := readEntry(p, a.c.key)
	if e.v == nil {
		return &ValidationError{ID: a.pol.id, Reason: map[string]any{
			"message":     "value does not exist",
			a.expectKey:   a.expected,
			"actualValue": nil,
		}}
	}
	if a.pol.stale(e.fetchTime(), now) {
		return a.pol.expired(e.fetchTime(), now)
	}
	have, ok := a.c.Get(p)
	if !ok {
		return &ValidationError{ID: a.pol.id, Reason: map[string]any{
			"message":     "wrong value",
			a.expectKey:   a.expected,
			"actualValue": e.v,
		}}
	}
	if !a.pass(have) {
		return &ValidationError{ID: a.pol.id, Reason: map[string]any{
			"message":     "wrong value",
			a.expectKey:   a.expected,
			"actualValue": have,
		}}
	}
	return nil
}
